"""Compliance marts: the consent timeline, the opt-in audit of every business-initiated message, daily coverage;
and the audit export an auditor receives.

The rules are SQL in models/marts (the precedence of findings is documented in optin_audit.sql); this module
orders the steps and writes the export.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.errors import UserError
from pipelines.marts import build_domain, build_intermediate, build_mart
from pipelines.masking import install_masking
from pipelines.warehouse import connect, published_path

COMPLIANCE_MARTS = ["consent_timeline", "optin_audit", "optin_coverage_daily"]
CONSENT_STATUSES = ("covered", "missing", "after_send", "opted_out", "out_of_scope", "identity_changed")


def compliance_steps() -> list[tuple[str, Callable]]:
    steps: list[tuple[str, Callable]] = [("_aliases", lambda conn: build_intermediate(conn, "customer_aliases"))]
    steps += [(name, lambda conn, name=name: build_mart(conn, name)) for name in COMPLIANCE_MARTS]
    return steps


def build_compliance(conn: duckdb.DuckDBPyConnection, progress: Callable[[str], None] = lambda _: None,
                     force: bool = False) -> dict[str, int]:
    """Build the compliance marts; reads marts.message_ledger, so finance must be built first."""
    return build_domain(conn, "compliance", compliance_steps(), {}, progress=progress, force=force)


# Masking keeps a phone number's country code and last two digits (+55*********21), and a business-scoped
# user id's country and last two characters (BR.****************21): enough to tell records apart, not to call.
# A message id encodes the recipient, so it becomes its keyed hash; free text is scrubbed (pipelines/masking.py).
MASKED_COLUMNS = {"message_id": "masked_id", "template_name": "masked_text", "campaign": "masked_text",
                  "reason": "masked_text", "evidence_ref": "masked_text", "blocking_evidence_ref": "masked_text"}
EXPORT_SQL = """
WITH rows AS (
    SELECT * FROM marts.optin_audit
    WHERE sent_day BETWEEN $start AND $end AND (len($statuses) = 0 OR list_contains($statuses, consent_status))
), ids AS (
    SELECT DISTINCT unnest([customer_id, optin_recorded_under]) AS id FROM rows
), country_codes AS (
    -- A number's country code is its shortest matching calling-code prefix (+1, not the +1 876 area).
    SELECT i.id, arg_min(p.prefix, length(p.prefix)) AS prefix
    FROM ids i JOIN (SELECT DISTINCT prefix FROM marts.market_prefixes) p ON starts_with(i.id, p.prefix)
    GROUP BY i.id
), masked AS (
    SELECT i.id,
           CASE WHEN $unmasked THEN i.id
                WHEN regexp_matches(i.id, '^[A-Za-z]{2}\\.')
                     THEN left(i.id, 3) || repeat('*', greatest(length(i.id) - 5, 0)) || right(i.id, 2)
                ELSE '+' || coalesce(c.prefix, '') || repeat('*', greatest(length(i.id) - length(coalesce(c.prefix, '')) - 2, 0))
                     || right(i.id, 2) END AS shown
    FROM ids i LEFT JOIN country_codes c USING (id)
)
SELECT {message_id} AS message_id, r.sent_at, r.sent_day, r.waba_id, r.phone_number_id, mc.shown AS customer,
       r.market, r.category, {template_name} AS template_name, {campaign} AS campaign, r.final_status, r.error_code,
       r.consent_status, {reason} AS reason, r.optin_at, r.optin_source, r.optin_scope, {evidence_ref} AS evidence_ref,
       mu.shown AS optin_recorded_under, r.blocking_event, r.blocking_event_at,
       {blocking_evidence_ref} AS blocking_evidence_ref
FROM rows r
LEFT JOIN masked mc ON mc.id = r.customer_id
LEFT JOIN masked mu ON mu.id = r.optin_recorded_under
ORDER BY r.sent_at, r.message_id
"""


def export_audit(warehouse: Path, start: date, end: date, statuses: list[str], out: Path,
                 unmasked: bool = False) -> dict[str, int]:
    """Write the audit rows sent between `start` and `end` (local days, inclusive) to a CSV; return counts by status.

    Reads the published copy when there is one (a run may be writing the warehouse), else the warehouse itself,
    read-only.
    """
    unknown = [s for s in statuses if s not in CONSENT_STATUSES]
    if unknown:
        raise UserError(f"unknown consent status {', '.join(unknown)}; choose from {', '.join(CONSENT_STATUSES)}")
    if end < start:
        raise UserError(f"--to {end} is before --from {start}")
    source = published_path(warehouse)
    if not source.exists():
        source = Path(warehouse)
    if not source.exists():
        raise UserError(f"{warehouse}: no warehouse here; run `waba run` first (or pass --warehouse)")
    conn = connect(source, read_only=True)
    try:
        if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                            "AND table_name = 'optin_audit'").fetchone()[0]:
            raise UserError(f"{source}: has no marts.optin_audit yet; run `waba run` to build it")
        params = {"start": start, "end": end, "statuses": list(statuses), "unmasked": unmasked}
        out.parent.mkdir(parents=True, exist_ok=True)
        if not unmasked:
            install_masking(conn)
        conn.execute(f"COPY ({_export_sql(unmasked)}) TO '{_sql_path(out)}' (HEADER, DELIMITER ',')", params)
        counts = dict(conn.execute(
            "SELECT consent_status, count(*) FROM marts.optin_audit WHERE sent_day BETWEEN $start AND $end "
            "AND (len($statuses) = 0 OR list_contains($statuses, consent_status)) GROUP BY 1",
            {k: params[k] for k in ("start", "end", "statuses")}).fetchall())
    finally:
        conn.close()
    return counts


def _export_sql(unmasked: bool) -> str:
    sql = EXPORT_SQL
    for column, function in MASKED_COLUMNS.items():
        sql = sql.replace("{" + column + "}", f"r.{column}" if unmasked else f"{function}(r.{column})")
    return sql


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
