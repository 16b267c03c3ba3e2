"""Turning webhook landing files into numbered deliveries (temp table `_lines`): one per line of a
.jsonl/.ndjson, one per element of a .json array.

DuckDB reads well-formed files directly (fast, gzip included). Every other file is read in Python so
that each delivery that can be salvaged still loads and what cannot is returned as a problem with its
reason: invalid UTF-8, a delivery over the size cap, a .json array with a bad element (split element by
element), a BOM, a gzip stream cut short or made of several members (which DuckDB reads as complete,
or only up to the end of the first member).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from pipelines.sources.gzip_members import GzipScan, read_gzip, scan_gzip
from pipelines.sources.landing import sql_literal_path

# Meta caps a webhook payload at 3 MB; leave room for capture-record escaping. One cap for a line of a
# .jsonl and an element of a .json array alike.
MAX_DELIVERY_BYTES = 16_000_000
BOM = b"\xef\xbb\xbf"
# A JSON string (escapes included), an unterminated one, or a bracket or comma outside strings.
JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|"|[\[\]{},]', re.DOTALL)

Problem = tuple[int | None, str, str, str]  # (line or element number, reason, detail, original text)


def create_lines_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE _lines (file_no INTEGER, line_no BIGINT, line VARCHAR)")


def is_array_file(path: Path) -> bool:
    return path.name.lower().endswith((".json", ".json.gz"))


def read_lines(conn: duckdb.DuckDBPyConnection, path: Path, file_no: int) -> list[Problem]:
    """Append the file's deliveries to `_lines`; return problems."""
    try:
        scan = scan_gzip(path) if path.name.lower().endswith(".gz") else None
        if scan is None or (scan.complete and scan.members <= 1):
            if _read_with_duckdb(conn, path, file_no):
                return []
        return _read_in_python(conn, path, file_no)
    except OSError as exc:
        return [(None, "unreadable_file", f"cannot be read ({exc.strerror or type(exc).__name__})", "")]


def _read_with_duckdb(conn: duckdb.DuckDBPyConnection, path: Path, file_no: int) -> bool:
    """True when DuckDB read the file whole; False when it must be read in Python."""
    if is_array_file(path):
        with open(path, "rb") as handle:
            if handle.read(3) == BOM:
                return False
    try:
        if is_array_file(path):
            conn.execute(
                f"INSERT INTO _lines SELECT {file_no}, row_number() OVER (), json::VARCHAR FROM "
                f"read_json_objects({sql_literal_path(path)}, format='auto', maximum_object_size={MAX_DELIVERY_BYTES})"
            )
        else:
            conn.execute(
                f"INSERT INTO _lines SELECT {file_no}, row_number() OVER (), line FROM read_csv({sql_literal_path(path)}, "
                "columns={'line': 'VARCHAR'}, delim='\\x01', quote='', escape='', header=false, "
                f"auto_detect=false, max_line_size={MAX_DELIVERY_BYTES}, parallel=false)"
            )
    except duckdb.Error:  # a failed statement inserted nothing
        return False
    if conn.execute(f"SELECT max(strlen(line)) > {MAX_DELIVERY_BYTES} FROM _lines WHERE file_no = {file_no}").fetchone()[0]:
        conn.execute(f"DELETE FROM _lines WHERE file_no = {file_no}")
        return False
    return True


def _read_in_python(conn: duckdb.DuckDBPyConnection, path: Path, file_no: int) -> list[Problem]:
    if path.name.lower().endswith(".gz"):
        data, scan = read_gzip(path)
    else:
        data, scan = path.read_bytes(), GzipScan(0, 0, None)
    if scan.reason == "unreadable_file":
        return [(None, "unreadable_file", scan.problem, "")]
    if data.startswith(BOM):
        data = data[len(BOM):]
    pieces, cut = _split(data, is_array_file(path), cut_short=not scan.complete)
    problems: list[Problem] = []
    good = []
    for number, piece in pieces:
        if len(piece) > MAX_DELIVERY_BYTES:
            problems.append((number, "too_large", f"{len(piece):,} bytes, over the {MAX_DELIVERY_BYTES:,}-byte cap per "
                                                  "delivery", piece[:65536].decode("utf-8", "replace")))
            continue
        try:
            good.append((file_no, number, piece.decode("utf-8").rstrip("\r")))
        except UnicodeDecodeError as exc:
            problems.append((number, "not_utf8", f"byte {exc.start} is not UTF-8", piece.decode("utf-8", "replace")))
    if good:
        conn.executemany("INSERT INTO _lines VALUES (?, ?, ?)", good)
    if not scan.complete:
        # One row says what was lost; it carries the cut-off last line when there is one (not a delivery).
        number, text = cut if cut else (None, "")
        problems.append((number, scan.reason, scan.problem, text))
    return problems


def _split(data: bytes, array_file: bool, cut_short: bool) -> tuple[list[tuple[int, bytes]], tuple[int, str] | None]:
    """Numbered deliveries, and the cut-off last one of a stream cut short (number, text) if any."""
    if array_file and data.lstrip().startswith(b"["):
        pieces = list(enumerate(_array_elements(data), start=1))
        return pieces, None
    if array_file:
        stripped = data.strip()
        try:
            json.loads(stripped)
            return ([(1, stripped)] if stripped else []), None
        except (ValueError, UnicodeDecodeError):
            pass  # not one document: newline-delimited, as DuckDB's `auto` format also accepts
    lines = data.split(b"\n")
    cut = None
    if cut_short and lines and lines[-1]:
        cut = (len(lines), lines.pop().decode("utf-8", "replace"))
    return [(n, line) for n, line in enumerate(lines, start=1) if not array_file or line.strip()], cut


def _array_elements(data: bytes) -> list[bytes]:
    """The top-level elements of a JSON array, split at its commas, without parsing them: a bad element
    stays one element (judged later), and the good ones around it are kept."""
    elements, depth, start, closed = [], 0, None, False
    for token in JSON_TOKENS.finditer(data):
        kind = token.group()
        if kind == b'"':
            break  # an unterminated string: the rest is one (bad) element
        if kind in (b"[", b"{"):
            depth += 1
            if depth == 1:
                start = token.end()
        elif kind in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                elements.append(data[start:token.start()])
                closed = True
                break
        elif kind == b"," and depth == 1:
            elements.append(data[start:token.start()])
            start = token.end()
    if not closed and start is not None:
        elements.append(data[start:])  # an array cut short: what is left is one (bad) element
    return [e.strip() for e in elements if e.strip()]
