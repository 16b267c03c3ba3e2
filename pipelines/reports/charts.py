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
        "margin": {"l": left, "r": 15, "t": 40, "b": 40}, "font": {"size": 12},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}, **layout,
    }
    return pio.to_html({"data": traces, "layout": layout}, full_html=False, include_plotlyjs=False, div_id=div_id,
                       validate=False, config={"displaylogo": False, "responsive": True, "displayModeBar": False})


def columns(rows: list[tuple]) -> list[list]:
    """Rows from DuckDB as one list per column, for Plotly's x and y."""
    return [list(c) for c in zip(*rows)] if rows else []
