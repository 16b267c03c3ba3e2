"""Loading the business's own CSV/Parquet exports into typed raw tables, row by row accounted for.

Each source names its required and optional columns and their types. A file missing a required
column is rejected whole (one quarantine row saying which columns); a row whose value cannot be
typed is quarantined with the column and value; a row identical to one already loaded is a duplicate.
"""
from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.sources import meta_rate_cards
from pipelines.sources.landing import (
    LandingFile, LoadTotals, files_to_load, find_files, find_repeats, load_counts, record_loads, reserve_load_ids,
    retire_previous_versions, sql_literal_path,
)
from pipelines.warehouse import transaction

# How each declared type is parsed from text; NULL means "could not be read".
PARSERS = {
    "VARCHAR": "nullif(trim({c}), '')",
    "TIMESTAMPTZ": "waba_ts({c})",
    "DATE": "try_cast(trim({c}) AS DATE)",
    "DECIMAL": "try_cast(trim({c}) AS DECIMAL(18, 6))",
    "BIGINT": "try_cast(trim({c}) AS BIGINT)",
    # an invoice month: 2026-10 or 2026-10-01
    "MONTH": "date_trunc('month', try_cast(CASE WHEN length(trim({c})) = 7 THEN trim({c}) || '-01' ELSE trim({c}) END AS DATE))::DATE",
}


@dataclass(frozen=True)
class TabularSource:
    name: str                      # raw table name and audit source
    folder: str                    # under the landing folder
    required: dict[str, str]       # column -> type
    optional: dict[str, str]
    prefix: str = ""               # file-name prefix within a shared folder
    suffixes: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


SOURCES = [
    TabularSource(
        "message_logs", "message_logs",
        required={"message_id": "VARCHAR", "sent_at": "TIMESTAMPTZ", "waba_id": "VARCHAR",
                  "phone_number_id": "VARCHAR", "recipient_id": "VARCHAR", "message_type": "VARCHAR"},
        optional={"template_name": "VARCHAR", "template_language": "VARCHAR", "template_category": "VARCHAR",
                  "campaign": "VARCHAR", "agent": "VARCHAR"},
    ),
    TabularSource(
        "phone_number_snapshots", "business_manager", prefix="phone_numbers", suffixes=(".csv",),
        required={"snapshot_at": "TIMESTAMPTZ", "waba_id": "VARCHAR", "phone_number_id": "VARCHAR",
                  "display_phone_number": "VARCHAR", "quality_rating": "VARCHAR", "messaging_limit": "VARCHAR",
                  "status": "VARCHAR"},
        optional={},
    ),
    TabularSource(
        "template_snapshots", "business_manager", prefix="templates", suffixes=(".csv",),
        required={"snapshot_at": "TIMESTAMPTZ", "waba_id": "VARCHAR", "template_id": "VARCHAR", "name": "VARCHAR",
                  "language": "VARCHAR", "category": "VARCHAR", "status": "VARCHAR", "quality_score": "VARCHAR"},
        optional={},
    ),
    TabularSource(
        "accounts", "business_manager", prefix="accounts", suffixes=(".csv",),
        required={"waba_id": "VARCHAR"},
        optional={"business_portfolio_id": "VARCHAR", "timezone": "VARCHAR", "currency": "VARCHAR"},
    ),
    TabularSource(
        "optin_events", "optins",
        required={"customer_id": "VARCHAR", "event": "VARCHAR", "event_at": "TIMESTAMPTZ", "source": "VARCHAR",
                  "scope": "VARCHAR", "evidence_ref": "VARCHAR"},
        optional={"waba_id": "VARCHAR"},
    ),
    TabularSource(
        "rate_cards", "rate_cards",
        required={"effective_from": "DATE", "market": "VARCHAR", "category": "VARCHAR", "currency": "VARCHAR",
                  "rate": "DECIMAL"},
        optional={"volume_from": "BIGINT", "volume_to": "BIGINT"},
    ),
    TabularSource(
        "invoices", "invoices",
        required={"month": "MONTH", "waba_id": "VARCHAR", "market": "VARCHAR", "category": "VARCHAR",
                  "amount": "DECIMAL", "currency": "VARCHAR"},
        optional={},
    ),
]
SOURCES_BY_NAME = {s.name: s for s in SOURCES}
STORED_TYPES = {"DECIMAL": "DECIMAL(18, 6)", "MONTH": "DATE"}
PROBLEM_NAMES = {"TIMESTAMPTZ": "bad_timestamp", "DATE": "bad_date", "MONTH": "bad_month", "DECIMAL": "bad_number", "BIGINT": "bad_integer"}
# Values that must be present for a row to mean anything.
NOT_NULL = {"message_id", "sent_at", "snapshot_at", "waba_id", "customer_id", "event_at", "effective_from", "rate",
            "phone_number_id", "template_id", "market", "category", "month", "amount"}


