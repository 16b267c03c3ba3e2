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
"""
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_SECRET, fetch

pytestmark = pytest.mark.xdist_group("sample_world")

HELD_BACK = ["2026-03-16", "2025-06-20", "2026-11-30"]
PARTITIONED = ["outbound_messages", "priced_messages", "charged_units", "message_ledger", "spend_daily",
               "spend_monthly_by_template", "spend_monthly_by_campaign"]


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


def last_build_months(warehouse: Path) -> dict[str, list | None]:
    """model -> the months the latest build replaced (None: every month)."""
    rows = fetch(warehouse, """
        SELECT model, list(month ORDER BY month) FROM bookkeeping.month_partition_builds
        WHERE invocation_id = (SELECT arg_max(invocation_id, built_at) FROM bookkeeping.month_partition_builds)
        GROUP BY model""")
    return {model: None if months == [None] else months for model, months in rows}


def test_adding_a_day_rebuilds_only_the_months_it_touches(world, loaded, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(world, landing)
    held = tmp_path / "held"
    held.mkdir()
    expected = {}
    for day in HELD_BACK:
        (day_file,) = (landing / "webhooks" / "cloud").glob(f"{day}.*")
        expected[day] = expected_months(loaded, world, day_file.name)
        shutil.move(day_file, held / day_file.name)
    assert expected["2026-03-16"] == [date(2026, 3, 1)] and expected["2025-06-20"] is None
    warehouse = tmp_path / "warehouse.duckdb"
    run(landing, warehouse, monkeypatch)

    for day in HELD_BACK:
        (day_file,) = held.glob(f"{day}.*")
        shutil.move(day_file, landing / "webhooks" / "cloud" / day_file.name)
        run(landing, warehouse, monkeypatch)
        assert last_build_months(warehouse) == {model: expected[day] for model in PARTITIONED}, day

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
