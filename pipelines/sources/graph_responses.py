"""Loading saved Graph API responses (landing/business_manager/graph/**.json) into raw.graph_responses.

A saved file is one record (one page of one request), so it is one row in: loaded, a duplicate of a
record already loaded (same bytes), or quarantined with the reason (not UTF-8, not JSON, not a saved
response) and the file marked unreadable. Staging unnests the responses set-based.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from pipelines.batching import batches_by_size
from pipelines.sources.graph_fetch import GRAPH_FOLDER, KINDS
from pipelines.sources.landing import (
    LandingFile, LoadTotals, files_to_load, find_files, find_repeats, record_loads, reserve_load_ids,
    retire_previous_versions,
)
from pipelines.warehouse import MODELS_DIR, transaction

SOURCE = "graph_responses"
TABLE = "raw.graph_responses"
ACCEPT_SQL = (MODELS_DIR / "raw" / "graph_accept.sql").read_text().replace(
    "$kinds", ", ".join(f"'{kind}'" for kind in KINDS))
# Bytes of JSON per transaction: many small daily files share the per-statement cost.
BATCH_BYTES = 64 * 1024 * 1024


def load_graph_responses(conn: duckdb.DuckDBPyConnection, landing: Path,
                         progress: Callable[[str], None] = lambda _: None) -> dict:
    files = find_files(landing, GRAPH_FOLDER, (".json",))
    todo, skipped = files_to_load(conn, SOURCE, files, TABLE)
    totals = LoadTotals(SOURCE, len(files), len(skipped), progress)
    for batch in batches_by_size(todo, lambda f: f.size, BATCH_BYTES):
        for f, counts in zip(batch, _load_batch(conn, batch)):
            totals.add(f, counts)
    return totals.as_dict()


def _read(f: LandingFile) -> tuple[str | None, str | None]:
    """(text, problem): a file is read whole; it is one small JSON document."""
    try:
        return f.path.read_bytes().decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"not_utf8: the byte at offset {exc.start} is not UTF-8"
    except OSError as exc:
        return None, f"unreadable_file: {exc.strerror or type(exc).__name__}"


def _load_batch(conn: duckdb.DuckDBPyConnection, batch: list[LandingFile]) -> list[dict]:
    texts, problems = zip(*(_read(f) for f in batch))
    with transaction(conn):
        retire_previous_versions(conn, SOURCE, [f.rel_path for f in batch], [TABLE])
        load_ids = reserve_load_ids(conn, len(batch))
        conn.execute("""CREATE OR REPLACE TEMP TABLE _graph_files AS
                        SELECT unnest(range(?::INTEGER)) AS file_no, unnest(?::BIGINT[]) AS load_id,
                               unnest(?::VARCHAR[]) AS file_path, unnest(?::VARCHAR[]) AS text,
                               unnest(?::VARCHAR[]) AS read_problem""",
                     [len(batch), load_ids, [f.rel_path for f in batch], list(texts), list(problems)])
        conn.execute(ACCEPT_SQL)
        find_repeats(conn, "(SELECT file_no, content_md5 FROM _graph_items WHERE problem IS NULL)", "file_no", TABLE)
        conn.execute(f"""
            INSERT INTO {TABLE}
            SELECT f.load_id, i.line_no, i.content_md5, i.fetched_at, i.kind, i.waba_id, i.request, i.response
            FROM _graph_items i JOIN _graph_files f USING (file_no)
            WHERE i.problem IS NULL AND i.file_no NOT IN (SELECT file_no FROM _repeats)
            ORDER BY i.file_no
        """)
        conn.execute("""INSERT INTO raw.duplicates SELECT f.load_id, $1, i.line_no, i.content_md5, NULL
                        FROM _graph_items i JOIN _graph_files f USING (file_no) JOIN _repeats USING (file_no)""",
                     [SOURCE])
        conn.execute("""INSERT INTO raw.quarantine
                        SELECT f.load_id, $1, f.file_path, i.line_no, split_part(i.problem, ':', 1), i.problem,
                               left(coalesce(i.text, ''), 65536)
                        FROM _graph_items i JOIN _graph_files f USING (file_no) WHERE i.problem IS NOT NULL""",
                     [SOURCE])
        per_file = [{"rows_in": 1, "rows_loaded": loaded, "rows_duplicate": duplicate, "rows_quarantined": bad,
                     "load_id": load_id, "status": "unreadable" if bad else "loaded", "message": problem}
                    for load_id, loaded, duplicate, bad, problem in conn.execute(f"""
            SELECT f.load_id,
                   (SELECT count(*) FROM {TABLE} g WHERE g.load_id = f.load_id),
                   (SELECT count(*) FROM raw.duplicates d WHERE d.load_id = f.load_id),
                   (SELECT count(*) FROM raw.quarantine q WHERE q.load_id = f.load_id),
                   i.problem
            FROM _graph_files f JOIN _graph_items i USING (file_no) ORDER BY f.file_no
        """).fetchall()]
        record_loads(conn, SOURCE, batch, per_file)
        for table in ("_graph_files", "_graph_items", "_repeats"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return per_file
