"""Tier forecast: when each messaging-limit scope should reach its next tier and the one after, and how well
that forecast did at past dates.

Which rule applies comes from the ladders (models/reference/messaging_limit_*.csv, via marts.messaging_limit_daily):
at the starting limit the next step comes only through a scaling path (business verification, or 2,000 unique
customers delivered to outside customer-service windows in a moving 30 days with high-quality templates; 1,000 per
number before 2025-10-07), above it automatically (half the limit in unique customers over 7 days). Method: an
ordinary least-squares line through the last FIT_DAYS days of the reach that rule compares (the 30-day delivered
count on a scaling path, the peak 7-day reach for an automatic step), extrapolated to the day it crosses the
threshold, plus the rule's delay (the assumed review time on a scaling path, the upgrade delay otherwise). A scope
already unlimited gets no forecast. The low and high dates come from an 80% interval on the slope. It is
done in Polars expressions (one group-by over all scopes and forecast dates, no per-row Python): a straight
line is what a few weeks of a noisy weekly-campaign series can support, it needs no extra dependency, and the
back-test says how far to trust it. Exponential or seasonal models were not chosen: with four weeks of data
their extra parameters mostly fit the campaign rhythm.
"""
from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines.marts import document, load_mart

FIT_DAYS = 28          # four weekly campaign cycles: long enough to average the rhythm out, short enough to follow a change
MIN_HISTORY_DAYS = 7   # fewer points than a week cannot separate trend from the campaign day
BACKTEST_EVERY_DAYS = 7
HORIZON_DAYS = 365     # a crossing further out than a year is reported as none
Z_80 = 1.2816          # two-sided 80% normal quantile for the slope interval
METHOD = f"ols_linear_{FIT_DAYS}d"

DAILY_SQL = """
SELECT d.scope, d.scope_id, d.day, d.rule, d.tier, d.daily_limit, d.next_tier, d.next_daily_limit, d.tier_after_next,
       d.limit_change, d.next_reached_by, d.upgrade_reach::DOUBLE AS reach, d.upgrade_threshold,
       d.peak_unique_customers_7d::DOUBLE AS reach_7d, d.peak_unique_delivered_30d::DOUBLE AS reach_30d,
       d.business_verification_status, d.quality_ok, d.flagged, d.restricted, d.upgrade_condition_met,
       r.upgrade_share, r.upgrade_delay_hours, r.review_delay_hours, r.upgrade_window_days, r.scaling_window_days
FROM marts.messaging_limit_daily d
JOIN (SELECT DISTINCT rule, upgrade_share, upgrade_delay_hours, review_delay_hours, upgrade_window_days, scaling_window_days
      FROM marts.messaging_limit_rules) r USING (rule)
ORDER BY d.scope, d.scope_id, d.day
"""


