"""Messaging limit: the tier of every scope now in words (10K/day, Unlimited), usage against the limit in the
period, the forecast of the next tier with its band for scopes that can still grow, and how well past forecasts
did (the back-test)."""
from __future__ import annotations

from datetime import timedelta

import duckdb

from pipelines.reports import charts, spec

TITLE = "Messaging limit"
QUESTION = "How close are we to the messaging limit, when does the next tier come, and what could block it?"
EMPTY = ("No messaging-limit history yet: `waba run --landing DIR` loads phone-number exports "
         "(landing/business_manager/) and webhooks; `waba fetch` saves them from the Graph API.")

# How far the forecast chart looks back and, when no upgrade date is forecast, ahead.
HISTORY_DAYS = 90
HORIZON_DAYS = 90


def tier_label(column: str, limit: str | None = None) -> str:
    """SQL for a tier as a reader says it: TIER_10K -> 10K/day, TIER_UNLIMITED -> Unlimited; a number of unique
    customers (`limit`) when the spelling is not a ladder name."""
    by_limit = (f"WHEN {limit} IS NOT NULL THEN CASE WHEN {limit} % 1000 = 0 THEN ({limit} // 1000)::VARCHAR || 'K/day' "
                f"ELSE {limit}::VARCHAR || '/day' END ") if limit else ""
    return (f"CASE WHEN {column} IS NULL THEN NULL WHEN upper({column}) LIKE '%UNLIMITED%' THEN 'Unlimited' "
            f"WHEN regexp_matches(upper({column}), '^TIER_[0-9]+K?$') THEN regexp_replace(upper({column}), '^TIER_', '') || '/day' "
            f"{by_limit}ELSE {column} END")


