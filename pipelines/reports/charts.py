"""Plotly figures as HTML fragments: no plotly.js inside (the site ships it once), a fixed div id so the same data
renders the same bytes, and one look for every chart.

Figures are plain dicts in Plotly's JSON schema, serialised without graph_objects' validation: building and
validating go.Figure objects cost about 50 ms a chart (mostly copying the template), the dicts about 1 ms.
"""
from __future__ import annotations

import functools

import plotly.io as pio

PALETTE = ["#0b6e4f", "#2e86de", "#f39c12", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#27ae60"]


@functools.cache
def _template() -> dict:
    return pio.templates["plotly_white"].to_plotly_json()


def fragment(traces: list[dict], layout: dict, div_id: str, height: int = 360, left: int = 55) -> str:
    layout = {
        "template": _template(), "colorway": PALETTE, "height": height, "autosize": True,
        "margin": {"l": left, "r": 15, "t": 30, "b": 40}, "font": {"size": 12},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0}, **layout,
    }
    return pio.to_html({"data": traces, "layout": layout}, full_html=False, include_plotlyjs=False, div_id=div_id,
                       validate=False, config={"displaylogo": False, "responsive": True})


def columns(rows: list[tuple]) -> list[list]:
    """Rows from DuckDB as one list per column, for Plotly's x and y."""
    return [list(c) for c in zip(*rows)] if rows else []


def _by_series(rows: list[tuple]) -> list[tuple[str, list, list]]:
    """rows: (x, series, y) -> [(series, xs, ys)] in series order."""
    out = []
    for series in sorted({r[1] for r in rows}, key=str):
        x, y = columns([(r[0], r[2]) for r in rows if r[1] == series])
        out.append((str(series), x, y))
    return out


def stacked_bars(rows: list[tuple], div_id: str, y_title: str, hover: str = "%{y:,.2f}") -> str:
    """rows: (x, series, y); one bar trace per series, stacked."""
    traces = [{"type": "bar", "x": x, "y": y, "name": name, "hovertemplate": f"{name}<br>%{{x}}: {hover}<extra></extra>"}
              for name, x, y in _by_series(rows)]
    return fragment(traces, {"barmode": "stack", "yaxis": {"title": {"text": y_title}}}, div_id)


def lines(rows: list[tuple], div_id: str, y_title: str, hover: str = "%{y:,.2f}", y_format: str | None = None) -> str:
    """rows: (x, series, y); one line per series."""
    traces = [{"type": "scatter", "x": x, "y": y, "name": name, "mode": "lines+markers" if len(x) < 40 else "lines",
               "hovertemplate": f"{name}<br>%{{x}}: {hover}<extra></extra>"} for name, x, y in _by_series(rows)]
    yaxis = {"title": {"text": y_title}} | ({"tickformat": y_format} if y_format else {})
    return fragment(traces, {"yaxis": yaxis}, div_id)


def bars(rows: list[tuple], div_id: str, x_title: str, hover: str = "%{x:,.2f}") -> str:
    """rows: (label, value); horizontal bars, largest on top."""
    rows = sorted(rows, key=lambda r: r[1] or 0)
    labels, values = columns(rows) or ([], [])
    trace = {"type": "bar", "x": values, "y": [str(v) for v in labels], "orientation": "h",
             "hovertemplate": f"%{{y}}: {hover}<extra></extra>"}
    return fragment([trace], {"xaxis": {"title": {"text": x_title}}}, div_id, height=max(260, 60 + 26 * len(rows)), left=150)
