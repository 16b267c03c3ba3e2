"""Tables for the pages: each cell formatted for reading, with a raw value to sort by (see reports/static/site.js)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb

# How a column is shown: kind -> (formatter, numeric). Numeric columns are right-aligned and sorted by value;
# dates never wrap.
FORMATS = {
    "text": (str, False),
    "int": (lambda v: f"{int(v):,}", True),
    "money": (lambda v: f"{v:,.2f}", True),
    "money4": (lambda v: f"{v:,.4f}", True),
    "number": (lambda v: f"{v:,.2f}", True),
    "share": (lambda v: f"{v:.1%}", True),
    "date": (lambda v: v.isoformat() if isinstance(v, date) and not isinstance(v, datetime) else f"{v:%Y-%m-%d %H:%M}", False),
    "list": (lambda v: ", ".join(str(x) for x in v), False),
}


def _sort_key(value) -> str | None:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return repr(float(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return None


def table(columns: list[tuple[str, str]], rows: list[tuple], row_class=None) -> dict:
    """`columns` are (label, kind); `row_class(row)` may name a CSS class for a row (e.g. 'failed')."""
    kinds = [FORMATS[kind] for _, kind in columns]
    body = []
    for row in rows:
        cells = [{"text": "" if v is None else fmt(v), "sort": _sort_key(v) if v is not None else ("" if numeric else None),
                  "css": "num" if numeric else ("nowrap" if kind == "date" else None)}
                 for v, (fmt, numeric), (_, kind) in zip(row, kinds, columns)]
        body.append({"cells": cells, "css": row_class(row) if row_class else None})
    return {"columns": [{"label": label, "numeric": FORMATS[kind][1]} for label, kind in columns], "rows": body}


def query_table(conn: duckdb.DuckDBPyConnection, sql: str, columns: list[tuple[str, str]], params=None, row_class=None) -> dict:
    return table(columns, conn.execute(sql, params or []).fetchall(), row_class)
