"""Every staging table carries its model header as COMMENT ON, like the marts: a table comment and one
per column, and no column goes undocumented (issue 13's "Done when")."""
from conftest import load_all
from pipelines.staging import document_staging, load_model
from pipelines.staging_models import incremental_models, table_models
from pipelines.warehouse import open_warehouse


def test_every_staging_column_is_documented_and_commented(landing, warehouse, query):
    load_all(warehouse, landing)  # an empty landing folder still creates every staging table
    with open_warehouse(warehouse) as conn:
        assert document_staging(conn) == {}
    names = incremental_models() + table_models()
    tables = dict(query("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'staging'"))
    for name in names:
        assert tables[name] == load_model(name).description and tables[name], name
    uncommented = query("""SELECT table_name, column_name FROM duckdb_columns()
                           WHERE schema_name = 'staging' AND table_name IN (SELECT unnest(?::VARCHAR[]))
                             AND (comment IS NULL OR comment = '')""", [names])
    assert uncommented == []
    # The header text, not a placeholder, is what the warehouse carries.
    assert query("SELECT comment FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = 'calls' "
                 "AND column_name = 'billable_pulses'") == [(load_model("calls").columns["billable_pulses"],)]


def test_a_header_missing_a_column_is_reported(landing, warehouse):
    load_all(warehouse, landing)
    with open_warehouse(warehouse) as conn:
        conn.execute("ALTER TABLE staging.calls ADD COLUMN not_in_header INTEGER")
        assert document_staging(conn) == {"calls": ["not_in_header"]}