def read_daily(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    # Through Parquet: there is no pyarrow here for DuckDB's frame hand-over.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "daily.parquet"
        conn.execute(f"COPY ({DAILY_SQL}) TO '{path}' (FORMAT parquet)")
        return pl.read_parquet(path)


def _crossing_days(level: pl.Expr, slope: pl.Expr, threshold: pl.Expr) -> pl.Expr:
    """Whole days from the origin until the fitted line reaches the threshold (0 = already there; null = never
    within the horizon)."""
    days = ((threshold - level) / slope).ceil()
    return (pl.when(level >= threshold).then(0.0)
            .when((slope > 0) & (days <= HORIZON_DAYS)).then(days)
            .otherwise(None))


def _fit(history: pl.DataFrame, keys: list[str], y: str, suffix: str) -> pl.DataFrame:
    """Least-squares level (at the origin) and slope of column y, with the slope's standard error."""
    return (history.group_by(keys).agg(
                n=pl.len(),
                mx=pl.col("x").mean(), my=pl.col(y).mean(),
                sxx=((pl.col("x") - pl.col("x").mean()) ** 2).sum(),
                sxy=((pl.col("x") - pl.col("x").mean()) * (pl.col(y) - pl.col(y).mean())).sum(),
                syy=((pl.col(y) - pl.col(y).mean()) ** 2).sum())
            .with_columns(slope=pl.when(pl.col("sxx") > 0).then(pl.col("sxy") / pl.col("sxx")).otherwise(0.0))
            .with_columns(level=pl.col("my") - pl.col("slope") * pl.col("mx"),
                          sse=(pl.col("syy") - pl.col("slope") * pl.col("sxy")).clip(lower_bound=0.0))
            .with_columns(slope_se=pl.when((pl.col("n") > 2) & (pl.col("sxx") > 0))
                          .then((pl.col("sse") / (pl.col("n") - 2) / pl.col("sxx")).sqrt()).otherwise(0.0))
            .select(*keys, "n", *(pl.col(c).alias(f"{c}{suffix}") for c in ("level", "slope", "slope_se"))))


def forecast(daily: pl.DataFrame, origins: pl.DataFrame) -> pl.DataFrame:
    """One forecast per (scope, scope_id, origin) using only the days up to and including the origin.

    The next step is forecast on the reach its rule looks at: the 30-day count of unique customers delivered to
    with high-quality templates on a scaling path, the 7-day reach for an automatic step. The step after next is
    always automatic (ladders go start, scaling path, automatic...), so it uses the 7-day line."""
    keys = ["scope", "scope_id", "origin"]
    history = (origins.join(daily, on=["scope", "scope_id"])
               .filter((pl.col("day") <= pl.col("origin")) & (pl.col("day") > pl.col("origin") - timedelta(days=FIT_DAYS)))
               .with_columns(x=(pl.col("day") - pl.col("origin")).dt.total_days().cast(pl.Float64)))
    fit = _fit(history, keys, "reach_7d", "_7d").join(_fit(history, keys, "reach_30d", "_30d").drop("n"), on=keys)
    state = origins.join(daily, left_on=["scope", "scope_id", "origin"], right_on=["scope", "scope_id", "day"])
    frame = state.join(fit, on=keys)
    scaling = pl.col("next_reached_by") == "scaling_path"
    frame = frame.with_columns(
        level_raw=pl.when(scaling).then(pl.col("level_30d")).otherwise(pl.col("level_7d")),
        slope=pl.when(scaling).then(pl.col("slope_30d")).otherwise(pl.col("slope_7d")),
        slope_se=pl.when(scaling).then(pl.col("slope_se_30d")).otherwise(pl.col("slope_se_7d")))
    delay_1 = (pl.when(scaling).then(pl.col("review_delay_hours")).otherwise(pl.col("upgrade_delay_hours")) / 24).ceil()
    delay_2 = (pl.col("upgrade_delay_hours") / 24).ceil()
    threshold_1 = pl.col("upgrade_threshold")
    threshold_2 = pl.col("upgrade_share") * pl.col("next_daily_limit")
    # Meta looks at the observed reach, so a condition already met today wins over the fitted level.
    level = pl.when(pl.col("upgrade_condition_met")).then(pl.max_horizontal("level_raw", threshold_1)).otherwise(pl.col("level_raw"))
    # After the next step the 7-day line applies; on a scaling path its level is the 7-day one.
    level_2 = pl.when(scaling).then(pl.col("level_7d")).otherwise(level)
    slope_2, slope_se_2 = pl.col("slope_7d"), pl.col("slope_se_7d")
    enough = pl.col("n") >= MIN_HISTORY_DAYS
    limited = pl.col("daily_limit").is_not_null()

    def upgrade_date(days: pl.Expr, delay: pl.Expr) -> pl.Expr:
        return pl.when(enough & limited & days.is_not_null()).then(pl.col("origin") + pl.duration(days=days + delay))

    frame = frame.with_columns(
        d1=_crossing_days(level, pl.col("slope"), threshold_1),
        d1_low=_crossing_days(level, pl.col("slope") + Z_80 * pl.col("slope_se"), threshold_1),
        d1_high=_crossing_days(level, pl.col("slope") - Z_80 * pl.col("slope_se"), threshold_1),
        d2=_crossing_days(level_2, slope_2, threshold_2),
        d2_low=_crossing_days(level_2, slope_2 + Z_80 * slope_se_2, threshold_2),
        d2_high=_crossing_days(level_2, slope_2 - Z_80 * slope_se_2, threshold_2))
    frame = frame.with_columns(
        expected_next_upgrade=upgrade_date(pl.col("d1"), delay_1), next_upgrade_low=upgrade_date(pl.col("d1_low"), delay_1),
        next_upgrade_high=upgrade_date(pl.col("d1_high"), delay_1))

    def after_next(days: pl.Expr, first: str) -> pl.Expr:
        # The step after next needs the first upgrade to have happened, so it is at least a day later.
        later = upgrade_date(days, delay_2)
        return (pl.when(pl.col("next_daily_limit").is_not_null() & pl.col(first).is_not_null() & later.is_not_null())
                .then(pl.max_horizontal(later, pl.col(first) + timedelta(days=1))))

    frame = frame.with_columns(
        expected_upgrade_after_next=after_next(pl.col("d2"), "expected_next_upgrade"),
        upgrade_after_next_low=after_next(pl.col("d2_low"), "next_upgrade_low"),
        upgrade_after_next_high=after_next(pl.col("d2_high"), "next_upgrade_high"))
    verified = pl.col("business_verification_status") == "verified"
    blockers = pl.concat_list(
        pl.when(~limited).then(pl.lit("no_limit_known")),
        pl.when(~pl.col("quality_ok")).then(pl.lit("quality_low")),  # null = no rating known, not a blocker
        pl.when(pl.col("flagged")).then(pl.lit("flagged")),
        pl.when(pl.col("restricted")).then(pl.lit("restriction")),
        pl.when(scaling & ~pl.col("upgrade_condition_met") & (pl.col("reach") < threshold_1)).then(pl.lit("scaling_path_not_met")),
        pl.when(scaling & ~verified.fill_null(False)).then(pl.lit("not_verified")),
        pl.when(~enough).then(pl.lit("insufficient_history")),
        pl.when(~scaling & limited & enough & pl.col("d1").is_null()).then(pl.lit("reach_not_growing_enough")),
    ).list.drop_nulls()
    method = (pl.when(~limited | ~enough).then(pl.lit("none"))
              .when(pl.col("upgrade_condition_met")).then(pl.lit("condition_met_now"))
              .otherwise(pl.lit(METHOD)))
    window = pl.when(scaling).then(pl.col("scaling_window_days")).otherwise(pl.col("upgrade_window_days"))
    return frame.with_columns(blocked_by=blockers, method=method, history_days=pl.col("n").cast(pl.Int32),
                              reach_window_days=window.cast(pl.Int32))


def _has_next_step(daily: pl.DataFrame) -> pl.DataFrame:
    """A scope already unlimited has no next step and gets no forecast line."""
    return daily.filter(pl.col("tier") != "TIER_UNLIMITED")


def current_forecast(daily: pl.DataFrame) -> pl.DataFrame:
    as_of = daily["day"].max()
    origins = (_has_next_step(daily).filter(pl.col("day") == pl.lit(as_of, dtype=pl.Date))
               .select("scope", "scope_id", origin=pl.col("day")))
    return forecast(daily, origins).select(
        as_of=pl.col("origin"), scope="scope", scope_id="scope_id", rule="rule", tier="tier", daily_limit="daily_limit",
        peak_unique_customers_7d=pl.col("reach_7d").cast(pl.Int64),
        peak_unique_delivered_30d=pl.col("reach_30d").cast(pl.Int64), step_reached_by="next_reached_by",
        upgrade_reach=pl.col("reach").cast(pl.Int64), reach_window_days="reach_window_days",
        trend_per_day=pl.col("slope").round(2), upgrade_threshold="upgrade_threshold",
        business_verification_status="business_verification_status", next_tier="next_tier",
        expected_next_upgrade="expected_next_upgrade", next_upgrade_low="next_upgrade_low",
        next_upgrade_high="next_upgrade_high", tier_after_next="tier_after_next",
        expected_upgrade_after_next="expected_upgrade_after_next", upgrade_after_next_low="upgrade_after_next_low",
        upgrade_after_next_high="upgrade_after_next_high", method="method", history_days="history_days",
        blocked_by="blocked_by").sort("scope", "scope_id")


WITHIN_DAYS = 3  # the back-test's headline: share of upgrades forecast within this many days


def backtest(daily: pl.DataFrame) -> pl.DataFrame:
    """Forecasts made every BACKTEST_EVERY_DAYS days of each scope's history, against the upgrades that followed,
    with the mean absolute error in days and the share within WITHIN_DAYS days per rule and kind of step."""
    as_of = daily["day"].max()
    spans = _has_next_step(daily).group_by("scope", "scope_id").agg(first=pl.col("day").min(), last=pl.col("day").max())
    # From the scope's MIN_HISTORY_DAYS-th day: the least history the method forecasts from, so early upgrades
    # (a scaling path done in the first weeks) are judged too.
    origins = (spans.with_columns(origin=pl.date_ranges(pl.col("first") + timedelta(days=MIN_HISTORY_DAYS - 1), pl.col("last"),
                                                         interval=f"{BACKTEST_EVERY_DAYS}d"))
               .explode("origin").drop_nulls("origin").select("scope", "scope_id", "origin"))
    # An unlimited day within a span (a scope that became unlimited and dropped back) makes no forecast either.
    origins = origins.join(_has_next_step(daily).select("scope", "scope_id", origin="day"), on=["scope", "scope_id", "origin"])
    upgrades = daily.filter(pl.col("limit_change") == "upgrade").select("scope", "scope_id", upgrade=pl.col("day"))
    actual = (origins.join(upgrades, on=["scope", "scope_id"]).filter(pl.col("upgrade") > pl.col("origin"))
              .group_by("scope", "scope_id", "origin").agg(actual_upgrade=pl.col("upgrade").min()))
    predicted = forecast(daily, origins).join(actual, on=["scope", "scope_id", "origin"], how="left")
    error = (pl.col("expected_next_upgrade") - pl.col("actual_upgrade")).dt.total_days()
    within = pl.col("actual_upgrade").is_between(pl.col("next_upgrade_low"), pl.col("next_upgrade_high"))
    outcome = (pl.when(pl.col("method") == "none").then(pl.lit("no_forecast"))
               .when(pl.col("actual_upgrade").is_not_null() & pl.col("expected_next_upgrade").is_null()).then(pl.lit("missed"))
               .when(pl.col("actual_upgrade").is_not_null() & within).then(pl.lit("within_range"))
               .when(pl.col("actual_upgrade").is_not_null()).then(pl.lit("outside_range"))
               .when(pl.col("expected_next_upgrade") <= pl.lit(as_of, dtype=pl.Date)).then(pl.lit("false_alarm"))
               .otherwise(pl.lit("correctly_none")))
    rows = predicted.with_columns(error_days=error.cast(pl.Int32), outcome=outcome)
    # Judged: forecasts an upgrade followed. A missed one (no date forecast) counts as not within the days.
    judged = pl.col("actual_upgrade").is_not_null() & (pl.col("method") != "none")
    by_rule = ["rule", "next_reached_by"]
    summary = rows.group_by(by_rule).agg(
        upgrades_judged_for_rule=judged.sum().cast(pl.Int32),
        mean_abs_error_days_for_rule=pl.col("error_days").abs().filter(judged).mean().round(2),
        share_within_3_days_for_rule=(pl.col("error_days").abs().fill_null(WITHIN_DAYS + 1) <= WITHIN_DAYS)
        .filter(judged).mean().round(4))
    return rows.join(summary, on=by_rule, how="left", nulls_equal=True).select(
        origin="origin", scope="scope", scope_id="scope_id", rule="rule", tier_at_origin="tier",
        step_reached_by="next_reached_by", peak_unique_customers_7d=pl.col("reach_7d").cast(pl.Int64),
        peak_unique_delivered_30d=pl.col("reach_30d").cast(pl.Int64), upgrade_reach=pl.col("reach").cast(pl.Int64),
        upgrade_threshold="upgrade_threshold", trend_per_day=pl.col("slope").round(2),
        predicted_upgrade="expected_next_upgrade", predicted_low="next_upgrade_low", predicted_high="next_upgrade_high",
        actual_upgrade="actual_upgrade", error_days="error_days", outcome="outcome", method="method",
        blocked_by="blocked_by", upgrades_judged_for_rule="upgrades_judged_for_rule",
        mean_abs_error_days_for_rule="mean_abs_error_days_for_rule",
        share_within_3_days_for_rule="share_within_3_days_for_rule").sort("scope", "scope_id", "origin")


def write_mart(conn: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Replace marts.<name> with the frame and document it from its header."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.parquet"
        frame.write_parquet(path)
        conn.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM read_parquet(?)", [str(path)])
    document(conn, load_mart(name))


def build_forecasts(conn: duckdb.DuckDBPyConnection) -> None:
    daily = read_daily(conn)
    write_mart(conn, "tier_forecast", current_forecast(daily))
    write_mart(conn, "tier_forecast_backtest", backtest(daily))


