"""The staging models as dbt builds them (models/staging/, pipelines/staging_build.py): a first load staged in bounded
batches gives the same rows, types and comments as one batch, and the keys hold as dbt tests; the webhook models stay
incremental: a later file's earlier report wins, equal to a build from scratch; a replaced file or changed model code
rebuilds them whole; nothing new starts no dbt at all.

The incremental tests' facts come from Meta's pages, cited where they are asserted.
"""
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_SECRET, SECRET, envelope, fetch, messages_value, write_lines
from pipelines import dbt_project, staging_build
from pipelines.sources.webhooks import load_webhooks
from pipelines.warehouse import open_warehouse

T = 1751371200  # 2025-07-01 12:00:00 UTC
AT = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)


def staging_state(conn: duckdb.DuckDBPyConnection, db: str, name: str) -> tuple:
    columns = conn.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? "
                           "AND schema_name = 'staging' AND table_name = ? ORDER BY column_index", [db, name]).fetchall()
    comment = conn.execute("SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'staging' "
                           "AND table_name = ?", [db, name]).fetchall()
    return columns, comment


def staged_loads(warehouse: Path) -> list[int]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [r[0] for r in conn.execute("SELECT load_id FROM bookkeeping.staged_loads ORDER BY 1").fetchall()]
    finally:
        conn.close()


def staging_names() -> list[str]:
    return sorted(n["name"] for n in staging_build.staging_nodes(dbt_project.manifest()).values() if n["schema"] == "staging")


