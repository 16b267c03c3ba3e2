"""The README's screenshots, made rather than drawn: generate the sample world, run the pipeline on it, render
the report site and photograph the first screen of a page in headless Chromium at a laptop and a phone width.

    .venv/bin/python -m pipelines.reports.screenshots            (writes docs/images/*.png)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

OUT = PROJECT_ROOT / "docs" / "images"
SHOTS = [("finance", "laptop", 1400, 900, False), ("finance", "phone", 390, 844, True),
         ("compliance", "laptop", 1400, 900, False), ("limits", "laptop", 1400, 900, False)]
SECRET = "screenshot-secret"


def _wait_for_charts(browser, timeout_s: float = 15.0) -> None:
    """Until every chart is drawn at the width of its card (Plotly lays out after the page's load event)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if browser.evaluate("[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg') "
                            "&& d._fullLayout && Math.abs(d._fullLayout.width - d.clientWidth) <= 2)"):
            return
        time.sleep(0.1)


def take(site: Path, out: Path) -> list[Path]:
    from pipelines.reports.chromium import Browser

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with Browser() as browser:
        for page, device, width, height, mobile in SHOTS:
            browser.open((site / f"{page}.html").as_uri(), width, height, mobile)
            _wait_for_charts(browser)
            written.append(browser.screenshot(out / f"report-{page}-{device}.png", full_page=False))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.reports.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG files (default docs/images)")
    parser.add_argument("--customers", type=int, default=300, help="size of the sample world (default 300)")
    args = parser.parse_args(argv)
    from pipelines.run import run_pipeline
    from pipelines.sample import generate_world

    with tempfile.TemporaryDirectory(prefix="waba-screenshots-") as tmp:
        landing, warehouse = Path(tmp) / "landing", Path(tmp) / "warehouse.duckdb"
        generate_world(landing, seed=7, customers=args.customers, start=date(2025, 6, 1), end=date(2026, 11, 30),
                       app_secret=SECRET)
        os.environ["WABA_APP_SECRET"] = SECRET
        run_pipeline(landing, warehouse, Path(tmp) / "reports", verbose=False)
        for path in take(Path(tmp) / "reports", args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
