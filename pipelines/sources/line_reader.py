"""Turning webhook landing files into numbered text lines (temp table `_lines`).

DuckDB reads well-formed files directly (fast, gzip included). Files DuckDB refuses (invalid
UTF-8, a truncated gzip stream, a .json that is not valid JSON) are read in Python, so every line
that can be salvaged still loads and what cannot is returned as a problem with its reason.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import duckdb

from pipelines.sources.landing import sql_literal_path

# Meta caps a webhook payload at 3 MB; leave room for capture-record escaping.
MAX_LINE_BYTES = 16_000_000


def create_lines_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE _lines (file_no INTEGER, line_no BIGINT, line VARCHAR)")


def read_lines(conn: duckdb.DuckDBPyConnection, path: Path, file_no: int) -> list[tuple[int | None, str, str, str]]:
    """Append the file's lines to `_lines`; return problems as (line_no, reason, detail, original)."""
    name = path.name.lower()
    is_array_file = name.endswith((".json", ".json.gz"))
    try:
        if is_array_file:
            conn.execute(
                f"INSERT INTO _lines SELECT {file_no}, row_number() OVER (), json::VARCHAR FROM "
                f"read_json_objects({sql_literal_path(path)}, format='auto', maximum_object_size={MAX_LINE_BYTES})"
            )
        else:
            conn.execute(
                f"INSERT INTO _lines SELECT {file_no}, row_number() OVER (), line FROM read_csv({sql_literal_path(path)}, "
                "columns={'line': 'VARCHAR'}, delim='\\x01', quote='', escape='', header=false, "
                f"auto_detect=false, max_line_size={MAX_LINE_BYTES}, parallel=false)"
            )
        return []
    except duckdb.Error:  # a failed statement inserted nothing
        return _read_in_python(conn, path, is_array_file, file_no)


def _decompress(path: Path) -> tuple[bytes, str | None]:
    raw = path.read_bytes()
    if not path.name.lower().endswith(".gz"):
        return raw, None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw)
    except zlib.error as exc:
        return b"", f"not a readable gzip file ({exc})"
    if not inflater.eof:
        return data, "gzip stream is truncated; lines after the cut are lost"
    return data, None


def _read_in_python(conn, path: Path, is_array_file: bool, file_no: int) -> list[tuple[int | None, str, str, str]]:
    data, gzip_problem = _decompress(path)
    problems: list[tuple[int | None, str, str, str]] = []
    if is_array_file:
        text = data.decode("utf-8", errors="replace")
        problems.append((1, "invalid_json", "the file is not a valid JSON object or array", text))
    else:
        lines = data.split(b"\n")
        if gzip_problem and lines and lines[-1]:
            # The last, cut-off line is not a delivery: keep it as evidence only.
            problems.append((len(lines), "truncated_file", gzip_problem, lines.pop().decode("utf-8", "replace")))
            gzip_problem = None
        good = []
        for number, line in enumerate(lines, start=1):
            try:
                good.append((file_no, number, line.decode("utf-8").rstrip("\r")))
            except UnicodeDecodeError as exc:
                problems.append((number, "not_utf8", f"byte {exc.start} is not UTF-8", line.decode("utf-8", "replace")))
        if good:
            conn.executemany("INSERT INTO _lines VALUES (?, ?, ?)", good)
    if gzip_problem:
        problems.append((None, "unreadable_file", gzip_problem, ""))
    return problems

