"""Growth benchmark: the sliding-window unique-customer computation against the raw + staging load of the same run.

On one generated world (shared with bench_ingest.py, reused when present), each in its own process:
  load     raw + staging load of the whole landing folder (what bench_ingest calls "load")
  growth   the finance marts the growth marts read, then every growth step, each timed; "reach" is the
           sliding 24-hour / 7-day distinct-customer sweep (models/marts/intermediate/reach_peaks.sql)
Usage:
  python benchmarks/bench_growth.py [--envelopes 1M] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def step(name: str, landing: Path, warehouse: Path) -> dict:
    """Run one measured step in this process (called in a child process)."""
    from pipelines.warehouse import open_warehouse

    timings: dict[str, float] = {}
    started = time.perf_counter()
    with open_warehouse(warehouse) as conn:
        if name == "load":
            from pipelines.staging import build_staging
            from pipelines.sources.tabular import SOURCES, load_tabular
            from pipelines.sources.webhooks import load_webhooks

            load_webhooks(conn, landing)
            for source in SOURCES:
                load_tabular(conn, landing, source)
            build_staging(conn)
        else:
            from pipelines.finance import build_finance
            from pipelines.growth import growth_steps

            build_finance(conn, force=True)
            timings["finance"] = time.perf_counter() - started
            for step_name, run in growth_steps():
                at = time.perf_counter()
                run(conn)
                timings[step_name] = time.perf_counter() - at
            timings["sends_counted"] = conn.execute(
                "SELECT count(*) FROM marts.message_ledger WHERE message_type = 'template' AND NOT in_service_window "
                "AND final_status <> 'failed'").fetchone()[0]
    return {"step": name, "seconds": time.perf_counter() - started, "timings": timings,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(name: str, landing: Path, warehouse: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(landing), str(warehouse)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", default="1M", help="world size in webhook envelopes (default 1M)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, landing, warehouse = args.child
        print(json.dumps(step(name, Path(landing), Path(warehouse))))
        return

    from pipelines.cli import _scale
    from pipelines.sample import generate_world

    world = args.work / f"world-{args.envelopes}"
    if not (world / "ground_truth.json").exists():
        shutil.rmtree(world, ignore_errors=True)
        started = time.perf_counter()
        generate_world(world, envelopes=_scale(args.envelopes))
        print(f"generated {world} in {time.perf_counter() - started:.1f}s", flush=True)
    warehouse = args.work / "bench-growth.duckdb"
    for path in args.work.glob("bench-growth.duckdb*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    load = run_child("load", world, warehouse)
    growth = run_child("growth", world, warehouse)
    t = growth["timings"]
    print(f"\nworld: {args.envelopes} envelopes; {t['sends_counted']:,} business-initiated sends outside a service window")
    print("| step | seconds | vs load | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| raw + staging load | {load['seconds']:.2f} | 1.000 | {load['peak_rss_mb']:.0f} |")
    print(f"| finance marts (prerequisite) | {t['finance']:.2f} | {t['finance'] / load['seconds']:.3f} | |")
    print(f"| rolling unique customers (_reach_peaks) | {t['_reach_peaks']:.2f} | {t['_reach_peaks'] / load['seconds']:.3f} | |")
    total = growth["seconds"] - t["finance"]
    print(f"| all growth marts incl. forecast | {total:.2f} | {total / load['seconds']:.3f} | {growth['peak_rss_mb']:.0f} |")
    for name, seconds in t.items():
        if name not in ("finance", "sends_counted"):
            print(f"  {name}: {seconds:.2f}s")
    (args.work / f"growth-results-{args.envelopes}.json").write_text(json.dumps([load, growth], indent=2))


if __name__ == "__main__":
    main()
