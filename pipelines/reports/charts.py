"""Plotly figures as HTML fragments: no plotly.js inside (the site ships it once), a fixed div id so the same data
renders the same bytes, and one look for every chart."""
from __future__ import annotations

import plotly.graph_objects as go

PALETTE = ["#0b6e4f", "#2e86de", "#f39c12", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#27ae60"]


def fragment(fig: go.Figure, div_id: str, height: int = 360, left: int = 55) -> str:
    fig.update_layout(
        template="plotly_white", colorway=PALETTE, height=height, autosize=True,
        margin={"l": left, "r": 15, "t": 30, "b": 40}, font={"size": 12},
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
    )
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def columns(rows: list[tuple]) -> list[list]:
    """Rows from DuckDB as one list per column, for Plotly's x and y."""
    return [list(c) for c in zip(*rows)] if rows else []


def stacked_bars(rows: list[tuple], div_id: str, y_title: str, hover: str = "%{y:,.2f}") -> str:
    """rows: (x, series, y); one bar trace per series, stacked."""
    fig = go.Figure()
    for series in sorted({r[1] for r in rows}, key=str):
        x, y = columns([(r[0], r[2]) for r in rows if r[1] == series])
        fig.add_bar(x=x, y=y, name=str(series), hovertemplate=f"{series}<br>%{{x}}: {hover}<extra></extra>")
    fig.update_layout(barmode="stack", yaxis_title=y_title)
    return fragment(fig, div_id)


def lines(rows: list[tuple], div_id: str, y_title: str, hover: str = "%{y:,.2f}", shape: str = "linear",
          y_format: str | None = None) -> str:
    """rows: (x, series, y); one line per series."""
    fig = go.Figure()
    for series in sorted({r[1] for r in rows}, key=str):
        x, y = columns([(r[0], r[2]) for r in rows if r[1] == series])
        fig.add_scatter(x=x, y=y, name=str(series), mode="lines+markers" if len(x) < 40 else "lines",
                        line={"shape": shape}, hovertemplate=f"{series}<br>%{{x}}: {hover}<extra></extra>")
    fig.update_layout(yaxis_title=y_title, yaxis_tickformat=y_format)
    return fragment(fig, div_id)


def bars(rows: list[tuple], div_id: str, x_title: str, hover: str = "%{x:,.2f}") -> str:
    """rows: (label, value); horizontal bars, largest on top."""
    rows = sorted(rows, key=lambda r: r[1] or 0)
    labels, values = columns(rows) or ([], [])
    fig = go.Figure(go.Bar(x=values, y=[str(v) for v in labels], orientation="h", hovertemplate=f"%{{y}}: {hover}<extra></extra>"))
    fig.update_layout(xaxis_title=x_title)
    return fragment(fig, div_id, height=max(260, 60 + 26 * len(rows)), left=150)
