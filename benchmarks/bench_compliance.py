"""Compliance benchmark: the consent audit against the raw + staging load of the same world.

Measures, on one generated world (reused when present), each step in its own process:
  load        our raw + staging load of the whole landing folder (bench_ingest's `load` step)
  finance     the finance marts (marts.message_ledger is where the audit finds business-initiated messages)
  compliance  consent timeline, opt-in audit (as-of joins) and daily coverage
  export      `waba audit` over the whole window to CSV (masked)
then checks every audited message against the generator's ground_truth_consent.parquet. Usage:
  python benchmarks/bench_compliance.py [--envelopes 1M] [--world DIR] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def step(name: str, landing: Path, warehouse: Path) -> dict:
    """Run one measured step in this process (called in a child process)."""
    started = time.perf_counter()
    if name == "export":
        from pipelines.compliance import export_audit

        truth = json.loads((landing / "ground_truth.json").read_text())
        counts = export_audit(warehouse, date.fromisoformat(truth["start"]), date.fromisoformat(truth["end"]), [],
                              warehouse.with_name("audit.csv"))
        rows = sum(counts.values())
    else:
        from pipelines.compliance import build_compliance
        from pipelines.finance import build_finance
        from pipelines.warehouse import connect

        conn = connect(warehouse)
        build = build_finance if name == "finance" else build_compliance
        rows = build(conn, force=True)["message_ledger" if name == "finance" else "optin_audit"]
        conn.close()
    return {"step": name, "seconds": time.perf_counter() - started, "rows": rows,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(name: str, landing: Path, warehouse: Path) -> dict:
    script = ROOT / "benchmarks" / ("bench_ingest.py" if name == "load" else "bench_compliance.py")
    out = subprocess.run([sys.executable, str(script), "--child", name, str(landing), str(warehouse)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def agreement(landing: Path, warehouse: Path) -> tuple[int, int]:
    """(messages audited, messages whose status differs from the generator's ground truth or is missing)."""
    import duckdb

    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(f"""
            SELECT count(a.message_id), count(*) FILTER (a.consent_status IS DISTINCT FROM t.consent_status)
            FROM read_parquet('{landing / "ground_truth_consent.parquet"}') t
            FULL JOIN marts.optin_audit a USING (message_id)""").fetchone()
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", default="1M", help="world size in webhook envelopes (default 1M)")
    parser.add_argument("--world", type=Path, default=None, help="landing folder to use (default <work>/world-<envelopes>)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, landing, warehouse = args.child
        print(json.dumps(step(name, Path(landing), Path(warehouse))))
        return

    from pipelines.cli import _scale
    from pipelines.sample import generate_world

    world = args.world or args.work / f"world-{args.envelopes}"
    if not (world / "ground_truth_consent.parquet").exists():
        shutil.rmtree(world, ignore_errors=True)
        started = time.perf_counter()
        generate_world(world, envelopes=_scale(args.envelopes))
        print(f"generated {world} in {time.perf_counter() - started:.1f}s", flush=True)
    # As `waba run` does for the sample world: verify signatures, so tampered copies stay out of staging.
    os.environ.setdefault("WABA_APP_SECRET", json.loads((world / "ground_truth.json").read_text())["app_secret"])
    args.work.mkdir(parents=True, exist_ok=True)
    warehouse = args.work / "bench-compliance.duckdb"
    for path in args.work.glob("bench-compliance.duckdb*"):  # DuckDB spills into a <file>.tmp folder
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    results = [run_child(name, world, warehouse) for name in ("load", "finance", "compliance", "export")]
    audited, differing = agreement(world, warehouse)
    load = results[0]["seconds"]
    print(f"\nworld: {world} ({json.loads((world / 'ground_truth.json').read_text())['envelopes']} envelopes written)")
    print("| step | seconds | vs load | rows | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['step']} | {r['seconds']:.2f} | {r['seconds'] / load:.3f} | {r['rows']:,} | {r['peak_rss_mb']:.0f} |")
    print(f"audited {audited:,} business-initiated messages; {differing} differ from the generator's ground truth")
    (args.work / "results-compliance.json").write_text(json.dumps({"steps": results, "audited": audited,
                                                                   "differing": differing}, indent=2))


if __name__ == "__main__":
    main()
