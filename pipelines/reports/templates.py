"""Templates: sends and failures of the period per template, each template's state week by week, the ones at risk
and why, and the changes of the period (most recent first)."""
from __future__ import annotations

import duckdb

from pipelines.reports import charts, spec
from pipelines.reports.context import human

TITLE = "Templates"
QUESTION = "Which templates are losing quality, and which are at risk of a pause or a disable?"
EMPTY = ("No templates yet: `waba run --landing DIR` loads template exports (landing/business_manager/) and "
         "template webhooks; `waba fetch` saves them from the Graph API.")

# What a week's cell shows: the status when it says more than the quality score (a disabled template is not
# "red" for the rest of its life; a rejected one was never rated), else the quality score.
STATES = ["Not rated yet", "Green", "Yellow", "Red", "Paused", "Rejected", "Disabled"]
STATE_COLOURS = ["#cbd2d9", "#2e7d32", "#f2c94c", "#c0392b", "#e67e22", "#8e44ad", "#52606d"]
STATE_SQL = """CASE WHEN status IN ('DISABLED', 'DELETED') THEN 'Disabled' WHEN status = 'REJECTED' THEN 'Rejected'
                    WHEN status = 'PAUSED' THEN 'Paused' WHEN quality_score = 'GREEN' THEN 'Green'
                    WHEN quality_score = 'YELLOW' THEN 'Yellow' WHEN quality_score = 'RED' THEN 'Red'
                    ELSE 'Not rated yet' END"""
QUALITY_SQL = """CASE WHEN quality_score IN ('GREEN', 'YELLOW', 'RED') THEN """ + human("quality_score") + """
                      WHEN status = 'REJECTED' THEN 'Never rated (rejected)' ELSE 'Not rated yet' END"""

# The state at the end of each week: the last day of the week within the template's history.
WEEKLY_SQL = f"""
SELECT template_name || ' ' || coalesce(template_language, '?') || ' …' || right(waba_id, 4) AS template,
       date_trunc('week', day)::DATE AS week, arg_max({STATE_SQL}, day) AS state, arg_max(status, day) AS status,
       sum(sent) AS sent, sum(failed) AS failed
FROM marts.template_health_daily GROUP BY ALL ORDER BY template, week
"""
KINDS = "CASE kind WHEN 'category_notice' THEN 'Category notice' ELSE " + human("kind") + " END"
EVENTS_SQL = f"""
SELECT event_at::DATE AS day, strftime(event_at, '%Y-%m-%d %H:%M') AS at, waba_id, template_name, template_language,
       {KINDS} AS change, value_from, value_to, pause_kind, nullif(reason, 'NONE') AS reason, source,
       (kind = 'status' AND value_to = 'PAUSED')::INT AS pauses, (kind = 'status' AND value_to = 'DISABLED')::INT AS disables
FROM marts.template_events ORDER BY ALL
"""
SENDS_SQL = f"""
SELECT day, waba_id, template_name, template_language, {human('category')} AS category,
       sum(sent) AS sent, sum(delivered) AS delivered, sum(read) AS read, sum(failed) AS failed
FROM marts.template_health_daily WHERE sent > 0 OR failed > 0 GROUP BY ALL ORDER BY ALL
"""
HEALTH_SQL = f"""
SELECT template_name, template_language, waba_id, {human('category')} AS category, {human('status')} AS status,
       {QUALITY_SQL} AS quality, list_transform(risk_reasons, r -> replace(r, '_', ' ')) AS risk_reasons, pauses, strftime(last_pause_at, '%Y-%m-%d') AS last_pause,
       strftime(disabled_at, '%Y-%m-%d') AS disabled, sent_30d, failure_rate_7d, failure_rate_prior_28d, read_rate_30d,
       at_risk, CASE WHEN at_risk THEN 'yes' ELSE '' END AS at_risk_text
FROM marts.template_health ORDER BY ALL
"""