SCOPE_LABEL_SQL = """
CREATE OR REPLACE TEMP TABLE scope_labels AS
SELECT DISTINCT d.scope, d.scope_id,
       CASE d.scope WHEN 'phone_number' THEN 'Number ' || coalesce(m.masked_number, '…' || right(d.scope_id, 4))
                    ELSE 'Portfolio …' || right(d.scope_id, 4) END AS label
FROM marts.messaging_limit_daily d LEFT JOIN masked_numbers m ON d.scope = 'phone_number' AND m.phone_number_id = d.scope_id
"""
USAGE_SQL = f"""
SELECT d.day, l.label AS scope, d.rule, CASE d.scope WHEN 'phone_number' THEN d.scope_id END AS phone_number_id,
       {tier_label('d.tier', 'd.daily_limit')} AS tier, d.peak_unique_customers_24h AS peak_24h,
       d.peak_unique_customers_7d AS peak_7d, d.peak_unique_delivered_30d AS peak_30d, d.daily_limit, d.upgrade_threshold, d.utilisation,
       coalesce(d.limit_change = 'upgrade', false)::INT AS upgrades
FROM marts.messaging_limit_daily d JOIN scope_labels l USING (scope, scope_id) ORDER BY ALL
"""
FORECAST_SQL = f"""
SELECT l.label AS scope, CASE f.scope WHEN 'phone_number' THEN f.scope_id END AS phone_number_id,
       {tier_label('f.tier', 'f.daily_limit')} AS tier, replace(f.step_reached_by, '_', ' ') AS reached_by,
       f.upgrade_reach AS reach, f.upgrade_threshold,
       f.trend_per_day, {tier_label('f.next_tier')} AS next_tier,
       CASE WHEN f.next_tier IS NULL THEN 'already unlimited'
            ELSE coalesce(f.expected_next_upgrade::VARCHAR, 'none within a year') END AS expected,
       CASE WHEN f.expected_next_upgrade IS NULL THEN ''
            ELSE f.next_upgrade_low::VARCHAR || ' to ' || coalesce(f.next_upgrade_high::VARCHAR, 'possibly never') END AS band,
       list_transform(f.blocked_by, b -> replace(b, '_', ' ')) AS blocked_by
FROM marts.tier_forecast f JOIN scope_labels l USING (scope, scope_id) ORDER BY ALL
"""
BACKTEST_SQL = """
SELECT replace(outcome, '_', ' ') AS outcome, count(*) AS forecasts, avg(abs(error_days)) AS mean_abs_error,
       min(origin)::VARCHAR AS first, max(origin)::VARCHAR AS last
FROM marts.tier_forecast_backtest GROUP BY ALL ORDER BY ALL
"""


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
    # Scopes under the rule in force at the end of the data; earlier rules' scopes stay in the usage table.
    current = conn.execute("""
        SELECT d.scope, d.scope_id, l.label FROM marts.messaging_limit_daily d JOIN scope_labels l USING (scope, scope_id)
        WHERE d.day = (SELECT max(day) FROM marts.messaging_limit_daily) ORDER BY l.label""").fetchall()
    forecasts = []
    rows = conn.execute(f"""
        SELECT f.as_of, f.scope, f.scope_id, f.upgrade_reach, f.trend_per_day, f.upgrade_threshold,
               f.expected_next_upgrade, f.next_upgrade_low, f.next_upgrade_high, l.label,
               {tier_label('f.tier', 'f.daily_limit')}, {tier_label('f.next_tier')}, f.blocked_by,
               replace(f.step_reached_by, '_', ' ')
        FROM marts.tier_forecast f JOIN scope_labels l USING (scope, scope_id) ORDER BY l.label""").fetchall()
    for i, row in enumerate(rows):
        label, tier, next_tier, blocked_by, reached_by = row[9:]
        blocked = ", ".join(b.replace("_", " ") for b in blocked_by or [])
        if next_tier is None:
            forecasts.append({"title": label, "note": f"{tier}: the top of the ladder, no higher tier to forecast.",
                              "chart": ""})
            continue
        expected = row[6]
        note = (f"{tier} now; {next_tier} expected {expected} (between {row[7]} and {row[8] or 'possibly never'}) by {reached_by}"
                if expected else f"{tier} now; {next_tier}: none within a year at the current trend"
                + (f" (blocked by {blocked})" if blocked else ""))
        forecasts.append({"title": label, "note": note, "chart": _forecast_chart(conn, row[:9], f"limits-forecast-{i}")})
    tiers = dict(conn.execute(f"""
        SELECT l.label, {tier_label('d.tier', 'd.daily_limit')} FROM marts.messaging_limit_daily d
        JOIN scope_labels l USING (scope, scope_id) WHERE d.day = (SELECT max(day) FROM marts.messaging_limit_daily)""").fetchall())
    peak = spec.measure("utilisation", agg="max")
    usage_measures = [
        spec.series("peak unique customers, 24 h", spec.measure("peak_24h", agg="max")),
        spec.series("peak unique customers, 7 d", spec.measure("peak_7d", agg="max")),
        spec.series("peak unique delivered, 30 d (high quality)", spec.measure("peak_30d", agg="max")),
        spec.series("daily limit", spec.measure("daily_limit", agg="max"), line={"dash": "dash", "shape": "hv"}),
        spec.series("upgrade threshold", spec.measure("upgrade_threshold", agg="max"), line={"dash": "dot", "shape": "hv"}),
    ]
    # The back-test's two headline numbers, per rule and kind of step (scaling path or automatic); a rule is named
    # by the scope its limits belong to (per number before 2025-10-07, per portfolio from then on).
    backtest_kpis = [
        spec.static_kpi(f"Back-test mean abs. error, {scope.replace('_', ' ')} limits, {step.replace('_', ' ')} steps",
                        f"{mae:.1f} days" if judged else "n/a",
                        f"{share:.0%} within 3 days, {judged} upgrade{'s' * (judged != 1)} judged" if judged
                        else "no upgrade followed a forecast yet")
        for _, scope, step, judged, mae, share in conn.execute("""
            SELECT DISTINCT min(origin) OVER (PARTITION BY rule) AS since, scope, step_reached_by,
                   upgrades_judged_for_rule, mean_abs_error_days_for_rule, share_within_3_days_for_rule
            FROM marts.tier_forecast_backtest WHERE step_reached_by IS NOT NULL ORDER BY since, step_reached_by DESC""").fetchall()]
    data = {
        "facts": {"usage": spec.fact(conn, USAGE_SQL), "forecast": spec.fact(conn, FORECAST_SQL, "none"),
                  "backtest": spec.fact(conn, BACKTEST_SQL, "none")},
        "empty": {"usage": EMPTY, "forecast": EMPTY, "backtest": "No back-test yet: it needs some weeks of history."},
        "kpis": {"main": [spec.static_kpi(f"Tier now, {label}", tiers.get(label) or "unknown", "current state")
                          for _, _, label in current] + [
            spec.kpi("Highest use of a limit", "usage", peak, "share", better="down", none="no limit known"),
            spec.kpi("Upgrades", "usage", spec.measure("upgrades"), "int", better="up", none="0")] + backtest_kpis},
        "charts": {f"usage_{i}": spec.time_chart("usage", usage_measures, "unique customers", "int", kind="line",
                                                 where={"scope": label}, log=True, unified=True)
                   for i, (_, _, label) in enumerate(current)},
        "tables": {
            "forecast": spec.table("forecast", [
                spec.dim("Scope", "scope"), spec.dim("Tier now", "tier"),
                spec.dim("Next step by", "reached_by"),
                spec.value("Reach", spec.measure("reach", agg="max"), "int"),
                spec.value("Threshold", spec.measure("upgrade_threshold", agg="max"), "int"),
                spec.value("Trend / day", spec.measure("trend_per_day", agg="max"), "number"),
                spec.dim("Next tier", "next_tier"), spec.dim("Expected", "expected"), spec.dim("80% range", "band"),
                spec.dim("Blocked by", "blocked_by", "list")], sort=(0, "asc")),
            "usage": spec.table("usage", [
                spec.dim("Scope", "scope"), spec.dim("Rule", "rule"),
                spec.value("Peak 24 h", spec.measure("peak_24h", agg="max"), "int"),
                spec.value("Peak 7 d", spec.measure("peak_7d", agg="max"), "int"),
                spec.value("Highest use", peak, "share"),
                spec.value("Upgrades", spec.measure("upgrades"), "int")], sort=(4, "desc")),
            "backtest": spec.table("backtest", [
                spec.dim("Outcome", "outcome"), spec.value("Forecasts", spec.measure("forecasts"), "int"),
                spec.value("Mean abs. error (days)", spec.measure("mean_abs_error", agg="max"), "number"),
                spec.dim("First", "first"), spec.dim("Last", "last")], sort=(1, "desc")),
        },
    }
    return {"forecasts": forecasts, "usage_titles": [(f"usage_{i}", label) for i, (_, _, label) in enumerate(current)],
            "data": data}
