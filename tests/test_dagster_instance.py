"""Issue 18, item 3 (Dagster conventions): `waba run` records into the persistent Dagster instance the UI reads,
settings travel as the `run_settings` resource (never through os.environ), the app secret comes only from the
environment, and every table asset reports its row count and column schema.

Real parts only: the `waba` CLI in a child process, a Dagster instance on disk under a temp WABA_HOME, read back
with DagsterInstance.get(); the DuckDB warehouse file it wrote.
"""
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import SAMPLE_SECRET, fetch
from crash import ROOT

pytestmark = pytest.mark.xdist_group("dagster_instance")


def waba(*args, home: Path, secret: str | None = SAMPLE_SECRET):
    env = {k: v for k, v in os.environ.items() if k not in ("WABA_APP_SECRET", "DAGSTER_HOME")}
    env["WABA_HOME"] = str(home)
    if secret is not None:
        env["WABA_APP_SECRET"] = secret
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> Path:
    from pipelines.sample import generate_world

    landing = tmp_path_factory.mktemp("instance-world") / "landing"
    generate_world(landing, seed=5, customers=20, start=date(2025, 6, 1), end=date(2025, 7, 31), app_secret=SAMPLE_SECRET)
    return landing


@pytest.fixture(scope="module")
def two_runs(small_world, tmp_path_factory):
    """Two runs into one WABA_HOME: `waba run` in a child process, then the CLI in this process with every
    setting flag on unchanged files (so this process's environment can be compared before and after)."""
    from pipelines.cli import main

    home = tmp_path_factory.mktemp("waba-home")
    common = ("--quiet", "--landing", small_world, "--warehouse", home / "w.duckdb", "--reports", home / "reports")
    first = waba("run", *common, home=home)
    assert first.returncode == 0, first.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        patch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
        for name in ("WABA_DISABLED_REGIMES", "WABA_CONSENT_SCOPE", "WABA_NAIVE_TIMESTAMPS"):
            patch.delenv(name, raising=False)
        before = {k: v for k, v in os.environ.items() if k.startswith(("WABA_", "DAGSTER_"))}
        assert main(["run", *map(str, common), "--consent-scope", "waba", "--disable-regime", "pmp_2026_10",
                     "--naive-timestamps", "waba"]) == 0
        after = {k: v for k, v in os.environ.items() if k.startswith(("WABA_", "DAGSTER_"))}
    return home, before, after


@pytest.fixture
def instance(two_runs, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(two_runs[0] / "dagster"))
    with dg.DagsterInstance.get() as instance:
        yield instance


def main_job_asset_keys() -> set[dg.AssetKey]:
    from pipelines.definitions import MAIN_JOB, defs

    return set(defs().resolve_job_def(MAIN_JOB).asset_layer.selected_asset_keys)


def test_waba_run_leaves_a_materialization_of_every_main_job_asset_in_the_persistent_instance(two_runs, instance):
    home = two_runs[0]
    keys = main_job_asset_keys()
    assert len(keys) > 50  # raw, staging, marts, quality, reporting
    never = sorted(k.to_user_string() for k in keys if instance.get_latest_materialization_event(k) is None)
    assert never == []
    # The shipped dagster.yaml was copied into the instance: telemetry off.
    assert instance.get_settings("telemetry") == {"enabled": False}
    assert (home / "dagster" / "dagster.yaml").read_text() == (ROOT / "dagster.yaml").read_text()


def test_a_second_run_adds_run_history_rather_than_replacing_it(instance):
    runs = instance.get_runs(dg.RunsFilter(job_name="waba_main"))
    assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    ledger = dg.AssetKey(["marts", "message_ledger"])
    materialized_by = {e.run_id for e in instance.fetch_materializations(ledger, limit=10).records}
    assert materialized_by == {r.run_id for r in runs}


