"""Compliance marts: the consent timeline, the opt-in audit of every business-initiated message, daily coverage;
and the audit export an auditor receives.

The rules are SQL in models/marts, built by dbt (the precedence of findings is documented in optin_audit.sql and,
with each rule's source, in docs/compliance.md); this module carries the consent_scope setting and writes the
export.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.errors import UserError
from pipelines.masking import install_masking
from pipelines.warehouse import connect, published_path

# In precedence order: the first that applies wins.
CONSENT_STATUSES = ("opted_out", "marketing_stopped", "number_reassigned", "covered_identity_changed", "covered",
                    "user_initiated_window", "out_of_scope", "after_send", "missing")
PERMITTED_STATUSES = ("covered", "covered_identity_changed", "user_initiated_window")
CONSENT_SCOPES = ("portfolio", "waba", "number")
SCOPE_ENV = "WABA_CONSENT_SCOPE"


@dataclass(frozen=True)
class ConsentParams:
    """How far an opt-out or a marketing stop reaches: the business portfolio (default), the WABA, or the number."""
    consent_scope: str = "portfolio"

    @classmethod
    def from_env(cls) -> ConsentParams:
        """The documented default of the run setting `consent_scope` (read, never written)."""
        return cls.checked(os.environ.get(SCOPE_ENV, "").strip().lower() or "portfolio", SCOPE_ENV)

    @classmethod
    def checked(cls, scope: str, name: str = "consent_scope") -> ConsentParams:
        if scope not in CONSENT_SCOPES:
            raise UserError(f"{name}={scope!r} is not a consent scope; choose one of {', '.join(CONSENT_SCOPES)}")
        return cls(scope)


# The export's columns, in order: (CSV column, SQL over the audit row `r` and the masked ids). The one place the
# CSV is assembled.
EXPORT_COLUMNS = (
    ("message_id", "r.message_id"), ("sent_at", "r.sent_at"), ("sent_day", "r.sent_day"), ("waba_id", "r.waba_id"),
    ("phone_number_id", "r.phone_number_id"), ("customer", "mc.shown"), ("market", "r.market"),
    ("category", "r.category"), ("template_name", "r.template_name"), ("campaign", "r.campaign"),
    ("final_status", "r.final_status"), ("error_code", "r.error_code"), ("consent_status", "r.consent_status"),
    ("permitted", "r.permitted"), ("consent_scope", "r.consent_scope"), ("reason", "r.reason"),
    ("optin_at", "r.optin_at"), ("optin_source", "r.optin_source"), ("optin_scope", "r.optin_scope"),
    ("evidence_ref", "r.evidence_ref"), ("optin_recorded_under", "mu.shown"), ("optin_wording", "r.optin_wording"),
    ("optin_business_name", "r.optin_business_name"), ("blocking_event", "r.blocking_event"),
    ("blocking_event_at", "r.blocking_event_at"), ("blocking_evidence_ref", "r.blocking_evidence_ref"),
    ("review_event", "r.review_event"), ("review_event_at", "r.review_event_at"),
    ("review_evidence_ref", "r.review_evidence_ref"),
)
# Masking keeps a phone number's country code and last two digits (+55*********21), and a business-scoped
# user id's country and last two characters (BR.****************21): enough to tell records apart, not to call.
# A message id encodes the recipient, so it becomes its keyed hash; free text that can quote a wamid or a number
# (the evidence of a chat keyword, a 131050 failure or a system message) is scrubbed (pipelines/masking.py).
MASKED_COLUMNS = {"message_id": "masked_id", "template_name": "masked_text", "campaign": "masked_text",
                  "reason": "masked_text", "evidence_ref": "masked_text", "optin_wording": "masked_text",
                  "blocking_evidence_ref": "masked_text", "review_evidence_ref": "masked_text"}
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
SELECT COLUMNS_LIST
FROM rows r
LEFT JOIN masked mc ON mc.id = r.customer_id
LEFT JOIN masked mu ON mu.id = r.optin_recorded_under
ORDER BY r.sent_at, r.message_id
"""


def export_sql(unmasked: bool) -> str:
    """The export query, masked unless `unmasked` (the masked one needs install_masking on its connection)."""
    def shown(name: str, sql: str) -> str:
        return sql if unmasked or name not in MASKED_COLUMNS else f"{MASKED_COLUMNS[name]}({sql})"
    return EXPORT_SQL.replace("COLUMNS_LIST", ", ".join(f"{shown(name, sql)} AS {name}" for name, sql in EXPORT_COLUMNS))


def audit_source(warehouse: Path) -> Path:
    """The published copy when there is one (a run may be writing the warehouse), else the warehouse itself."""
    source = published_path(warehouse)
    if not source.exists():
        source = Path(warehouse)
    if not source.exists():
        raise UserError(f"{warehouse}: no warehouse here; run `waba run` first (or pass --warehouse)")
    return source


def open_audit_source(source: Path) -> duckdb.DuckDBPyConnection:
    conn = connect(source, read_only=True)
    if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                        "AND table_name = 'optin_audit'").fetchone()[0]:
        conn.close()
        raise UserError(f"{source}: has no marts.optin_audit yet; run `waba run` to build it")
    return conn


def check_export_request(start: date, end: date, statuses: list[str]) -> None:
    unknown = [s for s in statuses if s not in CONSENT_STATUSES]
    if unknown:
        raise UserError(f"unknown consent status {', '.join(unknown)}; choose from {', '.join(CONSENT_STATUSES)}")
    if end < start:
        raise UserError(f"--to {end} is before --from {start}")


def write_export(conn: duckdb.DuckDBPyConnection, start: date, end: date, statuses: list[str], out: Path,
                 unmasked: bool) -> dict[str, int]:
    """Write the CSV from an open warehouse; return the row count of each consent status in it."""
    params = {"start": start, "end": end, "statuses": list(statuses), "unmasked": unmasked}
    out.parent.mkdir(parents=True, exist_ok=True)
    if not unmasked:
        install_masking(conn)
    conn.execute(f"COPY ({export_sql(unmasked)}) TO '{_sql_path(out)}' (HEADER, DELIMITER ',')", params)
    return dict(conn.execute(
        "SELECT consent_status, count(*) FROM marts.optin_audit WHERE sent_day BETWEEN $start AND $end "
        "AND (len($statuses) = 0 OR list_contains($statuses, consent_status)) GROUP BY 1 ORDER BY 1",
        {k: params[k] for k in ("start", "end", "statuses")}).fetchall())


def export_audit(warehouse: Path, start: date, end: date, statuses: list[str], out: Path,
                 unmasked: bool = False) -> dict[str, int]:
    """Write the audit rows sent between `start` and `end` (local days, inclusive) to a CSV and its manifest
    beside it (see pipelines/audit_manifest.py); return counts by status."""
    from pipelines.audit_manifest import write_manifest

    check_export_request(start, end, statuses)
    source = audit_source(warehouse)
    conn = open_audit_source(source)
    try:
        counts = write_export(conn, start, end, statuses, out, unmasked)
        write_manifest(conn, source, out, start, end, statuses, unmasked, counts)
    finally:
        conn.close()
    return counts


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
