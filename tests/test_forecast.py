"""The tier forecast on hand-made daily series: the crossing date, its interval, blockers, and the back-test."""
from datetime import date, timedelta

import polars as pl

from pipelines.forecast import backtest, current_forecast

START = date(2026, 1, 1)


def series(reach, limits, *, quality_ok=True, scope_id="BP1", reach_30d=None, verification=None) -> pl.DataFrame:
    """A portfolio's daily rows as marts.messaging_limit_daily gives them. The ladder and rule values are Meta's
    (Messaging Limits, May 21, 2026): 250 -> 2,000 by a scaling path (2,000 unique customers delivered to in 30
    days), then automatic at half the limit in 7 days within 6 h; the review time is our assumption (24 h)."""
    days = len(reach)
    reach_30d = reach_30d or [0] * days
    changes = [None] + ["upgrade" if b > a else None for a, b in zip(limits, limits[1:])]
    ladder = {250: ("TIER_250", "TIER_2K", 2000, "TIER_10K"), 2000: ("TIER_2K", "TIER_10K", 10000, "TIER_100K"),
              10000: ("TIER_10K", "TIER_100K", 100000, "TIER_UNLIMITED")}
    by = ["scaling_path" if x == 250 else "automatic" for x in limits]
    upgrade_reach = [r30 if b == "scaling_path" else r7 for r7, r30, b in zip(reach, reach_30d, by)]
    threshold = [2000.0 if b == "scaling_path" else 0.5 * x for x, b in zip(limits, by)]
    return pl.DataFrame({
        "scope": ["business_portfolio"] * days, "scope_id": [scope_id] * days,
        "day": [START + timedelta(days=i) for i in range(days)], "rule": ["per_portfolio_2025_10"] * days,
        "tier": [ladder[x][0] for x in limits], "daily_limit": limits, "next_tier": [ladder[x][1] for x in limits],
        "next_daily_limit": [ladder[x][2] for x in limits], "tier_after_next": [ladder[x][3] for x in limits],
        "limit_change": changes, "next_reached_by": by, "reach": [float(r) for r in upgrade_reach],
        "upgrade_threshold": threshold, "reach_7d": [float(r) for r in reach], "reach_30d": [float(r) for r in reach_30d],
        "business_verification_status": [verification] * days, "quality_ok": [quality_ok] * days,
        "flagged": [False] * days, "restricted": [False] * days,
        "upgrade_condition_met": [(r >= t or (b == "scaling_path" and verification == "verified")) and quality_ok
                                  for r, t, b in zip(upgrade_reach, threshold, by)],
        "upgrade_share": [0.5] * days, "upgrade_delay_hours": [6] * days, "review_delay_hours": [24] * days,
        "upgrade_window_days": [7] * days, "scaling_window_days": [30] * days,
    }, schema_overrides={"business_verification_status": pl.String})


def test_a_straight_line_gives_exact_dates_for_the_next_two_tiers():
    # reach = 100 + 20 x over 28 days: 640 on the last day (2026-01-28). Half of 2,000 = 1,000 is 18 days on
    # (360 / 20), plus the 6-hour delay rounded up to a day: 2026-02-16. Half of 10,000 = 5,000 is 218 days on, plus
    # the delay: 2026-09-04.
    row = current_forecast(series([100 + 20 * i for i in range(28)], [2000] * 28)).row(0, named=True)
    assert row["as_of"] == date(2026, 1, 28) and row["peak_unique_customers_7d"] == 640 and row["trend_per_day"] == 20
    assert (row["expected_next_upgrade"], row["next_upgrade_low"], row["next_upgrade_high"]) == (date(2026, 2, 16),) * 3
    assert row["expected_upgrade_after_next"] == date(2026, 9, 4)
    assert row["method"] == "ols_linear_28d" and row["blocked_by"] == []


def test_noise_widens_the_interval_and_blockers_are_named():
    reach = [100 + 20 * i + (60 if i % 2 else -60) for i in range(28)]
    row = current_forecast(series(reach, [2000] * 28, quality_ok=False)).row(0, named=True)
    assert row["next_upgrade_low"] < row["expected_next_upgrade"] < row["next_upgrade_high"]
    assert row["blocked_by"] == ["quality_low"]
    flat = current_forecast(series([300] * 28, [2000] * 28)).row(0, named=True)
    assert flat["expected_next_upgrade"] is None and flat["blocked_by"] == ["reach_not_growing_enough"]


def test_the_backtest_compares_past_forecasts_with_the_upgrade_that_followed():
    # Reach grows 20 a day from 100; it reaches 1,000 on day 45 (2026-02-15) and the limit rises the next day.
    reach = [100 + 20 * i for i in range(70)]
    limits = [2000] * 46 + [10000] * 24
    rows = backtest(series(reach, limits)).filter(pl.col("actual_upgrade").is_not_null())
    # Forecasts every 7 days from day 6 (01-07, the 7th day: the least history a forecast is made from) to day 41
    # (02-11) all see the exact line and predict 02-16.
    origins = [date(2026, 1, 7) + timedelta(days=7 * k) for k in range(6)]
    assert rows["origin"].to_list() == origins
    assert rows["predicted_upgrade"].to_list() == [date(2026, 2, 16)] * 6
    assert rows["actual_upgrade"].to_list() == [date(2026, 2, 16)] * 6
    assert rows["error_days"].to_list() == [0] * 6 and rows["outcome"].to_list() == ["within_range"] * 6
    # So the automatic rule's two numbers are 0 days and all six within 3 days.
    summary = rows.select("upgrades_judged_for_rule", "mean_abs_error_days_for_rule", "share_within_3_days_for_rule").unique()
    assert summary.rows() == [(6, 0.0, 1.0)]