def assert_same_staging(conn: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Every staging table of the attached `dbt` warehouse has the columns, types, comments and rows of `pipeline`'s."""
    for name in names:
        assert staging_state(conn, "dbt", name) == staging_state(conn, "pipeline", name), name
        columns, comment = staging_state(conn, "dbt", name)
        assert comment[0][0] and all(c[2] for c in columns), f"{name}: persist_docs left a comment out"
        for left, right in (("pipeline", "dbt"), ("dbt", "pipeline")):
            extra = conn.execute(f"SELECT count(*) FROM (SELECT * FROM {left}.staging.{name} "
                                 f"EXCEPT ALL SELECT * FROM {right}.staging.{name})").fetchone()[0]
            assert extra == 0, f"{name}: {extra} rows in {left}'s table that {right}'s lacks"


@pytest.mark.xdist_group("sample_world")
def test_a_first_load_staged_in_bounded_batches_equals_one_batch(loaded, tmp_path):
    """`loaded` is the sample world as `waba run` built it (every webhook load in one batch)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(loaded, warehouse)
    with open_warehouse(warehouse) as conn:  # the raw layer alone, as the loaders left it
        conn.execute("DROP SCHEMA staging CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS bookkeeping CASCADE")
        loads = dict(conn.execute("SELECT load_id, rows_loaded FROM raw.load_audit WHERE source = 'webhooks' "
                                  "AND status IN ('loaded', 'truncated')").fetchall())
    # Batches of at most a third of the deliveries: the first load is staged in several dbt runs, each bounded.
    limit = sum(loads.values()) // 3
    batches = []
    plan = staging_build.build_in_process(warehouse, batch_rows=limit, progress=batches.append)
    assert plan.full_refresh and sum("webhook batch" in line for line in batches) >= 2
    assert staged_loads(warehouse) == sorted(loads)
    names = staging_names()
    assert len(names) == 33
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{loaded}' AS pipeline (READ_ONLY)")
        conn.execute(f"ATTACH '{warehouse}' AS dbt (READ_ONLY)")
        assert_same_staging(conn, names)
        assert conn.execute("SELECT count(*) FROM dbt.staging.message_statuses").fetchone()[0] > 1000
        # Bookkeeping sits in its own schema, never among the analysts' staging tables.
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'dbt' AND schema_name = 'staging' "
                            "AND table_name IN ('staged_loads', 'code_version', 'model_state')").fetchone()[0] == 0
        # The batch's working tables hold nothing once dbt has finished: what they last held depends on how the loads
        # were batched, not on the data (models/dbt_macros/empty_batch_working_tables.sql).
        for name in ("webhook_batch", "webhook_changes", "webhook_management_values"):
            assert conn.execute(f"SELECT count(*) FROM dbt.intermediate.{name}").fetchone()[0] == 0, name
    finally:
        conn.close()
    # The keys hold as dbt tests, run by dbt itself: each webhook model's unique_key, and the quality catalogue's
    # ids_unique_not_null for staging (pipelines/quality/catalogue.py).
    webhook = [n for n in staging_build.staging_nodes(dbt_project.manifest()).values()
               if n["config"]["materialized"] == "earliest_wins"]
    tests = [n for n in dbt_project.manifest()["nodes"].values() if n["resource_type"] == "test"
             and n.get("attached_node", "").split(".")[-1] in names]
    assert sum("waba_unique_combination" in t["name"] for t in tests
               if t["attached_node"].split(".")[-1] in {w["name"] for w in webhook}) == len(webhook)
    assert {"unique_message_log_message_id", "not_null_message_statuses_status"} <= {t["name"] for t in tests}
    dbt_project.build(warehouse, select=staging_build.SELECT, command="test")  # raises naming the failed test


@pytest.mark.xdist_group("sample_world")
def test_waba_run_stages_a_first_load_in_the_batches_its_bound_allows(world, loaded, tmp_path, monkeypatch, capsys):
    """The bound holds where it matters, in `waba run` (Dagster's staging asset, dbt in its own processes): with
    WABA_WEBHOOK_BATCH_ROWS at a third of the deliveries, the first load is staged in several dbt runs before the
    final build, and gives the rows of `loaded` (the same world under the default bound: one batch)."""
    from pipelines.run import run_pipeline

    deliveries = fetch(loaded, "SELECT sum(rows_loaded) FROM raw.load_audit WHERE source = 'webhooks' "
                               "AND status IN ('loaded', 'truncated')")[0][0]
    assert deliveries < staging_build.BATCH_ROWS  # so `loaded` was staged in one batch
    monkeypatch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
    monkeypatch.setenv(staging_build.BATCH_ROWS_ENV, str(deliveries // 3))
    warehouse = tmp_path / "warehouse.duckdb"
    run_pipeline(world, warehouse, tmp_path / "reports", verbose=True)
    batches = [line for line in capsys.readouterr().out.splitlines() if "staging: webhook batch" in line]
    assert len(batches) >= 2, batches  # and the final build stages the last
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{loaded}' AS pipeline (READ_ONLY)")
        conn.execute(f"ATTACH '{warehouse}' AS dbt (READ_ONLY)")
        assert_same_staging(conn, staging_names())
    finally:
        conn.close()


def test_a_bad_batch_bound_is_one_line_before_anything_loads(world, tmp_path, monkeypatch):
    from pipelines.errors import UserError
    from pipelines.run import run_pipeline

    monkeypatch.setenv(staging_build.BATCH_ROWS_ENV, "lots")
    with pytest.raises(UserError, match="WABA_WEBHOOK_BATCH_ROWS='lots': expected a positive whole number"):
        run_pipeline(world, tmp_path / "w.duckdb", tmp_path / "reports", verbose=False)
    assert not (tmp_path / "w.duckdb").exists()


def delivered(message_id: str, ts: int) -> dict:
    return {"id": message_id, "status": "delivered", "timestamp": str(ts), "recipient_id": "5511999990000"}


def load_raw(warehouse: Path, landing: Path) -> None:
    with open_warehouse(warehouse) as conn:
        load_webhooks(conn, landing, app_secret=SECRET)


def statuses(warehouse: Path) -> list[tuple]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute("SELECT message_id, status, status_at, _load_id FROM staging.message_statuses ORDER BY ALL").fetchall()
    finally:
        conn.close()


def test_through_dbt_a_later_files_earlier_report_wins_and_equals_a_build_from_scratch(landing, warehouse, tmp_path):
    # Meta retries a webhook it could not deliver for up to 7 days, and retries can duplicate (Meta, "Webhooks
    # overview", updated Apr 29, 2026; domain notes section 3), so day 2's file can carry a report of a day-1 status
    # whose timestamp (when the status happened) is earlier than the report of it that arrived on day 1.
    write_lines(landing / "webhooks" / "day1.jsonl", [envelope("W1", "messages", messages_value(
        statuses=[delivered("m1", T + 60), delivered("m2", T)]))])
    load_raw(warehouse, landing)
    assert staging_build.build_in_process(warehouse).full_refresh
    write_lines(landing / "webhooks" / "day2.jsonl", [envelope("W1", "messages", messages_value(
        statuses=[delivered("m1", T), delivered("m3", T + 120)]))])
    load_raw(warehouse, landing)
    # only day 2's load was parsed, incrementally
    assert not staging_build.build_in_process(warehouse).full_refresh and staged_loads(warehouse) == [1, 2]
    incremental = statuses(warehouse)
    # the earliest by event time wins: m1's delivered is day 2's report, at T, not day 1's at T + 60
    assert [(m, at) for m, _, at, _ in incremental] == [("m1", AT), ("m2", AT), ("m3", datetime(2025, 7, 1, 12, 2, tzinfo=timezone.utc))]
    assert [load for *_, load in incremental] == [2, 1, 2]
    scratch = tmp_path / "scratch.duckdb"
    shutil.copy(warehouse, scratch)
    assert staging_build.build_in_process(scratch, full=True).full_refresh
    assert statuses(scratch) == incremental


def test_through_dbt_a_replaced_file_or_changed_model_code_rebuilds_the_webhook_models_whole(landing, warehouse, tmp_path):
    day1 = write_lines(landing / "webhooks" / "day1.jsonl", [envelope("W1", "messages", messages_value(
        statuses=[delivered("m1", T), delivered("m2", T)]))])
    load_raw(warehouse, landing)
    staging_build.build_in_process(warehouse)
    assert [m for m, *_ in statuses(warehouse)] == ["m1", "m2"]
    # The file is replaced by one without m2 (a re-export): its old rows leave raw, so they must leave staging too,
    # which appending the new load alone would not do.
    write_lines(day1, [envelope("W1", "messages", messages_value(statuses=[delivered("m1", T)]))])
    load_raw(warehouse, landing)
    assert staging_build.build_in_process(warehouse).full_refresh and staged_loads(warehouse) == [2]
    assert statuses(warehouse) == [("m1", "delivered", AT, 2)]
    # Nothing new, same code: dbt is not started at all.
    assert staging_build.build_in_process(warehouse).skip
    # Model code other than what staged the rows (here: a recorded fingerprint that is not today's) rebuilds whole.
    with open_warehouse(warehouse) as conn:
        conn.execute("UPDATE bookkeeping.model_state SET sql_md5 = 'an older model version' WHERE model = ?",
                     [staging_build.STATE_KEY])
    assert staging_build.build_in_process(warehouse).full_refresh
    assert statuses(warehouse) == [("m1", "delivered", AT, 2)]


def test_a_warehouse_from_before_the_bookkeeping_moved_loses_its_old_bookkeeping_tables(landing, warehouse):
    """Issue 18 item 4: bookkeeping lives in its own schema, never among the analysts' staging tables, also in a
    warehouse built before the move (its old tables are dropped and staging is rebuilt whole once)."""
    from conftest import envelope, load_all, messages_value, write_lines

    import duckdb

    conn = duckdb.connect(str(warehouse))
    conn.execute("CREATE SCHEMA staging")
    conn.execute("CREATE TABLE staging.staged_loads (load_id BIGINT PRIMARY KEY, staged_at TIMESTAMPTZ)")
    conn.execute("CREATE TABLE staging.model_state (model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")
    conn.execute("CREATE TABLE staging.code_version AS SELECT 'old' AS incremental_sql_md5")
    conn.close()
    write_lines(landing / "webhooks" / "h.jsonl", [envelope("W1", "messages", messages_value(statuses=[
        {"id": "wamid.1", "status": "sent", "timestamp": "1767225600", "recipient_id": "12125550100"}]))])
    load_all(warehouse, landing)
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        staging = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging'").fetchall()}
        assert not staging & {"staged_loads", "model_state", "code_version"}
        assert conn.execute("SELECT count(*) FROM bookkeeping.staged_loads").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM staging.message_statuses").fetchone()[0] == 1
    finally:
        conn.close()
