"""The dbt project that builds the warehouse: where it is, its manifest, the vars a build runs under, and dbt
commands run in this process on a warehouse (invoke), for `waba run`'s assets and the commands and tests outside it.

Dagster's assets come from the manifest this module keeps fresh (pipelines/defs/models/assets.py): `dbt parse`
runs again only when a file dbt parses changed, under a lock, because several processes (the CLI, the UI,
parallel tests) may load the definitions at once.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
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


# dbt's console lines go to the callback (invoke writes them to console.log), its debug log to dbt.log in the log path,
# one JSON event a line (the form dagster-dbt's dbt processes wrote).
_LOGS = ("--log-level", "none", "--log-level-file", "debug", "--log-format-file", "json")


def _project_args() -> list[str]:
    return ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else ""


def _cause(message: str) -> str:
    """A node's error in one line: what went wrong ("Out of Memory Error: ...", "Catalog Error: ..."), not dbt's
    header line above it ("Runtime Error in model <name> (<path>)"), which names only the model."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) > 1 and re.match(r"^\w+ Error in \w+ ", lines[0]):
        return lines[1]
    return lines[0] if lines else "see the dbt log"


def manifest() -> dict:
    return json.loads(manifest_path().read_text())


def build_vars(warehouse: Path, **settings) -> dict:
    """The vars of a build: the warehouse file the profile opens, the folder of the CSV staging reads, and the run's
    settings (dbt_project.yml lists every setting with its default)."""
    return {"warehouse_path": str(Path(warehouse).absolute()), "reference_dir": str(REFERENCE_DIR)} | settings


def vars_arg(values: dict) -> list[str]:
    return ["--vars", json.dumps(values, default=str, sort_keys=True)]


def target_path(warehouse: Path, step: str) -> Path:
    """Where a step's dbt writes its artifacts and logs: beside the warehouse (`<name>.dbt/<step>`), one folder per step
    reused by every run (not a new folder per run under the project), so dbt can parse again only what changed."""
    warehouse = Path(warehouse)
    return warehouse.absolute().parent / f"{warehouse.stem}.dbt" / step


def build(warehouse: Path, select: str = "fqn:*", command: str = "build", parse: bool = False, **settings) -> None:
    """`dbt <command> --select <select>` in this process (run_dbt)."""
    run_dbt(warehouse, [command, "--select", select], parse=parse, **settings)


def run_dbt(warehouse: Path, args: list[str], parse: bool = False, **settings) -> None:
    """A dbt command in this process (invoke) with its artifacts in a temporary folder, raising a one-line UserError
    when it fails: `waba reprice`, the tests' hand-built worlds and their staging builds."""
    if args[0] == "build":
        args = [*args, "--exclude-resource-type", "unit_test"]  # dev tests of the rules: tests/test_dbt_unit_tests.py
    with tempfile.TemporaryDirectory(prefix="waba-dbt-") as work:
        invocation = invoke(warehouse, args, Path(work), parse=parse, **settings)
        if not invocation.success:
            raise UserError(f"dbt {' '.join(args)} failed: {invocation.error()}")


# The events that carry a node's result, which dagster-dbt turns into materializations and check results.
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})


@dataclass
class DbtInvocation:
    """One dbt command run in this process: whether it succeeded, its nodes' result events (as the JSON lines of
    dbt's structured log carry them) and the folder holding its artifacts, its dbt.log and its console.log."""
    target_path: Path
    success: bool
    raw_events: list[dict]
    exception: "BaseException | None"
    results: list

    def get_artifact(self, name: str) -> dict:
        return json.loads((self.target_path / name).read_text())

    def error(self) -> str:
        """The first error dbt reported, in one line."""
        if self.exception is not None and _first_line(self.exception):
            return _first_line(self.exception)
        for node in self.results:
            if str(node.status) in ("error", "fail"):
                return f"{node.node.name}: {_cause(node.message or '')}"
        console = self.target_path / "console.log"  # dbt stopped before any node: a usage, parse or profile error
        said = [line.strip() for line in console.read_text().splitlines() if "Error" in line] if console.is_file() else []
        return said[0] if said else f"see the dbt log in {self.target_path}"


def invoke(warehouse: Path, args: list[str], target: Path, parse: bool = False, **settings) -> DbtInvocation:
    """Run `dbt <args>` in this process on the warehouse (no connection to it may be open here meanwhile), its
    artifacts, dbt.log and console.log (dbt's console lines) in `target`.

    The models stay parsed between commands (held_manifest) unless `parse`: settings that change where a model is
    written (scenario_models) apply only when dbt parses. In this process, not a `dbt` subprocess: that one imports
    dbt, reads the project and parses it again each time, about 3 s a command before its first model."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    events: list[dict] = []
    with open(target / "console.log", "w") as console:
        def collect(msg) -> None:
            if msg.info.level in ("info", "warn", "error"):
                console.write(f"{msg.info.msg}\n")
            if msg.info.name in RESULT_EVENTS:
                events.append(msg_to_dict(msg))

        full = [args[0], *_LOGS, *_project_args(), "--target-path", str(target), "--log-path", str(target),
                *args[1:], *vars_arg(build_vars(warehouse, **settings))]
        runner = dbtRunner(callbacks=[collect]) if parse else dbtRunner(manifest=held_manifest(warehouse),
                                                                         callbacks=[collect])
        try:
            result = runner.invoke(full)
        finally:
            _release_warehouse()
    return DbtInvocation(target, bool(result.success), events, result.exception,
                         list(getattr(result.result, "results", None) or []))


def _release_warehouse() -> None:
    """Close the DuckDB connection dbt-duckdb keeps for the process: left open, it would hold the file's lock
    after the build and refuse this process's next connection (a different configuration)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None and getattr(environment, "conn", None) is not None:
        environment.conn.close()
        environment.conn = None
    DuckDBConnectionManager.close_all_connections()


_MANIFESTS: dict[str, object] = {}


def held_manifest(warehouse: Path):
    """The models parsed for this warehouse, once per process and state of the models: a command then starts in
    about half a second. The parse keeps its state beside the warehouse (`<name>.dbt/parse`), so the next process
    parses again only what changed. (dbt-duckdb names the database after the file, and the parsed models carry
    that name.)"""
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    warehouse = Path(warehouse)
    key = f"{models_md5()}:{warehouse.stem}"
    if key not in _MANIFESTS:
        folder = target_path(warehouse, "parse")
        result = dbtRunner().invoke(["parse", *_LOGS, *_project_args(), "--target-path", str(folder),
                                     "--log-path", str(folder), *vars_arg(build_vars(warehouse))])
        if not result.success or not isinstance(result.result, Manifest):
            raise UserError(f"dbt could not parse the models in {PROJECT_DIR / 'models'}: {_first_line(result.exception)}")
        _MANIFESTS[key] = result.result
    return _MANIFESTS[key]