def test_settings_are_run_config_of_the_run_settings_resource_and_the_secret_is_not(instance, two_runs):
    newest, oldest = instance.get_runs(dg.RunsFilter(job_name="waba_main"))  # newest first
    assert oldest.run_config["resources"]["run_settings"]["config"] == {
        "disabled_regimes": [], "consent_scope": "portfolio", "naive_timestamps": "reject"}
    assert newest.run_config["resources"]["run_settings"]["config"] == {
        "disabled_regimes": ["pmp_2026_10"], "consent_scope": "waba", "naive_timestamps": "waba"}
    # The secret's value is in no run's stored config, nor anywhere in the instance's run storage.
    assert SAMPLE_SECRET not in json.dumps([r.run_config for r in (newest, oldest)])
    # The setting reached the compliance marts of the second run.
    assert fetch(two_runs[0] / "w.duckdb", "SELECT DISTINCT consent_scope FROM marts.optin_audit") == [("waba",)]


def _schema(warehouse: Path, table: str) -> list[tuple]:
    schema, name = table.split(".")
    return fetch(warehouse, "SELECT column_name, data_type, comment FROM duckdb_columns() "
                            "WHERE schema_name = ? AND table_name = ? ORDER BY column_index", [schema, name])


@pytest.mark.parametrize("table", ["raw.webhook_deliveries", "raw.message_logs", "staging.message_statuses",
                                   "marts.message_ledger", "marts.optin_audit"])
def test_a_materialization_carries_the_row_count_and_column_schema(instance, two_runs, table):
    warehouse = two_runs[0] / "w.duckdb"
    event = instance.get_latest_materialization_event(dg.AssetKey(table.split(".")))
    metadata = event.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == fetch(warehouse, f"SELECT count(*) FROM {table}")[0][0] > 0
    columns = metadata["dagster/column_schema"].schema.columns
    assert [(c.name, c.type, c.description) for c in columns] == _schema(warehouse, table)
    if table.startswith("marts."):
        # Every mart column is documented (COMMENT ON); the schema carries that text.
        assert all(c.description for c in columns)


@pytest.fixture(scope="module")
def unsigned_home(small_world, tmp_path_factory) -> Path:
    """A bare `waba run` (default paths under WABA_HOME) on a copy of the world, without WABA_APP_SECRET."""
    home = tmp_path_factory.mktemp("unsigned-home")
    shutil.copytree(small_world, home / "landing")
    result = waba("run", "--quiet", home=home, secret=None)
    assert result.returncode == 0, result.stderr
    return home


def test_the_app_secret_is_never_read_from_the_landing_folder(unsigned_home):
    """The sample world's ground_truth.json names its secret; a bare `waba run` on it without WABA_APP_SECRET
    must not use it: no capture record verifies (the generator signed them, see pipelines/sample/writers.py)."""
    home = unsigned_home
    assert json.loads((home / "landing" / "ground_truth.json").read_text())["app_secret"] == SAMPLE_SECRET
    statuses = dict(fetch(home / "warehouse.duckdb",
                          "SELECT signature_status, count(*) FROM raw.webhook_deliveries GROUP BY 1"))
    assert "valid" not in statuses and "invalid" not in statuses and statuses.get("unverified", 0) > 0


def test_a_new_invoice_file_restages_only_the_staging_model_that_reads_invoices(unsigned_home):
    """Issue 18 ("adding a day's file rebuilds only what it touches"), through Dagster as `waba run` drives it: after
    one new invoice file, staging's dbt build runs the models that read raw.invoices and nothing else. By reading
    models/staging/*.sql, only invoice_lines reads raw.invoices and no staging model refs invoice_lines."""
    home = unsigned_home
    (home / "landing" / "invoices" / "invoices_2025_08.csv").write_text(
        "month,waba_id,market,category,amount,currency\n2025-08,102290129340398,Brazil,authentication,0.031500,USD\n")
    result = waba("run", "--quiet", home=home, secret=None)
    assert result.returncode == 0, result.stderr
    results = json.loads((home / "warehouse.dbt" / "staging" / "run_results.json").read_text())["results"]
    assert sorted(r["unique_id"] for r in results if not r["unique_id"].startswith("operation.")) == [
        "model.waba_insights.invoice_lines"]
    assert fetch(home / "warehouse.duckdb", "SELECT count(*) FROM staging.invoice_lines WHERE month = '2025-08-01'") == [(1,)]


def test_with_the_secret_in_the_environment_signatures_verify_and_the_forged_one_fails(small_world, two_runs):
    truth = json.loads((small_world / "ground_truth.json").read_text())
    statuses = dict(fetch(two_runs[0] / "w.duckdb", "SELECT signature_status, count(*) FROM raw.webhook_deliveries GROUP BY 1"))
    # The generator's own count of capture records it signed wrongly (ground_truth.json "bad_signatures").
    assert statuses.get("invalid", 0) == sum(f["bad_signatures"] for f in truth["files"].values())
    assert statuses.get("valid", 0) > 0


