"""Issue 18, item 2: the finance marts that roll up by time are partitioned by WABA-local month, and a run rebuilds
only the months its new data touches (late statuses within Meta's retry window included).

The sample world is loaded without three days of Cloud API webhooks, then given them back one day per run, through
every Dagster asset (pipelines.run.run_pipeline), on a DuckDB file on disk. Which months each run replaced is read
from bookkeeping.month_partition_builds (what the assets report as `rebuilt_months`); at the end every mart must
equal the same world loaded in one go (the session's `loaded` warehouse).

Expected months, from the day's events (the staged rows of that file in the `loaded` warehouse), the world's ground
truth send times and its WABAs' timezones (accounts.csv), by Meta's rules rather than the planner's code:
- a status belongs to a message sent up to 7 days earlier (Meta retries for 7 days): every local month from the
  message's send to the status;
- an inbound message opens a 24 h customer-service window (Meta, pricing: service conversations / windows); after a
  referral (ad or Page button) the business's reply within 24 h opens a 72 h free entry point window;
- under conversation-based pricing (before 2025-07-01, models/reference/regime_rules.csv) conversations span days
  and a month cannot be rebuilt alone: every month is.
The three days: mid-March 2026 (late statuses of the week before), 2025-06-20 (conversation-based), 2026-11-30
(the last day, where a Kolkata evening is December 1st).

The compliance marts (optin_audit and its daily rollup) rebuild those months (an audit row is a ledger row) and the
months the day's consent events reach (shared/domain/whatsapp-platform.md, section 7 and section 11 "Consent"): an
opt-out written in the chat, a marketing stop (user_preferences) or a 131050 failure (a stop in force when the failed
message was sent) decides every message sent after it; an identity change (a number passing on ends consent; another
change calls for re-verification) or a new wa_id <-> BSUID link joins the records of one person's ids, whenever they
were made, so it decides every message to that person. Three more days carry such events: 2025-10-24 (six opt-outs
written in the chat, a number change, a security-code change), 2026-04-04 (a marketing stop, a number change and a
BSUID change, new links) and 2026-01-02 (a 131050 failure); on the first two the ledger also rebuilds the months whose
rows' person changed, between the finance months and the compliance ones. The audit itself rebuilds what identity
data reaches by customer, in every month, so its months are only the finance ones and those the stops reach (the
equality at the end proves it rebuilt those customers' rows). And 2026-04-05, whose inbound messages
come from customers written to again weeks later without a reply in between: a month's rows must not depend on an
inbound outside the 24 h window (outbound_messages once carried the customer's latest inbound, whenever it was).
The last two days are given back in one run: it rebuilds the months either day touches.
"""
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_SECRET, fetch

pytestmark = pytest.mark.xdist_group("sample_world")

HELD_BACK = ["2026-03-16", "2025-06-20", "2026-11-30", "2025-10-24", "2026-04-04", "2026-01-02", "2026-04-05"]
# The runs, each adding these days' files: one day each, but for the last two, given back together (a run after two
# days of files rebuilds what either touches).
RUNS = [["2026-03-16"], ["2025-06-20"], ["2026-11-30"], ["2025-10-24"], ["2026-04-04"], ["2026-01-02", "2026-04-05"]]
FINANCE = ["outbound_messages", "priced_messages", "charged_units", "spend_daily", "spend_monthly_by_template",
           "spend_monthly_by_campaign"]
COMPLIANCE = ["optin_audit", "optin_coverage_daily"]
PARTITIONED = FINANCE + ["message_ledger"] + COMPLIANCE
IDENTITY_DAYS = {"2025-10-24", "2026-04-04"}


def run(landing: Path, warehouse: Path, monkeypatch):
    from pipelines.run import run_pipeline

    monkeypatch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
    summary = run_pipeline(landing, warehouse, warehouse.parent / "reports", verbose=False)
    assert summary.failed_checks == []


