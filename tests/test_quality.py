"""Data-quality checks, one kind at a time, on small tables built by hand: each must catch what it is for and
pass what is fine."""

import duckdb
import pytest

from pipelines.quality import catalogue
from pipelines.quality.checks import CRITICAL, WARN
from pipelines.quality.results import LATEST_SQL, record


@pytest.fixture
def conn(tmp_path):
    connection = duckdb.connect(str(tmp_path / "q.duckdb"))
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("CREATE SCHEMA marts")
    yield connection
    connection.close()


def test_unique_not_null_counts_duplicates_and_null_ids(conn):
    conn.execute("CREATE TABLE marts.t AS SELECT * FROM (VALUES ('a', 1), ('a', 2), ('b', 3), (NULL, 4)) v(id, n)")
    check = catalogue.unique_not_null(("marts", "t"), ["id"])
    outcome = check.evaluate(conn)
    assert check.level == CRITICAL and not outcome.passed
    assert outcome.observed.startswith("2 found") and "a" in outcome.observed
    conn.execute("DELETE FROM marts.t WHERE n IN (2, 4)")
    assert check.evaluate(conn).passed


def test_money_below_zero_fails_through_great_expectations(conn):
    conn.execute("""CREATE TABLE marts.t AS SELECT * FROM (VALUES
        (TIMESTAMPTZ '2026-01-01 10:00:00', 0.5), (TIMESTAMPTZ '2026-01-02 10:00:00', -0.25),
        (TIMESTAMPTZ '2026-01-02 11:00:00', 1.0)) v(sent_at, charge)""")
    outcome = catalogue.not_negative(("marts", "t"), "charge", "sent_at").evaluate(conn)
    assert not outcome.passed and outcome.engine == "great_expectations"
    assert outcome.observed.startswith("1 of 2 days unexpected") and "2026-01-02" in outcome.observed
    assert outcome.expectation.startswith("expect_column_values_to_be_between(column=min_charge")


def test_unknown_enum_values_are_reported_not_failed(conn):
    conn.execute("CREATE TABLE marts.t AS SELECT * FROM (VALUES ('sent'), ('sent'), ('teleported')) v(final_status)")
    check = catalogue.known_values(("marts", "t"), "final_status", ["sent", "delivered"])
    outcome = check.evaluate(conn)
    assert check.level == WARN and outcome.passed
    assert outcome.observed.startswith("reported, not failed: 1 of 2 distinct values unexpected")
    assert "teleported" in outcome.observed


def test_timestamps_out_of_range_and_out_of_order_are_caught(conn):
    conn.execute("""CREATE TABLE marts.message_ledger AS SELECT * FROM (VALUES
        (TIMESTAMPTZ '2026-01-01 10:00:00', TIMESTAMPTZ '2026-01-01 10:00:05'),
        (TIMESTAMPTZ '2031-01-01 10:00:00', TIMESTAMPTZ '2031-01-01 09:59:00')) v(sent_at, delivered_at)""")
    in_range = catalogue.timestamps_in_range(("marts", "message_ledger"), "sent_at").evaluate(conn)
    assert not in_range.passed and "2031-01-01" in in_range.observed
    order = next(c for c in catalogue.finance_checks() if c.name == "delivered_not_before_sent")
    outcome = order.evaluate(conn)
    assert not outcome.passed and "min_delivery_lag_seconds=-60" in outcome.observed



def test_results_keep_history_and_the_latest_wins(conn):
    check = catalogue.unique_not_null(("marts", "t"), ["id"])
    conn.execute("CREATE TABLE marts.t AS SELECT 'a' AS id UNION ALL SELECT 'a'")
    record(conn, [(check, check.evaluate(conn))], run_id="run-1")
    conn.execute("DELETE FROM marts.t; INSERT INTO marts.t VALUES ('a')")
    record(conn, [(check, check.evaluate(conn))], run_id="run-2")
    assert conn.execute("SELECT count(*) FROM marts.data_quality_results").fetchone()[0] == 2
    assert conn.execute(f"SELECT run_id, passed FROM ({LATEST_SQL})").fetchall() == [("run-2", True)]
    comment = conn.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'data_quality_results'").fetchone()[0]
    assert comment.startswith("one row per data-quality check evaluation")


def test_a_broken_expectation_raises_instead_of_passing(conn):
    from pipelines.quality.expectations import validate

    with pytest.raises(RuntimeError, match="does not exist"):
        validate(conn.sql("SELECT 1 AS other").df(), lambda gxe: gxe.ExpectColumnValuesToBeInSet(column="nope", value_set=[1]))


def test_great_expectations_loads_in_the_background_once_a_run_waits_on_dbt():
    """Importing the dbt assets' helpers loads neither great-expectations nor pandas (seconds at every start); warm_up,
    which they call while dbt runs, loads it in a thread, and a check afterwards uses that set-up and still judges."""
    import subprocess
    import sys

    code = """
import sys
import duckdb
import pipelines.defs.dbt_results
from pipelines.quality import catalogue, expectations
assert "great_expectations" not in sys.modules and "pandas" not in sys.modules, "loaded at import"
expectations.warm_up()
expectations.warm_up()  # once
thread = expectations._warm_up
thread.join(120)
assert not thread.is_alive() and "great_expectations" in sys.modules
assert expectations._batch_definition.cache_info().currsize == 1
conn = duckdb.connect()
conn.execute("SET TimeZone = 'UTC'")
conn.execute("CREATE SCHEMA marts")
conn.execute("CREATE TABLE marts.t AS SELECT * FROM (VALUES (TIMESTAMPTZ '2026-01-01 10:00:00', -1.0)) v(sent_at, charge)")
outcome = catalogue.not_negative(("marts", "t"), "charge", "sent_at").evaluate(conn)
assert not outcome.passed and outcome.engine == "great_expectations", outcome
assert expectations._batch_definition.cache_info().misses == 1
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
