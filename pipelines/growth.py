"""Growth marts: template quality history and early warnings, phone-number health, messaging-limit usage and
the tier forecast.

The rules (ladders, the 2025-10-07 switch, tier spellings) are data under models/reference and the work is SQL
in models/marts; this module orders the steps and fits the forecast, the one thing SQL does badly.
"""
from __future__ import annotations

from typing import Callable

import duckdb

from pipelines.forecast import build_forecasts
from pipelines.marts import build_domain, build_intermediate, build_mart

# Order matters: each step reads the ones before it (and the finance ledger).
GROWTH_STEPS = [
    ("messaging_limit_rules", "mart"),
    ("growth_calendar", "intermediate"),
    ("template_events", "mart"),
    ("template_health_daily", "mart"),
    ("template_health", "mart"),
    ("phone_numbers", "intermediate"),
    ("limit_statements", "intermediate"),
    ("business_initiated_sends", "intermediate"),
    ("phone_number_health_daily", "mart"),
    ("scope_days", "intermediate"),
    ("reach_peaks", "intermediate"),
    ("messaging_limit_daily", "mart"),
]
FORECAST_MARTS = ["tier_forecast", "tier_forecast_backtest"]
GROWTH_MARTS = [name for name, kind in GROWTH_STEPS if kind == "mart"] + FORECAST_MARTS


def growth_steps() -> list[tuple[str, Callable]]:
    steps: list[tuple[str, Callable]] = []
    for name, kind in GROWTH_STEPS:
        if kind == "mart":
            steps.append((name, lambda conn, name=name: build_mart(conn, name)))
        else:
            steps.append((f"_{name}", lambda conn, name=name: build_intermediate(conn, name)))
    # build_domain counts rows of every step not named with a leading underscore; the forecast writes two marts.
    steps.append(("_forecasts", build_forecasts))
    return steps


def build_growth(conn: duckdb.DuckDBPyConnection, progress: Callable[[str], None] = lambda _: None,
                 force: bool = False) -> dict[str, int]:
    counts = build_domain(conn, "growth", growth_steps(), {}, progress=progress, force=force)
    return counts | {name: conn.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0] for name in FORECAST_MARTS}
