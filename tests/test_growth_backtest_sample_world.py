"""The back-test in days on the generated sample world: every messaging-limit rule and kind of step is judged.

The sample world's two limit-scenario businesses (pipelines/sample/limit_scenarios.py) earn each step from their
own traffic, decided by the generator playing Meta:
- Meta, "Upcoming changes to messaging limits" (updated Jun 17, 2026), before 2025-10-07: per number, 250 -> 1,000
  by a scaling path (1,000 unique customers with high-quality templates in 30 days, as BSPs copied Meta's 2024
  page), then automatic at half the limit in 7 days, 24 h later;
- Meta, "Messaging Limits" (updated May 21, 2026), from 2025-10-07: per portfolio, 250 -> 2,000 by a scaling path
  (2,000 delivered outside customer-service windows to unique users in 30 days), then a review; automatic at half
  the limit in 7 days within 6 h.
The expected upgrade days come from the generator's decisions (ground_truth_limits.json), never from the marts."""
import json
import re
from datetime import date, datetime

import pytest

from conftest import fetch

pytestmark = pytest.mark.xdist_group("sample_world")
RULES = {"per_number": "per_number", "per_portfolio": "per_portfolio_2025_10"}
EVERY_RULE = {("per_number", "scaling_path"), ("per_number", "automatic"),
              ("per_portfolio_2025_10", "scaling_path"), ("per_portfolio_2025_10", "automatic")}


def _truth(world):
    decided = json.loads((world / "ground_truth_limits.json").read_text())["upgrades"]
    scenarios = json.loads((world / "ground_truth_limit_scenarios.json").read_text())["scenarios"]
    return decided, scenarios


def test_the_scenarios_earn_every_kind_of_step_by_meta_s_rules(world):
    decided, scenarios = _truth(world)
    scopes = {s["phone_number_id"] if s["era"] == "per_number" else s["portfolio_id"]: s for s in scenarios}
    mine = [d for d in decided if d["scope_id"] in scopes]
    assert {(RULES[d["era"]], d["reached_by"]) for d in mine} == EVERY_RULE
    for d in mine:
        met, raised = (datetime.fromisoformat(d[k].replace("Z", "+00:00")) for k in ("condition_met_at", "raised_at"))
        hours = (raised - met).total_seconds() / 3600
        if d["reached_by"] == "scaling_path":
            # the 30-day count reached Meta's threshold (1,000 per number, 2,000 per portfolio); review <= 24 h (assumed)
            assert d["unique_30d_high_quality"] >= (1000 if d["era"] == "per_number" else 2000)
            assert d["from"] == "TIER_250" and 0 < hours <= 24
        else:
            # half the limit in 7 days; 24 h per number, within 6 h per portfolio
            assert d["unique_7d"] * 2 >= {"TIER_1K": 1000, "TIER_2K": 2000}[d["from"]]
            assert 0 < hours <= (24 if d["era"] == "per_number" else 6)


def test_the_backtest_reports_days_for_every_rule_against_the_generator_s_upgrades(world, loaded):
    decided, _ = _truth(world)
    raises: dict[str, list[tuple[date, str]]] = {}
    for d in decided:
        raises.setdefault(d["scope_id"], []).append((date.fromisoformat(d["raised_at"][:10]), d["reached_by"]))
    last_day = fetch(loaded, "SELECT max(day) FROM marts.messaging_limit_daily")[0][0]
    rows = fetch(loaded, """SELECT rule, step_reached_by, scope_id, origin, predicted_upgrade, actual_upgrade, method
                            FROM marts.tier_forecast_backtest WHERE step_reached_by IS NOT NULL""")
    # Recompute the two headline numbers from the generator's own upgrade days: the first raise after each origin.
    errors: dict[tuple[str, str], list[int | None]] = {}
    for rule, step, scope_id, origin, predicted, actual, method in rows:
        following = [(day, how) for day, how in sorted(raises.get(scope_id, [])) if origin < day <= last_day]
        assert actual == (following[0][0] if following else None), (scope_id, origin)
        if following and method != "none":
            # the step the back-test judged is the step the generator took
            assert following[0][1] == step, (scope_id, origin)
            errors.setdefault((rule, step), []).append(None if predicted is None else (predicted - following[0][0]).days)
    assert set(errors) == EVERY_RULE
    summary = fetch(loaded, """SELECT DISTINCT rule, step_reached_by, upgrades_judged_for_rule,
                                      mean_abs_error_days_for_rule, share_within_3_days_for_rule
                               FROM marts.tier_forecast_backtest WHERE step_reached_by IS NOT NULL""")
    got = {(rule, step): (judged, mae, share) for rule, step, judged, mae, share in summary}
    for key, errs in errors.items():
        dated = [abs(e) for e in errs if e is not None]
        assert dated, key   # every rule has at least one forecast with a date: an error in days
        judged, mae, share = got[key]
        assert judged == len(errs)
        assert mae == pytest.approx(sum(dated) / len(dated), abs=0.01)
        assert share == pytest.approx(sum(1 for e in dated if e <= 3) / len(errs), abs=0.01)


def test_the_limits_page_shows_the_backtest_for_every_rule(loaded):
    page = (loaded.parent / "reports" / "limits.html").read_text()
    summary = fetch(loaded, """SELECT DISTINCT rule, step_reached_by, mean_abs_error_days_for_rule,
                                      share_within_3_days_for_rule, upgrades_judged_for_rule
                               FROM marts.tier_forecast_backtest WHERE step_reached_by IS NOT NULL""")
    assert {(rule, step) for rule, step, *_ in summary} == EVERY_RULE
    # the page names a rule by whose limits it sets: a number's before 2025-10-07, a portfolio's from then on
    scopes = {"per_number": "phone number", "per_portfolio_2025_10": "business portfolio"}
    for rule, step, mae, share, judged in summary:
        label = f"Back-test mean abs. error, {scopes[rule]} limits, {step.replace('_', ' ')} steps"
        assert label in page
        after = page[page.index(label):][:400]
        assert re.search(rf"{mae:.1f} days", after), (label, after)
        assert f"{share:.0%} within 3 days, {judged} upgrade{'' if judged == 1 else 's'} judged" in after
