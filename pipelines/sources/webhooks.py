"""Loading webhook archives into raw.webhook_deliveries, many files per transaction.

Files are read one by one (each keeps its own line numbers) into one temp table; classification,
deduplication and inserts then run once per batch, because DuckDB's per-statement cost would
otherwise dominate a folder of many small daily files.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.batching import batches_by_size
from pipelines.sources.landing import (
    WEBHOOK_SUFFIXES, LandingFile, LoadTotals, files_to_load, find_files, find_repeats, record_loads, reserve_load_ids,
    retire_previous_versions,
)
from pipelines.sources.line_reader import create_lines_table, read_lines
from pipelines.sources.torn_sidecars import TORN_SUFFIX, is_torn_sidecar, read_torn_sidecar
from pipelines.warehouse import MODELS_DIR, transaction

SOURCE = "webhooks"
UNTRUSTED = "('invalid', 'missing')"  # signature states kept in raw but never staged
APP_SECRET_ENV = "WABA_APP_SECRET"
CLASSIFY_SQL = (MODELS_DIR / "raw" / "webhook_lines.sql").read_text()
ACCEPT_SQL = (MODELS_DIR / "raw" / "webhook_accept.sql").read_text().replace("$ipad", "$1").replace("$opad", "$2")
# Bytes of text per batch, estimating gzip at 8:1; bounds memory, amortises per-statement cost.
BATCH_TEXT_BYTES = 128 * 1024 * 1024
GZIP_RATIO = 8


def hmac_pads(secret: str | None) -> tuple[bytes | None, bytes | None]:
    """The inner and outer HMAC-SHA256 pads, so DuckDB can verify signatures set-based."""
    if not secret:
        return None, None
    key = secret.encode()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _text_bytes(f: LandingFile) -> int:
    return f.size * (GZIP_RATIO if f.rel_path.endswith(".gz") else 1)


def load_webhooks(conn: duckdb.DuckDBPyConnection, landing: Path, app_secret: str | None = None,
                  progress: Callable[[str], None] = lambda _: None) -> dict:
    if app_secret is None:
        app_secret = os.environ.get(APP_SECRET_ENV) or None
    # `.part` files (an hour `waba receive` is still writing) end in none of these and are not loaded yet.
    files = find_files(landing, "webhooks", WEBHOOK_SUFFIXES + (TORN_SUFFIX,))
    todo, skipped = files_to_load(conn, SOURCE, files, "raw.webhook_deliveries")
    ipad, opad = hmac_pads(app_secret)
    totals = LoadTotals(SOURCE, len(files), len(skipped), progress)
    for batch in batches_by_size(todo, _text_bytes, BATCH_TEXT_BYTES):
        for f, counts in zip(batch, load_webhook_batch(conn, batch, ipad, opad)):
            totals.add(f, counts, position=f"{totals.files_loaded + 1}/{len(todo)} ")
    return totals.as_dict()


def load_webhook_batch(conn: duckdb.DuckDBPyConnection, batch: list[LandingFile],
                       ipad: bytes | None, opad: bytes | None) -> list[dict]:
    # Reading happens outside the transaction: a reader error must not abort it.
    create_lines_table(conn)
    problems = {file_no: read_torn_sidecar(f.path) if is_torn_sidecar(f.path) else read_lines(conn, f.path, file_no)
                for file_no, f in enumerate(batch)}
    with transaction(conn):
        retire_previous_versions(conn, SOURCE, [f.rel_path for f in batch], ["raw.webhook_deliveries"])
        load_ids = reserve_load_ids(conn, len(batch))
        conn.execute("CREATE OR REPLACE TEMP TABLE _files AS SELECT unnest(range(?::INTEGER)) AS file_no, unnest(?::BIGINT[]) AS load_id, "
                     "unnest(?::VARCHAR[]) AS file_path", [len(batch), load_ids, [f.rel_path for f in batch]])
        conn.execute(CLASSIFY_SQL)
        conn.execute(ACCEPT_SQL, [ipad, opad])
        # A delivery that failed its signature check never makes a genuine copy a duplicate, nor becomes one.
        find_repeats(conn, f"(SELECT file_no, line_no, content_md5 FROM _deliveries WHERE payload_format IS NOT NULL "
                           f"AND signature_status NOT IN {UNTRUSTED})", "file_no, line_no",
                     f"(SELECT content_md5 FROM raw.webhook_deliveries WHERE signature_status NOT IN {UNTRUSTED})")
        conn.execute("""
            INSERT INTO raw.webhook_deliveries
            SELECT f.load_id, d.line_no, d.content_md5, d.payload_format, d.received_at, d.signature_status, d.body
            FROM _deliveries d JOIN _files f USING (file_no)
            WHERE d.payload_format IS NOT NULL AND (d.file_no, d.line_no) NOT IN (SELECT (file_no, line_no) FROM _repeats)
            ORDER BY d.file_no, d.line_no
        """)
        conn.execute("""
            INSERT INTO raw.duplicates
            SELECT f.load_id, 'webhooks', d.line_no, d.content_md5, d.received_at
            FROM _deliveries d JOIN _files f USING (file_no) JOIN _repeats r USING (file_no, line_no)
        """)
        conn.execute("""
            INSERT INTO raw.quarantine
            SELECT f.load_id, 'webhooks', f.file_path, d.line_no,
                   CASE WHEN d.invalid_json THEN 'invalid_json' ELSE 'not_whatsapp' END,
                   CASE WHEN d.invalid_json THEN 'not valid JSON'
                        ELSE 'valid JSON but not a WhatsApp webhook (object=' || coalesce(d.body ->> '$.object', 'missing') || ')' END,
                   d.body
            FROM _deliveries d JOIN _files f USING (file_no) WHERE d.payload_format IS NULL
        """)
        python_problems = [[load_ids[n], batch[n].rel_path, *p] for n, found in problems.items() for p in found]
        if python_problems:
            conn.executemany("INSERT INTO raw.quarantine VALUES (?, 'webhooks', ?, ?, ?, ?, ?)", python_problems)
        counts = _batch_counts(conn)
        per_file = []
        for file_no, f in enumerate(batch):
            c = dict(counts.get(file_no, {"rows_in": 0, "rows_loaded": 0, "rows_duplicate": 0, "rows_quarantined": 0}))
            c["rows_in"] += sum(1 for p in problems[file_no] if p[0] is not None)
            whole_file = next((p for p in problems[file_no] if p[0] is None or p[1] == "invalid_json"), None)
            c["status"] = "unreadable" if whole_file and c["rows_loaded"] + c["rows_duplicate"] == 0 else "loaded"
            c["message"] = f"{whole_file[1]}: {whole_file[2]}" if whole_file else None
            c["load_id"] = load_ids[file_no]
            per_file.append(c)
        record_loads(conn, SOURCE, batch, per_file)
        for table in ("_lines", "_classified", "_deliveries", "_repeats", "_files"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return per_file


def _batch_counts(conn: duckdb.DuckDBPyConnection) -> dict[int, dict]:
    """Per file: rows in (non-blank lines read) and where each went (counted from what was inserted)."""
    rows = conn.execute("""
        SELECT f.file_no,
               (SELECT count(*) FROM _classified c WHERE c.file_no = f.file_no AND NOT c.is_blank),
               (SELECT count(*) FROM raw.webhook_deliveries w WHERE w.load_id = f.load_id),
               (SELECT count(*) FROM raw.duplicates d WHERE d.load_id = f.load_id),
               (SELECT count(*) FROM raw.quarantine q WHERE q.load_id = f.load_id AND q.line_no IS NOT NULL)
        FROM _files f
    """).fetchall()
    return {file_no: {"rows_in": rows_in, "rows_loaded": loaded, "rows_duplicate": dup, "rows_quarantined": bad}
            for file_no, rows_in, loaded, dup, bad in rows}
