"""Ingest benchmark: our raw + staging load against DuckDB's bare flattening of the same files.

Measures, on one generated world (reused when present):
  (a) floor   DuckDB read_json with an explicit schema, statuses unnested into a table, nothing else
  (b) load    our raw + staging load of the whole landing folder (the functions the Dagster assets call)
  (c) rerun   the same load again on unchanged files
  (d) +1 day  one held-back day's webhook file added to the loaded warehouse
Each step runs in its own process so its peak RSS is its own. Usage:
  python benchmarks/bench_ingest.py [--envelopes 1M] [--work DIR]
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

ENTRY_SHAPE = ('[{"id": "VARCHAR", "changes": [{"field": "VARCHAR", "value": {"statuses": [{"id": "VARCHAR", '
               '"status": "VARCHAR", "timestamp": "VARCHAR", "recipient_id": "VARCHAR"}]}}]}]')
# The floor reads bare envelopes and capture records (whose body is a JSON string) alike, as we must.
FLOOR_SQL = """
CREATE TABLE statuses AS
WITH lines AS (
    SELECT entry, body FROM read_json({files}, format='newline_delimited', ignore_errors=true,
        columns={{entry: 'JSON', body: 'VARCHAR'}})
), envelopes AS (
    SELECT CASE WHEN entry IS NOT NULL THEN json_transform(entry, '{shape}')
                ELSE json_transform(body, '{{"entry": {shape}}}').entry END AS entry
    FROM lines
)
SELECT s.id, s.status, s.timestamp, s.recipient_id
FROM (SELECT unnest(c.value.statuses) AS s
      FROM (SELECT unnest(e.changes) AS c FROM (SELECT unnest(entry) AS e FROM envelopes)))
"""


def step(name: str, landing: Path, warehouse: Path) -> dict:
    """Run one measured step in this process (called in a child process)."""
    import duckdb

    started = time.perf_counter()
    if name == "floor":
        files = sorted(str(p) for p in (landing / "webhooks").rglob("*") if p.name.endswith((".jsonl.gz", ".ndjson", ".jsonl")))
        conn = duckdb.connect(str(warehouse))
        conn.execute(FLOOR_SQL.format(files=files, shape=ENTRY_SHAPE))
        rows = conn.execute("SELECT count(*) FROM statuses").fetchone()[0]
        conn.close()
    else:
        from pipelines.staging_build import build_in_process
        from pipelines.sources.tabular import SOURCES, load_tabular
        from pipelines.sources.webhooks import load_webhooks
        from pipelines.warehouse import open_warehouse

        with open_warehouse(warehouse) as conn:
            rows = load_webhooks(conn, landing)["rows_loaded"]
            for source in SOURCES:
                load_tabular(conn, landing, source)
        build_in_process(warehouse)  # dbt, in this process, once the loaders have closed the warehouse
    return {"step": name, "seconds": time.perf_counter() - started, "rows": rows,
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

    from worlds import HeldBackDay, ensure_world

    world = ensure_world(args.work, args.envelopes)
    day = HeldBackDay(world)
    results = []
    try:
        for path in args.work.glob("bench*.duckdb*"):  # DuckDB spills into a <file>.tmp folder
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        results.append(run_child("floor", world, args.work / "bench-floor.duckdb"))
        results.append(run_child("load", world, args.work / "bench.duckdb"))
        results.append(run_child("rerun", world, args.work / "bench.duckdb"))
        day.restore()
        results.append(run_child("plus_one_day", world, args.work / "bench.duckdb"))
    finally:
        day.restore()
    floor, load = results[0]["seconds"], results[1]["seconds"]
    print(f"\nworld: {args.envelopes} envelopes ({json.loads((world / 'ground_truth.json').read_text())['envelopes']} written)")
    print("| step | seconds | vs floor | vs load | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['step'].replace('plus_one_day', '+1 day')} | {r['seconds']:.2f} | {r['seconds'] / floor:.2f}x | {r['seconds'] / load:.3f} | {r['peak_rss_mb']:.0f} |")
    (args.work / f"results-{args.envelopes}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
