"""The mart models as a dbt project (dbt_project.yml, models/marts/): dbt builds them on a loaded sample world into
the same tables the pipeline's builder makes, with the same COMMENT ON (persist_docs), its key tests pass, and the
Dagster asset graph's lineage of marts/message_ledger is exactly what dbt's own manifest says the model reads.

Expected values here are not business facts but the pipeline's own output on the same files: the point is that
the conversion to dbt (convert_to_dbt.py) changed no row, type or comment, and that dbt's graph and Dagster's agree.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.marts import MARTS_DIR, is_sql_model
from pipelines.settings import PROJECT_ROOT

pytestmark = pytest.mark.xdist_group("sample_world")

SQL_MARTS = sorted(p.stem for p in MARTS_DIR.glob("*.sql") if is_sql_model(p.stem))


@pytest.fixture(scope="module")
def dbt_built(loaded, tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the loaded sample world's warehouse with `dbt build` run on it; (warehouse, dbt target folder)."""
    work = tmp_path_factory.mktemp("dbt")
    warehouse = work / "warehouse.duckdb"
    shutil.copy(loaded, warehouse)
    env = os.environ | {"WABA_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(work / "target"),
                        "DBT_LOG_PATH": str(work / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run([str(dbt), "build", "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return warehouse, work / "target"


def table_state(conn: duckdb.DuckDBPyConnection, db: str, name: str) -> tuple:
    columns = conn.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? "
                           "AND schema_name = 'marts' AND table_name = ? ORDER BY column_index", [db, name]).fetchall()
    comment = conn.execute("SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'marts' "
                           "AND table_name = ?", [db, name]).fetchall()
    return columns, comment


def test_dbt_builds_every_sql_mart_exactly_as_the_pipeline_does(loaded, dbt_built):
    warehouse, _ = dbt_built
    assert len(SQL_MARTS) >= 20  # every SQL mart of today's models/marts/ is a dbt model
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{loaded}' AS pipeline (READ_ONLY)")
        conn.execute(f"ATTACH '{warehouse}' AS dbt (READ_ONLY)")
        for name in SQL_MARTS:
            assert table_state(conn, "dbt", name) == table_state(conn, "pipeline", name), name
            columns, comment = table_state(conn, "dbt", name)
            assert comment[0][0] and all(c[2] for c in columns), f"{name}: persist_docs left a comment out"
            for left, right in (("pipeline", "dbt"), ("dbt", "pipeline")):
                extra = conn.execute(f"SELECT count(*) FROM (SELECT * FROM {left}.marts.{name} "
                                     f"EXCEPT ALL SELECT * FROM {right}.marts.{name})").fetchone()[0]
                assert extra == 0, f"{name}: {extra} rows in {left}'s table that {right}'s lacks"
        assert conn.execute("SELECT count(*) FROM pipeline.marts.message_ledger").fetchone()[0] > 0
        # The working tables (formerly TEMP) sit in their own schema, not among the analysts' marts.
        intermediate = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'dbt' "
                                                   "AND schema_name = 'intermediate'").fetchall()}
        assert intermediate == {p.stem for p in (MARTS_DIR / "intermediate").glob("*.sql")}
    finally:
        conn.close()


def test_the_quality_catalogues_keys_run_as_dbt_tests_and_pass(dbt_built):
    _, target = dbt_built
    results = json.loads((target / "run_results.json").read_text())["results"]
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    # message_ledger, conversations and optin_audit are keyed by one id (unique + not_null); template_health and
    # messaging_limit_daily by several (pipelines/quality/catalogue.py: ids_unique_not_null).
    assert any("unique_message_ledger_message_id" in r["unique_id"] for r in tests)
    assert any("waba_unique_combination_messaging_limit_daily" in r["unique_id"] for r in tests)
    assert tests and all(r["status"] == "pass" for r in tests), [(r["unique_id"], r["status"]) for r in tests]


def manifest_upstream(manifest: dict, unique_id: str) -> set[tuple[str, ...]]:
    """The tables a model reads per dbt's manifest, looking through intermediate models to what they read."""
    upstream: set[tuple[str, ...]] = set()
    for parent in manifest["nodes"][unique_id]["depends_on"]["nodes"]:
        if parent.startswith("source."):
            source = manifest["sources"][parent]
            upstream.add((source["schema"], source["name"]))
        elif manifest["nodes"][parent]["schema"] == "intermediate":
            upstream |= manifest_upstream(manifest, parent)
        else:
            upstream.add(("marts", manifest["nodes"][parent]["name"]))
    return upstream


def test_message_ledgers_asset_lineage_is_what_its_dbt_model_reads(dbt_built):
    from pipelines.definitions import defs

    _, target = dbt_built
    manifest = json.loads((target / "manifest.json").read_text())
    ledger = "model.waba_insights.message_ledger"
    refs = manifest["nodes"][ledger]["depends_on"]["nodes"]
    assert any(r.startswith("model.") for r in refs) and manifest["nodes"][ledger]["refs"]
    expected = {dg.AssetKey(list(t)) for t in manifest_upstream(manifest, ledger)}
    graph = defs().resolve_asset_graph()
    parents = set(graph.get(dg.AssetKey(["marts", "message_ledger"])).parent_keys)
    assert parents == expected
    # and the ledger no longer "depends" on every staging table, only on those it reads
    assert dg.AssetKey(["staging", "optin_events"]) not in parents
    assert {dg.AssetKey(["staging", "message_statuses"]), dg.AssetKey(["marts", "rate_card"])} <= parents
