"""Loading the business's own CSV/Parquet exports into typed raw tables, row by row accounted for.

Each source names its required and optional columns and their types. A file missing a required
column is rejected whole (one quarantine row saying which columns); a row whose value cannot be
typed is quarantined with the column and value; a row identical to one already loaded is a duplicate.
"""
from __future__ import annotations

import csv
import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.sources import meta_rate_cards
from pipelines.sources.landing import (
    LandingFile, LoadTotals, files_to_load, find_files, find_repeats, load_counts, record_loads, reserve_load_ids,
    record_problem_files, retire_previous_versions, sql_literal_path,
)
from pipelines.sources.gzip_members import GzipScan, read_gzip, scan_gzip
from pipelines.sources.naive_timestamps import NaiveRule, naive_mode, naive_timestamp_rule
from pipelines.testing_hooks import halt_point
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
    exclude: tuple[str, ...] = ()  # file-name prefixes in the folder that belong to another source

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


SOURCES = [
    # First: the other exports read their WABA's timezone from it (naive timestamps).
    TabularSource(
        "accounts", "business_manager", prefix="accounts", suffixes=(".csv",),
        required={"waba_id": "VARCHAR"},
        optional={"business_portfolio_id": "VARCHAR", "timezone": "VARCHAR", "currency": "VARCHAR",
                  "business_verification_status": "VARCHAR"},
    ),
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
        "optin_events", "optins",
        required={"customer_id": "VARCHAR", "event": "VARCHAR", "event_at": "TIMESTAMPTZ", "source": "VARCHAR",
                  "scope": "VARCHAR", "evidence_ref": "VARCHAR"},
        optional={"waba_id": "VARCHAR", "wording": "VARCHAR", "business_name": "VARCHAR"},
        exclude=("chat_keywords",),
    ),
    TabularSource(
        # the business's own chat keyword list (landing/optins/chat_keywords*.csv); replaces the bundled one
        "chat_keywords", "optins", prefix="chat_keywords", suffixes=(".csv",),
        required={"language": "VARCHAR", "keyword": "VARCHAR", "match_rule": "VARCHAR", "action": "VARCHAR"},
        optional={},
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
            "phone_number_id", "template_id", "market", "category", "month", "amount", "keyword"}


def ensure_table(conn: duckdb.DuckDBPyConnection, source: TabularSource) -> None:
    cols = ", ".join(f"{c} {STORED_TYPES.get(t, t)}" for c, t in source.columns.items())
    conn.execute(f"CREATE TABLE IF NOT EXISTS {source.table} (load_id BIGINT NOT NULL, line_no BIGINT NOT NULL, "
                 f"content_md5 UHUGEINT NOT NULL, {cols})")
    for c, t in source.optional.items():  # a warehouse from before an optional column was added gains it
        conn.execute(f"ALTER TABLE {source.table} ADD COLUMN IF NOT EXISTS {c} {STORED_TYPES.get(t, t)}")


