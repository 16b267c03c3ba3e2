"""Data quality: every check's latest result, failures first."""
from __future__ import annotations

import duckdb

from pipelines.masking import install_masking
from pipelines.quality.results import LATEST_SQL, TABLE
from pipelines.reports.tables import query_table

TITLE = "Data quality"
QUESTION = "Can the numbers in this report be trusted: which checks ran on which tables, and what failed?"

# 'reported': a check that passes by design but found something (unknown enum values). A finding quotes example
# rows (message ids, numbers): it is masked like every other masked output (pipelines/masking.py).
RESULT_SQL = f"""
SELECT CASE WHEN NOT passed THEN 'failed' WHEN starts_with(observed_value, 'reported') THEN 'reported' ELSE 'passed' END AS result,
       level, asset, check_name, description, masked_text(observed_value) AS observed_value, expectation, engine, checked_at
FROM ({LATEST_SQL})
ORDER BY CASE result WHEN 'failed' THEN 0 WHEN 'reported' THEN 1 ELSE 2 END, level, asset, check_name
"""


def has_results(conn: duckdb.DuckDBPyConnection) -> bool:
    schema, name = TABLE.split(".")
    return conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                        [schema, name]).fetchone()[0] > 0


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    if not has_results(conn):
        return {"kpis": [("Checks", "none run yet")], "results": None}
    install_masking(conn)
    total, critical, warn, reported, last_run = conn.execute(f"""
        SELECT count(*), count(*) FILTER (result = 'failed' AND level = 'critical'),
               count(*) FILTER (result = 'failed' AND level = 'warn'), count(*) FILTER (result = 'reported'), max(checked_at)
        FROM ({RESULT_SQL})""").fetchone()
    if not total:
        return {"kpis": [("Checks", "none run yet")], "results": None}
    return {
        "kpis": [("Checks", f"{total:,}"), ("Critical failures", f"{critical:,}"), ("Warnings", f"{warn:,}"),
                 ("Reported findings", f"{reported:,}"), ("Last checked", f"{last_run:%Y-%m-%d %H:%M} UTC")],
        "results": query_table(
            conn, RESULT_SQL,
            [("Result", "text"), ("Level", "text"), ("Asset", "text"), ("Check", "text"), ("What it checks", "text"),
             ("Observed", "text"), ("Expectation", "text"), ("Engine", "text"), ("Checked at", "date")],
            row_class=lambda row: row[0]),
    }
