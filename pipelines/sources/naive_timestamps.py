"""What a timestamp without an offset means in an export: nothing, unless the user says which timezone.

Default (`reject`): such a value is quarantined as `timestamp_without_offset`; it is never taken as UTC
silently (a send log written in local time would shift by hours). With `waba` (WABA_NAIVE_TIMESTAMPS=waba,
or `waba run --naive-timestamps waba`) it is read in the timezone accounts.csv gives its row's WABA
(the latest row per WABA, as staging.accounts picks it); a row whose WABA has no valid timezone there
is still quarantined. Parquet TIMESTAMP (without time zone) columns follow the same rule.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from pipelines.errors import UserError

NAIVE_ENV = "WABA_NAIVE_TIMESTAMPS"
MODES = ("reject", "waba")


@dataclass(frozen=True)
class NaiveRule:
    mode: str                  # reject | waba
    joins_waba: bool           # the source has a waba_id column to look the timezone up by

    def parse(self, raw: str) -> str:
        """SQL turning the text `raw` into a TIMESTAMPTZ, NULL when it cannot be read under this rule."""
        if self.mode == "waba" and self.joins_waba:
            naive = f"timezone(_tz_name, try_cast(trim({raw}) AS TIMESTAMP))"
        else:
            naive = "NULL::TIMESTAMPTZ"
        return f"CASE WHEN waba_ts_is_naive({raw}) THEN {naive} ELSE waba_ts({raw}) END"

    def problem(self, column: str, raw: str) -> str:
        """A CASE branch naming a naive value the rule could not place."""
        why = ("no valid timezone for the row''s WABA in accounts.csv" if self.mode == "waba"
               else f"no offset; set {NAIVE_ENV}=waba to read it in the WABA''s timezone")
        return (f"WHEN {raw} IS NOT NULL AND {column} IS NULL AND waba_ts_is_naive({raw}) "
                f"THEN 'timestamp_without_offset: {column}=' || {raw} || ' ({why})'")

    def join(self, waba_text: str) -> str:
        return f" LEFT JOIN _waba_tz ON _tz_waba_id = {waba_text}" if self.mode == "waba" and self.joins_waba else ""


def naive_mode() -> str:
    """The documented default of the run setting `naive_timestamps` (read, never written)."""
    mode = os.environ.get(NAIVE_ENV, "reject").strip().lower() or "reject"
    if mode not in MODES:
        raise UserError(f"{NAIVE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def naive_timestamp_rule(conn: duckdb.DuckDBPyConnection, source, mode: str | None = None) -> NaiveRule:
    """The rule for one source (`mode` None: the environment's default); in `waba` mode also fills temp table
    `_waba_tz` from raw.accounts."""
    mode = mode or naive_mode()
    joins = "waba_id" in source.columns and "TIMESTAMPTZ" in source.columns.values()
    if mode == "waba" and joins:
        conn.execute("""
            CREATE OR REPLACE TEMP TABLE _waba_tz AS
            SELECT _tz_waba_id, _tz_name FROM (
                SELECT waba_id AS _tz_waba_id, trim(timezone) AS _tz_name FROM raw.accounts
                QUALIFY row_number() OVER (PARTITION BY waba_id ORDER BY load_id DESC, line_no DESC) = 1)
            WHERE _tz_name IN (SELECT name FROM pg_timezone_names())
        """)
    return NaiveRule(mode, joins)
