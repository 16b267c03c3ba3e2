"""Issue 18, item 1: every analyst-facing mart (schema marts) has an enforced dbt contract, a data_type on every
column and on_schema_change fail, and the contract bites: a mart whose SQL returns a column of another type, or a
column the contract does not name, fails its build with dbt's contract error naming the model, and no table is
written.

Expected values: dbt's documented contract behaviour (docs.getdbt.com, "Model contracts": with
`contract: {enforced: true}` dbt checks, before building, that the model's SQL returns exactly the contract's
columns with their data_type, and otherwise fails with "This model has an enforced contract that failed"; the
"on_schema_change" page: a model with a contract may only use append_new_columns or fail). The broken builds run
in a temp copy of the project on a real DuckDB file, so the real project and its target/ are untouched.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import fetch
from pipelines.dbt_project import PROJECT_DIR, build_vars, manifest, vars_arg

# pricing_categories reads only a seed (reference.category_rules): a build of both needs no loaded warehouse.
MART = "pricing_categories"
SQL = Path("models") / "marts" / f"{MART}.sql"


def marts(parsed: dict) -> dict[str, dict]:
    return {node["name"]: node for node in parsed["nodes"].values()
            if node["resource_type"] == "model" and node["schema"] == "marts"}


def test_every_mart_has_an_enforced_contract_typing_every_column():
    found = marts(manifest())
    # the 23 analyst marts documented in models/marts/_marts.yml (the Python-built marts are not dbt models)
    assert len(found) == 23
    for name, node in found.items():
        assert node["config"]["contract"]["enforced"] is True, name
        assert node["config"]["on_schema_change"] == "fail", name
        assert node["columns"] and all(column.get("data_type") for column in node["columns"].values()), name


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the dbt project (its YAML contracts included) whose SQL a test may break."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", ".dbtignore"):
        shutil.copy(PROJECT_DIR / name, copy / name)
    shutil.copytree(PROJECT_DIR / "models", copy / "models")
    return copy


def dbt_run(project: Path, warehouse: Path) -> subprocess.CompletedProcess:
    """The one mart and the seed it reads, built in the copy without tests, in its own process (dbt-duckdb holds
    the file open in the process that ran it)."""
    dbt = Path(sys.executable).parent / "dbt"
    work = project / "target"
    return subprocess.run([dbt, "build", "--project-dir", project, "--profiles-dir", project, "--target-path", work,
                           "--log-path", work, "--select", f"+{MART}", "--resource-type", "seed", "--resource-type",
                           "model", *vars_arg(build_vars(warehouse))],
                          capture_output=True, text=True, timeout=300, cwd=project)


def break_sql(project: Path, old: str, new: str) -> None:
    path = project / SQL
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_unchanged_mart_builds_with_its_contract_types(project, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    result = dbt_run(project, warehouse)
    assert result.returncode == 0, result.stdout + result.stderr
    types = fetch(warehouse, "SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position", [MART])
    contract = [(c["name"], c["data_type"]) for c in marts(manifest())[MART]["columns"].values()]
    assert types == contract


@pytest.mark.parametrize("old, new, column", [
    # priced is BOOLEAN in the contract; the broken SQL returns it as text
    ("       priced,", "       priced::VARCHAR AS priced,", "priced"),
    # a column the contract does not name
    ("AS volume_counter,", "AS volume_counter, 1 AS surprise,", "surprise"),
], ids=["other_type", "extra_column"])
def test_a_mart_whose_sql_breaks_its_contract_fails_naming_the_model(project, tmp_path, old, new, column):
    break_sql(project, old, new)
    warehouse = tmp_path / "warehouse.duckdb"
    result = dbt_run(project, warehouse)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "This model has an enforced contract that failed" in output
    assert f"in model {MART} " in output and column in output
    # dbt checked before writing: the mart was not created
    assert fetch(warehouse, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [MART]) == [(0,)]