def _csv_header(path: Path) -> list[str]:
    """The header row. Only its own bytes are decoded: an invalid byte further down is that row's problem."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the header row is not UTF-8 (byte {exc.start})") from None
    return next(csv.reader([text]), [])


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
                           string_agg(DISTINCT error_message, '; ') AS detail,
                           CASE WHEN bool_or(error_type = 'INVALID ENCODING') THEN 'not_utf8' ELSE 'malformed_row' END AS reason
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
                 progress: Callable[[str], None] = lambda _: None, naive_timestamps: str | None = None) -> dict:
    """Load new or changed files of one source; `naive_timestamps` (reject | waba) is the run setting, None its
    environment default."""
    naive_timestamps = naive_timestamps or naive_mode()
    ensure_table(conn, source)
    files = [f for f in find_files(landing, source.folder, source.suffixes, prefix=source.prefix)
             if not Path(f.rel_path).name.lower().startswith(source.exclude)]
    todo, skipped = files_to_load(conn, source.name, files, source.table)
    totals = LoadTotals(source.name, len(files), len(skipped), progress)
    broken = [f for f in todo if f.problem]
    for f, counts in zip(broken, record_problem_files(conn, source.name, broken, [source.table], progress)):
        totals.add(f, counts)
    if naive_timestamps == "waba" and source.name != "accounts" and "waba_id" in source.columns:
        # Naive timestamps are read in their WABA's timezone: accounts.csv first (a no-op when loaded).
        load_tabular(conn, landing, SOURCES_BY_NAME["accounts"], progress, naive_timestamps)
    naive = naive_timestamp_rule(conn, source, naive_timestamps)
    for f in todo:
        if not f.problem:
            totals.add(f, load_tabular_file(conn, source, f, naive))
            halt_point(f"commit:{f.rel_path}")
    return totals.as_dict()


def _read_file(conn, source: TabularSource, f: LandingFile) -> tuple[str | None, GzipScan | None]:
    """Fill temp tables `_rows` (with `_line_no`) and `_rejects`; return why the file is unreadable, if it is,
    and for a .gz how its stream ended (a stream cut short still gives its complete lines)."""
    if f.size == 0:
        return "the file is empty (expected a header row)", None
    is_parquet = f.rel_path.endswith(".parquet")
    if source.name == "rate_cards" and not is_parquet and meta_rate_cards.is_meta_layout(f.path):
        return _read_meta_rate_card(conn, f), None
    scan = None
    try:
        if is_parquet:
            conn.execute("CREATE OR REPLACE TEMP TABLE _rejects (line_no BIGINT, original_text VARCHAR, detail VARCHAR, reason VARCHAR)")
            conn.execute(f"CREATE OR REPLACE TEMP TABLE _rows AS SELECT row_number() OVER () AS _line_no, * "
                         f"FROM read_parquet({sql_literal_path(f.path)})")
        elif f.rel_path.lower().endswith(".gz"):
            scan = _read_csv_gz(conn, f.path)
        else:
            _read_csv(conn, f.path)
    except (duckdb.Error, OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            return f"cannot be read ({exc.strerror})", None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if first.startswith("the file is empty"):
            return first, None
        return f"cannot be read as {'Parquet' if is_parquet else 'CSV'}: {first}", None
    if scan is not None and scan.reason == "unreadable_file":
        return scan.problem, None
    present = {r[0].strip().lower() for r in conn.execute("DESCRIBE _rows").fetchall()}
    missing = [c for c in source.required if c not in present]
    if missing:
        return (f"missing required column(s) {', '.join(missing)}; expected "
                f"{', '.join(source.required)} (optional: {', '.join(source.optional) or 'none'})"), None
    return None, scan


def _read_csv_gz(conn, path: Path) -> GzipScan:
    """A .csv.gz: DuckDB reads one complete member; every other stream is inflated here, member by member,
    and the complete lines read as plain CSV (a line cut off by the end of a truncated stream is not a row)."""
    scan = scan_gzip(path)
    if scan.complete and scan.members <= 1:
        _read_csv(conn, path)
        return scan
    data, scan = read_gzip(path)
    if scan.reason == "unreadable_file":
        return scan
    folder = Path(tempfile.mkdtemp(prefix="waba-gz-"))
    try:
        plain = folder / "inflated.csv"
        plain.write_bytes(data if scan.complete else data[:data.rfind(b"\n") + 1])
        _read_csv(conn, plain)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return scan


def _read_meta_rate_card(conn, f: LandingFile) -> str | None:
    """Meta's own list-rate or volume-tier file, turned into generic rate-card rows (`_rows`, `_rejects`)."""
    try:
        card = meta_rate_cards.parse(f.path)
    except (meta_rate_cards.MetaRateCardError, OSError, UnicodeDecodeError, csv.Error) as exc:
        return f"Meta rate-card file: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    columns = ", ".join(f"{c} VARCHAR" for c in meta_rate_cards.GENERIC_COLUMNS)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _rows (_line_no BIGINT, {columns})")
    conn.execute("CREATE OR REPLACE TEMP TABLE _rejects (line_no BIGINT, original_text VARCHAR, detail VARCHAR, reason VARCHAR)")
    if card.rows:
        conn.executemany("INSERT INTO _rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(line, *values) for line, values in card.rows])
    if card.rejects:
        # the reason is the detail's first word (bad_number, missing_value), as for typed values
        conn.executemany("INSERT INTO _rejects VALUES (?, ?, ?, ?)",
                         [(line, text, detail, detail.split(":", 1)[0]) for line, text, detail in card.rejects])
    return None


def load_tabular_file(conn: duckdb.DuckDBPyConnection, source: TabularSource, f: LandingFile,
                      naive: "NaiveRule | None" = None) -> dict:
    problem, scan = _read_file(conn, source, f)
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
        _load_rows(conn, source, f, load_id, naive or naive_timestamp_rule(conn, source))
        cut = 0
        if scan is not None and not scan.complete:
            # The cut-off last line, if the stream stopped inside one, is the evidence the row carries.
            cut = _quarantine_cut(conn, source, f, load_id, scan)
        counts = load_counts(conn, load_id, f"SELECT (SELECT count(*) FROM _rows) + (SELECT count(*) FROM _rejects) + {cut}",
                             loaded_table=source.table)
        truncated = scan is not None and not scan.complete
        counts.update(load_id=load_id, status="truncated" if truncated else "loaded",
                      message=f"{scan.reason}: {scan.problem}" if truncated else None)
        record_loads(conn, source.name, [f], [counts])
        conn.execute("DROP TABLE IF EXISTS _rows")
    return counts


def _load_rows(conn, source: TabularSource, f: LandingFile, load_id: int, naive: NaiveRule) -> None:
    present = {r[0].strip().lower(): r[0] for r in conn.execute("DESCRIBE _rows").fetchall()}
    text = {c: (f'CAST("{present[c]}" AS VARCHAR)' if c in present else "NULL") for c in source.columns}
    parsed = ", ".join(f"{naive.parse(text[c]) if t == 'TIMESTAMPTZ' else PARSERS[t].format(c=text[c])} AS {c}"
                       for c, t in source.columns.items())
    raw_cols = ", ".join(f"{text[c]} AS _raw_{c}" for c in source.columns)
    original = " || ',' || ".join(f"coalesce({text[c]}, '')" for c in source.columns)
    # A value that was given but could not be typed, or a required value that is absent.
    problems = []
    for c, t in source.columns.items():
        if t == "TIMESTAMPTZ":
            problems.append(naive.problem(c, f"_raw_{c}"))
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
                     {original} AS original_text, {parsed}, {raw_cols}
              FROM _rows{naive.join(PARSERS["VARCHAR"].format(c=text["waba_id"]) if "waba_id" in text else "")})
    """)
    find_repeats(conn, "(SELECT line_no, content_md5 FROM _typed WHERE problem IS NULL)", "line_no", source.table)
    cols = ", ".join(source.columns)
    conn.execute(f"INSERT INTO {source.table} SELECT $1, line_no, content_md5, {cols} FROM _typed "
                 "WHERE problem IS NULL AND line_no NOT IN (SELECT line_no FROM _repeats) ORDER BY line_no", [load_id])
    conn.execute("INSERT INTO raw.duplicates SELECT $1, $2, t.line_no, t.content_md5, NULL FROM _typed t JOIN _repeats USING (line_no)",
                 [load_id, source.name])
    conn.execute("""INSERT INTO raw.quarantine SELECT $1, $2, $3, line_no, split_part(problem, ':', 1), problem, original_text
                    FROM _typed WHERE problem IS NOT NULL""", [load_id, source.name, f.rel_path])
    conn.execute("""INSERT INTO raw.quarantine SELECT $1, $2, $3, line_no, reason, detail, original_text
                    FROM _rejects""", [load_id, source.name, f.rel_path])
    conn.execute("DROP TABLE IF EXISTS _typed; DROP TABLE IF EXISTS _repeats")


def _quarantine_cut(conn, source: TabularSource, f: LandingFile, load_id: int, scan: GzipScan) -> int:
    """One `truncated_gzip` (or `corrupt_gzip`) row; it is a row in (1 returned) when it holds a cut-off line."""
    data, _ = read_gzip(f.path)
    tail = data[data.rfind(b"\n") + 1:]
    line_no = data.count(b"\n") + 1 if tail else None
    conn.execute("INSERT INTO raw.quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [load_id, source.name, f.rel_path, line_no, scan.reason, scan.problem, tail.decode("utf-8", "replace")])
    return 1 if tail else 0


def _head_text(path: Path, limit: int = 65536) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""
