"""Issue 19's speed targets, judged from the results the benchmarks saved in the work folder.

Reads, for every world size measured there: results-<size>.json (bench_ingest.py: the floor, our raw + staging load
and its peak RSS), daily-<size>.json (bench_daily.py: full, +1 day, no-op, day alone, each with its peak RSS) and
sample-<size>.json (bench_sample.py: the generator's envelopes per second), and prints one table: each target, its
figure per size, and whether it is met. A figure nobody measured says which command measures it. Usage:
  python benchmarks/targets.py [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = ("1M", "10M", "30M")


def _load(work: Path, stem: str, size: str) -> tuple[list | dict | None, str]:
    path = work / f"{stem}-{size}.json"
    if not path.exists():
        return None, ""
    return json.loads(path.read_text()), time.strftime("%Y-%m-%d", time.gmtime(path.stat().st_mtime))


def _steps(results: list | None) -> dict[str, dict]:
    return {r["step"]: r for r in results or []}


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def rows(work: Path) -> list[tuple[str, dict[str, str]]]:
    """(target, {size: figure and verdict}) for every target of issue 19."""
    table: list[tuple[str, dict[str, str]]] = []
    ingest = {s: _steps(_load(work, "results", s)[0]) for s in SIZES}
    daily = {s: _steps(_load(work, "daily", s)[0]) for s in SIZES}
    sample = {s: _load(work, "sample", s)[0] for s in SIZES}

    def measured(by: str, size: str) -> str:
        return f"not measured: `python benchmarks/{by} --envelopes {size}`"

    load, rss = {}, {}
    for s in SIZES:
        steps = ingest[s]
        if "floor" in steps and "load" in steps:
            ratio = steps["load"]["seconds"] / steps["floor"]["seconds"]
            load[s] = (f"{ratio:.1f}x (floor {steps['floor']['seconds']:.1f} s, load {steps['load']['seconds']:.1f} s): "
                       f"{_verdict(ratio <= 5)}")
            gb = steps["load"]["peak_rss_mb"] / 1024
            rss[s] = f"{gb:.2f} GB" + (f": {_verdict(gb < 3)}" if s == "10M" else "")
        else:
            load[s] = rss[s] = measured("bench_ingest.py", s)
    table.append(("1. raw + staging load, vs DuckDB's bare flatten (at most 5x)", load))
    table.append(("1. peak RSS of that load (under 3 GB at 10M)", rss))

    day, noop, full = {}, {}, {}
    for s in SIZES:
        steps = daily[s]
        if "+1 day" in steps and "day alone" in steps:
            ratio = steps["+1 day"]["seconds"] / steps["day alone"]["seconds"]
            judged = f": {_verdict(ratio <= 3)}" if s != "1M" else " (judged at 10M)"
            day[s] = f"{ratio:.2f}x ({steps['+1 day']['seconds']:.1f} s vs {steps['day alone']['seconds']:.1f} s){judged}"
        else:
            day[s] = measured("bench_daily.py", s)
        noop[s] = (f"{steps['no-op']['seconds']:.1f} s" + (f": {_verdict(steps['no-op']['seconds'] < 3)}" if s == "1M" else "")
                   if "no-op" in steps else measured("bench_daily.py", s))
        if "full" in steps:
            gb = max(r["peak_rss_mb"] for r in steps.values()) / 1024
            limit = {"10M": 3, "30M": 4}.get(s)
            full[s] = (f"full {steps['full']['seconds']:.0f} s, peak {gb:.2f} GB"
                       + (f": {_verdict(gb < limit)}" if limit else ""))
        else:
            full[s] = measured("bench_daily.py", s)
    table.append(("2. +1 day end to end, vs that day alone in an empty warehouse (at most 3x at 10M)", day))
    table.append(("3. no-op `waba run` (under 3 s at 1M)", noop))
    table.append(("4. `waba run` of the whole world (peak RSS under 3 GB at 10M, 4 GB at 30M)", full))

    generator = {}
    for s in SIZES:
        result = sample[s]
        generator[s] = (f"{result['envelopes_per_s'] / 1000:.1f}k envelopes/s: {_verdict(result['envelopes_per_s'] >= 100_000)}"
                        if result else measured("bench_sample.py", s))
    table.append(("5. the sample generator (at least 100k envelopes/s)", generator))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    args = parser.parse_args()
    dates = sorted({d for s in SIZES for stem in ("results", "daily", "sample") for d in [_load(args.work, stem, s)[1]] if d})
    print(f"\nissue 19's targets, from the results in {args.work} (measured {', '.join(dates) or 'never'}; "
          "the gaps are explained in docs/benchmarks.md)")
    print(f"| target | {' | '.join(SIZES)} |")
    print(f"|---|{'---|' * len(SIZES)}")
    for target, figures in rows(args.work):
        print(f"| {target} | {' | '.join(re.sub(r'[|]', '/', figures[s]) for s in SIZES)} |")


if __name__ == "__main__":
    main()