def ensure_table(conn: duckdb.DuckDBPyConnection, source: TabularSource) -> None:
    cols = ", ".join(f"{c} {STORED_TYPES.get(t, t)}" for c, t in source.columns.items())
    conn.execute(f"CREATE TABLE IF NOT EXISTS {source.table} (load_id BIGINT NOT NULL, line_no BIGINT NOT NULL, "
                 f"content_md5 UHUGEINT NOT NULL, {cols})")


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _read_csv(conn, path: Path) -> None:
    """Strict read: each row must have the header's columns; the others go to `_rejects` with their line."""
    header = _csv_header(path)
    if not header:
        raise ValueError("the file is empty (expected a header row)")
    columns = "{" + ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for name in header) + "}"
    conn.execute("DROP TABLE IF EXISTS _csv_rejects; DROP TABLE IF EXISTS _csv_scans")
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _read AS SELECT * FROM read_csv({sql_literal_path(path)}, columns={columns},
            header=true, auto_detect=false, delim=',', quote='"', escape='"', store_rejects=true,
            rejects_table='_csv_rejects', rejects_scan='_csv_scans', max_line_size=16000000)
    """)
    conn.execute("""CREATE OR REPLACE TEMP TABLE _rejects AS
                    SELECT line AS line_no, any_value(csv_line) AS original_text,
                           string_agg(DISTINCT error_message, '; ') AS detail
                    FROM _csv_rejects GROUP BY line""")
    # Accepted rows take the line numbers the rejected ones left free (exact unless a quoted field spans lines).
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _rows AS
        WITH free_lines AS (
            SELECT l AS _line_no, row_number() OVER (ORDER BY l) AS n
            FROM range(2, (SELECT count(*) FROM _read) + (SELECT count(*) FROM _rejects) + 2) t(l)
            WHERE l NOT IN (SELECT line_no FROM _rejects)
        )
        SELECT f._line_no, r.* EXCLUDE (n) FROM (SELECT *, row_number() OVER () AS n FROM _read) r JOIN free_lines f USING (n)
        ORDER BY f._line_no
    """)


def load_tabular(conn: duckdb.DuckDBPyConnection, landing: Path, source: TabularSource,
                 progress: Callable[[str], None] = lambda _: None) -> dict:
    ensure_table(conn, source)
    files = find_files(landing, source.folder, source.suffixes, prefix=source.prefix)
    todo, skipped = files_to_load(conn, source.name, files, source.table)
    totals = LoadTotals(source.name, len(files), len(skipped), progress)
    for f in todo:
        totals.add(f, load_tabular_file(conn, source, f))
    return totals.as_dict()


