"""Finance marts: the per-message cost ledger, conversations, spend rollups and reconciliation.

The pricing rules are data (models/reference/regime_rules.csv, calling_codes.csv, bundled_rates.csv, dbt seeds) and
the work is SQL in models/marts, built by dbt; this module holds the run's pricing parameters and the table
`waba reprice` writes.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines.dbt_project import REFERENCE_DIR
from pipelines.errors import UserError
from pipelines.marts import document, load_mart

SCENARIO_TABLE = "marts.reprice_scenarios"


@dataclass(frozen=True)
class PricingParams:
    disabled_regimes: tuple[str, ...] = field(default_factory=tuple)
    forced_regime: str | None = None   # re-pricing: one regime for every message
    rates_as_of: date | None = None    # re-pricing: the rate card in force on this date for every message

    @classmethod
    def from_env(cls, extra_disabled: tuple[str, ...] = ()) -> PricingParams:
        names = [n.strip() for n in os.environ.get("WABA_DISABLED_REGIMES", "").split(",") if n.strip()]
        return cls(tuple(sorted(set(names) | set(extra_disabled))))


def known_regimes() -> list[str]:
    """What --disable-regime can switch off: the pricing regimes and the allowances (e.g. free_service_2026_10),
    from the reference CSVs the finance marts are built from (checked before loading)."""
    names = []
    for file, column in (("regime_rules.csv", "regime"), ("allowance_rules.csv", "allowance")):
        with (REFERENCE_DIR / file).open(newline="") as f:
            names += [row[column] for row in csv.DictReader(f)]
    return names


def check_disabled_regimes(names) -> None:
    """Every name switched off must be a regime or an allowance: a typo would price the run under the rules it meant
    to switch off."""
    unknown = sorted(set(names) - set(known_regimes()))
    if unknown:
        raise UserError(f"unknown pricing regime {', '.join(unknown)} (--disable-regime / WABA_DISABLED_REGIMES); "
                        f"known regimes and allowances: {', '.join(known_regimes())}")


def check_regime_names(conn: duckdb.DuckDBPyConnection, names: tuple[str, ...], allowances: bool = False) -> None:
    """Every name must be a regime (or, for switching off, a free allowance such as free_service_2026_10)."""
    known = [r[0] for r in conn.execute("SELECT regime FROM marts.pricing_regimes ORDER BY effective_from").fetchall()]
    if allowances:
        known += [r[0] for r in conn.execute("SELECT allowance FROM marts.pricing_allowances ORDER BY effective_from, allowance").fetchall()]
    unknown = [n for n in names if n not in known]
    if unknown:
        what = "pricing regime or allowance" if allowances else "pricing regime"
        raise UserError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")


def ensure_scenario_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"""CREATE TABLE IF NOT EXISTS {SCENARIO_TABLE} (
        scenario VARCHAR, regime VARCHAR, rate_card VARCHAR, rates_as_of DATE, period_from DATE, period_to DATE,
        month DATE, waba_id VARCHAR, market VARCHAR, category VARCHAR, currency VARCHAR,
        actual_units BIGINT, actual_charge DECIMAL(18, 6), scenario_units BIGINT, scenario_charge DECIMAL(18, 6),
        unpriced_units BIGINT, difference DECIMAL(18, 6), created_at TIMESTAMPTZ)""")
    document(conn, load_mart("reprice_scenarios"))


