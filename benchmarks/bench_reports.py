"""Reports and data-quality benchmark on one generated world (reused when present).

Steps, each in its own process:
  pipeline  `waba run` of the whole landing folder into a new warehouse (every asset: load, marts, checks, publish,
            report), for scale
  checks    every data-quality check of pipelines/quality/catalogue.py evaluated once on the published warehouse,
            great-expectations' import included
  report    the report site rendered from the published warehouse (`waba report`'s work); target under 15 s
then lists every page's size (target: each under 10 MB). Usage:
  python benchmarks/bench_reports.py [--envelopes 1M] [--world DIR] [--work DIR] [--reuse-warehouse]
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


def step(name: str, landing: Path, warehouse: Path, reports: Path) -> dict:
    """Run one measured step in this process (called in a child process)."""
    started = time.perf_counter()
    detail: dict = {}
    if name == "pipeline":
        from pipelines.run import run_pipeline

        summary = run_pipeline(landing, warehouse, reports, verbose=False)
        detail = {"failed_checks": summary.failed_checks, "warned_checks": summary.warned_checks}
    elif name == "checks":
        from pipelines.defs.quality.checks import layer_checks
        from pipelines.warehouse import connect, published_path

        conn = connect(published_path(warehouse), read_only=True)
        timings = {}
        for checks in layer_checks().values():
            for check in checks:
                t = time.perf_counter()
                check.evaluate(conn)
                timings[f"{check.asset_name} {check.name}"] = round(time.perf_counter() - t, 3)
        conn.close()
        detail = {"checks": len(timings), "slowest": sorted(timings.items(), key=lambda kv: -kv[1])[:5]}
    else:
        from pipelines.reports.site import render_site
        from pipelines.warehouse import published_path

        pages = render_site(published_path(warehouse), reports)
        detail = {"pages": {p.name: p.stat().st_size for p in pages}}
    return {"step": name, "seconds": time.perf_counter() - started,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **detail}


def run_child(name: str, landing: Path, warehouse: Path, reports: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(landing), str(warehouse), str(reports)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", default="1M", help="world size in webhook envelopes (default 1M)")
    parser.add_argument("--world", type=Path, default=None, help="landing folder to use (default <work>/world-<envelopes>)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    parser.add_argument("--reuse-warehouse", action="store_true",
                        help="keep the warehouse of an earlier run (skip the pipeline step)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, landing, warehouse, reports = args.child
        print(json.dumps(step(name, Path(landing), Path(warehouse), Path(reports))))
        return

    from worlds import ensure_world

    world = ensure_world(args.work, args.envelopes, args.world)
    warehouse, reports = args.work / "bench-reports.duckdb", args.work / "bench-reports-site"
    steps = ["checks", "report"]
    if not (args.reuse_warehouse and warehouse.exists()):
        for path in args.work.glob("bench-reports.*"):  # also the published copy and DuckDB's spill folder
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        steps.insert(0, "pipeline")
    results = []
    for name in steps:
        results.append(run_child(name, world, warehouse, reports))
        print(f"{name}: {results[-1]['seconds']:.2f}s", flush=True)
    print(f"\nworld: {world} ({json.loads((world / 'ground_truth.json').read_text())['envelopes']} envelopes written)")
    print("| step | seconds | peak RSS (MB) |")
    print("|---|---:|---:|")
    for r in results:
        print(f"| {r['step']} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} |")
    pages = results[-1]["pages"]
    print("\n| page | size (KB) |\n|---|---:|")
    for page, size in pages.items():
        print(f"| {page} | {size / 1024:,.0f} |")
    print(f"| assets/plotly.min.js (once for the site) | {(reports / 'assets' / 'plotly.min.js').stat().st_size / 1024:,.0f} |")
    checks = next((r for r in results if r["step"] == "checks"), {})
    print(f"\nchecks: {checks.get('checks')} evaluated; slowest: {checks.get('slowest')}")
    (args.work / "results-reports.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
