"""The analyst command of docs/warehouse.md works from the virtualenv: `.venv/bin/duckdb -readonly FILE` opens the
published copy the pipeline writes (issue 16, item 6: duckdb-cli pinned to the duckdb library's version)."""
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import PROJECT_ROOT

pytestmark = pytest.mark.xdist_group("sample_world")

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"


def _pin(name: str) -> str:
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(d.split("==")[1].split(";")[0].strip() for d in dependencies if d.split("==")[0].strip() == name)


def test_the_cli_is_pinned_to_the_librarys_version():
    assert _pin("duckdb-cli") == _pin("duckdb") == duckdb.__version__
    constraints = (PROJECT_ROOT / "constraints.txt").read_text().splitlines()
    assert f"duckdb-cli=={_pin('duckdb')}" in constraints
    version = subprocess.run([DUCKDB_CLI, "--version"], capture_output=True, text=True, timeout=60).stdout
    assert version.startswith(f"v{duckdb.__version__} ")


def _published(loaded: Path) -> Path:
    published = loaded.with_name(loaded.stem + ".published.duckdb")
    assert published.exists()
    return published


def test_the_readmes_analyst_command_runs_from_the_virtualenv(loaded):
    readme = (PROJECT_ROOT / "README.md").read_text()
    command = re.search(r"`(\.venv/bin/duckdb -readonly [^`]+)`", readme).group(1)
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/duckdb" and argv[2].endswith(".published.duckdb")
    argv[0], argv[2] = str(DUCKDB_CLI), str(_published(loaded))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # The README's query: five rows of marts.spend_monthly_by_template, its columns as headings.
    conn = duckdb.connect(str(_published(loaded)), read_only=True)
    columns = [r[0] for r in conn.execute("DESCRIBE marts.spend_monthly_by_template").fetchall()]
    first = conn.execute("FROM marts.spend_monthly_by_template LIMIT 5").fetchall()
    conn.close()
    assert len(first) == 5 and all(c in result.stdout for c in columns)


def test_the_published_copy_opened_that_way_is_read_only(loaded):
    doc = (PROJECT_ROOT / "docs" / "warehouse.md").read_text()
    command = re.search(r"`(\.venv/bin/duckdb -readonly [^`]+)`", doc).group(1)
    argv = shlex.split(command)
    argv[0], argv[2] = str(DUCKDB_CLI), str(_published(loaded))
    sql = "SELECT count(*) FROM marts.message_ledger; CREATE TABLE marts.x AS SELECT 1;"
    result = subprocess.run(argv + ["-csv", "-noheader"], input=sql, capture_output=True, text=True, timeout=120)
    conn = duckdb.connect(str(_published(loaded)), read_only=True)
    expected = conn.execute("SELECT count(*) FROM marts.message_ledger").fetchone()[0]
    conn.close()
    assert expected > 0 and result.stdout.splitlines()[0] == str(expected)
    # -readonly: the analyst cannot change the copy by mistake.
    assert "read-only" in result.stderr.lower()