def _read_file(conn, source: TabularSource, f: LandingFile) -> str | None:
    """Fill temp tables `_rows` (with `_line_no`) and `_rejects`; return why the file is unreadable, if it is."""
    if f.size == 0:
        return "the file is empty (expected a header row)"
    is_parquet = f.rel_path.endswith(".parquet")
    if source.name == "rate_cards" and not is_parquet and meta_rate_cards.is_meta_layout(f.path):
        return _read_meta_rate_card(conn, f)
    try:
        if is_parquet:
            conn.execute("CREATE OR REPLACE TEMP TABLE _rejects (line_no BIGINT, original_text VARCHAR, detail VARCHAR)")
            conn.execute(f"CREATE OR REPLACE TEMP TABLE _rows AS SELECT row_number() OVER () AS _line_no, * "
                         f"FROM read_parquet({sql_literal_path(f.path)})")
        else:
            _read_csv(conn, f.path)
    except (duckdb.Error, OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if first.startswith("the file is empty"):
            return first
        return f"cannot be read as {'Parquet' if is_parquet else 'CSV'}: {first}"
    present = {r[0].strip().lower() for r in conn.execute("DESCRIBE _rows").fetchall()}
    missing = [c for c in source.required if c not in present]
    if missing:
        return (f"missing required column(s) {', '.join(missing)}; expected "
                f"{', '.join(source.required)} (optional: {', '.join(source.optional) or 'none'})")
    return None


def _read_meta_rate_card(conn, f: LandingFile) -> str | None:
    """Meta's own list-rate or volume-tier file, turned into generic rate-card rows (`_rows`, `_rejects`)."""
    try:
        card = meta_rate_cards.parse(f.path)
    except (meta_rate_cards.MetaRateCardError, OSError, UnicodeDecodeError, csv.Error) as exc:
        return f"Meta rate-card file: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    columns = ", ".join(f"{c} VARCHAR" for c in meta_rate_cards.GENERIC_COLUMNS)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _rows (_line_no BIGINT, {columns})")
    conn.execute("CREATE OR REPLACE TEMP TABLE _rejects (line_no BIGINT, original_text VARCHAR, detail VARCHAR)")
    if card.rows:
        conn.executemany("INSERT INTO _rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(line, *values) for line, values in card.rows])
    if card.rejects:
        conn.executemany("INSERT INTO _rejects VALUES (?, ?, ?)", card.rejects)
    return None


def load_tabular_file(conn: duckdb.DuckDBPyConnection, source: TabularSource, f: LandingFile) -> dict:
    problem = _read_file(conn, source, f)
    with transaction(conn):
        retire_previous_versions(conn, source.name, [f.rel_path], [source.table])
        load_id = reserve_load_ids(conn, 1)[0]
        if problem:
            conn.execute("INSERT INTO raw.quarantine VALUES (?, ?, ?, NULL, 'unreadable_file', ?, ?)",
                         [load_id, source.name, f.rel_path, problem, _head_text(f.path)])
            counts = {"rows_in": 0, "rows_loaded": 0, "rows_duplicate": 0, "rows_quarantined": 0,
                      "load_id": load_id, "status": "unreadable", "message": problem}
            record_loads(conn, source.name, [f], [counts])
            return counts
        _load_rows(conn, source, f, load_id)
        counts = load_counts(conn, load_id, "SELECT (SELECT count(*) FROM _rows) + (SELECT count(*) FROM _rejects)",
                             loaded_table=source.table)
        counts.update(load_id=load_id, status="loaded")
        record_loads(conn, source.name, [f], [counts])
        conn.execute("DROP TABLE IF EXISTS _rows")
    return counts


def _load_rows(conn, source: TabularSource, f: LandingFile, load_id: int) -> None:
    present = {r[0].strip().lower(): r[0] for r in conn.execute("DESCRIBE _rows").fetchall()}
    text = {c: (f'CAST("{present[c]}" AS VARCHAR)' if c in present else "NULL") for c in source.columns}
    parsed = ", ".join(f"{PARSERS[t].format(c=text[c])} AS {c}" for c, t in source.columns.items())
    raw_cols = ", ".join(f"{text[c]} AS _raw_{c}" for c in source.columns)
    original = " || ',' || ".join(f"coalesce({text[c]}, '')" for c in source.columns)
    # A value that was given but could not be typed, or a required value that is absent.
    problems = []
    for c, t in source.columns.items():
        if t != "VARCHAR":
            problems.append(f"WHEN _raw_{c} IS NOT NULL AND trim(_raw_{c}) <> '' AND {c} IS NULL "
                            f"THEN '{PROBLEM_NAMES[t]}: {c}=' || _raw_{c}")
        if c in NOT_NULL and c in source.required:
            problems.append(f"WHEN {c} IS NULL THEN 'missing_value: {c}'")
    problem_case = f"CASE {' '.join(problems)} END" if problems else "NULL"
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _typed AS
        SELECT *, {problem_case} AS problem
        FROM (SELECT _line_no AS line_no, md5_number(to_json([{", ".join(text.values())}])) AS content_md5,
                     {original} AS original_text, {parsed}, {raw_cols} FROM _rows)
    """)
    find_repeats(conn, "(SELECT line_no, content_md5 FROM _typed WHERE problem IS NULL)", "line_no", source.table)
    cols = ", ".join(source.columns)
    conn.execute(f"INSERT INTO {source.table} SELECT $1, line_no, content_md5, {cols} FROM _typed "
                 "WHERE problem IS NULL AND line_no NOT IN (SELECT line_no FROM _repeats) ORDER BY line_no", [load_id])
    conn.execute("INSERT INTO raw.duplicates SELECT $1, $2, t.line_no, t.content_md5, NULL FROM _typed t JOIN _repeats USING (line_no)",
                 [load_id, source.name])
    conn.execute("""INSERT INTO raw.quarantine SELECT $1, $2, $3, line_no, split_part(problem, ':', 1), problem, original_text
                    FROM _typed WHERE problem IS NOT NULL""", [load_id, source.name, f.rel_path])
    conn.execute("""INSERT INTO raw.quarantine SELECT $1, $2, $3, line_no, 'malformed_row', detail, original_text
                    FROM _rejects""", [load_id, source.name, f.rel_path])
    conn.execute("DROP TABLE IF EXISTS _typed; DROP TABLE IF EXISTS _repeats")


def _head_text(path: Path, limit: int = 65536) -> str:
    with open(path, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")
