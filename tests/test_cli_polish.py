"""The `waba` command's help as a new user meets it (issue 16, item 7): a version, a run's help that says what a
run does, an unknown flag answered with that subcommand's usage, a pricing-regime typo refused before loading."""
import subprocess
import sys
import tomllib
from pathlib import Path

from pipelines.settings import PROJECT_ROOT


def waba(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)


def test_version_is_the_packages_version():
    # Expected from pyproject.toml, the file the version is declared in.
    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = waba("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"waba {declared}"


def test_run_help_says_what_a_run_does():
    out = waba("run", "--help").stdout
    for step in ("raw.*", "staging.*", "marts", "data-quality check", "published.duckdb", "report site", "Exit 0"):
        assert step in out, step


def test_an_unknown_flag_prints_the_subcommands_usage():
    result = waba("run", "--landng", "x")
    assert result.returncode == 2
    first, *rest = result.stderr.strip().splitlines()
    assert first.startswith("usage: waba run [-h] [--landing LANDING]")
    assert rest[-1] == "waba run: error: unrecognized arguments: --landng x"
    result = waba("audit", "--from", "2026-01-01", "--to", "2026-01-31", "--out", "a.csv", "--masked")
    assert result.stderr.strip().splitlines()[-1] == "waba audit: error: unrecognized arguments: --masked"


def test_a_regime_typo_is_refused_before_anything_loads(tmp_path):
    landing = tmp_path / "landing"
    (landing / "webhooks").mkdir(parents=True)
    warehouse = tmp_path / "w.duckdb"
    result = waba("run", "--landing", landing, "--warehouse", warehouse, "--disable-regime", "pmp_2026_1O")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("waba: error: unknown pricing regime pmp_2026_1O")
    assert "pmp_2026_10" in lines[0]  # the known names are listed, from models/reference/regime_rules.csv
    assert not warehouse.exists()  # refused before loading: no warehouse was even created
    env = {k: v for k, v in __import__("os").environ.items()} | {"WABA_DISABLED_REGIMES": "cbp_2099"}
    result = waba("run", "--landing", landing, "--warehouse", warehouse, env=env)
    assert result.returncode == 2 and "unknown pricing regime cbp_2099" in result.stderr and not warehouse.exists()


def test_the_free_service_allowance_is_a_name_disable_regime_accepts(tmp_path):
    # docs/finance.md: the reported 1,000 free service messages (models/reference/allowance_rules.csv) are
    # switched off with --disable-regime free_service_2026_10; the typo check must not refuse that name.
    landing = tmp_path / "landing"
    (landing / "webhooks").mkdir(parents=True)
    result = waba("run", "--landing", landing, "--warehouse", tmp_path / "w.duckdb",
                  "--disable-regime", "free_service_2026_10")
    assert "unknown pricing regime" not in result.stderr
