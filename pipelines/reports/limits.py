"""Messaging limit: usage against the limit day by day, the forecast of the next tier with its band, and how
well past forecasts did (the back-test)."""
from __future__ import annotations

from datetime import timedelta

import duckdb

from pipelines.reports import charts
from pipelines.reports.tables import query_table

TITLE = "Messaging limit"
QUESTION = "How close are we to the messaging limit, when does the next tier come, and what could block it?"

# How far the forecast chart looks back and, when no upgrade date is forecast, ahead.
HISTORY_DAYS = 90
HORIZON_DAYS = 90

SCOPE_LABEL_SQL = """
CREATE OR REPLACE TEMP TABLE scope_labels AS
SELECT DISTINCT d.scope, d.scope_id,
       CASE d.scope WHEN 'phone_number' THEN 'number ' || coalesce(m.masked_number, d.scope_id)
                    ELSE 'portfolio ' || d.scope_id END AS label
FROM marts.messaging_limit_daily d LEFT JOIN masked_numbers m ON d.scope = 'phone_number' AND m.phone_number_id = d.scope_id
"""


def _usage_chart(rows: list[tuple], div_id: str) -> str:
    """rows: (day, peak 24 h, daily limit, peak 7 d, upgrade threshold) for one scope."""
    day, peak24, limit, peak7, threshold = charts.columns(rows)
    traces = [
        _line(day, peak24, "peak unique customers, 24 h", "24 h reach"),
        _line(day, peak7, "peak unique customers, 7 d", "7 d reach"),
        _line(day, limit, "daily limit", "limit", {"shape": "hv", "dash": "dash"}),
        _line(day, threshold, "upgrade threshold (7 d)", "threshold", {"shape": "hv", "dash": "dot"}),
    ]
    return charts.fragment(traces, {"yaxis": {"title": {"text": "unique customers"}, "type": "log"},
                                    "hovermode": "x unified"}, div_id, height=340)


def _line(x: list, y: list, name: str, label: str, line: dict | None = None, hover: str = "%{y:,}") -> dict:
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name, "line": line or {},
            "hovertemplate": f"%{{x}}: {hover}<extra>{label}</extra>"}


