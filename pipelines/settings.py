"""Where things live by default: everything under one git-ignored folder, overridable by environment."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WABA_HOME", PROJECT_ROOT / "var"))


def default_landing() -> Path:
    return Path(os.environ.get("WABA_LANDING", VAR_DIR / "landing"))


def default_warehouse() -> Path:
    return Path(os.environ.get("WABA_WAREHOUSE", VAR_DIR / "warehouse.duckdb"))


def default_reports() -> Path:
    return Path(os.environ.get("WABA_REPORTS", VAR_DIR / "reports"))


def dagster_home() -> Path:
    """The Dagster instance `waba run` and the UI share (run history, materializations): DAGSTER_HOME when set,
    else $WABA_HOME/dagster."""
    return Path(os.environ.get("DAGSTER_HOME") or VAR_DIR / "dagster")
