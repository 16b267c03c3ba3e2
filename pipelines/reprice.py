"""`waba reprice`: what a period would have cost under another pricing regime or rate card.

The same pricing models the ledger is built from (the dbt models outbound_messages, priced_messages,
conversation_members, charged_units) run again with one regime forced onto every message (and optionally
one date's rates, or a rate card file in place of the warehouse's) into a working schema of their own; the
aggregated result is kept in marts.reprice_scenarios beside what the period actually cost, and the working
schema is dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from pipelines.errors import UserError
from pipelines import dbt_project
from pipelines.finance import SCENARIO_TABLE, check_regime_names, ensure_scenario_table
from pipelines.sources import meta_rate_cards
from pipelines.warehouse import connect, publish

RATE_CARD_COLUMNS = ("effective_from", "market", "category", "currency", "rate")
# Where a scenario's pricing models are written while it is computed, and the models it runs.
WORK_SCHEMA = "reprice_work"
PRICING_MODELS = ("outbound_messages", "priced_messages", "conversation_members", "charged_units")

# Grouped the same way on both sides: local month of the send, WABA, market, billed category, currency.
ACTUAL_SQL = """
    SELECT local_month AS month, waba_id, market, billed_category AS category, currency,
           coalesce(sum(charged_units), 0)::BIGINT AS actual_units, coalesce(sum(charge), 0) AS actual_charge
    FROM marts.message_ledger
    WHERE local_sent_date BETWEEN $from AND $to
    GROUP BY ALL
"""
SCENARIO_SQL = """
    -- A group message's deliveries sit under the ledger row's market, as on the actual side.
    SELECT date_trunc('month', p.local_sent_date)::DATE AS month, p.waba_id,
           CASE WHEN u.unit_kind = 'group_delivery' THEN p.market ELSE u.market END AS market, u.billed_category AS category,
           u.currency, count(*) FILTER (u.pricing_type = 'regular') AS scenario_units, sum(u.charge) AS scenario_charge,
           count(*) FILTER (u.pricing_type = 'regular' AND u.charge IS NULL) AS unpriced_units
    FROM reprice_work.charged_units u JOIN reprice_work.priced_messages p ON p.message_id = u.first_message_id
    WHERE u.unit_kind IN ('message', 'group_delivery', 'conversation') AND p.local_sent_date BETWEEN $from AND $to
    GROUP BY ALL
"""


REGIME_DATE = "regime"


@dataclass(frozen=True)
class Scenario:
    name: str
    regime: str
    start: date
    end: date
    rate_card: Path | None = None
    rates_as_of: date | str | None = REGIME_DATE  # a date, REGIME_DATE (the regime's effective date) or None (send dates)


def _scenario_rate_card(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The file's card as reprice_work.rate_card, which the scenario's pricing models read instead of marts.rate_card."""
    if not path.is_file():
        raise UserError(f"{path}: rate card file not found")
    if meta_rate_cards.is_meta_layout(path):
        _meta_card_file(conn, path)
    else:
        try:
            conn.execute("CREATE OR REPLACE TEMP TABLE _card_file AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
                         [str(path)])
        except duckdb.Error as exc:
            raise UserError(f"{path}: cannot read the rate card ({str(exc).splitlines()[0]})") from None
    columns = {r[0] for r in conn.execute("SELECT column_name FROM (DESCRIBE _card_file)").fetchall()}
    missing = [c for c in RATE_CARD_COLUMNS if c not in columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(RATE_CARD_COLUMNS)})")
    optional = {c: c if c in columns else "NULL" for c in ("volume_from", "volume_to")}
    conn.execute(f"""CREATE OR REPLACE TABLE {WORK_SCHEMA}.rate_card AS
        SELECT try_cast(effective_from AS DATE) AS effective_from, market, lower(category) AS category,
               upper(currency) AS currency, try_cast(rate AS DECIMAL(18, 6)) AS rate,
               coalesce(try_cast({optional['volume_from']} AS BIGINT), 0) AS volume_from,
               try_cast({optional['volume_to']} AS BIGINT) AS volume_to, 'file' AS verification, 'file' AS source
        FROM _card_file""")
    bad = conn.execute(f"SELECT count(*) FROM {WORK_SCHEMA}.rate_card WHERE effective_from IS NULL OR rate IS NULL "
                       "OR market IS NULL OR category IS NULL OR currency IS NULL").fetchone()[0]
    if bad:
        raise UserError(f"{path}: {bad} rows do not have a date in effective_from, a number in rate, and a market, "
                        f"category and currency")