def test_the_run_leaves_the_environment_as_it_found_it(two_runs):
    _, before, after = two_runs
    assert after == before


def test_a_bad_setting_from_the_launchpad_fails_the_run_at_its_start_in_one_line(tmp_path):
    """What the launchpad does: run config for the `run_settings` resource on the job, no environment involved."""
    from pipelines.definitions import MAIN_JOB, defs

    run_config = {"resources": {"run_settings": {"config": {"naive_timestamps": "utc"}},
                                "warehouse": {"config": {"warehouse_path": str(tmp_path / "w.duckdb"),
                                                         "landing_path": str(tmp_path), "reports_path": str(tmp_path)}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs().resolve_job_def(MAIN_JOB).execute_in_process(run_config=run_config, instance=instance,
                                                                      raise_on_error=False)
    assert not result.success
    assert not (tmp_path / "w.duckdb").exists()  # nothing ran
    failures = [e for e in result.all_events if e.event_type_value in ("RESOURCE_INIT_FAILURE", "STEP_FAILURE",
                                                                      "PIPELINE_FAILURE")]
    assert any("naive_timestamps='utc': expected one of reject, waba" in str(e.event_specific_data) for e in failures)


def _main_runs(home: Path) -> int:
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return len(instance.get_runs(dg.RunsFilter(job_name="waba_main")))


def _shortcut(result) -> bool:
    assert result.returncode == 0, result.stderr
    return "Dagster not started" in result.stdout


def test_a_run_with_nothing_changed_ends_without_starting_dagster_and_any_change_runs_every_step(unsigned_home):
    """Issue 19, target 3 (a no-op run in seconds): nothing changed since the last complete run, `waba run` says so,
    repeats its check warnings and records no Dagster run. A write to the warehouse since, or a landing file touched
    (the loaders compare path, size and mtime), runs every step again, and so does --force."""
    home = unsigned_home
    warehouse = home / "warehouse.duckdb"
    before = waba("run", "--quiet", home=home, secret=None)  # whatever ran last on this home, recorded now
    runs = _main_runs(home)
    again = waba("run", "--quiet", home=home, secret=None)
    assert _shortcut(again) and _main_runs(home) == runs
    warnings = [line for line in before.stdout.splitlines() if line.startswith("check warning:")]
    assert [line for line in again.stdout.splitlines() if line.startswith("check warning:")] == warnings
    assert "staging rows: " in again.stdout  # the same summary, from the warehouse as it is

    conn = duckdb.connect(str(warehouse))  # a write since the last run: someone's scratch table
    conn.execute("CREATE TABLE main.scratch AS SELECT 1 AS x")
    conn.close()
    assert not _shortcut(waba("run", "--quiet", home=home, secret=None)) and _main_runs(home) == runs + 1
    assert _shortcut(waba("run", "--quiet", home=home, secret=None))

    accounts = home / "landing" / "business_manager" / "accounts.csv"
    os.utime(accounts, ns=(accounts.stat().st_atime_ns, accounts.stat().st_mtime_ns + 1_000_000_000))
    assert not _shortcut(waba("run", "--quiet", home=home, secret=None)) and _main_runs(home) == runs + 2
    assert not _shortcut(waba("run", "--quiet", "--force", home=home, secret=None)) and _main_runs(home) == runs + 3


def test_a_selection_of_dbt_assets_builds_only_those_models_and_their_tests(two_runs, tmp_path):
    """The UI's "Materialize selected": Dagster's selection decides what dbt builds (as dagster-dbt selects a subset),
    and the dbt tests on what it built come back as those assets' checks, next to our quality checks on the same
    assets and no others. Expected from the manifest's test definitions (models/staging/_staging.yml,
    models/marts/_marts.yml) and the quality catalogue, not from the code under test."""
    from pipelines.dbt_project import manifest
    from pipelines.definitions import MAIN_JOB, defs
    from pipelines.defs.quality.checks import layer_checks

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(two_runs[0] / "w.duckdb", warehouse)
    picked = {dg.AssetKey(["staging", "call_events"]), dg.AssetKey(["marts", "template_health"])}
    run_config = {"resources": {"warehouse": {"config": {"warehouse_path": str(warehouse),
                                                         "landing_path": str(tmp_path / "landing"),
                                                         "reports_path": str(tmp_path / "reports")}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs().resolve_job_def(MAIN_JOB).execute_in_process(
            run_config=run_config, instance=instance, asset_selection=list(picked), raise_on_error=False)
    assert result.success
    assert {e.asset_key for e in result.get_asset_materialization_events()} == picked
    tests_on = {name: {uid for uid, node in manifest()["nodes"].items() if node["resource_type"] == "test"
                       and f"model.waba_insights.{name}" in node["depends_on"]["nodes"]}
                for name in ("call_events", "template_health")}
    assert all(tests_on.values())  # both carry dbt tests, so the check half of this test can fail
    for step, name in (("staging", "call_events"), ("marts", "template_health")):
        results = json.loads((tmp_path / "w.dbt" / step / "run_results.json").read_text())["results"]
        ran = {r["unique_id"] for r in results if not r["unique_id"].startswith("operation.")}  # on-run-end hooks
        assert ran == {f"model.waba_insights.{name}"} | tests_on[name], step
    ours = {c.name for layer in layer_checks().values() for c in layer if dg.AssetKey(list(c.asset)) in picked}
    assert ours  # template_health carries quality checks of its own, so the subset half of this test can fail
    checked = result.get_asset_check_evaluations()
    assert {e.asset_key for e in checked} == picked and all(e.passed for e in checked)
    assert len(checked) == sum(map(len, tests_on.values())) + len(ours)
    assert ours <= {e.check_name for e in checked}


def dbt_event_names(log: Path) -> list[str]:
    """The names of the events in a dbt.log, oldest first (one JSON event a line)."""
    return [json.loads(line)["info"]["name"] for line in log.read_text().splitlines() if line.strip()]


def test_a_run_parses_the_models_once_and_a_later_run_parses_only_what_changed(two_runs, small_world, tmp_path):
    """dbt runs in the run's process on models parsed once for the run (`<warehouse>.dbt/parse`), not a dbt process
    per command that parses again. A later run in a new process starts from the saved parse: here the warehouse moved
    (its path is a var the profile reads, so dbt parses everything again once), then a run with another consent scope
    (so the marts rebuild) parses nothing. The event names are dbt-core 1.11's (UnableToPartialParse: "saved manifest
    not found" or "config vars ... have changed"; PartialParsingEnabled / PartialParsingSkipParsing)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(two_runs[0] / "w.duckdb", home / "w.duckdb")
    shutil.copytree(two_runs[0] / "w.dbt", home / "w.dbt")
    common = ("--quiet", "--landing", small_world, "--warehouse", home / "w.duckdb", "--reports", home / "reports")
    moved = waba("run", *common, home=home)
    assert moved.returncode == 0, moved.stderr
    full_parses = dbt_event_names(home / "w.dbt" / "parse" / "dbt.log").count("UnableToPartialParse")
    assert full_parses >= 2  # the first run's and the moved warehouse's
    marts_results = home / "w.dbt" / "marts" / "run_results.json"  # the step's last dbt command's
    moved_build = json.loads(marts_results.read_text())["metadata"]["invocation_id"]
    later = waba("run", *common, "--consent-scope", "waba", home=home)
    assert later.returncode == 0, later.stderr
    parse = dbt_event_names(home / "w.dbt" / "parse" / "dbt.log")
    assert parse.count("UnableToPartialParse") == full_parses  # none since
    assert "PartialParsingSkipParsing" in parse[len(parse) - parse[::-1].index("StateCheckVarsHash"):]
    rebuilt = json.loads(marts_results.read_text())  # the marts did rebuild (their dbt.log rotates at 10 MB)
    assert rebuilt["metadata"]["invocation_id"] != moved_build
    assert any(r["unique_id"].startswith("model.") for r in rebuilt["results"])
    for step in ("staging", "marts"):
        events = dbt_event_names(home / "w.dbt" / step / "dbt.log")
        assert not {e for e in events if "Pars" in e or e == "StateCheckVarsHash"}, step
