"""Loading webhook archives into raw.webhook_deliveries, one transaction per file."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.sources.landing import (
    WEBHOOK_SUFFIXES, LandingFile, files_to_load, find_files, load_counts, next_load_id, record_load,
    retire_previous_version,
)
from pipelines.sources.line_reader import read_lines
from pipelines.warehouse import MODELS_DIR, transaction

SOURCE = "webhooks"
APP_SECRET_ENV = "WABA_APP_SECRET"
CLASSIFY_SQL = (MODELS_DIR / "raw" / "webhook_lines.sql").read_text()
ACCEPT_SQL = (MODELS_DIR / "raw" / "webhook_accept.sql").read_text().replace("$ipad", "$1").replace("$opad", "$2")


def hmac_pads(secret: str | None) -> tuple[bytes | None, bytes | None]:
    """The inner and outer HMAC-SHA256 pads, so DuckDB can verify signatures set-based."""
    if not secret:
        return None, None
    key = secret.encode()
    if len(key) > 64:
        import hashlib
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def load_webhooks(conn: duckdb.DuckDBPyConnection, landing: Path, app_secret: str | None = None,
                  progress: Callable[[str], None] = lambda _: None) -> dict:
    if app_secret is None:
        app_secret = os.environ.get(APP_SECRET_ENV) or None
    files = find_files(landing, "webhooks", WEBHOOK_SUFFIXES)
    todo, skipped = files_to_load(conn, SOURCE, files)
    ipad, opad = hmac_pads(app_secret)
    totals = {"files": len(files), "files_loaded": 0, "files_skipped": len(skipped),
              "rows_in": 0, "rows_loaded": 0, "rows_duplicate": 0, "rows_quarantined": 0, "load_ids": []}
    for number, f in enumerate(todo, start=1):
        counts = load_webhook_file(conn, f, ipad, opad)
        progress(f"webhooks {number}/{len(todo)} {f.rel_path}: {counts['rows_loaded']} loaded, "
                 f"{counts['rows_duplicate']} duplicate, {counts['rows_quarantined']} quarantined")
        totals["files_loaded"] += 1
        totals["load_ids"].append(counts["load_id"])
        for key in ("rows_in", "rows_loaded", "rows_duplicate", "rows_quarantined"):
            totals[key] += counts[key]
    return totals


def load_webhook_file(conn: duckdb.DuckDBPyConnection, f: LandingFile, ipad: bytes | None, opad: bytes | None) -> dict:
    # Reading happens outside the transaction: a reader error must not abort it.
    problems = read_lines(conn, f.path)
    with transaction(conn):
        retire_previous_version(conn, SOURCE, f.rel_path, ["raw.webhook_deliveries"])
        load_id = next_load_id(conn)
        conn.execute(CLASSIFY_SQL)
        conn.execute(ACCEPT_SQL, [ipad, opad])
        conn.execute("""
            INSERT INTO raw.webhook_deliveries
            SELECT $1, line_no, content_md5, payload_format, received_at, signature_status, body
            FROM _deliveries WHERE payload_format IS NOT NULL AND NOT is_duplicate ORDER BY line_no
        """, [load_id])
        conn.execute("""
            INSERT INTO raw.duplicates
            SELECT $1, 'webhooks', line_no, content_md5, received_at FROM _deliveries WHERE payload_format IS NOT NULL AND is_duplicate
        """, [load_id])
        conn.execute("""
            INSERT INTO raw.quarantine
            SELECT $1, 'webhooks', $2, line_no,
                   CASE WHEN invalid_json THEN 'invalid_json' ELSE 'not_whatsapp' END,
                   CASE WHEN invalid_json THEN 'not valid JSON'
                        ELSE 'valid JSON but not a WhatsApp webhook (object=' || coalesce(body ->> '$.object', 'missing') || ')' END,
                   body
            FROM _deliveries WHERE payload_format IS NULL
        """, [load_id, f.rel_path])
        if problems:
            conn.executemany("INSERT INTO raw.quarantine VALUES (?, 'webhooks', ?, ?, ?, ?, ?)",
                             [[load_id, f.rel_path, *p] for p in problems])
        counts = load_counts(conn, load_id, rows_in_sql="SELECT count(*) FROM _classified WHERE NOT is_blank")
        counts["rows_in"] += sum(1 for p in problems if p[0] is not None)
        whole_file = next((p for p in problems if p[0] is None or p[1] == "invalid_json"), None)
        status = "unreadable" if whole_file and counts["rows_loaded"] + counts["rows_duplicate"] == 0 else "loaded"
        message = f"{whole_file[1]}: {whole_file[2]}" if whole_file else None
        record_load(conn, load_id, SOURCE, f, status, counts, message)
        for table in ("_lines", "_classified", "_deliveries"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return {**counts, "load_id": load_id}
