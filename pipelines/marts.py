"""The marts built in Python (the forecasts, the data-quality results, the re-pricing scenarios): their
documentation and the COMMENT ON it becomes.

The SQL marts are dbt models (models/marts/, documented in models/marts/_marts.yml, built by dbt with
persist_docs). A mart built in Python keeps its documentation as the header of models/marts/<name>.sql
(`-- column <name>: <text>` lines), which dbt ignores (.dbtignore); the table is refused if a column is
undocumented.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.warehouse import MODELS_DIR

MARTS_DIR = MODELS_DIR / "marts"
_COLUMN = re.compile(r"^column (\w+): (.*)$")


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: dict[str, str]


def _header(path: Path) -> list[str]:
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].strip())
    return header


def load_mart(name: str) -> Mart:
    """A Python-built mart's documentation, from its header."""
    description, columns = parse_header(_header(MARTS_DIR / f"{name}.sql"))
    return Mart(name, re.sub(r"^marts\.\w+: ", "", description), columns)


def parse_header(header: list[str], skip: re.Pattern | None = None) -> tuple[str, dict[str, str]]:
    """A model header's description and its `column <name>: <text>` lines (a text may continue on
    the next lines); lines matching `skip` (builder directives) belong to neither."""
    columns: dict[str, str] = {}
    description: list[str] = []
    for line in header:
        if skip is not None and skip.match(line):
            continue
        match = _COLUMN.match(line)
        if match:
            columns[match.group(1)] = match.group(2).strip()
        elif columns and line and not line.startswith("column"):
            last = next(reversed(columns))  # a column's text continues on the next header line
            columns[last] += " " + line
        elif line:
            description.append(line)
    return " ".join(description), columns


def document(conn: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    """COMMENT ON the table and each column from the model's header; every column must be documented."""
    comment_on(conn, "marts", mart.name, mart.description, mart.columns, f"models/marts/{mart.name}.sql")


def comment_on(conn: duckdb.DuckDBPyConnection, schema: str, name: str, description: str,
               columns: dict[str, str], source: str, strict: bool = True) -> list[str]:
    """COMMENT ON a table and its columns; return the columns the header does not document.

    Strict, a header out of step with the table is an error; otherwise undocumented columns are
    returned (and left without a comment) and documented-but-absent ones ignored.
    """
    actual = [r[0] for r in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name]).fetchall()]
    undocumented = [c for c in actual if c not in columns]
    stale = [c for c in columns if c not in actual]
    if strict and (undocumented or stale):
        raise ValueError(f"{source}: header out of step with the table "
                         f"(undocumented: {undocumented}, documented but absent: {stale})")
    conn.execute(f"COMMENT ON TABLE {schema}.{name} IS {_quote(description)}")
    for column in actual:
        if column in columns:
            conn.execute(f'COMMENT ON COLUMN {schema}.{name}."{column}" IS {_quote(columns[column])}')
    return undocumented


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_descriptions(names: list[str]) -> dict[str, str]:
    return {name: load_mart(name).description for name in names}
