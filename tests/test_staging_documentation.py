"""Every staging table carries its model's YAML docs (models/staging/_staging.yml) as COMMENT ON, like the marts:
a table comment and one per column, and no column goes undocumented (issue 13's "Done when"; dbt's persist_docs
writes them)."""
from conftest import load_all
from pipelines import dbt_project
from pipelines.staging_build import staging_nodes


def staging_models() -> dict[str, dict]:
    return {n["name"]: n for n in staging_nodes(dbt_project.manifest()).values() if n["schema"] == "staging"}


def test_every_staging_column_is_documented_and_commented(landing, warehouse, query):
    load_all(warehouse, landing)  # an empty landing folder still creates every staging table
    models = staging_models()
    assert len(models) == 33
    tables = dict(query("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'staging'"))
    assert set(tables) == set(models)
    for name, node in models.items():
        assert tables[name] == node["description"] and tables[name], name
        columns = dict(query("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'staging' "
                             "AND table_name = ?", [name]))
        # every column the SQL makes is in the YAML, and the YAML names no column the table lacks
        assert set(columns) == set(node["columns"]), name
        assert all(columns[c] == node["columns"][c]["description"] and columns[c] for c in columns), name
    # The YAML's text, not a placeholder, is what the warehouse carries.
    assert query("SELECT comment FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = 'calls' "
                 "AND column_name = 'billable_pulses'") == [(models["calls"]["columns"]["billable_pulses"]["description"],)]