def expected_months(loaded: Path, world: Path, day_file: str) -> list[date] | None:
    conn = duckdb.connect(str(loaded), read_only=True)
    try:
        conn.execute(f"CREATE TEMP TABLE zones AS FROM read_csv('{world}/business_manager/accounts.csv', all_varchar = true)")
        conn.execute(f"CREATE TEMP TABLE sends AS FROM '{world}/ground_truth_messages.parquet'")
        loads = f"(SELECT load_id FROM raw.load_audit WHERE file_path = 'webhooks/cloud/{day_file}')"
        months = conn.execute(f"""
            WITH spans AS (
                SELECT g.sent_at AS from_at, s.status_at AS to_at, s.waba_id
                FROM staging.message_statuses s JOIN sends g USING (message_id) WHERE s._load_id IN {loads}
                UNION ALL
                SELECT sent_at, sent_at + CASE WHEN referral_source_type IS NULL THEN INTERVAL 24 HOUR
                                               ELSE INTERVAL 96 HOUR END, waba_id
                FROM staging.inbound_messages WHERE _load_id IN {loads}
            )
            SELECT DISTINCT unnest(generate_series(date_trunc('month', from_at AT TIME ZONE z.timezone),
                                                   date_trunc('month', to_at AT TIME ZONE z.timezone), INTERVAL 1 MONTH))::DATE
            FROM spans JOIN zones z USING (waba_id) ORDER BY 1""").fetchall()
    finally:
        conn.close()
    months = [m for (m,) in months]
    assert months, f"{day_file} holds no message events"
    return None if months[0] < date(2025, 7, 1) else months


def expected_consent_months(loaded: Path, world: Path, day_file: str, finance: list[date] | None
                            ) -> tuple[list[date] | None, list[date] | None]:
    """The compliance marts' months for a day: the finance months and every month of an audit row the day's consent
    events decide, read from the world built whole (its timeline says which file recorded each event); and those of
    optin_audit, which rebuilds the rows of the persons new identity data names by customer, in every month: the
    finance months and those the day's stops reach."""
    if finance is None:
        return None, None
    conn = duckdb.connect(str(loaded), read_only=True)
    try:
        conn.execute(f"CREATE TEMP TABLE sends AS FROM '{world}/ground_truth_messages.parquet'")
        loads = f"(SELECT load_id FROM raw.load_audit WHERE file_path = 'webhooks/cloud/{day_file}')"
        in_file = f"split_part(recorded_in, ':', 1) = 'webhooks/cloud/{day_file}'"
        months = conn.execute(f"""
            WITH stops AS (
                -- opt-outs written in the chat, marketing stops and resumes the customer chose in WhatsApp
                SELECT event_at FROM marts.consent_timeline WHERE source IN ('chat_keyword', 'whatsapp') AND {in_file}
                UNION ALL
                -- a marketing message failed with 131050: the stop was in force at its send (ground truth)
                SELECT g.sent_at FROM staging.message_statuses s JOIN sends g USING (message_id)
                WHERE s._load_id IN {loads} AND s.error_code = 131050
            ), named AS (
                -- the ids an identity change names, and the pairs first seen in the day's file
                SELECT unnest([recorded_under, previous_id, new_id]) AS id FROM marts.consent_timeline
                WHERE source = 'system_message' AND {in_file}
                UNION ALL
                SELECT unnest([c.wa_id, c.user_id]) FROM staging.customer_identities c
                WHERE EXISTS (SELECT 1 FROM staging.webhook_contacts w WHERE w._load_id IN {loads}
                              AND w.wa_id = c.wa_id AND w.user_id = c.user_id AND w.seen_at = c.first_seen_at)
                   OR EXISTS (SELECT 1 FROM staging.inbound_messages i WHERE i._load_id IN {loads}
                              AND i.from_wa_id = c.wa_id AND i.from_user_id = c.user_id AND i.sent_at = c.first_seen_at)
            ), persons AS (
                SELECT customer_id FROM marts.customer_persons WHERE person_id IN
                    (SELECT person_id FROM marts.customer_persons WHERE customer_id IN (SELECT id FROM named))
                UNION SELECT id FROM named
            )
            SELECT DISTINCT date_trunc('month', sent_day)::DATE, sent_at >= (SELECT min(event_at) FROM stops)
            FROM marts.optin_audit
            WHERE sent_at >= (SELECT min(event_at) FROM stops) OR customer_id IN (SELECT customer_id FROM persons)""").fetchall()
    finally:
        conn.close()
    return sorted(set(finance) | {m for m, _ in months}), sorted(set(finance) | {m for m, stopped in months if stopped})


def union(months: list[list[date] | None]) -> list[date] | None:
    """Of several days' months: every month (None) when any day's is."""
    return None if None in months else sorted(set().union(*months))


def last_build_months(warehouse: Path) -> dict[str, list | None]:
    """model -> the months the latest build replaced (None: every month)."""
    rows = fetch(warehouse, """
        SELECT model, list(month ORDER BY month) FROM bookkeeping.month_partition_builds
        WHERE invocation_id = (SELECT arg_max(invocation_id, built_at) FROM bookkeeping.month_partition_builds)
        GROUP BY model""")
    return {model: None if months == [None] else months for model, months in rows}


