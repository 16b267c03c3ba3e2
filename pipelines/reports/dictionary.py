"""Data dictionary: every mart and column with the text of its COMMENT ON, read from the warehouse itself."""
from __future__ import annotations

import duckdb

TITLE = "Data dictionary"
QUESTION = "What does each table and column in the marts mean?"


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    tables = conn.execute("""
        SELECT table_name, comment, estimated_size FROM duckdb_tables()
        WHERE schema_name = 'marts' ORDER BY table_name""").fetchall()
    columns = conn.execute("""
        SELECT table_name, column_name, data_type, comment FROM duckdb_columns()
        WHERE schema_name = 'marts' ORDER BY table_name, column_index""").fetchall()
    by_table: dict[str, list[tuple]] = {}
    for table, column, data_type, comment in columns:
        by_table.setdefault(table, []).append((column, data_type, comment or ""))
    kpis = [("Marts", f"{len(tables):,}"), ("Documented columns", f"{sum(1 for c in columns if c[3]):,} of {len(columns):,}")]
    return {"kpis": kpis, "tables": [{"name": f"marts.{name}", "anchor": name, "comment": comment or "", "rows": rows,
                        "columns": by_table.get(name, [])} for name, comment, rows in tables]}
