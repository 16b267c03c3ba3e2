"""Daily-run benchmark: `waba run` end to end (raw, staging, every mart, checks, publish, reports) on one world.

Steps, each `waba run --quiet` in its own process (its peak RSS, dbt's processes included, is its own), on one
generated world (reused when present):
  full            the world without its last day's webhook file, into a new warehouse
  +1 day          that day's file added: the finance marts rebuild only the months it touches
  no-op           the same command again: nothing changed, so neither Dagster nor dbt is started (pipelines/run_state.py)
  +1 day, whole   the same day added to a copy of the `full` warehouse whose model state was cleared, so every
                  mart is rebuilt whole (what every run did before month partitions): the floor of the +1 day
  day alone       that day's webhook file by itself (with the accounts and rate cards it is priced by) into an
                  empty warehouse: what the +1 day would cost if history weighed nothing (issue 19, target 2:
                  the +1 day at most 3x this)
With --tree, the steps run the `waba` of another checkout (an earlier commit: the "before" of a change), whose
runs rebuild what they rebuilt then; the +1 day, whole step is then left out (it clears this tree's model state).
Usage:
  python benchmarks/bench_daily.py [--envelopes 1M] [--work DIR] [--tree DIR]
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


def step(name: str, landing: Path, warehouse: Path, tree: Path) -> dict:
    """One `waba run` of `tree` in a child process, timed; its peak RSS is that of the largest process it waited for."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--quiet", "--landing", str(landing),
                          "--warehouse", str(warehouse), "--reports", str(warehouse.parent / f"{warehouse.stem}-reports")],
                         capture_output=True, text=True, cwd=tree)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"step {name}: waba run exited {out.returncode}:\n{out.stderr[-3000:]}")
    return {"step": name, "seconds": seconds, "months": _months(name, warehouse),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _months(name: str, warehouse: Path) -> dict[str, list[str]]:
    """The months the step's build replaced: in the finance marts (those of message_ledger) and in the compliance
    marts (optin_audit's, which new consent events can widen); "all" for a whole build or a tree without partitions."""
    import duckdb

    if name in ("full", "+1 day, whole", "day alone"):  # a first build or --full-refresh creates the tables whole, recording nothing
        return {"finance": ["all"], "compliance": ["all"]}
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        if not conn.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'bookkeeping' "
                            "AND table_name = 'month_partition_builds'").fetchone():
            return {"finance": ["?" if name == "no-op" else "all"], "compliance": ["?" if name == "no-op" else "all"]}
        if name == "no-op":  # nothing built: the newest build is the previous step's
            return {"finance": [], "compliance": []}
        rows = dict(conn.execute("""
            SELECT model, list(DISTINCT coalesce(strftime(month, '%Y-%m'), 'all') ORDER BY coalesce(strftime(month, '%Y-%m'), 'all'))
            FROM bookkeeping.month_partition_builds
            WHERE invocation_id = (SELECT arg_max(invocation_id, built_at) FROM bookkeeping.month_partition_builds)
            GROUP BY model""").fetchall())
        return {"finance": rows.get("message_ledger", []), "compliance": rows.get("optin_audit", [])}
    finally:
        conn.close()


def _months_text(months: list[str]) -> str:
    return ", ".join(months) if len(months) <= 4 else f"{len(months)} months, {months[0]} to {months[-1]}"


def day_alone(world: Path, day_file: Path, work: Path) -> Path:
    """A landing folder holding one day's webhook file and the files that say how it is priced (the accounts'
    timezones and currencies, the rate cards), nothing of the history before it."""
    landing = work / "day-alone"
    shutil.rmtree(landing, ignore_errors=True)
    (landing / "webhooks" / "cloud").mkdir(parents=True)
    (landing / "business_manager").mkdir()
    shutil.copy(day_file, landing / "webhooks" / "cloud" / day_file.name)
    shutil.copy(world / "business_manager" / "accounts.csv", landing / "business_manager" / "accounts.csv")
    shutil.copytree(world / "rate_cards", landing / "rate_cards")
    return landing


def run_child(name: str, landing: Path, warehouse: Path, tree: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(landing), str(warehouse), str(tree)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"step {name} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{name}: {result['seconds']:.1f}s, months {result['months']}, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", default="1M", help="world size in webhook envelopes (default 1M)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the checkout whose `waba run` is measured (default this one)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, landing, warehouse, tree = args.child
        print(json.dumps(step(name, Path(landing), Path(warehouse), Path(tree))))
        return
    tree = args.tree.resolve()

    from worlds import HeldBackDay, ensure_world

    world = ensure_world(args.work, args.envelopes)
    day = HeldBackDay(world)
    daily, whole = args.work / "daily.duckdb", args.work / "daily-whole.duckdb"
    results = []
    try:
        # The warehouses, their dbt folders and report sites: every first run here is a user's first run.
        for path in [*args.work.glob("daily*.duckdb*"), *args.work.glob("daily*.dbt"), *args.work.glob("daily*-reports")]:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        results.append(run_child("full", world, daily, tree))
        shutil.copy(daily, whole)
        day.restore()
        results.append(run_child("+1 day", world, daily, tree))
        results.append(run_child("no-op", world, daily, tree))
        if tree == ROOT:
            import duckdb

            conn = duckdb.connect(str(whole))
            conn.execute("DELETE FROM bookkeeping.model_state WHERE model = 'dbt:models'")
            conn.close()
            results.append(run_child("+1 day, whole", world, whole, tree))
        results.append(run_child("day alone", day_alone(world, day.path, args.work), args.work / "daily-alone.duckdb", tree))
    finally:
        day.restore()
    seconds = {r["step"]: r["seconds"] for r in results}
    floor = seconds["+1 day, whole" if tree == ROOT else "+1 day"]
    print(f"\nworld: {args.envelopes} envelopes ({json.loads((world / 'ground_truth.json').read_text())['envelopes']} written);"
          f" day added: {day.path.name}; tree: {tree}")
    print(f"| step | seconds | vs {'+1 day whole' if tree == ROOT else '+1 day'} | finance months rebuilt "
          "| compliance months rebuilt | peak RSS (MB) |")
    print("|---|---:|---:|---|---|---:|")
    for r in results:
        print(f"| {r['step']} | {r['seconds']:.2f} | {r['seconds'] / floor:.2f}x | {_months_text(r['months']['finance']) or '-'} "
              f"| {_months_text(r['months']['compliance']) or '-'} | {r['peak_rss_mb']:.0f} |")
    print(f"\n+1 day / day alone: {seconds['+1 day'] / seconds['day alone']:.2f}x (issue 19, target 2: at most 3x at 10M)")
    label = "" if tree == ROOT else f"-{tree.name}"
    (args.work / f"daily-{args.envelopes}{label}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
