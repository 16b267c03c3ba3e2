"""The tables section of docs/warehouse.md, generated from a built warehouse: every schema, table and column with
the text of its COMMENT ON, so the docs say what the warehouse itself says and cannot drift from it.

The section sits between two marker lines in docs/warehouse.md; everything outside them is written by hand and
kept. Tables without a comment yet (staging is being documented table by table) are listed all the same, with
their columns and types, and say so.

    python -m pipelines.docs --warehouse var/warehouse.published.duckdb      (or: waba docs)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from pipelines.errors import UserError
from pipelines.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "warehouse.md"
BEGIN = "<!-- BEGIN GENERATED TABLES: `waba docs` writes this section from the warehouse's COMMENT ON; do not edit -->"
END = "<!-- END GENERATED TABLES -->"

# Schemas in the order a reader meets them; TEMP and system schemas are never documented.
SCHEMA_ORDER = ["raw", "staging", "marts", "intermediate", "reference", "bookkeeping"]
SCHEMA_INTRO = {
    "raw": "as received: one row per loaded line, row or delivery, with where it came from",
    "staging": "typed, deduplicated, in event-time order; SQL in `models/staging/` (dbt models), documented in "
               "`models/staging/_staging.yml`",
    "marts": "the answers; SQL in `models/marts/` (a dbt project), documented in `models/marts/_marts.yml`",
    "intermediate": "the working tables the marts are built from (`models/marts/intermediate/`) and those of a "
                    "webhook batch (`models/staging/intermediate/`); not part of the analysts' API: their columns "
                    "may change with the rules",
    "reference": "the rule CSVs and the bundled rate card the marts are built from, as loaded (dbt seeds from "
                 "`models/reference/`, documented in `models/reference/_reference.yml`)",
    "bookkeeping": "what the incremental builds have done (staged loads, what each model was built from); not for analysis",
}
NO_COMMENT = "(no comment in the warehouse yet)"

TABLES_SQL = """
SELECT schema_name, table_name, comment FROM duckdb_tables()
WHERE database_name = current_database() AND NOT temporary AND NOT internal
ORDER BY schema_name, table_name
"""
COLUMNS_SQL = """
SELECT c.schema_name, c.table_name, c.column_name, c.data_type, c.comment
FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
WHERE c.database_name = current_database() AND NOT t.temporary AND NOT t.internal
ORDER BY c.schema_name, c.table_name, c.column_index
"""


def _cell(text: str | None) -> str:
    """One markdown table cell: no line breaks, no bare pipes."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _schema_key(schema: str) -> tuple:
    return (SCHEMA_ORDER.index(schema) if schema in SCHEMA_ORDER else len(SCHEMA_ORDER), schema)


def tables_section(conn: duckdb.DuckDBPyConnection) -> str:
    """The generated section (without its marker lines) for the warehouse open on `conn`."""
    tables = conn.execute(TABLES_SQL).fetchall()
    columns: dict[tuple[str, str], list[tuple]] = {}
    for schema, table, column, data_type, comment in conn.execute(COLUMNS_SQL).fetchall():
        columns.setdefault((schema, table), []).append((column, data_type, comment))
    lines = ["## Every table and column", "",
             "Generated from the warehouse's own `COMMENT ON` text (`duckdb_tables()`, `duckdb_columns()`) by "
             "`waba docs`; the same text is in the report site's data dictionary.", ""]
    for schema in sorted({t[0] for t in tables}, key=_schema_key):
        in_schema = [t for t in tables if t[0] == schema]
        lines += [f"### Schema `{schema}`", "", f"{len(in_schema)} tables" +
                  (f", {SCHEMA_INTRO[schema]}." if schema in SCHEMA_INTRO else "."), ""]
        lines += [", ".join(f"[`{schema}.{t[1]}`](#{schema}{t[1]})" for t in in_schema), ""]
        for _, table, comment in in_schema:
            lines += [f"#### `{schema}.{table}`", "", _cell(comment) or NO_COMMENT, "",
                      "| column | type | meaning |", "|---|---|---|"]
            lines += [f"| `{name}` | {_cell(data_type)} | {_cell(text)} |" for name, data_type, text in columns[(schema, table)]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_tables_section(warehouse: Path, doc: Path = DOC) -> str:
    """Replace the generated section of `doc` with the tables of `warehouse`; return the new text."""
    if not warehouse.exists():
        raise UserError(f"{warehouse}: no warehouse here; run `waba run` first (or pass --warehouse)")
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        section = tables_section(conn)
    finally:
        conn.close()
    text = doc.read_text() if doc.exists() else f"# The warehouse\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        raise UserError(f"{doc}: the marker lines of the generated section are missing; add\n{BEGIN}\n{END}")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    text = f"{head}{BEGIN}\n{section}{END}{tail}"
    doc.write_text(text)
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pipelines import settings

    parser.add_argument("--warehouse", type=Path, default=None,
                        help=f"warehouse to document (default the published copy of {settings.default_warehouse()}, "
                             "else the warehouse itself)")
    parser.add_argument("--out", type=Path, default=DOC, help="markdown file whose generated section is replaced "
                                                              "(default docs/warehouse.md)")


def run(args: argparse.Namespace) -> int:
    from pipelines import settings
    from pipelines.warehouse import published_path

    warehouse = args.warehouse
    if warehouse is None:
        warehouse = published_path(settings.default_warehouse())
        if not warehouse.exists():
            warehouse = settings.default_warehouse()
    text = write_tables_section(warehouse, args.out)
    print(f"wrote the tables of {warehouse} into {args.out} ({text.count(chr(10) + '#### ')} tables)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.docs", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except UserError as exc:
        print(f"waba docs: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
