"""Issue 18 item 1: the pricing and consent rules have dbt unit tests (given rows, expected rows), in
models/marts/**/_unit_tests_<model>.yml, each expected row decided by hand from the source its description cites.

This runs them in process (dbtRunner, as pipelines/dbt_project.py does) on a real DuckDB file: dbt reads the column
types of every given input from its relation, so the warehouse holds the raw, staging and mart tables of an empty
landing folder (the cheapest warehouse whose tables are the real ones). Then it checks that they can fail: in a copy of
the project where an opt-in also covers its sibling WABA, the test of that rule goes red.
"""
import shutil
from pathlib import Path

import pytest
import yaml
from dbt.cli.main import dbtRunner

from conftest import load_all
from pipelines.dbt_project import PROJECT_DIR, _release_warehouse, build, build_vars, vars_arg

UNIT_TEST_FILES = sorted((PROJECT_DIR / "models" / "marts").rglob("_unit_tests_*.yml"))


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory) -> Path:
    """Raw and staging of an empty landing folder, the seeds, and every mart built on them: each relation a unit test
    reads."""
    root = tmp_path_factory.mktemp("unit")
    landing = root / "landing"
    landing.mkdir()
    warehouse = root / "warehouse.duckdb"
    load_all(warehouse, landing)
    build(warehouse, select="path:models/reference", command="seed")  # the reference tables the marts read
    build(warehouse, select="path:models/marts", command="run")
    return warehouse


def unit_test_results(warehouse: Path, project: Path, work: Path, select: str = "test_type:unit") -> dict[str, str]:
    """Each unit test dbt ran, by name, with its status (pass, fail or error)."""
    args = ["test", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--select", select,
            *vars_arg(build_vars(warehouse))]
    try:
        result = dbtRunner().invoke(args)
    finally:
        _release_warehouse()
    assert result.exception is None, result.exception
    return {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type == "unit_test"}


def yaml_unit_tests() -> list[str]:
    return [test["name"] for path in UNIT_TEST_FILES for test in yaml.safe_load(path.read_text())["unit_tests"]]


def test_every_unit_test_passes(empty_warehouse, tmp_path):
    declared = yaml_unit_tests()
    assert len(declared) == len(set(declared)) >= 20
    results = unit_test_results(empty_warehouse, PROJECT_DIR, tmp_path)
    assert sorted(results) == sorted(declared)
    assert {name: status for name, status in results.items() if status != "pass"} == {}


def test_a_broken_rule_fails_its_unit_test(empty_warehouse, tmp_path):
    """Issue 14 item 2: an opt-in names one business, so it covers the WABA it was recorded on only. A copy of the
    project whose optin_audit lets it cover the whole portfolio fails exactly the unit test of that rule."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "models", project / "models")  # the seeds too: the marts ref them
    for name in ("dbt_project.yml", "profiles.yml", ".dbtignore"):
        shutil.copy(PROJECT_DIR / name, project / name)
    audit = project / "models" / "marts" / "optin_audit.sql"
    rule = "WHEN e.effect = 'grant' THEN s.waba_id = e.waba_id"
    assert rule in audit.read_text()
    audit.write_text(audit.read_text().replace(rule, "WHEN e.effect = 'grant' THEN s.portfolio_id = e.portfolio_id"))
    results = unit_test_results(empty_warehouse, project, tmp_path, select="test_type:unit,optin_audit")
    assert {name for name, status in results.items() if status != "pass"} == {"optin_audit_optin_stays_on_its_waba"}
