"""marts.data_quality_results: every check evaluation, appended as checks run (documented in its model header)."""
from __future__ import annotations

from datetime import datetime, timezone

import duckdb

from pipelines.marts import document, load_mart
from pipelines.quality.checks import Check, Outcome

TABLE = "marts.data_quality_results"


def ensure_results_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS marts")
    conn.execute(f"""
        CREATE TABLE IF NOT EXISTS {TABLE} (
            check_name VARCHAR, asset VARCHAR, level VARCHAR, engine VARCHAR, description VARCHAR, run_id VARCHAR,
            checked_at TIMESTAMPTZ, passed BOOLEAN, observed_value VARCHAR, expectation VARCHAR)
    """)
    document(conn, load_mart("data_quality_results"))


def record(conn: duckdb.DuckDBPyConnection, evaluated: list[tuple[Check, Outcome]], run_id: str) -> None:
    ensure_results_table(conn)
    checked_at = datetime.now(timezone.utc)
    conn.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (c.name, c.asset_name, c.level, o.engine, c.description, run_id, checked_at, o.passed, o.observed, o.expectation)
        for c, o in evaluated])


LATEST_SQL = f"""
SELECT * FROM {TABLE}
QUALIFY row_number() OVER (PARTITION BY check_name, asset ORDER BY checked_at DESC) = 1
"""
