"""What every table asset reports on materialization: its row count and column schema (types and COMMENT ON)."""
from __future__ import annotations

import dagster as dg
import duckdb


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str) -> dict:
    """`dagster/row_count` (exact) and `dagster/column_schema` for `schema.table`, read from the warehouse after
    the build. A table that does not exist (yet) reports 0 rows and no columns rather than failing the asset."""
    schema, name = table.split(".", 1)
    columns = conn.execute(
        "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name]).fetchall()
    rows = conn.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0] if columns else 0
    schema_value = dg.TableSchema(columns=[
        dg.TableColumn(column, data_type, description=comment or None,
                       constraints=dg.TableColumnConstraints(nullable=bool(nullable)))
        for column, data_type, nullable, comment in columns])
    return {"dagster/row_count": dg.MetadataValue.int(rows), "dagster/column_schema": dg.MetadataValue.table_schema(schema_value)}
