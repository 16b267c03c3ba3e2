"""What every page states: the period the data covers and how fresh it is; and the masking of phone numbers."""
from __future__ import annotations

import duckdb

PERIOD_SQL = """
SELECT min(sent_at)::DATE, max(sent_at)::DATE, max(greatest(sent_at, delivered_at, read_at, failed_at)),
       (SELECT max(loaded_at) FROM raw.load_audit)
FROM marts.message_ledger
"""


def period_and_freshness(conn: duckdb.DuckDBPyConnection) -> dict:
    first, last, latest_event, loaded_at = conn.execute(PERIOD_SQL).fetchone()
    return {"coverage_text": f"Data covers {first} to {last} (days with messages)" if first else
            "No messages loaded yet (`waba run --landing DIR` loads them)",
            "latest_event": f"{latest_event:%Y-%m-%d %H:%M} UTC" if latest_event else "no messages",
            "loaded_at": f"{loaded_at:%Y-%m-%d %H:%M} UTC" if loaded_at else "never"}


# A business number shown as its country code and last two digits (+55*********21), as in `waba audit`: enough
# to tell numbers apart, not to call them. The country code is the shortest calling-code prefix that matches.
MASKED_NUMBERS_SQL = """
CREATE OR REPLACE TEMP TABLE masked_numbers AS
WITH numbers AS (
    SELECT phone_number_id, any_value(display_phone_number) AS digits FROM marts.phone_number_health_daily GROUP BY ALL
), codes AS (
    SELECT n.phone_number_id, arg_min(p.prefix, length(p.prefix)) AS prefix
    FROM numbers n JOIN (SELECT DISTINCT prefix FROM marts.market_prefixes) p ON starts_with(n.digits, p.prefix)
    GROUP BY ALL
)
SELECT n.phone_number_id,
       '+' || coalesce(c.prefix, '') || repeat('*', greatest(length(n.digits) - length(coalesce(c.prefix, '')) - 2, 0))
           || right(n.digits, 2) AS masked_number
FROM numbers n LEFT JOIN codes c USING (phone_number_id)
"""


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    """TEMP tables the page queries share (a read-only connection may still create TEMP objects)."""
    conn.execute(MASKED_NUMBERS_SQL)


def human(column: str) -> str:
    """SQL for a code as a reader writes it: MARKETING, marketing -> Marketing; free_entry_point -> Free entry point."""
    return f"upper(left({column}, 1)) || replace(lower(substr({column}, 2)), '_', ' ')"


def coverage(conn: duckdb.DuckDBPyConnection) -> dict | None:
    """First and last day with messages (local days of the WABAs, as the marts count them); None with no data."""
    first, last = conn.execute("SELECT min(day), max(day) FROM marts.spend_daily").fetchone()
    return {"first": first.isoformat(), "last": last.isoformat()} if first else None


def labels(conn: duckdb.DuckDBPyConnection) -> dict:
    """What the filters and tables call a WABA and a number: a name before the id where one is known (the verified
    name Meta gives a number), the masked number, never the digits."""
    wabas = conn.execute("""
        SELECT waba_id, 'WABA …' || right(waba_id, 4) || ' (' || currency || ', ' || timezone || ')'
        FROM staging.accounts ORDER BY waba_id""").fetchall()
    numbers = conn.execute("""
        WITH numbers AS (
            SELECT phone_number_id, any_value(waba_id ORDER BY day DESC) AS waba_id FROM marts.phone_number_health_daily GROUP BY ALL
            UNION ALL SELECT DISTINCT phone_number_id, waba_id FROM marts.spend_daily
            WHERE phone_number_id NOT IN (SELECT phone_number_id FROM marts.phone_number_health_daily)
        ), names AS (
            SELECT phone_number_id, arg_max(verified_name, snapshot_at) AS verified_name
            FROM staging.phone_number_snapshots WHERE verified_name IS NOT NULL GROUP BY ALL
        )
        SELECT n.phone_number_id, n.waba_id,
               coalesce(v.verified_name || ' · ', '') || coalesce(m.masked_number, 'number …' || right(n.phone_number_id, 4))
        FROM numbers n LEFT JOIN masked_numbers m USING (phone_number_id) LEFT JOIN names v USING (phone_number_id)
        WHERE n.phone_number_id IS NOT NULL ORDER BY 3, 1""").fetchall()
    return {"waba": {w: label for w, label in wabas}, "waba_short": {w: f"WABA …{w[-4:]}" for w, _ in wabas},
            "number": {n: {"waba": w, "label": label} for n, w, label in numbers}}
