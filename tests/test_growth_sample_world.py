"""The growth marts on the generated sample world: every forecast follows the rule Meta applies to its step.

Meta, "Messaging Limits" (updated May 21, 2026) and "Upcoming changes to messaging limits" (Jun 17, 2026): the
starting 250 is left only by a scaling path (2,000 unique users delivered to in 30 days per portfolio; 1,000 per
number before 2025-10-07), higher steps automatically at half the limit in 7 days; per number before 2025-10-07,
per portfolio from then on."""
import json
from datetime import date

import pytest

from conftest import fetch

pytestmark = pytest.mark.xdist_group("sample_world")
SWITCH = date(2025, 10, 7)


def test_no_forecast_uses_a_rule_meta_does_not_apply(loaded):
    rows = fetch(loaded, """
        SELECT b.origin, b.scope, b.rule, b.tier_at_origin, b.step_reached_by, b.upgrade_threshold, d.daily_limit
        FROM marts.tier_forecast_backtest b
        JOIN (SELECT scope, scope_id, day, daily_limit FROM marts.messaging_limit_daily) d
          ON d.scope = b.scope AND d.scope_id = b.scope_id AND d.day = b.origin""")
    rows += fetch(loaded, "SELECT as_of, scope, rule, tier, step_reached_by, upgrade_threshold, daily_limit FROM marts.tier_forecast")
    assert rows
    starting = 0
    for day, scope, rule, tier, reached_by, threshold, limit in rows:
        assert tier != "TIER_UNLIMITED"   # an unlimited scope gets no forecast line
        assert (scope, rule) == (("phone_number", "per_number") if day < SWITCH else ("business_portfolio", "per_portfolio_2025_10"))
        if limit is not None and limit <= 250:
            starting += 1
            assert reached_by == "scaling_path" and threshold == (1000 if day < SWITCH else 2000)
        elif limit is not None:
            assert reached_by == "automatic" and threshold == limit / 2
    # The sample world has numbers and a portfolio at 250 (a new number; a Flagged number lowered to 250).
    assert starting > 0


def test_every_upgrade_is_one_the_generator_decided(world, loaded):
    decided = json.loads((world / "ground_truth_limits.json").read_text())["upgrades"]
    expected = sorted((d["scope_id"], d["raised_at"][:10], d["to"]) for d in decided)
    got = fetch(loaded, """SELECT scope_id, day::VARCHAR, tier FROM marts.messaging_limit_daily
                           WHERE limit_change = 'upgrade' ORDER BY ALL""")
    assert [tuple(r) for r in got] == expected
