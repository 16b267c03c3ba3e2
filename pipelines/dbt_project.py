"""The dbt project that builds the marts: where it is, its manifest, the vars a build runs under, and an
in-process build for the commands and tests that need one outside Dagster.

`waba run` builds the models through dagster-dbt (pipelines/defs/models/assets.py), which reads the manifest
this module keeps fresh: `dbt parse` runs again only when a file dbt parses changed, under a lock, because
several processes (the CLI, the UI, parallel tests) may load the definitions at once.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path

from pipelines.errors import UserError
from pipelines.settings import PROJECT_ROOT

PROJECT_DIR = PROJECT_ROOT
REFERENCE_DIR = PROJECT_DIR / "models" / "reference"
TARGET_DIR = PROJECT_DIR / "target"
MANIFEST = TARGET_DIR / "manifest.json"
_PARSED_FROM = TARGET_DIR / "manifest.sources.md5"
# What `dbt parse` reads: the project file, the models, their YAML and macros, and the seeds (the manifest holds each
# seed's checksum).
_PARSED_SUFFIXES = (".sql", ".yml", ".yaml")


def _project_files() -> list[Path]:
    files = [PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / ".dbtignore"]
    files += sorted(p for p in (PROJECT_DIR / "models").rglob("*") if p.suffix in _PARSED_SUFFIXES)
    files += sorted(REFERENCE_DIR.glob("*.csv"))
    return [p for p in files if p.is_file()]


def models_md5() -> str:
    digest = hashlib.md5()
    for path in _project_files():
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def manifest_path() -> Path:
    """target/manifest.json, parsed again first if any model, YAML or macro changed since it was written."""
    wanted = models_md5()
    if _PARSED_FROM.is_file() and _PARSED_FROM.read_text() == wanted and MANIFEST.is_file():
        return MANIFEST
    TARGET_DIR.mkdir(exist_ok=True)
    with open(TARGET_DIR / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be parsing: wait, then use its manifest
        if not (_PARSED_FROM.is_file() and _PARSED_FROM.read_text() == wanted and MANIFEST.is_file()):
            _parse(wanted)
    return MANIFEST


def _parse(sources_md5: str) -> None:
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(dir=TARGET_DIR) as work:
        result = dbtRunner().invoke(["parse", "--quiet", *_project_args(), "--target-path", work, "--log-path", work])
        if not result.success:
            raise UserError(f"dbt could not parse the models in {PROJECT_DIR / 'models'}: "
                            f"{_first_line(result.exception) or 'see the dbt log above'}")
        os.replace(Path(work) / "manifest.json", MANIFEST)
    _PARSED_FROM.write_text(sources_md5)


def _project_args() -> list[str]:
    return ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else ""


def manifest() -> dict:
    return json.loads(manifest_path().read_text())


def build_vars(warehouse: Path, **settings) -> dict:
    """The vars of a build: the warehouse file the profile opens, the folder of the CSV staging reads, and the run's
    settings (dbt_project.yml lists every setting with its default)."""
    return {"warehouse_path": str(Path(warehouse).absolute()), "reference_dir": str(REFERENCE_DIR)} | settings


def vars_arg(values: dict) -> list[str]:
    return ["--vars", json.dumps(values, default=str, sort_keys=True)]


def build(warehouse: Path, select: str = "fqn:*", command: str = "build", parse: bool = False, **settings) -> None:
    """`dbt <command> --select <select>` in this process (run_dbt)."""
    run_dbt(warehouse, [command, "--select", select], parse=parse, **settings)


def run_dbt(warehouse: Path, args: list[str], parse: bool = False, **settings) -> None:
    """Run dbt in this process on the warehouse (no connection to it may be open here meanwhile): `waba reprice`,
    the tests' hand-built worlds and their staging builds, where a subprocess per build would cost seconds each.

    The models stay parsed between builds unless `parse`: settings that change where a model is written
    (scenario_models) are applied when dbt parses."""
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="waba-dbt-") as work:
        full = [args[0], "--quiet", *_project_args(), "--target-path", work, "--log-path", work, *args[1:],
                *vars_arg(build_vars(warehouse, **settings))]
        if args[0] == "build":
            full += ["--exclude-resource-type", "unit_test"]  # dev tests of the rules: tests/test_dbt_unit_tests.py
        try:
            result = (dbtRunner() if parse else _runner(Path(warehouse))).invoke(full)
        finally:
            _release_warehouse()
        if not result.success:
            raise UserError(f"dbt {' '.join(args)} failed: {_failure(result) or 'see the dbt log above'}")


def _release_warehouse() -> None:
    """Close the DuckDB connection dbt-duckdb keeps for the process: left open, it would hold the file's lock
    after the build and refuse this process's next connection (a different configuration)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None and getattr(environment, "conn", None) is not None:
        environment.conn.close()
        environment.conn = None
    DuckDBConnectionManager.close_all_connections()


_RUNNERS: dict[str, object] = {}


def _runner(warehouse: Path):
    """One dbtRunner per state of the models and warehouse name, holding them parsed: an in-process build then
    starts in about half a second instead of parsing again. (dbt-duckdb names the database after the file, and
    the parsed models carry that name.)"""
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    key = f"{models_md5()}:{warehouse.stem}"
    if key not in _RUNNERS:
        with tempfile.TemporaryDirectory(prefix="waba-dbt-parse-") as work:
            result = dbtRunner().invoke(["parse", "--quiet", *_project_args(), "--target-path", work, "--log-path", work,
                                         *vars_arg(build_vars(warehouse))])
        if not result.success or not isinstance(result.result, Manifest):
            raise UserError(f"dbt could not parse the models in {PROJECT_DIR / 'models'}: {_first_line(result.exception)}")
        _RUNNERS[key] = dbtRunner(manifest=result.result)
    return _RUNNERS[key]


def _failure(result) -> str:
    if result.exception is not None:
        return _first_line(result.exception)
    for node in getattr(result.result, "results", []) or []:
        if str(node.status) in ("error", "fail"):
            return f"{node.node.name}: {_first_line(Exception(node.message))}"
    return ""
