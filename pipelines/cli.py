"""`waba`: generate a sample world, fetch Business Manager data, run the pipeline, export the consent audit,
render the report site."""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from pipelines import settings
from pipelines.errors import UserError
from pipelines.receive.command import add_receive_parser, cmd_receive

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


RUN_DESCRIPTION = """\
Run the whole pipeline once, in-process with Dagster (job waba_main), for one landing folder:
  1. load every new or changed landing file into raw.* (webhooks, send logs, Business Manager exports and saved
     Graph API pages, opt-ins, rate cards, invoices); unchanged files are skipped, broken lines are quarantined
     with a reason, duplicates are counted;
  2. build staging.* (typed, deduplicated, in event-time order) and the marts: finance (every message priced
     under the rules in force at its time, reconciled with Meta and the invoice), compliance (the opt-in behind
     every business-initiated message), growth (template quality, messaging-limit usage and forecasts);
  3. run every data-quality check: a failed warn check is listed and the run goes on; a failed critical check
     stops everything downstream of it and the run exits 2;
  4. publish a read-only copy beside the warehouse (<name>.published.duckdb) and render the report site.
Prints progress per asset and file, then a summary. Re-running on unchanged files changes nothing.
Exit 0 when everything loaded; 2 when a file could not be read or a critical check failed."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("waba-insights")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waba",
        description="waba-insights: WhatsApp Business Platform webhooks and exports into one DuckDB warehouse.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
                              description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    run.add_argument("--consent-scope", choices=("portfolio", "waba", "number"), default=None,
                     help="how far an opt-out or marketing stop reaches: every WABA of the business portfolio "
                          "(default), its WABA, or its number; same as WABA_CONSENT_SCOPE")
    run.add_argument("--force", action="store_true",
                     help="load this landing folder even though the warehouse was loaded from another one; and run "
                          "every step even when nothing changed since the last run")
    run.add_argument("--naive-timestamps", choices=("reject", "waba"), default=None,
                     help="export timestamps without an offset: quarantine them (reject, the default) or read them "
                          "in their WABA's timezone from accounts.csv (waba); same as WABA_NAIVE_TIMESTAMPS")
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
        "audit", help="export the opt-in audit of business-initiated messages to CSV, or verify an export",
        description="Write one row per business-initiated message sent between --from and --to (days in the "
                    "sending WABA's timezone, inclusive) with its consent status, the reason, and the opt-in's "
                    "evidence reference, plus FILE.manifest.json beside it (window, settings, counts per status, "
                    "SHA-256 of the CSV and of every source file). Reads the published copy of the warehouse when "
                    "there is one. Customer numbers are masked (country code and last two digits) unless --unmasked "
                    "is given. `waba audit --verify FILE.csv` re-checks an export against its manifest and the "
                    "warehouse and says what changed (exit 1 when something did).")
    audit.add_argument("--from", dest="start", metavar="DATE", help="first send day, e.g. 2026-01-01")
    audit.add_argument("--to", dest="end", metavar="DATE", help="last send day, inclusive")
    audit.add_argument("--status", nargs="+", action="extend", default=[], metavar="STATUS",
                       help=f"only these consent statuses ({', '.join(CONSENT_STATUSES)}); default all")
    audit.add_argument("--warehouse", type=Path, default=None,
                       help=f"warehouse the pipeline writes (default {settings.default_warehouse()}; with --verify, "
                            "the one the manifest names); its .published copy is read when present")
    audit.add_argument("--out", type=Path, metavar="FILE.csv", help="CSV file to write")
    audit.add_argument("--unmasked", action="store_true", help="write customer numbers and ids in full")
    audit.add_argument("--verify", type=Path, metavar="FILE.csv",
                       help="re-check this export and its manifest against the warehouse instead of exporting")

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
    add_receive_parser(commands)
    from pipelines import docs

    docs.add_arguments(commands.add_parser(
        "docs", help="write every warehouse table and column, with its comment, into docs/warehouse.md",
        description="Replace the generated tables section of docs/warehouse.md with every schema, table and column "
                    "of a built warehouse and the text of its COMMENT ON (read-only)."))
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
    print(SAMPLE_SECRET_HINT)
    print(f"wrote {args.out} ({truth['envelopes']} webhook envelopes) in {time.monotonic() - started:.1f}s")
    return 0


# The secret comes from the environment only, never from a landing folder's files (whoever can write there could
# forge signatures); `make run` exports the sample world's published secret for the sample run.
SAMPLE_SECRET_HINT = ("the sample world signs its capture records with the app secret 'sample-app-secret': "
                      "export WABA_APP_SECRET=sample-app-secret (as `make run` does) to verify their signatures")


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
        if not os.environ.get("WABA_APP_SECRET"):
            print(SAMPLE_SECRET_HINT, flush=True)
    return landing


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run_pipeline

    from pipelines.compliance import ConsentParams
    from pipelines.defs.run_settings import RunSettings, disabled_from_env
    from pipelines.sources.naive_timestamps import naive_mode

    # The documented environment defaults (read, never written), then the flags; passed to the run explicitly.
    # A bad WABA_CONSENT_SCOPE or WABA_NAIVE_TIMESTAMPS is one line now, not a failed step later.
    run_settings = RunSettings(disabled_regimes=sorted(set(disabled_from_env()) | set(args.disable_regime)),
                               consent_scope=args.consent_scope or ConsentParams.from_env().consent_scope,
                               naive_timestamps=args.naive_timestamps or naive_mode())
    run_settings.check()  # before anything loads: a regime typo, a bad scope
    if args.fetch:
        target = args.landing or settings.default_landing()
        if cmd_fetch(argparse.Namespace(landing=target, since=None, until=None)) != 0:
            print("waba: error: the fetch failed (see above); nothing was loaded", file=sys.stderr)
            return 2
        args.landing = target
    if args.landing is None:
        from pipelines.landing_origin import check_before_sample

        check_before_sample(args.warehouse, settings.default_landing(), args.force)  # before generating anything
    landing = _prepare_landing(args.landing, args.quiet)
    summary = run_pipeline(landing, args.warehouse, args.reports, verbose=not args.quiet, force=args.force,
                           run_settings=run_settings)
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
    from pipelines.run_lock import hold_warehouse

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
    with hold_warehouse(args.warehouse):  # a run started meanwhile is refused, as this is while a run holds it
        scenario, rows = run_scenario(args.warehouse, Scenario(name, args.regime, args.start, args.end, args.rate_card,
                                                               rates_as_of))
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
    from pipelines.audit_manifest import manifest_path, verify_audit
    from pipelines.compliance import export_audit

    if args.verify is not None:
        given = [flag for flag, value in (("--from", args.start), ("--to", args.end), ("--out", args.out),
                                          ("--status", args.status), ("--unmasked", args.unmasked)) if value]
        if given:
            raise UserError(f"--verify takes the window and filter from the manifest; drop {', '.join(given)}")
        verified, findings = verify_audit(args.verify, args.warehouse)
        for line in findings:
            print(f"  {line}")
        if verified:
            print(f"verified {args.verify}: the CSV, {manifest_path(args.verify).name} and the warehouse agree")
            return 0
        print(f"NOT verified {args.verify}: {len(findings)} finding(s) above")
        return 1
    missing = [flag for flag, value in (("--from", args.start), ("--to", args.end), ("--out", args.out)) if not value]
    if missing:
        raise UserError(f"audit needs {', '.join(missing)} (or --verify FILE.csv)")
    start, end = _audit_day(args.start, "--from"), _audit_day(args.end, "--to")
    check_output_file(args.out, "--out")
    counts = export_audit(args.warehouse or settings.default_warehouse(), start, end, args.status, args.out,
                          unmasked=args.unmasked)
    total = sum(counts.values())
    permitted = sum(counts.get(s, 0) for s in ("covered", "covered_identity_changed", "user_initiated_window"))
    share = f" ({permitted / total:.1%} permitted)" if total and not args.status else ""
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"wrote {args.out} and {manifest_path(args.out).name}: {total} business-initiated messages{share}"
          + (f": {by_status}" if by_status else ""))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.reports.site import render_site, report_source

    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"{args.out}: is a file; --out must be a folder for the report site")
    started = time.monotonic()
    pages = render_site(report_source(args.warehouse), args.out)
    largest = max(pages, key=lambda p: p.stat().st_size)
    print(f"wrote {len(pages)} pages to {args.out} in {time.monotonic() - started:.1f}s "
          f"(largest {largest.name}, {largest.stat().st_size / 1e6:.1f} MB); open {args.out / 'index.html'}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from pipelines import docs

    return docs.run(args)


def check_output_file(out: Path, option: str) -> None:
    """A file the command will write: not a folder, in a folder that exists or can be made, writable."""
    if out.is_dir():
        raise UserError(f"{out}: is a folder; {option} must name a file, e.g. {out / 'audit.csv'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise UserError(f"{out}: cannot create its folder {out.parent} (a parent is a file, or permission denied)") from None
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UserError(f"{out}: cannot write there (permission denied); choose another {option}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse would print the top-level usage; the subcommand's own usage says which flags it takes.
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return {"generate": cmd_generate, "run": cmd_run, "fetch": cmd_fetch, "audit": cmd_audit,
                "reprice": cmd_reprice, "report": cmd_report, "receive": cmd_receive,
                "docs": _cmd_docs}[args.command](args)
    except UserError as exc:
        print(f"waba: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("waba: interrupted; the warehouse is left as of the last committed file", file=sys.stderr)
        return 130
    except OSError as exc:  # a file the user named cannot be written or read (full disk, permissions)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"waba: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
