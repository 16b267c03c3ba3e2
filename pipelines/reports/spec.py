"""What a page embeds for the browser (reports/static/site.js draws it): facts, the aggregates by day or month and
dimension that SQL computes once, and the KPIs, tables and charts to draw from them for the period and filters
the reader picks.

A fact is {grain, columns, rows}: grain 'day' or 'month' (its `day` column is the day or the month's first day)
or 'none' (a current state, not filtered by period). Facts with `waba_id` / `phone_number_id` columns follow the
WABA and number filters; a NULL there means "all" and is never filtered out. Money is never summed across
currencies: every money measure is shown per `currency`.
"""
from __future__ import annotations

import duckdb


def fact(conn: duckdb.DuckDBPyConnection, sql: str, grain: str = "day", params=None) -> dict:
    """The rows of `sql` (whose time column, when grain is not 'none', is named `day`)."""
    result = conn.execute(sql, params or [])
    columns = [d[0] for d in result.description]
    if grain != "none" and "day" not in columns:
        raise ValueError(f"a {grain} fact needs a `day` column: {sql}")
    return {"grain": grain, "columns": columns, "rows": result.fetchall()}


def measure(num: str | list, den: str | None = None, agg: str = "sum") -> dict:
    """sum(num) [/ sum(den)]; agg 'max', 'min', 'list' (union of lists), 'first', or 'distinct' (count of distinct
    `num` column tuples, among rows where `den` is true when given)."""
    return {"num": num, "den": den, "agg": agg}


def kpi(label: str, fact_name: str, m: dict, fmt: str, split: str | None = None, better: str | None = None,
        where: dict | None = None, none: str = "none") -> dict:
    """One KPI card per value of `split` (currency for money); `better` 'up' or 'down' colours the change."""
    return {"label": label, "fact": fact_name, "measure": m, "format": fmt, "split": split, "better": better,
            "where": where, "none": none}


def static_kpi(label: str, text: str, note: str = "") -> dict:
    """A KPI that is a current state (not of the period)."""
    return {"label": label, "text": text, "note": note}


def dim(label: str, key: str, fmt: str = "text", labels: str | None = None, hidden: bool = False) -> dict:
    """A grouping column: `key` is a fact column or 'month' (the month of `day`); labels 'waba' / 'number'."""
    return {"label": label, "key": key, "format": fmt, "labels": labels, "hidden": hidden}


def value(label: str, m: dict, fmt: str) -> dict:
    return {"label": label, "measure": m, "format": fmt}


def table(fact_name: str, columns: list[dict], sort: tuple[int, str], page: int = 15, having: int | None = None,
          where: dict | None = None) -> dict:
    """Rows grouped by the dim columns; `sort` (column index, 'asc'/'desc') is the first order (recent first for
    time tables); `having`: keep rows whose value in that column is > 0."""
    spec = {"fact": fact_name, "columns": columns, "sort": list(sort), "page": page, "where": where}
    if having is not None:
        spec["having"] = having
    return spec


def time_chart(fact_name: str, measures: list[dict], y_title: str, fmt: str, kind: str = "bar",
               split: str | None = None, where: dict | None = None, log: bool = False, unified: bool = False) -> dict:
    """x: the period in days, weeks or months (by its length); one trace per measure and series value;
    one chart per `split` value (currency for money). Partial buckets are shaded and labelled."""
    return {"kind": "time", "fact": fact_name, "measures": measures, "y_title": y_title, "format": fmt, "type": kind,
            "split": split, "where": where, "log": log, "unified": unified}


def series(name: str, m: dict, column: str | None = None, labels: dict | None = None, line: dict | None = None) -> dict:
    """A chart measure, one trace per value of `column` when given."""
    return {"name": name, **m, "series": column, "series_labels": labels or {}, "line": line}


def bars_chart(fact_name: str, x: str, m: dict, title: str, fmt: str, split: str | None = None,
               x_labels: dict | None = None) -> dict:
    """Horizontal bars: the period's total per value of `x`, largest on top."""
    return {"kind": "bars", "fact": fact_name, "x": x, "measures": [m], "y_title": title, "format": fmt,
            "split": split, "x_labels": x_labels or {}, "where": None}
