"""Templates: each template's quality week by week, the ones at risk and why, and the latest changes."""
from __future__ import annotations

import duckdb

from pipelines.reports import charts
from pipelines.reports.tables import query_table

TITLE = "Templates"
QUESTION = "Which templates are losing quality, and which are at risk of a pause or a disable?"

QUALITY_LEVELS = ["UNKNOWN", "GREEN", "YELLOW", "RED"]
# One colour band per level (z = 0..3 spread over the scale 0..1).
QUALITY_COLOURS = ["#cbd2d9", "#2e7d32", "#f2c94c", "#c0392b"]

# The state at the end of each week: the last day of the week within the template's history.
WEEKLY_SQL = """
SELECT template_name || ' ' || coalesce(template_language, '?') || ' …' || right(waba_id, 4) AS template,
       date_trunc('week', day)::DATE AS week, arg_max(quality_score, day) AS quality, arg_max(status, day) AS status,
       sum(sent) AS sent, sum(failed) AS failed
FROM marts.template_health_daily GROUP BY ALL ORDER BY template, week
"""


def _quality_heatmap(rows: list[tuple]) -> str:
    templates = sorted({r[0] for r in rows}, reverse=True)
    weeks = sorted({r[1] for r in rows})
    index_t, index_w = {t: i for i, t in enumerate(templates)}, {w: i for i, w in enumerate(weeks)}
    z = [[None] * len(weeks) for _ in templates]
    text = [[""] * len(weeks) for _ in templates]
    for template, week, quality, status, sent, failed in rows:
        level = QUALITY_LEVELS.index(quality) if quality in QUALITY_LEVELS else 0
        z[index_t[template]][index_w[week]] = level
        text[index_t[template]][index_w[week]] = f"quality {quality}, status {status}<br>sent {sent:,}, failed {failed:,}"
    n = len(QUALITY_COLOURS)
    scale = [[stop, colour] for i, colour in enumerate(QUALITY_COLOURS) for stop in (i / n, (i + 1) / n)]
    heatmap = {
        "type": "heatmap", "z": z, "x": weeks, "y": templates, "text": text, "zmin": -0.5, "zmax": n - 0.5,
        "colorscale": scale, "ygap": 1,
        "hovertemplate": "%{y} (WABA ending in the last 4 digits)<br>week of %{x}<br>%{text}<extra></extra>",
        "colorbar": {"tickvals": list(range(n)), "ticktext": QUALITY_LEVELS, "orientation": "h", "y": -0.08,
                     "yanchor": "top", "thickness": 12, "len": 0.6},
    }
    # Small labels and a colour bar below the chart leave room for the weeks on a phone as well.
    return charts.fragment([heatmap], {"yaxis": {"tickfont": {"size": 10}, "automargin": True}}, "templates-quality",
                           height=max(360, 110 + 20 * len(templates)), left=10)


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    at_risk, total, paused = conn.execute(
        "SELECT count(*) FILTER (at_risk), count(*), count(*) FILTER (status = 'PAUSED') FROM marts.template_health").fetchone()
    return {
        "kpis": [("Templates", f"{total:,}"), ("At risk", f"{at_risk:,}"), ("Paused now", f"{paused:,}")],
        "quality": _quality_heatmap(conn.execute(WEEKLY_SQL).fetchall()),
        "at_risk": query_table(conn, """
            SELECT template_name, template_language, waba_id, category, status, quality_score, risk_reasons, pauses,
                   last_pause_at, sent_30d, failure_rate_7d, failure_rate_prior_28d, read_rate_30d
            FROM marts.template_health WHERE at_risk ORDER BY len(risk_reasons) DESC, sent_30d DESC""",
            [("Template", "text"), ("Language", "text"), ("WABA", "text"), ("Category", "text"), ("Status", "text"),
             ("Quality", "text"), ("Why", "list"), ("Pauses", "int"), ("Last pause", "date"), ("Sent 30 d", "int"),
             ("Failure 7 d", "share"), ("Failure prior 28 d", "share"), ("Read rate 30 d", "share")]),
        "all_templates": query_table(conn, """
            SELECT template_name, template_language, waba_id, category, status, quality_score, first_seen, pauses,
                   disabled_at, recategorised_at, sent_30d, read_rate_30d, at_risk::VARCHAR
            FROM marts.template_health ORDER BY template_name, template_language, waba_id""",
            [("Template", "text"), ("Language", "text"), ("WABA", "text"), ("Category", "text"), ("Status", "text"),
             ("Quality", "text"), ("First seen", "date"), ("Pauses", "int"), ("Disabled", "date"),
             ("Re-categorised", "date"), ("Sent 30 d", "int"), ("Read rate 30 d", "share"), ("At risk", "text")]),
        "events": query_table(conn, """
            SELECT event_at, template_name, template_language, kind, value_from, value_to, pause_kind, reason, source
            FROM marts.template_events ORDER BY event_at DESC LIMIT 100""",
            [("When", "date"), ("Template", "text"), ("Language", "text"), ("Change", "text"), ("From", "text"),
             ("To", "text"), ("Pause kind", "text"), ("Reason", "text"), ("Source", "text")]),
    }
