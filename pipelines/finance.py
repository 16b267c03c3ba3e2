"""Finance marts: the per-message cost ledger, conversations, spend rollups and reconciliation.

The pricing rules are data (models/reference/pricing_regimes.csv, calling_codes.csv, rate_card.csv) and
the work is SQL in models/marts; this module only orders the steps and sets the run's parameters.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import duckdb

from pipelines.errors import UserError
from pipelines.marts import build_domain, build_intermediate, build_mart, document, load_mart

REFERENCE_MARTS = ["pricing_regimes", "pricing_allowances", "pricing_categories", "market_prefixes", "rate_card"]
PRICING_STEPS = ["outbound_messages", "priced_messages", "conversation_members", "charged_units"]
FINANCE_MARTS = REFERENCE_MARTS + [
    "rate_card_in_force", "customer_persons", "conversations", "message_ledger", "group_message_deliveries", "spend_daily", "spend_monthly_by_template", "spend_monthly_by_campaign",
    "cost_reconciliation",
]


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


def set_pricing_params(conn: duckdb.DuckDBPyConnection, params: PricingParams) -> None:
    conn.execute("SET VARIABLE disabled_regimes = ?::VARCHAR[]", [list(params.disabled_regimes)])
    conn.execute("SET VARIABLE forced_regime = ?::VARCHAR", [params.forced_regime])
    conn.execute("SET VARIABLE rates_as_of = ?::DATE", [params.rates_as_of])


def check_regime_names(conn: duckdb.DuckDBPyConnection, names: tuple[str, ...], allowances: bool = False) -> None:
    """Every name must be a regime (or, for switching off, a free allowance such as free_service_2026_10)."""
    known = [r[0] for r in conn.execute("SELECT regime FROM marts.pricing_regimes ORDER BY effective_from").fetchall()]
    if allowances:
        known += [r[0] for r in conn.execute("SELECT allowance FROM marts.pricing_allowances ORDER BY effective_from, allowance").fetchall()]
    unknown = [n for n in names if n not in known]
    if unknown:
        what = "pricing regime or allowance" if allowances else "pricing regime"
        raise UserError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")


def price_messages(conn: duckdb.DuckDBPyConnection, params: PricingParams) -> None:
    """Build the TEMP pricing tables the ledger, conversations and re-pricing scenarios read."""
    set_pricing_params(conn, params)
    for name in PRICING_STEPS:
        build_intermediate(conn, name)


def ensure_scenario_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"""CREATE TABLE IF NOT EXISTS {SCENARIO_TABLE} (
        scenario VARCHAR, regime VARCHAR, rate_card VARCHAR, rates_as_of DATE, period_from DATE, period_to DATE,
        month DATE, waba_id VARCHAR, market VARCHAR, category VARCHAR, currency VARCHAR,
        actual_units BIGINT, actual_charge DECIMAL(18, 6), scenario_units BIGINT, scenario_charge DECIMAL(18, 6),
        unpriced_units BIGINT, difference DECIMAL(18, 6), created_at TIMESTAMPTZ)""")
    document(conn, load_mart("reprice_scenarios"))


def finance_steps(params: PricingParams) -> tuple[list[tuple[str, Callable]], list[tuple[str, Callable]]]:
    """(prepare, steps): reference marts and the TEMP pricing tables, then the marts built from them."""
    def reference(name: str) -> Callable:
        def step(conn):
            set_pricing_params(conn, params)
            build_mart(conn, name)
            if name == "pricing_allowances":
                check_regime_names(conn, params.disabled_regimes, allowances=True)
        return step

    prepare: list[tuple[str, Callable]] = [(name, reference(name)) for name in REFERENCE_MARTS]
    prepare.append(("_pricing", lambda conn: price_messages(conn, params)))
    steps: list[tuple[str, Callable]] = [(name, lambda conn, name=name: build_mart(conn, name))
                                         for name in FINANCE_MARTS if name not in REFERENCE_MARTS]
    steps.append(("_reprice_scenarios", ensure_scenario_table))  # written by `waba reprice`, kept across runs
    return prepare, steps


def build_finance(conn: duckdb.DuckDBPyConnection, params: PricingParams | None = None,
                  progress: Callable[[str], None] = lambda _: None, force: bool = False) -> dict[str, int]:
    params = params or PricingParams.from_env()
    prepare, steps = finance_steps(params)
    return build_domain(conn, "finance", steps, {"disabled": params.disabled_regimes}, progress=progress, force=force,
                        prepare=prepare)
