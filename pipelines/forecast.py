"""Tier forecast: when each messaging-limit scope should reach its next tier and the one after, and how well
that forecast did at past dates.

Method: an ordinary least-squares line through the last FIT_DAYS days of the scope's peak 7-day unique reach
(the quantity Meta's upgrade condition compares with half the limit), extrapolated to the day it crosses the
threshold, plus the rule's upgrade delay. The low and high dates come from an 80% interval on the slope. It is
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
       d.limit_change, d.peak_unique_customers_7d::DOUBLE AS reach, d.quality_ok, d.restricted, d.upgrade_condition_met,
       r.upgrade_share, r.upgrade_delay_hours
FROM marts.messaging_limit_daily d
JOIN (SELECT DISTINCT rule, upgrade_share, upgrade_delay_hours FROM marts.messaging_limit_rules) r USING (rule)
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


def forecast(daily: pl.DataFrame, origins: pl.DataFrame) -> pl.DataFrame:
    """One forecast per (scope, scope_id, origin) using only the days up to and including the origin."""
    keys = ["scope", "scope_id", "origin"]
    history = (origins.join(daily, on=["scope", "scope_id"])
               .filter((pl.col("day") <= pl.col("origin")) & (pl.col("day") > pl.col("origin") - timedelta(days=FIT_DAYS)))
               .with_columns(x=(pl.col("day") - pl.col("origin")).dt.total_days().cast(pl.Float64)))
    fit = (history.group_by(keys).agg(
                n=pl.len(),
                mx=pl.col("x").mean(), my=pl.col("reach").mean(),
                sxx=((pl.col("x") - pl.col("x").mean()) ** 2).sum(),
                sxy=((pl.col("x") - pl.col("x").mean()) * (pl.col("reach") - pl.col("reach").mean())).sum(),
                syy=((pl.col("reach") - pl.col("reach").mean()) ** 2).sum())
           .with_columns(slope=pl.when(pl.col("sxx") > 0).then(pl.col("sxy") / pl.col("sxx")).otherwise(0.0))
           .with_columns(level=pl.col("my") - pl.col("slope") * pl.col("mx"),
                         sse=(pl.col("syy") - pl.col("slope") * pl.col("sxy")).clip(lower_bound=0.0))
           .with_columns(slope_se=pl.when((pl.col("n") > 2) & (pl.col("sxx") > 0))
                         .then((pl.col("sse") / (pl.col("n") - 2) / pl.col("sxx")).sqrt()).otherwise(0.0)))
    state = origins.join(daily, left_on=["scope", "scope_id", "origin"], right_on=["scope", "scope_id", "day"])
    frame = state.join(fit, on=keys)
    delay = (pl.col("upgrade_delay_hours") / 24).ceil()
    threshold_1 = pl.col("upgrade_share") * pl.col("daily_limit")
    threshold_2 = pl.col("upgrade_share") * pl.col("next_daily_limit")
    slope_high = pl.col("slope") + Z_80 * pl.col("slope_se")
    slope_low = pl.col("slope") - Z_80 * pl.col("slope_se")
    # Meta looks at the observed reach, so a condition already met today wins over the fitted level.
    level = pl.when(pl.col("upgrade_condition_met")).then(pl.max_horizontal("level", threshold_1)).otherwise(pl.col("level"))
    enough = pl.col("n") >= MIN_HISTORY_DAYS
    limited = pl.col("daily_limit").is_not_null()

    def upgrade_date(days: pl.Expr) -> pl.Expr:
        return pl.when(enough & limited & days.is_not_null()).then(pl.col("origin") + pl.duration(days=days + delay))

    frame = frame.with_columns(
        d1=_crossing_days(level, pl.col("slope"), threshold_1), d1_low=_crossing_days(level, slope_high, threshold_1),
        d1_high=_crossing_days(level, slope_low, threshold_1),
        d2=_crossing_days(level, pl.col("slope"), threshold_2), d2_low=_crossing_days(level, slope_high, threshold_2),
        d2_high=_crossing_days(level, slope_low, threshold_2))
    frame = frame.with_columns(
        expected_next_upgrade=upgrade_date(pl.col("d1")), next_upgrade_low=upgrade_date(pl.col("d1_low")),
        next_upgrade_high=upgrade_date(pl.col("d1_high")))

    def after_next(days: pl.Expr, first: str) -> pl.Expr:
        # The step after next needs the first upgrade to have happened, so it is at least a day later.
        later = upgrade_date(days)
        return (pl.when(pl.col("next_daily_limit").is_not_null() & pl.col(first).is_not_null() & later.is_not_null())
                .then(pl.max_horizontal(later, pl.col(first) + timedelta(days=1))))

    frame = frame.with_columns(
        expected_upgrade_after_next=after_next(pl.col("d2"), "expected_next_upgrade"),
        upgrade_after_next_low=after_next(pl.col("d2_low"), "next_upgrade_low"),
        upgrade_after_next_high=after_next(pl.col("d2_high"), "next_upgrade_high"))
    blockers = pl.concat_list(
        pl.when(~limited & (pl.col("tier") == "TIER_UNLIMITED")).then(pl.lit("already_unlimited")),
        pl.when(~limited & (pl.col("tier") != "TIER_UNLIMITED")).then(pl.lit("no_limit_known")),
        pl.when(~pl.col("quality_ok")).then(pl.lit("quality")),  # null = no rating known, not a blocker
        pl.when(pl.col("restricted")).then(pl.lit("restriction")),
        pl.when(~enough).then(pl.lit("insufficient_history")),
        pl.when(limited & enough & pl.col("d1").is_null()).then(pl.lit("reach_not_growing_enough")),
    ).list.drop_nulls()
    method = (pl.when(~limited | ~enough).then(pl.lit("none"))
              .when(pl.col("upgrade_condition_met")).then(pl.lit("condition_met_now"))
              .otherwise(pl.lit(METHOD)))
    return frame.with_columns(blocked_by=blockers, method=method, history_days=pl.col("n").cast(pl.Int32))


def current_forecast(daily: pl.DataFrame) -> pl.DataFrame:
    as_of = daily["day"].max()
    origins = daily.filter(pl.col("day") == pl.lit(as_of, dtype=pl.Date)).select("scope", "scope_id", origin=pl.col("day"))
    return forecast(daily, origins).select(
        as_of=pl.col("origin"), scope="scope", scope_id="scope_id", rule="rule", tier="tier", daily_limit="daily_limit",
        peak_unique_customers_7d=pl.col("reach").cast(pl.Int64), trend_per_day=pl.col("slope").round(2),
        upgrade_threshold=pl.col("upgrade_share") * pl.col("daily_limit"), next_tier="next_tier",
        expected_next_upgrade="expected_next_upgrade", next_upgrade_low="next_upgrade_low",
        next_upgrade_high="next_upgrade_high", tier_after_next="tier_after_next",
        expected_upgrade_after_next="expected_upgrade_after_next", upgrade_after_next_low="upgrade_after_next_low",
        upgrade_after_next_high="upgrade_after_next_high", method="method", history_days="history_days",
        blocked_by="blocked_by").sort("scope", "scope_id")


def backtest(daily: pl.DataFrame) -> pl.DataFrame:
    """Forecasts made every BACKTEST_EVERY_DAYS days of each scope's history, against the upgrades that followed."""
    as_of = daily["day"].max()
    spans = daily.group_by("scope", "scope_id").agg(first=pl.col("day").min(), last=pl.col("day").max())
    origins = (spans.with_columns(origin=pl.date_ranges(pl.col("first") + timedelta(days=FIT_DAYS - 1), pl.col("last"),
                                                         interval=f"{BACKTEST_EVERY_DAYS}d"))
               .explode("origin").drop_nulls("origin").select("scope", "scope_id", "origin"))
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
    return predicted.select(
        origin="origin", scope="scope", scope_id="scope_id", tier_at_origin="tier",
        peak_unique_customers_7d=pl.col("reach").cast(pl.Int64), trend_per_day=pl.col("slope").round(2),
        predicted_upgrade="expected_next_upgrade", predicted_low="next_upgrade_low", predicted_high="next_upgrade_high",
        actual_upgrade="actual_upgrade", error_days=error.cast(pl.Int32), outcome=outcome, method="method",
        blocked_by="blocked_by").sort("scope", "scope_id", "origin")


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


