"""Daily-run benchmark: `waba run` end to end (raw, staging, every mart, checks, publish, reports) on one world.

Steps, each in its own process so its peak RSS is its own, on one generated world (reused when present):
  full            the world without its last day's webhook file, into a new warehouse
  +1 day          that day's file added: the finance marts rebuild only the months it touches
  no-op           the same command again: nothing new, dbt not started
  +1 day, whole   the same day added to a copy of the `full` warehouse whose model state was cleared, so every
                  mart is rebuilt whole (what every run did before month partitions): the floor of the +1 day
Usage:
  python benchmarks/bench_daily.py [--envelopes 1M] [--work DIR]
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
    """One `waba run` in this process (called in a child process)."""
    from pipelines.run import run_pipeline

    started = time.perf_counter()
    summary = run_pipeline(landing, warehouse, warehouse.parent / f"{warehouse.stem}-reports", verbose=False)
    seconds = time.perf_counter() - started
    import duckdb

    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        # A first build or --full-refresh creates the tables whole and records nothing: every month.
        months = ["all"] if name in ("full", "+1 day, whole") else [] if name == "no-op" else conn.execute("""
            SELECT coalesce(list(DISTINCT coalesce(strftime(month, '%Y-%m'), 'all')), [])
            FROM bookkeeping.month_partition_builds
            WHERE invocation_id = (SELECT arg_max(invocation_id, built_at) FROM bookkeeping.month_partition_builds)
        """).fetchone()[0]
    finally:
        conn.close()
    return {"step": name, "seconds": seconds, "failed_checks": len(summary.failed_checks), "months": sorted(months),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(name: str, landing: Path, warehouse: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(landing), str(warehouse)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"step {name} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{name}: {result['seconds']:.1f}s, months {result['months']}", flush=True)
    return result


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

    from worlds import HeldBackDay, ensure_world

    world = ensure_world(args.work, args.envelopes)
    day = HeldBackDay(world)
    daily, whole = args.work / "daily.duckdb", args.work / "daily-whole.duckdb"
    results = []
    try:
        for path in args.work.glob("daily*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        results.append(run_child("full", world, daily))
        shutil.copy(daily, whole)
        day.restore()
        results.append(run_child("+1 day", world, daily))
        results.append(run_child("no-op", world, daily))
        import duckdb

        conn = duckdb.connect(str(whole))
        conn.execute("DELETE FROM bookkeeping.model_state WHERE model = 'dbt:models'")
        conn.close()
        results.append(run_child("+1 day, whole", world, whole))
    finally:
        day.restore()
    floor = results[-1]["seconds"]
    print(f"\nworld: {args.envelopes} envelopes ({json.loads((world / 'ground_truth.json').read_text())['envelopes']} written);"
          f" day added: {day.path.name}")
    print("| step | seconds | vs +1 day whole | months rebuilt | peak RSS (MB) |")
    print("|---|---:|---:|---|---:|")
    for r in results:
        print(f"| {r['step']} | {r['seconds']:.2f} | {r['seconds'] / floor:.2f}x | {', '.join(r['months']) or '-'} "
              f"| {r['peak_rss_mb']:.0f} |")
    (args.work / f"daily-{args.envelopes}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
