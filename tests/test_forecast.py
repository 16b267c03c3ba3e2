"""The tier forecast on hand-made daily series: the crossing date, its interval, blockers, and the back-test."""
from datetime import date, timedelta

import polars as pl

from pipelines.forecast import backtest, current_forecast

START = date(2026, 1, 1)


def series(reach, limits, *, quality_ok=True, scope_id="BP1") -> pl.DataFrame:
    days = len(reach)
    changes = [None] + ["upgrade" if b > a else None for a, b in zip(limits, limits[1:])]
    ladder = {2000: ("TIER_2K", "TIER_10K", 10000, "TIER_100K"), 10000: ("TIER_10K", "TIER_100K", 100000, "TIER_UNLIMITED")}
    return pl.DataFrame({
        "scope": ["business_portfolio"] * days, "scope_id": [scope_id] * days,
        "day": [START + timedelta(days=i) for i in range(days)], "rule": ["per_portfolio_2025_10"] * days,
        "tier": [ladder[x][0] for x in limits], "daily_limit": limits, "next_tier": [ladder[x][1] for x in limits],
        "next_daily_limit": [ladder[x][2] for x in limits], "tier_after_next": [ladder[x][3] for x in limits],
        "limit_change": changes, "reach": [float(r) for r in reach], "quality_ok": [quality_ok] * days,
        "restricted": [False] * days, "upgrade_condition_met": [r >= 0.5 * x for r, x in zip(reach, limits)],
        "upgrade_share": [0.5] * days, "upgrade_delay_hours": [6] * days,
    })


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
    assert row["blocked_by"] == ["quality"]
    flat = current_forecast(series([300] * 28, [2000] * 28)).row(0, named=True)
    assert flat["expected_next_upgrade"] is None and flat["blocked_by"] == ["reach_not_growing_enough"]


def test_the_backtest_compares_past_forecasts_with_the_upgrade_that_followed():
    # Reach grows 20 a day from 100; it reaches 1,000 on day 45 (2026-02-15) and the limit rises the next day.
    reach = [100 + 20 * i for i in range(70)]
    limits = [2000] * 46 + [10000] * 24
    rows = backtest(series(reach, limits)).filter(pl.col("actual_upgrade").is_not_null())
    # Forecasts on days 27 (01-28), 34 (02-04) and 41 (02-11) all see the exact line and predict 02-16.
    assert rows["origin"].to_list() == [date(2026, 1, 28), date(2026, 2, 4), date(2026, 2, 11)]
    assert rows["predicted_upgrade"].to_list() == [date(2026, 2, 16)] * 3
    assert rows["actual_upgrade"].to_list() == [date(2026, 2, 16)] * 3
    assert rows["error_days"].to_list() == [0, 0, 0] and rows["outcome"].to_list() == ["within_range"] * 3
