"""Loading webhook archives into raw.webhook_deliveries, many files per transaction.

Files are read one by one (each keeps its own line numbers) into one temp table; classification,
deduplication and inserts then run once per batch, because DuckDB's per-statement cost would
otherwise dominate a folder of many small daily files.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.batching import batches_by_size
from pipelines.keyed_hash import hmac_pads
from pipelines.sources.landing import (
    WEBHOOK_SUFFIXES, LandingFile, LoadTotals, files_to_load, find_files, find_repeats, record_loads, reserve_load_ids,
    record_problem_files, retire_previous_versions,
)
from pipelines.sources.line_reader import create_lines_table, read_lines
from pipelines.sources.torn_sidecars import TORN_SUFFIX, is_torn_sidecar, read_torn_sidecar
from pipelines.testing_hooks import halt_point
from pipelines.warehouse import MODELS_DIR, transaction

SOURCE = "webhooks"
UNTRUSTED = "('invalid', 'missing')"  # signature states kept in raw but never staged
APP_SECRET_ENV = "WABA_APP_SECRET"
CLASSIFY_SQL = (MODELS_DIR / "raw" / "webhook_lines.sql").read_text()
ACCEPT_SQL = (MODELS_DIR / "raw" / "webhook_accept.sql").read_text().replace("$ipad", "$1").replace("$opad", "$2")
# Bytes of text per batch, estimating gzip at 8:1; bounds memory, amortises per-statement cost.
BATCH_TEXT_BYTES = 128 * 1024 * 1024
GZIP_RATIO = 8


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
    broken = [f for f in todo if f.problem]
    for f, counts in zip(broken, record_problem_files(conn, SOURCE, broken, ["raw.webhook_deliveries"], progress)):
        totals.add(f, counts)
    todo = [f for f in todo if not f.problem]
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
        per_file = [_file_outcome(counts.get(file_no), problems[file_no], load_ids[file_no]) for file_no in range(len(batch))]
        empty = [[load_ids[n], batch[n].rel_path] for n, c in enumerate(per_file) if c["status"] == "unreadable"
                 and not problems[n]]
        if empty:
            conn.executemany("INSERT INTO raw.quarantine VALUES (?, 'webhooks', ?, NULL, 'empty_file', "
                             "'the file holds no delivery (empty or blank)', '')", empty)
        record_loads(conn, SOURCE, batch, per_file)
        for table in ("_lines", "_classified", "_deliveries", "_repeats", "_files"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    for f in batch:
        halt_point(f"commit:{f.rel_path}")
    return per_file


# File-level problems: the first decides the file's status and message.
TRUNCATION_REASONS = ("truncated_gzip", "corrupt_gzip")


def _file_outcome(counts: dict | None, problems: list, load_id: int) -> dict:
    """A file's counts and status: `truncated` when its gzip stream was cut short (what could be read loaded),
    `unreadable` when nothing in it could be read, or it holds no delivery at all; else `loaded`."""
    c = dict(counts or {"rows_in": 0, "rows_loaded": 0, "rows_duplicate": 0, "rows_quarantined": 0})
    c["rows_in"] += sum(1 for p in problems if p[0] is not None)
    c["load_id"] = load_id
    cut = next((p for p in problems if p[1] in TRUNCATION_REASONS), None)
    whole_file = next((p for p in problems if p[0] is None), None)
    if cut:
        c["status"], c["message"] = "truncated", f"{cut[1]}: {cut[2]}"
    elif whole_file:
        c["status"], c["message"] = "unreadable", f"{whole_file[1]}: {whole_file[2]}"
    elif c["rows_in"] == 0:
        c["status"], c["message"] = "unreadable", "empty_file: the file holds no delivery (empty or blank)"
    else:
        c["status"], c["message"] = "loaded", None
    return c


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