def _forecast_chart(conn: duckdb.DuckDBPyConnection, forecast: tuple, div_id: str) -> str:
    (as_of, scope, scope_id, reach, trend, threshold, expected, low, high) = forecast
    history = conn.execute("""
        SELECT day, upgrade_reach FROM marts.messaging_limit_daily
        WHERE scope = ? AND scope_id = ? AND day > ?::DATE - ? ORDER BY day""",
        [scope, scope_id, as_of, HISTORY_DAYS]).fetchall()
    days, values = charts.columns(history) or ([], [])
    traces = [_line(days, values, "reach the rule compares (30 d delivered on a scaling path, else 7 d)", "reach")]
    end = expected or as_of + timedelta(days=HORIZON_DAYS)
    if threshold is not None:
        traces.append(_line([days[0] if days else as_of, high or end], [threshold, threshold], "upgrade threshold",
                            "threshold", {"dash": "dot"}))
    if low and high:
        # The band: reach reaching the threshold between the low and the high date.
        traces.append({"type": "scatter", "mode": "lines", "x": [as_of, low, high, as_of],
                       "y": [reach, threshold, threshold, reach], "fill": "toself", "name": "80% band",
                       "line": {"width": 0}, "fillcolor": "rgba(46,134,222,0.2)", "hoverinfo": "skip"})
    if trend is not None:
        projected = threshold if expected else max(reach + float(trend) * (end - as_of).days, 0)
        traces.append(_line([as_of, end], [reach, projected], "forecast", "forecast", {"dash": "dash"}, "%{y:,.0f}"))
    return charts.fragment(traces, {"yaxis": {"title": {"text": "unique customers"}}, "hovermode": "x unified"},
                           div_id, height=320)


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    conn.execute(SCOPE_LABEL_SQL)
    scopes = conn.execute("""
        SELECT d.scope, d.scope_id, l.label, max(d.day) AS last_day FROM marts.messaging_limit_daily d
        JOIN scope_labels l USING (scope, scope_id) GROUP BY ALL ORDER BY last_day DESC, l.label""").fetchall()
    usage = []
    for i, (scope, scope_id, label, last_day) in enumerate(scopes):
        rows = conn.execute("""
            SELECT day, peak_unique_customers_24h, daily_limit, peak_unique_customers_7d, upgrade_threshold
            FROM marts.messaging_limit_daily WHERE scope = ? AND scope_id = ? ORDER BY day""", [scope, scope_id]).fetchall()
        usage.append({"title": f"{label} (to {last_day})", "chart": _usage_chart(rows, f"limits-usage-{i}")})
    forecasts = []
    for i, row in enumerate(conn.execute("""
            SELECT f.as_of, f.scope, f.scope_id, f.upgrade_reach, f.trend_per_day, f.upgrade_threshold,
                   f.expected_next_upgrade, f.next_upgrade_low, f.next_upgrade_high, l.label, f.tier, f.next_tier, f.blocked_by,
                   replace(f.step_reached_by, '_', ' ')
            FROM marts.tier_forecast f JOIN scope_labels l USING (scope, scope_id) ORDER BY l.label""").fetchall()):
        label, tier, next_tier, blocked_by = row[9:13]
        expected = row[6]
        note = (f"{tier} now; {next_tier} expected {expected} (between {row[7]} and {row[8] or 'never'}) by {row[13]}" if expected
                else f"{tier} now; no upgrade forecast within a year" + (f": {', '.join(blocked_by)}" if blocked_by else ""))
        forecasts.append({"title": label, "note": note, "chart": _forecast_chart(conn, row[:9], f"limits-forecast-{i}")})
    kpis = [(f"Tier now, {r[0]}", r[1]) for r in conn.execute("""
        SELECT l.label, f.tier FROM marts.tier_forecast f JOIN scope_labels l USING (scope, scope_id) ORDER BY l.label""").fetchall()]
    peak = conn.execute("""SELECT max(utilisation) FROM marts.messaging_limit_daily
                           WHERE day > (SELECT max(day) FROM marts.messaging_limit_daily) - 30""").fetchone()[0]
    kpis.append(("Highest use of the limit, last 30 days", f"{peak:.1%}" if peak is not None else "no limit known"))
    # The back-test's two headline numbers, per rule and kind of step (scaling path or automatic).
    for rule, step, judged, mae, share in conn.execute("""
            SELECT DISTINCT rule, step_reached_by, upgrades_judged_for_rule, mean_abs_error_days_for_rule,
                   share_within_3_days_for_rule
            FROM marts.tier_forecast_backtest WHERE step_reached_by IS NOT NULL ORDER BY ALL""").fetchall():
        kpis.append((f"Back-test {rule}, {step.replace('_', ' ')}",
                     f"{mae:.1f} days mean abs. error; {share:.0%} within 3 days ({judged} upgrades)" if judged
                     else "no upgrade followed a forecast"))
    return {
        "kpis": kpis,
        "usage": usage,
        "forecasts": forecasts,
        "forecast_table": query_table(conn, """
            SELECT l.label, f.tier, f.daily_limit, f.upgrade_reach, f.upgrade_threshold, f.trend_per_day,
                   f.next_tier, f.expected_next_upgrade, f.next_upgrade_low, f.next_upgrade_high, f.tier_after_next,
                   f.expected_upgrade_after_next, f.method, f.blocked_by
            FROM marts.tier_forecast f JOIN scope_labels l USING (scope, scope_id) ORDER BY l.label""",
            [("Scope", "text"), ("Tier", "text"), ("Limit", "int"), ("Reach", "int"), ("Threshold", "number"),
             ("Trend / day", "number"), ("Next tier", "text"), ("Expected", "date"), ("Low", "date"), ("High", "date"),
             ("Tier after", "text"), ("Expected after", "date"), ("Method", "text"), ("Blocked by", "list")]),
        "backtest_chart": charts.stacked_bars(conn.execute("""
            SELECT l.label, b.outcome, count(*) FROM marts.tier_forecast_backtest b JOIN scope_labels l USING (scope, scope_id)
            GROUP BY ALL ORDER BY 1""").fetchall(), "limits-backtest", "forecasts", hover="%{y:,} forecasts"),
        "backtest": query_table(conn, """
            SELECT outcome, count(*), avg(abs(error_days)), min(origin), max(origin)
            FROM marts.tier_forecast_backtest GROUP BY ALL ORDER BY 2 DESC""",
            [("Outcome", "text"), ("Forecasts", "int"), ("Mean abs. error (days)", "number"), ("First", "date"),
             ("Last", "date")]),
    }
