"""Masking identifiers in every masked output (the audit export, the report pages, any later export).

A WhatsApp message id (wamid) base64-encodes the recipient's number or business-scoped user id, so it is
never shown as is: it becomes a keyed hash, HMAC-SHA256 with a secret kept in the warehouse itself
(raw.masking_key, made once when the warehouse is created). The same id gives the same hash in every
export of that warehouse, so an auditor can match rows across exports; without the secret it cannot be
reversed or recomputed from a guessed number. The hash is 32 hex digits written as the letters g-p for
0-9 (`m_` + 32 letters), so no masked value ever looks like a number to the phone-number scrub below.

Free text (reasons, evidence references, check findings) is scrubbed as well: every wamid in it becomes
its hash and every run of 8 or more digits (a phone number, with or without +) keeps only its last two.

Usage: `install_masking(conn)` once per connection, then `masked_id(x)` and `masked_text(x)` in SQL.
"""
from __future__ import annotations

import secrets

import duckdb

from pipelines.errors import UserError
from pipelines.keyed_hash import hmac_pads

KEY_TABLE = "raw.masking_key"
WAMID_PATTERN = r"wamid\.[A-Za-z0-9_=+/\-]+"
DIGIT_RUN_PATTERN = r"\+?[0-9]{6,}([0-9]{2})"


def ensure_masking_key(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse's masking secret the first time; never change it (hashes must stay stable)."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (secret VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)")
    conn.execute(f"INSERT INTO {KEY_TABLE} SELECT ?, now() WHERE NOT EXISTS (SELECT 1 FROM {KEY_TABLE})",
                 [secrets.token_hex(32)])


def install_masking(conn: duckdb.DuckDBPyConnection) -> None:
    """Define the temp macros masked_id(x) and masked_text(x) on this (possibly read-only) connection."""
    try:
        secret = conn.execute(f"SELECT secret FROM {KEY_TABLE} LIMIT 1").fetchone()
    except duckdb.CatalogException:
        secret = None
    if not secret:
        raise UserError("this warehouse has no masking key yet (it predates masking); run `waba run` once to add it")
    ipad, opad = hmac_pads(secret[0])
    conn.execute(f"""
        CREATE OR REPLACE TEMP MACRO masked_id(x) AS
            CASE WHEN x IS NOT NULL THEN 'm_' || translate(left(
                sha256(unhex('{opad.hex()}') || unhex(sha256(unhex('{ipad.hex()}') || encode(CAST(x AS VARCHAR))))),
                32), '0123456789', 'ghijklmnop') END
    """)
    conn.execute(f"""
        CREATE OR REPLACE TEMP MACRO masked_text(x) AS
            regexp_replace(
                list_reduce(list_prepend(CAST(x AS VARCHAR), regexp_extract_all(CAST(x AS VARCHAR), '{WAMID_PATTERN}')),
                            (text, wamid) -> replace(text, wamid, masked_id(wamid))),
                '{DIGIT_RUN_PATTERN}', '******\\1', 'g')
    """)
