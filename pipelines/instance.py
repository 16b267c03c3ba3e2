"""The persistent Dagster instance `waba run` and `dagster dev` share: $WABA_HOME/dagster (DAGSTER_HOME when set),
with the project's dagster.yaml (telemetry off, one run at a time) copied in on first use.

`python -m pipelines.instance` prepares the folder and prints its path (the Makefile's `ui` target uses it).
"""
from __future__ import annotations

import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipelines import settings
from pipelines.errors import UserError

SHIPPED_CONFIG = settings.PROJECT_ROOT / "dagster.yaml"


def prepare_instance(home: Path | None = None) -> Path:
    """Create the instance folder and give it the shipped dagster.yaml unless it has one (a user's edits stay)."""
    home = (home or settings.dagster_home()).resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():
            shutil.copyfile(SHIPPED_CONFIG, config)
    except OSError as exc:
        raise UserError(f"{home}: cannot prepare the Dagster instance folder ({exc.strerror or exc}); "
                        "set DAGSTER_HOME or WABA_HOME to a writable folder") from None
    return home


@contextmanager
def persistent_instance(home: Path | None = None) -> Iterator["dagster.DagsterInstance"]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(prepare_instance(home))) as instance:
        yield instance


if __name__ == "__main__":
    try:
        print(prepare_instance())
    except UserError as exc:
        print(f"waba: error: {exc}", file=sys.stderr)
        sys.exit(2)
