"""`waba`: generate a sample world, fetch Business Manager data, run the pipeline, export the consent audit,
render the report site."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

from pipelines import settings
from pipelines.errors import UserError

SCALE_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def _scale(text: str) -> int:
    """'1M', '250k' or '10000000' webhook envelopes."""
    factor = SCALE_SUFFIXES.get(text[-1:].lower(), 1)
    number = text[:-1] if factor > 1 else text
    try:
        value = int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale expects a number of envelopes like 1M or 250k, got {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError("--scale must be positive")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-06-01, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waba",
        description="waba-insights: WhatsApp Business Platform webhooks and exports into one DuckDB warehouse.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="write a deterministic sample landing folder (and its ground truth)",
                              description="Write a sample landing folder a real business could have produced, "
                                          "plus ground_truth.json for tests.")
    gen.add_argument("--out", type=Path, required=True, help="landing folder to write (created; must be empty or absent)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7); same seed, same bytes")
    gen.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    gen.add_argument("--start", type=_date, default=date(2025, 6, 1), help="first day (default 2025-06-01)")
    gen.add_argument("--end", type=_date, default=date(2026, 11, 30), help="last day (default 2026-11-30)")
    gen.add_argument("--scale", type=_scale, default=None, metavar="ENVELOPES",
                     help="size the world to about this many webhook envelopes (e.g. 1M, 10M); overrides --customers")

    run = commands.add_parser("run", help="materialize every asset for a landing folder",
                              description="Load every landing source into raw, build staging, and publish the warehouse. "
                                          "Re-running on unchanged files changes nothing.")
    run.add_argument("--landing", type=Path, default=None,
                     help=f"landing folder (default {settings.default_landing()}; generated as a sample world when absent)")
    run.add_argument("--warehouse", type=Path, default=settings.default_warehouse(),
                     help="DuckDB file to write (default %(default)s); a .published copy is written beside it")
    run.add_argument("--reports", type=Path, default=settings.default_reports(),
                     help="folder for rendered reports (default %(default)s)")
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.add_argument("--fetch", action="store_true",
                     help="first run `waba fetch` (Graph API, needs WABA_GRAPH_TOKEN and WABA_GRAPH_WABA_IDS) into the "
                          "landing folder, then load everything: today's Business Manager state and Meta's analytics "
                          "in one command")
    run.add_argument("--disable-regime", action="append", default=[], metavar="NAME",
                     help="what-if: price without this pricing regime (the one before it continues), e.g. pmp_2026_10, "
                          "or without a free allowance, e.g. the reported free_service_2026_10; repeatable; same as "
                          "WABA_DISABLED_REGIMES")

    fetch = commands.add_parser(
        "fetch", help="save Business Manager data and Meta's analytics from the Graph API into the landing folder",
        description="Fetch every WABA's phone numbers and message templates as of now, and Meta's pricing, "
                    "conversation and template analytics for a date range, over the Graph API; each response page "
                    "is saved under <landing>/business_manager/graph/ as it arrives, for `waba run` to load. "
                    "Needs WABA_GRAPH_TOKEN and WABA_GRAPH_WABA_IDS (comma separated); optional "
                    "WABA_GRAPH_API_VERSION (default v24.0) and WABA_GRAPH_BASE_URL.")
    fetch.add_argument("--since", type=_date, default=None,
                       help="first day of analytics, UTC (default 30 days before --until); Meta keeps 1 year "
                            "(90 days of template analytics), so earlier starts are moved up")
    fetch.add_argument("--until", type=_date, default=None, help="last day of analytics, UTC (default today)")
    fetch.add_argument("--landing", type=Path, default=settings.default_landing(),
                       help="landing folder to save into (default %(default)s)")

    from pipelines.compliance import CONSENT_STATUSES

    audit = commands.add_parser(
        "audit", help="export the opt-in audit of business-initiated messages to CSV",
        description="Write one row per business-initiated message sent between --from and --to (days in the "
                    "sending WABA's timezone, inclusive) with its consent status, the reason, and the opt-in's "
                    "evidence reference. Reads the published copy of the warehouse when there is one. Customer "
                    "numbers are masked (country code and last two digits) unless --unmasked is given.")
    audit.add_argument("--from", dest="start", required=True, metavar="DATE", help="first send day, e.g. 2026-01-01")
    audit.add_argument("--to", dest="end", required=True, metavar="DATE", help="last send day, inclusive")
    audit.add_argument("--status", nargs="+", action="extend", default=[], metavar="STATUS",
                       help=f"only these consent statuses ({', '.join(CONSENT_STATUSES)}); default all")
    audit.add_argument("--warehouse", type=Path, default=settings.default_warehouse(),
                       help="warehouse the pipeline writes (default %(default)s); its .published copy is read when present")
    audit.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="CSV file to write")
    audit.add_argument("--unmasked", action="store_true", help="write customer numbers and ids in full")

    reprice = commands.add_parser(
        "reprice", help="what a period would have cost under another pricing regime or rate card",
        description="Re-price every message sent between --from and --to (days in the sending WABA's timezone) "
                    "under one pricing regime (see marts.pricing_regimes), optionally with another rate card, and "
                    "compare with what it actually cost. The result is printed by month and kept in "
                    "marts.reprice_scenarios (the published copy is refreshed). Example: "
                    "waba reprice --regime pmp_2026_10 --from 2026-07-01 --to 2026-09-30")
    reprice.add_argument("--regime", required=True, help="regime to apply to every message, e.g. pmp_2026_10")
    reprice.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE", help="first send day")
    reprice.add_argument("--to", dest="end", type=_date, required=True, metavar="DATE", help="last send day, inclusive")
    reprice.add_argument("--rate-card", type=Path, default=None, metavar="FILE.csv",
                         help="a rate card CSV (effective_from, market, category, currency, rate[, volume_from, volume_to]) "
                              "to use instead of the warehouse's")
    reprice.add_argument("--rates-as-of", default=None, metavar="DATE|send-date",
                         help="price every message with the rates in force on this date (default: the regime's "
                              "effective date, i.e. the rules and prices announced with it); 'send-date' uses each "
                              "message's own send date")
    reprice.add_argument("--name", default=None, help="scenario name (default '<regime> <from>..<to>'); rerunning a name replaces it")
    reprice.add_argument("--warehouse", type=Path, default=settings.default_warehouse(),
                         help="warehouse to read and record the scenario in (default %(default)s)")

    report = commands.add_parser(
        "report", help="render the report site (HTML) from the warehouse",
        description="Render the static report site (finance, compliance, templates, messaging limit, data quality, "
                    "data dictionary) from the published copy of the warehouse (else the warehouse, read-only). "
                    "Open <out>/index.html in a browser; it needs no network. `waba run` renders it too.")
    report.add_argument("--warehouse", type=Path, default=settings.default_warehouse(),
                        help="warehouse the pipeline writes (default %(default)s); its .published copy is read when present")
    report.add_argument("--out", type=Path, default=settings.default_reports(),
                        help="folder to write the site into (default %(default)s)")
    return parser


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.sample import generate_world

    if args.out.exists() and any(args.out.iterdir()):
        raise UserError(f"{args.out}: folder is not empty; choose a new --out folder")
    if args.end < args.start:
        raise UserError(f"--end {args.end} is before --start {args.start}")
    if args.customers < 1:
        raise UserError("--customers must be at least 1")
    started = time.monotonic()
    truth = generate_world(args.out, seed=args.seed, customers=args.customers, start=args.start, end=args.end,
                           envelopes=args.scale, progress=lambda line: print(line, flush=True))
    print(f"wrote {args.out} ({truth['envelopes']} webhook envelopes) in {time.monotonic() - started:.1f}s")
    return 0


def _prepare_landing(landing: Path | None, quiet: bool) -> Path:
    if landing is not None:
        if not landing.is_dir():
            raise UserError(f"{landing}: landing folder does not exist (expected webhooks/, message_logs/, ... inside)")
        return landing
    landing = settings.default_landing()
    if not landing.is_dir():
        from pipelines.sample import generate_world

        print(f"no landing folder given: generating the sample world into {landing}", flush=True)
        generate_world(landing, progress=None if quiet else (lambda line: print(line, flush=True)))
    truth = landing / "ground_truth.json"
    if truth.exists() and not os.environ.get("WABA_APP_SECRET"):
        # The sample world signs its capture records with a known secret; use it so they verify.
        os.environ["WABA_APP_SECRET"] = json.loads(truth.read_text())["app_secret"]
    return landing


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run_pipeline

    if args.fetch:
        target = args.landing or settings.default_landing()
        if cmd_fetch(argparse.Namespace(landing=target, since=None, until=None)) != 0:
            print("waba: error: the fetch failed (see above); nothing was loaded", file=sys.stderr)
            return 2
        args.landing = target
    landing = _prepare_landing(args.landing, args.quiet)
    if args.disable_regime:
        # The finance asset reads it from the environment, like a Dagster run launched from the UI would.
        current = [n for n in os.environ.get("WABA_DISABLED_REGIMES", "").split(",") if n]
        os.environ["WABA_DISABLED_REGIMES"] = ",".join(sorted(set(current) | set(args.disable_regime)))
    summary = run_pipeline(landing, args.warehouse, args.reports, verbose=not args.quiet)
    print(summary.text())
    for line in summary.unreadable_files:
        print(f"error: {line}", file=sys.stderr)
    for check in summary.failed_checks:
        print(f"error: critical data-quality check failed (assets downstream of it were not built): {check}",
              file=sys.stderr)
    return 2 if summary.unreadable_files or summary.failed_checks else 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from pipelines.sources.graph_api import GraphSettings
    from pipelines.sources.graph_fetch import GRAPH_FOLDER, fetch_business_manager

    graph = GraphSettings.from_env()
    result = fetch_business_manager(graph, args.landing, since=args.since, until=args.until,
                                    log=lambda line: print(line, flush=True))
    print(f"saved {len(result.files)} response pages under {args.landing / GRAPH_FOLDER} "
          f"(fetched at {result.fetched_at:%Y-%m-%dT%H:%M:%SZ}); `waba run --landing {args.landing}` loads them")
    for failure in result.failures:
        print(f"waba: error: {failure}", file=sys.stderr)
    return 2 if result.failures else 0

def _audit_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} expects a date like 2026-01-31, got {text!r}") from None


def cmd_reprice(args: argparse.Namespace) -> int:
    from pipelines.reprice import REGIME_DATE, Scenario, run_scenario

    if args.rates_as_of == "send-date":
        rates_as_of = None
    elif args.rates_as_of is not None:
        try:
            rates_as_of = date.fromisoformat(args.rates_as_of)
        except ValueError:
            raise UserError(f"--rates-as-of expects a date like 2026-10-01 or 'send-date', got {args.rates_as_of!r}") from None
    else:
        rates_as_of = REGIME_DATE
    name = args.name or f"{args.regime} {args.start}..{args.end}"
    scenario, rows = run_scenario(args.warehouse, Scenario(name, args.regime, args.start, args.end, args.rate_card, rates_as_of))
    by_month: dict[tuple, list] = {}
    for month, _waba, _market, _category, currency, _au, actual, _su, priced, unpriced, _diff in rows:
        total = by_month.setdefault((month, currency), [0, 0, 0])
        total[0] += actual or 0
        total[1] += priced or 0
        total[2] += unpriced or 0
    print(f"scenario {name!r}: regime {args.regime}, rates as of {scenario.rates_as_of or 'each send date'}, "
          f"card {args.rate_card or 'warehouse'}")
    print(f"  {'month':10} {'currency':8} {'actual':>14} {'scenario':>14} {'difference':>14} {'unpriced':>9}")
    for (month, currency), (actual, priced, unpriced) in sorted(by_month.items()):
        print(f"  {month:%Y-%m}    {currency:8} {actual:>14.4f} {priced:>14.4f} {priced - actual:>+14.4f} {unpriced:>9}")
    print("details by WABA, market and category: SELECT * FROM marts.reprice_scenarios WHERE scenario = "
          f"'{name}'")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from pipelines.compliance import export_audit

    start, end = _audit_day(args.start, "--from"), _audit_day(args.end, "--to")
    counts = export_audit(args.warehouse, start, end, args.status, args.out, unmasked=args.unmasked)
    total = sum(counts.values())
    covered = counts.get("covered", 0)
    share = f" ({covered / total:.1%} covered)" if total and not args.status else ""
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"wrote {args.out}: {total} business-initiated messages{share}" + (f": {by_status}" if by_status else ""))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.reports.site import render_site, report_source

    started = time.monotonic()
    pages = render_site(report_source(args.warehouse), args.out)
    largest = max(pages, key=lambda p: p.stat().st_size)
    print(f"wrote {len(pages)} pages to {args.out} in {time.monotonic() - started:.1f}s "
          f"(largest {largest.name}, {largest.stat().st_size / 1e6:.1f} MB); open {args.out / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"generate": cmd_generate, "run": cmd_run, "fetch": cmd_fetch, "audit": cmd_audit,
                "reprice": cmd_reprice, "report": cmd_report}[args.command](args)
    except UserError as exc:
        print(f"waba: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("waba: interrupted; the warehouse is left as of the last committed file", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
