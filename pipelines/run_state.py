"""What the last complete `waba run` of a warehouse ran on, so that a run on the same inputs says so without starting
Dagster (issue 19: a no-op run in seconds, not the tens of seconds of starting every step to find nothing to do).

The record is `<warehouse>.last-run.json`, beside the warehouse, written when a run ends with nothing unread and no
critical check failed. A later run takes the shortcut only when all of these equal that record:
- the landing folder, every file under it by path, size and modification time (as the loaders judge "already
  loaded": pipelines/sources/landing.py), followed through symlinks;
- the warehouse, its published copy and the report site's index page, by size and modification time: any write since
  (a run from the Dagster UI, `waba reprice`, a hand edit) or a deleted copy means a whole run;
- the code and rules: every file of pipelines/ and models/, the dbt and Dagster project files, the pinned packages;
- the run's settings and its reports folder.
Anything else, and always with --force, runs every step as before. The app secret is not compared: files already
loaded are not read again whatever the secret, so it changes nothing until a file changes.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import published_path

# What the run executes besides the landing files: its code, the models and rules, and what pins the packages.
_CODE = [PROJECT_ROOT / "pipelines", PROJECT_ROOT / "models"]
_PROJECT_FILES = ["dbt_project.yml", "profiles.yml", ".dbtignore", "dagster.yaml", "pyproject.toml", "constraints.txt"]


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".last-run.json")


def record(landing: Path, warehouse: Path, reports: Path, settings: dict, warned_checks: list[str]) -> None:
    """After a complete run: what it ran on, and the warnings it ended with (a shortcut run repeats them)."""
    state = {"inputs": _inputs(landing, reports, settings), "outputs": _outputs(warehouse, reports),
             "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "warned_checks": warned_checks}
    path = state_path(warehouse)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=1))
    temporary.replace(path)


def forget(warehouse: Path) -> None:
    """Before a run writes anything: a run stopped midway must not leave an earlier run's record looking current."""
    state_path(warehouse).unlink(missing_ok=True)


def unchanged_since(landing: Path, warehouse: Path, reports: Path, settings: dict) -> dict | None:
    """The last run's record when nothing it ran on has changed since, else None."""
    try:
        state = json.loads(state_path(warehouse).read_text())
    except (OSError, ValueError):
        return None
    if state.get("outputs") != _outputs(warehouse, reports) or state.get("inputs") != _inputs(landing, reports, settings):
        return None
    return state


def _outputs(warehouse: Path, reports: Path) -> dict:
    files = {"warehouse": warehouse, "published": published_path(warehouse), "reports": reports / "index.html",
             "wal": warehouse.with_name(warehouse.name + ".wal")}  # a WAL: writes not checkpointed into the file
    return {name: _stat(path) for name, path in files.items()}


def _stat(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _inputs(landing: Path, reports: Path, settings: dict) -> dict:
    return {"landing": str(landing.resolve()), "landing_files": _listing_md5(landing), "code": _code_md5(),
            "settings": settings, "reports": str(reports.resolve())}


def _listing_md5(landing: Path) -> str:
    """Every entry under the landing folder: its path, and size and mtime (or why it has none), symlinks followed
    (a folder reached twice, a loop, once)."""
    digest = hashlib.md5()
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(landing, followlinks=True):
        stat = os.stat(folder)
        if (stat.st_dev, stat.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            digest.update(f"{path.relative_to(landing)}\0{_stat(path) or os.path.lexists(path)}\n".encode())
    return digest.hexdigest()


def _code_md5() -> str:
    digest = hashlib.md5()
    paths = sorted(p for root in _CODE for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    paths += [PROJECT_ROOT / name for name in _PROJECT_FILES if (PROJECT_ROOT / name).is_file()]
    for path in paths:
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