def _quality_heatmap(rows: list[tuple]) -> str:
    templates = sorted({r[0] for r in rows}, reverse=True)
    weeks = sorted({r[1] for r in rows})
    index_t, index_w = {t: i for i, t in enumerate(templates)}, {w: i for i, w in enumerate(weeks)}
    z = [[None] * len(weeks) for _ in templates]
    text = [[""] * len(weeks) for _ in templates]
    for template, week, state, status, sent, failed in rows:
        # a template known only from the send log has no Meta status: say so, do not fail the page
        z[index_t[template]][index_w[week]] = STATES.index(state)
        text[index_t[template]][index_w[week]] = f"{state} (status {(status or 'not known').lower()})<br>sent {sent:,}, failed {failed:,}"
    n = len(STATE_COLOURS)
    scale = [[stop, colour] for i, colour in enumerate(STATE_COLOURS) for stop in (i / n, (i + 1) / n)]
    heatmap = {
        "type": "heatmap", "z": z, "x": weeks, "y": templates, "text": text, "zmin": -0.5, "zmax": n - 0.5,
        "colorscale": scale, "ygap": 1,
        "hovertemplate": "%{y} (WABA ending in the last 4 digits)<br>week of %{x}<br>%{text}<extra></extra>",
        "colorbar": {"tickvals": list(range(n)), "ticktext": STATES, "orientation": "h", "y": -0.08,
                     "yanchor": "top", "thickness": 12, "len": 0.9},
    }
    # Small labels and a colour bar below the chart leave room for the weeks on a phone as well.
    return charts.fragment([heatmap], {"yaxis": {"tickfont": {"size": 10}, "automargin": True}}, "templates-quality",
                           height=max(360, 110 + 20 * len(templates)), left=10)


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    at_risk, total, paused = conn.execute(
        "SELECT count(*) FILTER (at_risk), count(*), count(*) FILTER (status = 'PAUSED') FROM marts.template_health").fetchone()
    weekly = conn.execute(WEEKLY_SQL).fetchall()
    sent = spec.measure("sent")
    template = [spec.dim("Template", "template_name"), spec.dim("Language", "template_language"),
                spec.dim("WABA", "waba_id", labels="waba")]
    data = {
        "facts": {"sends": spec.fact(conn, SENDS_SQL), "events": spec.fact(conn, EVENTS_SQL),
                  "health": spec.fact(conn, HEALTH_SQL, "none")},
        "empty": {"sends": EMPTY, "events": EMPTY, "health": EMPTY},
        "kpis": {"main": [
            spec.kpi("Templates sent", "sends", spec.measure(["waba_id", "template_name", "template_language"], "sent",
                                                             agg="distinct"), "int"),
            spec.kpi("Template messages sent", "sends", sent, "int"),
            spec.kpi("Failure rate", "sends", spec.measure("failed", "sent"), "share", better="down", none="nothing sent"),
            spec.kpi("Read rate", "sends", spec.measure("read", "delivered"), "share", better="up", none="nothing delivered"),
            spec.kpi("Pauses", "events", spec.measure("pauses"), "int", better="down", none="0"),
            spec.static_kpi("At risk now", f"{at_risk:,} of {total:,}", "current state"),
            spec.static_kpi("Paused now", f"{paused:,}", "current state"),
        ]},
        "tables": {
            "sends": spec.table("sends", template + [
                spec.dim("Category", "category"), spec.value("Sent", sent, "int"),
                spec.value("Failed", spec.measure("failed"), "int"),
                spec.value("Failure rate", spec.measure("failed", "sent"), "share"),
                spec.value("Read rate", spec.measure("read", "delivered"), "share")], sort=(4, "desc")),
            "at_risk": spec.table("health", template + [
                spec.dim("Category", "category"), spec.dim("Status", "status"), spec.dim("Quality", "quality"),
                spec.dim("Why", "risk_reasons", "list"), spec.dim("Last pause", "last_pause"),
                spec.value("Sent 30 d", spec.measure("sent_30d"), "int"),
                spec.value("Failure 7 d", spec.measure("failure_rate_7d", agg="max"), "share"),
                spec.value("Failure prior 28 d", spec.measure("failure_rate_prior_28d", agg="max"), "share")],
                sort=(8, "desc"), where={"at_risk": True}),
            "events": spec.table("events", [
                spec.dim("When (UTC)", "at"), spec.dim("Template", "template_name"), spec.dim("Language", "template_language"),
                spec.dim("Change", "change"), spec.dim("From", "value_from"), spec.dim("To", "value_to"),
                spec.dim("Pause kind", "pause_kind"), spec.dim("Reason", "reason"), spec.dim("Source", "source")],
                sort=(0, "desc")),
            "all_templates": spec.table("health", template + [
                spec.dim("Category", "category"), spec.dim("Status", "status"), spec.dim("Quality", "quality"),
                spec.dim("Disabled", "disabled"), spec.value("Pauses", spec.measure("pauses"), "int"),
                spec.value("Sent 30 d", spec.measure("sent_30d"), "int"),
                spec.value("Read rate 30 d", spec.measure("read_rate_30d", agg="max"), "share"),
                spec.dim("At risk", "at_risk_text")], sort=(0, "asc"), page=20),
        },
    }
    return {"quality": _quality_heatmap(weekly) if weekly else "", "data": data}
