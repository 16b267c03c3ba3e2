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
    return {"first_day": first or "no messages yet", "last_day": last or "no messages yet",
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
