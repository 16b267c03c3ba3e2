"""Marts benchmark: each domain's marts against the raw + staging load of the same world and run.

On one generated world (shared with bench_ingest.py, reused when present), each step in its own process
so its peak RSS is its own:
  load        raw + staging load of the whole landing folder (bench_ingest's `load` step)
  finance     ledger, conversations, spend rollups and reconciliation (every finance mart)
  compliance  consent timeline, opt-in audit (as-of joins) and daily coverage
  growth      template and number health, sliding-window reach (`reach_peaks`), forecast and back-test
(each domain is its dbt group, `dbt build --select group:<domain>` run in process, its tests included)
  export      `waba audit` over the whole window to CSV (masked)
then checks the ledger and the audit against the generator's ground truth. Usage:
  python benchmarks/bench_marts.py [--envelopes 1M] [--world DIR] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = ("load", "finance", "compliance", "growth", "export")


def step(name: str, landing: Path, warehouse: Path) -> dict:
    """Run one measured step in this process (called in a child process)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if name == "export":
        from pipelines.compliance import export_audit

        truth = json.loads((landing / "ground_truth.json").read_text())
        export_audit(warehouse, date.fromisoformat(truth["start"]), date.fromisoformat(truth["end"]), [],
                     warehouse.with_name("audit.csv"))
    else:
        from pipelines.dbt_project import build

        build(warehouse, select=f"group:{name}")  # in this process: its peak RSS is dbt's and DuckDB's
        if name == "growth":
            from pipelines.forecast import build_forecasts
            from pipelines.warehouse import connect

            at = time.perf_counter()
            conn = connect(warehouse)
            build_forecasts(conn)
            conn.close()
            timings["forecasts"] = time.perf_counter() - at
    return {"step": name, "seconds": time.perf_counter() - started, "timings": timings,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(name: str, landing: Path, warehouse: Path) -> dict:
    script = ROOT / "benchmarks" / ("bench_ingest.py" if name == "load" else "bench_marts.py")
    out = subprocess.run([sys.executable, str(script), "--child", name, str(landing), str(warehouse)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ground_truth_checks(landing: Path, warehouse: Path) -> dict:
    import duckdb

    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        ledger, truth = conn.execute(f"""
            SELECT (SELECT sum(charge) FROM marts.message_ledger)::VARCHAR,
                   (SELECT sum(charge_micros) / 1e6 FROM '{landing / "ground_truth_messages.parquet"}')::DECIMAL(18, 6)::VARCHAR
        """).fetchone()
        audited, differing = conn.execute(f"""
            SELECT count(a.message_id), count(*) FILTER (a.consent_status IS DISTINCT FROM t.consent_status)
            FROM '{landing / "ground_truth_consent.parquet"}' t FULL JOIN marts.optin_audit a USING (message_id)
        """).fetchone()
        messages = conn.execute("SELECT count(*) FROM marts.message_ledger").fetchone()[0]
    finally:
        conn.close()
    return {"ledger_total": ledger, "truth_total": truth, "messages": messages, "audited": audited,
            "audit_differing": differing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", default="1M", help="world size in webhook envelopes (default 1M)")
    parser.add_argument("--world", type=Path, default=None, help="landing folder to use (default <work>/world-<envelopes>)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"comma-separated steps to run, in order (default {','.join(STEPS)}); 'load' must come first")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, landing, warehouse = args.child
        print(json.dumps(step(name, Path(landing), Path(warehouse))))
        return

    from worlds import ensure_world

    world = ensure_world(args.work, args.envelopes, args.world, marker="ground_truth_consent.parquet")
    warehouse = args.work / "bench-marts.duckdb"
    for path in args.work.glob("bench-marts.duckdb*"):  # DuckDB spills into a <file>.tmp folder
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    results = []
    for name in args.steps.split(","):
        results.append(run_child(name, world, warehouse))
        print(f"{name}: {results[-1]['seconds']:.1f}s", flush=True)
    checks = ground_truth_checks(world, warehouse) if args.steps == ",".join(STEPS) else {}
    load = results[0]["seconds"]
    print(f"\nworld: {world} ({json.loads((world / 'ground_truth.json').read_text())['envelopes']:,} envelopes written)")
    print("| step | seconds | vs load | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['step']} | {r['seconds']:.2f} | {r['seconds'] / load:.3f} | {r['peak_rss_mb']:.0f} |")
    growth = next((r for r in results if r["step"] == "growth"), {"timings": {}})["timings"]
    if "_reach_peaks" in growth:
        print(f"| growth: rolling unique customers (_reach_peaks) | {growth['_reach_peaks']:.2f} | "
              f"{growth['_reach_peaks'] / load:.3f} | |")
    if checks:
        print(f"{checks['messages']:,} outbound messages; ledger total {checks['ledger_total']} vs ground truth "
              f"{checks['truth_total']}; audited {checks['audited']:,} messages, {checks['audit_differing']} differ "
              f"from the ground truth")
    (args.work / f"results-marts-{args.envelopes}.json").write_text(json.dumps({"steps": results, **checks}, indent=2))


if __name__ == "__main__":
    main()
