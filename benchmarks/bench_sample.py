"""Sample-world generator benchmark: `generate_world` (what `waba generate` runs) at one size, timed.

Generates a world of about --envelopes webhook envelopes into <work>/sample-<envelopes> (regenerated every run,
the generator clears its own earlier output) and prints the seconds, the envelopes written (the ground truth's
count), envelopes per second and the peak RSS of this process and of its children (the webhook writer processes).
Issue 19 asks for at least 100k envelopes/s on a 2-core machine. Usage:
  python benchmarks/bench_sample.py [--envelopes 1M] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", default="1M", help="world size in webhook envelopes (default 1M)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out", help="work folder (git-ignored)")
    args = parser.parse_args()

    from pipelines.cli import _scale
    from pipelines.sample import generate_world

    world = args.work / f"sample-{args.envelopes}"
    started = time.perf_counter()
    truth = generate_world(world, envelopes=_scale(args.envelopes))
    seconds = time.perf_counter() - started
    result = {
        "envelopes_asked": args.envelopes, "envelopes": truth["envelopes"], "seconds": seconds,
        "envelopes_per_s": truth["envelopes"] / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    print(f"world: {world} ({args.envelopes} asked, {truth['envelopes']:,} envelopes written)")
    print("| seconds | envelopes | envelopes/s | peak RSS (MB) | peak RSS, children (MB) |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {seconds:.2f} | {truth['envelopes']:,} | {result['envelopes_per_s']:,.0f} | {result['peak_rss_mb']:.0f} "
          f"| {result['peak_rss_children_mb']:.0f} |")
    (args.work / f"sample-{args.envelopes}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