def last_dbt_invocation(target: Path) -> set[str]:
    """The names of the events of the latest dbt invocation logged in that target folder (dbt.log: one JSON event a
    line, as dagster-dbt has dbt log; dbt rotates it at 10 MB into dbt.log.1, .2, ..., the highest the oldest)."""
    logs = sorted(target.glob("dbt.log*"), key=lambda log: -int(log.suffix[1:]) if log.suffix[1:].isdigit() else 0)
    events = [json.loads(line)["info"] for log in logs for line in log.read_text().splitlines() if line.strip()]
    return {e["name"] for e in events if e["invocation_id"] == events[-1]["invocation_id"]}


def test_adding_a_day_rebuilds_only_the_months_it_touches(world, loaded, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(world, landing)
    held = tmp_path / "held"
    held.mkdir()
    expected, consent, audit = {}, {}, {}
    for day in HELD_BACK:
        (day_file,) = (landing / "webhooks" / "cloud").glob(f"{day}.*")
        expected[day] = expected_months(loaded, world, day_file.name)
        consent[day], audit[day] = expected_consent_months(loaded, world, day_file.name, expected[day])
        shutil.move(day_file, held / day_file.name)
    assert expected["2026-03-16"] == [date(2026, 3, 1)] and expected["2025-06-20"] is None
    # A day without consent events rebuilds the same months of the audit; the chat opt-outs of 2025-10-24 reach
    # every later month, up to the world's last (2026-11).
    assert consent["2026-03-16"] == expected["2026-03-16"] and consent["2026-11-30"] == expected["2026-11-30"]
    assert set(consent["2025-10-24"]) >= {date(2025, m, 1) for m in (10, 11, 12)} | {date(2026, m, 1) for m in range(1, 12)}
    # The number, BSUID and security-code changes and new links of 2026-04-04 reach their persons' messages of months
    # before it, which the daily rollup rebuilds and the audit rebuilds by customer, not by month.
    assert set(audit["2026-04-04"]) < set(consent["2026-04-04"])
    warehouse = tmp_path / "warehouse.duckdb"
    run(landing, warehouse, monkeypatch)

    assert sorted(sum(RUNS, [])) == sorted(HELD_BACK)
    for days in RUNS:
        for day in days:
            (day_file,) = held.glob(f"{day}.*")
            shutil.move(day_file, landing / "webhooks" / "cloud" / day_file.name)
        run(landing, warehouse, monkeypatch)
        built = last_build_months(warehouse)
        ledger = built.pop("message_ledger")
        finance, rollup = (union([expected[d] for d in days]), union([consent[d] for d in days]))
        assert built == {model: finance for model in FINANCE} | {"optin_coverage_daily": rollup,
                                                                  "optin_audit": union([audit[d] for d in days])}, days
        if IDENTITY_DAYS & set(days):  # the ledger adds the months whose persons changed, which the rollup's rule covers
            assert set(finance) <= set(ledger) <= set(rollup), days
        else:
            assert ledger == finance, days
        # The marts' build runs on the models the run parsed once (pipelines/dbt_project.py held_manifest): it
        # parses nothing itself (none of dbt's parse events: StateCheckVarsHash, UnableToPartialParse,
        # PartialParsing*), whatever its month plan.
        events = last_dbt_invocation(tmp_path / "warehouse.dbt" / "marts")
        assert "LogModelResult" in events and not {e for e in events if "Pars" in e or e == "StateCheckVarsHash"}, days

    # No new file: dbt is not started, so no partition is replaced.
    builds = fetch(warehouse, "SELECT count(*) FROM bookkeeping.month_partition_builds")
    run(landing, warehouse, monkeypatch)
    assert fetch(warehouse, "SELECT count(*) FROM bookkeeping.month_partition_builds") == builds

    # Built a day at a time or all at once: the same marts and working tables, row for row.
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        conn.execute(f"ATTACH '{loaded}' AS whole (READ_ONLY)")
        tables = [f"{schema}.{t}" for schema, t in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'whole' "
            "AND (schema_name = 'marts' AND table_name <> 'data_quality_results' OR schema_name = 'intermediate') "
            "ORDER BY 1, 2").fetchall()]
        assert {t.split(".")[1] for t in tables} >= set(PARTITIONED)
        different = {}
        for table in tables:
            extra, missing = conn.execute(f"""
                SELECT (SELECT count(*) FROM (FROM warehouse.{table} EXCEPT ALL FROM whole.{table})),
                       (SELECT count(*) FROM (FROM whole.{table} EXCEPT ALL FROM warehouse.{table}))""").fetchone()
            if extra or missing:
                different[table] = (extra, missing)
        assert different == {}
    finally:
        conn.close()
