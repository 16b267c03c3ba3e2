"""Issue 18, items 1 and 3: the marts are a dbt project that `waba run` builds through dagster-dbt: every dbt model
is one Dagster asset whose deps are exactly what its SQL refs (per dbt's own manifest, not a list written here),
every dbt test is an asset check, the models are documented tables in the warehouse (persist_docs), and a run in
which nothing changed does not start dbt at all.

Expected values come from dbt's manifest of the model files (`dbt parse`) and from the warehouse a real run wrote.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from conftest import SAMPLE_SECRET, fetch
from pipelines.dbt_project import manifest
from pipelines.settings import PROJECT_ROOT

pytestmark = pytest.mark.xdist_group("sample_world")

MODELS = PROJECT_ROOT / "models" / "marts"


def dbt_models(parsed: dict) -> dict[str, dict]:
    """The mart models (the staging models are pipelines/defs/staging's assets: test_the_staging_assets_are_every_staging_model)."""
    return {uid: node for uid, node in parsed["nodes"].items()
            if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")}


def asset_key(parsed: dict, unique_id: str) -> dg.AssetKey:
    node = parsed["sources"][unique_id] if unique_id.startswith("source.") else parsed["nodes"][unique_id]
    return dg.AssetKey([node["schema"], node["name"]])


def test_every_sql_file_under_models_is_a_dbt_model_and_one_asset():
    parsed = manifest()
    files = {p.stem for p in MODELS.rglob("*.sql")}
    python_built = {line.split("/")[-1][:-4] for line in (PROJECT_ROOT / ".dbtignore").read_text().splitlines()
                    if line.endswith(".sql")}
    assert {node["name"] for node in dbt_models(parsed).values()} == files - python_built
    from pipelines.defs.models.assets import model_keys

    # the same dbt build loads the seeds the marts read (tests/test_dbt_seeds.py)
    seeds = {uid for uid, node in parsed["nodes"].items() if node["resource_type"] == "seed"}
    assert set(model_keys()) == {asset_key(parsed, uid) for uid in set(dbt_models(parsed)) | seeds}


def test_message_ledgers_asset_deps_are_exactly_what_its_sql_refs():
    from pipelines.definitions import defs

    parsed = manifest()
    ledger = "model.waba_insights.message_ledger"
    reads = parsed["nodes"][ledger]["depends_on"]["nodes"]
    assert reads and all(r.startswith(("model.", "source.", "seed.")) for r in reads)
    graph = defs().resolve_asset_graph()
    parents = set(graph.get(dg.AssetKey(["marts", "message_ledger"])).parent_keys)
    assert parents == {asset_key(parsed, r) for r in reads}
    # the ledger no longer "depends" on every staging table, only on what it reads
    assert dg.AssetKey(["staging", "optin_events"]) not in parents


def test_a_staging_tables_asset_deps_are_what_its_sql_reads():
    """Read by hand from models/staging/accounts.sql (raw.accounts, raw.message_logs and the WABAs seen in two
    staging models), message_statuses.sql (the batch's parsed webhook changes) and
    intermediate/webhook_changes.sql (raw.webhook_deliveries of the batch's loads)."""
    from pipelines.definitions import defs

    graph = defs().resolve_asset_graph()

    def parents(key: str) -> set[str]:
        return {k.to_user_string() for k in graph.get(dg.AssetKey(key.split("/"))).parent_keys}

    assert parents("staging/accounts") == {"raw/accounts", "raw/message_logs", "staging/message_statuses",
                                           "staging/inbound_messages"}
    assert parents("staging/message_statuses") == {"intermediate/webhook_changes"}
    assert parents("intermediate/webhook_changes") == {"raw/webhook_deliveries", "intermediate/webhook_batch"}
    assert parents("staging/invoice_lines") == {"raw/invoices"}


def test_the_staging_assets_are_every_staging_model():
    from pipelines.defs.staging.assets import staging_models

    parsed = manifest()
    files = {p.stem for p in (PROJECT_ROOT / "models" / "staging").rglob("*.sql")}
    nodes = [n for n in parsed["nodes"].values()
             if n["resource_type"] == "model" and n["original_file_path"].startswith("models/staging/")]
    assert {n["name"] for n in nodes} == files
    assert set(staging_models.keys) == {dg.AssetKey([n["schema"], n["name"]]) for n in nodes}
    assert {spec.group_name for spec in staging_models.specs} == {"staging"}
    checks = {(c.asset_key, c.name) for c in staging_models.check_specs}
    assert (dg.AssetKey(["staging", "message_log"]), "unique_message_log_message_id") in checks


def test_every_dbt_test_is_an_asset_check_on_its_model():
    from pipelines.defs.models.assets import warehouse_models

    parsed = manifest()
    expected = set()
    for uid, node in parsed["nodes"].items():
        if node["resource_type"] == "test" and node.get("attached_node") in dbt_models(parsed):
            expected.add((asset_key(parsed, node["attached_node"]), node["name"]))
    checks = {(spec.asset_key, spec.name) for spec in warehouse_models.check_specs}
    assert expected and checks == expected
    assert (dg.AssetKey(["marts", "message_ledger"]), "unique_message_ledger_message_id") in checks


def test_the_run_built_every_model_as_a_documented_table(loaded):
    parsed = manifest()
    for node in dbt_models(parsed).values():
        columns = fetch(loaded, "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? "
                                "AND table_name = ?", [node["schema"], node["name"]])
        assert columns, f"{node['schema']}.{node['name']} was not built"
        table = fetch(loaded, "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                      [node["schema"], node["name"]])
        if node["schema"] == "marts":  # the analysts' tables: every column documented (persist_docs)
            assert table[0][0] and all(comment for _, comment in columns), node["name"]
    # The working tables sit in their own schema, not among the analysts' marts.
    intermediate = {r[0] for r in fetch(loaded, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'intermediate'")}
    assert intermediate == {p.stem for p in (MODELS / "intermediate").glob("*.sql")} | {
        p.stem for p in (PROJECT_ROOT / "models" / "staging" / "intermediate").glob("*.sql")}


def waba(*args, home: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME",)}
    env |= {"WABA_HOME": str(home), "WABA_APP_SECRET": SAMPLE_SECRET}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=900, env=env, cwd=PROJECT_ROOT)


def test_a_run_with_nothing_new_does_not_start_dbt_and_a_changed_setting_does(world, loaded, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    warehouse = home / "warehouse.duckdb"
    shutil.copyfile(loaded, warehouse)
    common = ("run", "--landing", world, "--warehouse", warehouse, "--reports", home / "reports")
    unchanged = waba(*common, home=home)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "dbt not started" in unchanged.stdout + unchanged.stderr
    assert "dbt built" not in unchanged.stdout + unchanged.stderr
    changed = waba(*common, "--consent-scope", "number", home=home)
    assert changed.returncode == 0, changed.stderr
    assert "models: dbt built" in changed.stdout + changed.stderr
    assert fetch(warehouse, "SELECT DISTINCT consent_scope FROM marts.optin_audit") == [("number",)]


def test_a_model_that_fails_is_named_in_one_line_with_what_went_wrong(tmp_path):
    """dbt's node error starts with a header that names only the model ("Runtime Error in model accounts (...)");
    the line a user needs is DuckDB's below it. Here staging's `accounts` on an empty warehouse, whose tables it reads
    do not exist: DuckDB says "Catalog Error: Table with name ... does not exist!" (DuckDB's wording, not ours)."""
    from pipelines import dbt_project
    from pipelines.errors import UserError

    with pytest.raises(UserError) as failed:
        dbt_project.run_dbt(tmp_path / "w.duckdb", ["run", "--select", "accounts"])
    message = str(failed.value)
    assert "\n" not in message and "Runtime Error in model" not in message
    assert "accounts: Catalog Error: Table with name " in message and "does not exist" in message