def _meta_card_file(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Meta's own list-rate or volume-tier file as the scenario's card (the layouts `waba run` reads too)."""
    try:
        card = meta_rate_cards.parse(path)
    except (meta_rate_cards.MetaRateCardError, OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: Meta rate-card file: {exc}") from None
    if card.rejects:
        line, _, detail = card.rejects[0]
        raise UserError(f"{path}:{line}: {detail}")
    columns = ", ".join(f"{c} VARCHAR" for c in meta_rate_cards.GENERIC_COLUMNS)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _card_file ({columns})")
    conn.executemany(f"INSERT INTO _card_file VALUES ({', '.join('?' * len(meta_rate_cards.GENERIC_COLUMNS))})",
                     [values for _, values in card.rows])


def run_scenario(warehouse: Path, scenario: Scenario) -> tuple[Scenario, list[tuple]]:
    """Compute and record a scenario; return it (with its rates date resolved) and its rows."""
    if scenario.end < scenario.start:
        raise UserError(f"--to {scenario.end} is before --from {scenario.start}")
    if not Path(warehouse).exists():
        raise UserError(f"{warehouse}: no warehouse yet; run `waba run` first")
    conn = connect(warehouse)
    try:
        if conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                        "AND table_name = 'message_ledger'").fetchone()[0] == 0:
            raise UserError(f"{warehouse}: the finance marts are not built yet; run `waba run` first")
        check_regime_names(conn, (scenario.regime,))
        if scenario.rates_as_of == REGIME_DATE:
            scenario = replace(scenario, rates_as_of=conn.execute(
                "SELECT effective_from FROM marts.pricing_regimes WHERE regime = ?", [scenario.regime]).fetchone()[0])
        period = {"from": scenario.start, "to": scenario.end}
        actual = {r[:5]: r[5:] for r in conn.execute(ACTUAL_SQL, period).fetchall()}
        _fresh_work_schema(conn)
        if scenario.rate_card is not None:
            _scenario_rate_card(conn, scenario.rate_card)
    except BaseException:
        _drop_work_schema(conn)
        conn.close()
        raise
    conn.close()
    try:
        _price(warehouse, scenario)
        rows = _record(warehouse, scenario, actual, period)
    finally:
        conn = connect(warehouse)
        _drop_work_schema(conn)
        conn.execute("CHECKPOINT")
        conn.close()
    publish(warehouse)
    return scenario, rows


def _record(warehouse: Path, scenario: Scenario, actual: dict, period: dict) -> list[tuple]:
    """The scenario's rows beside the actual ones, replacing any earlier run of the same scenario."""
    conn = connect(warehouse)
    try:
        priced = {r[:5]: r[5:] for r in conn.execute(SCENARIO_SQL, period).fetchall()}
        rows = _combine(actual, priced)
        ensure_scenario_table(conn)
        conn.execute("BEGIN TRANSACTION")
        conn.execute(f"DELETE FROM {SCENARIO_TABLE} WHERE scenario = ?", [scenario.name])
        conn.executemany(f"INSERT INTO {SCENARIO_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())", [
            (scenario.name, scenario.regime, str(scenario.rate_card) if scenario.rate_card else "warehouse",
             scenario.rates_as_of, scenario.start, scenario.end, *row) for row in rows])
        conn.execute("COMMIT")
        return rows
    finally:
        conn.close()


def _fresh_work_schema(conn: duckdb.DuckDBPyConnection) -> None:
    _drop_work_schema(conn)  # a scenario killed midway leaves its working tables
    conn.execute(f"CREATE SCHEMA {WORK_SCHEMA}")


def _drop_work_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"DROP SCHEMA IF EXISTS {WORK_SCHEMA} CASCADE")


def _price(warehouse: Path, scenario: Scenario) -> None:
    """The pricing models under the scenario's regime and rates, into the working schema (with the file's card,
    already there, in place of marts.rate_card)."""
    models = list(PRICING_MODELS) + (["rate_card"] if scenario.rate_card is not None else [])
    dbt_project.build(warehouse, select=" ".join(PRICING_MODELS), command="run", parse=True,
                      forced_regime=scenario.regime, rates_as_of=scenario.rates_as_of,
                      scenario_schema=WORK_SCHEMA, scenario_models=models)


def _combine(actual: dict, priced: dict) -> list[tuple]:
    rows = []
    for key in sorted(set(actual) | set(priced), key=lambda k: tuple("" if v is None else str(v) for v in k)):
        actual_units, actual_charge = actual.get(key, (0, 0))
        units, charge, unpriced = priced.get(key, (0, 0, 0))
        difference = None if charge is None else charge - actual_charge
        rows.append((*key, actual_units, actual_charge, units, charge, unpriced, difference))
    return rows

