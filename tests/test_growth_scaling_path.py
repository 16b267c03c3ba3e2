"""The messaging limit as Meta counts it and the first step by scaling path, on hand-built timelines.

Sources (cited per test): Meta, "Messaging Limits" (updated May 21, 2026): the limit is the number of unique users
a business can deliver messages to outside a customer service window in a moving 24 hours, per business portfolio;
250 -> 2,000 only by a scaling path (verification, partner-led verification, or 2,000 delivered messages outside
customer service windows to unique users in a 30-day moving period with high-quality templates), then automatic
scaling at half the limit in 7 days within 6 hours. Meta, "Upcoming changes to messaging limits" (Jun 17, 2026):
before 2025-10-07 limits were per number, a new number started at 250 and became eligible for automatic scaling
at 1,000. Every expected number below is worked out by hand in the comments."""
from datetime import date, timedelta

from growth_helpers import accounts, build, inbound, phone_snapshot, send_log, statuses, template_snapshot, write_csv, iso

BP = "BP1"


def portfolio_at_250(landing, first_day: str, verification: str | None = None) -> None:
    """One WABA, one number at TIER_250 and one high-quality (GREEN) template, from `first_day`."""
    header = ["waba_id", "business_portfolio_id", "timezone", "currency"]
    row = ["W1", BP, "UTC", "USD"]
    if verification is not None:
        header.append("business_verification_status")
        row.append(verification)
    write_csv(landing / "business_manager" / "accounts.csv", header, [tuple(row)])
    phone_snapshot(landing, f"{first_day} 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_250", "CONNECTED")])
    template_snapshot(landing, f"{first_day} 00:00", [("W1", "T1", "promo", "en_US", "MARKETING", "APPROVED", "GREEN")])


def day(start: str, k: int) -> str:
    return (date.fromisoformat(start) + timedelta(days=k)).isoformat()


def test_200_unique_users_a_week_never_reach_the_scaling_path(landing, warehouse, query):
    # The same 200 customers get a campaign every Monday for five weeks (2025-11-03 .. 12-01). Their 7-day reach is
    # 200, far above half of 250 (125): the old "half the limit in 7 days" reading would forecast an upgrade within
    # 6 hours. Meta raises 250 only through a scaling path: 2,000 unique customers delivered to in 30 days, and 200
    # never grows, so no date is forecast and the blockers say why (no verification status given: not verified).
    portfolio_at_250(landing, "2025-11-01")
    rows = [(f"w{w}-{i}", f"{day('2025-11-03', 7 * w)} 10:{i % 60:02d}", "W1", "P1", f"c{i}", "promo")
            for w in range(5) for i in range(200)]
    send_log(landing, rows)
    phone_snapshot(landing, "2025-12-07 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_250", "CONNECTED")])
    build(warehouse, landing)
    last = query("""SELECT tier, next_reached_by, peak_unique_customers_7d, peak_unique_delivered_30d, upgrade_reach,
                           upgrade_threshold, upgrade_condition_met
                    FROM marts.messaging_limit_daily WHERE day = '2025-12-07'""")
    # 12-07: the 12-01 campaign is inside the week (200); the 30-day window holds the same 200 people.
    assert last == [("TIER_250", "scaling_path", 200, 200, 200, 2000.0, False)]
    forecast = query("""SELECT scope, step_reached_by, reach_window_days, upgrade_threshold, expected_next_upgrade, method,
                               blocked_by FROM marts.tier_forecast""")
    assert forecast == [("business_portfolio", "scaling_path", 30, 2000.0, None, "ols_linear_28d",
                         ["scaling_path_not_met", "not_verified"])]
    upgrades = query("SELECT count(*) FROM marts.messaging_limit_daily WHERE limit_change = 'upgrade'")
    assert upgrades == [(0,)]


def test_2000_delivered_in_30_days_is_forecast_and_then_observed(landing, warehouse, query):
    # From 2025-11-01 the portfolio reaches 60 new customers a day at noon (day k, counted from 1, ends with 60 k
    # unique customers in the moving 30 days). The back-test forecasts every 7 days from the scope's 7th day: on
    # 11-28, 1,680 on an exact line of 60 a day, so 2,000 is crossed after ceil(320 / 60) = 6 days (12-04), plus the
    # assumed 24 h review: 12-05. The earlier forecasts (11-07: 420, 11-14: 840, 11-21: 1,260) see the same line. Meta then raises the limit to 2,000 on 12-05 (business_capability_update with
    # max_daily_conversations_per_business = 2000, as the Messaging Limits page says approvals are announced).
    portfolio_at_250(landing, "2025-11-01")
    n = 0
    rows = []
    for k in range(40):   # 11-01 .. 12-10
        for i in range(60):
            rows.append((f"m{n}", f"{day('2025-11-01', k)} 12:{i % 60:02d}", "W1", "P1", f"c{n}", "promo"))
            n += 1
    send_log(landing, rows)
    from growth_helpers import management
    management(landing, "capability", [("W1", "2025-12-05 06:00", "business_capability_update",
                                         {"max_daily_conversations_per_business": 2000})])
    build(warehouse, landing)
    backtest = query("""SELECT origin, tier_at_origin, step_reached_by, upgrade_reach, trend_per_day, predicted_upgrade,
                               actual_upgrade, error_days, outcome
                        FROM marts.tier_forecast_backtest WHERE origin = '2025-11-28'""")
    assert backtest == [(date(2025, 11, 28), "TIER_250", "scaling_path", 1680, 60.0, date(2025, 12, 5),
                         date(2025, 12, 5), 0, "within_range")]
    summary = query("""SELECT DISTINCT rule, step_reached_by, upgrades_judged_for_rule, mean_abs_error_days_for_rule,
                              share_within_3_days_for_rule
                       FROM marts.tier_forecast_backtest WHERE step_reached_by = 'scaling_path'""")
    assert summary == [("per_portfolio_2025_10", "scaling_path", 4, 0.0, 1.0)]
    # After the upgrade the next step is automatic: half of 2,000 = 1,000 in 7 days (60 x 7 = 420 on 12-10).
    now = query("""SELECT tier, step_reached_by, reach_window_days, upgrade_reach, upgrade_threshold
                   FROM marts.tier_forecast""")
    assert now == [("TIER_2K", "automatic", 7, 420, 1000.0)]


def test_only_delivered_messages_outside_a_service_window_with_high_quality_templates_count(landing, warehouse, query):
    portfolio_at_250(landing, "2025-11-01")
    template_snapshot(landing, "2025-11-01 00:00", [("W1", "T1", "promo", "en_US", "MARKETING", "APPROVED", "GREEN"),
                                                    ("W1", "T2", "meh", "en_US", "MARKETING", "APPROVED", "YELLOW")])
    rows = [
        ("m1", "2025-11-02 10:00", "W1", "P1", "c1", "promo"),   # delivered, outside any window: counts everywhere
        ("m2", "2025-11-02 11:00", "W1", "P1", "c2", "promo"),   # c2 wrote at 09:00: inside its service window
        ("m3", "2025-11-02 12:00", "W1", "P1", "c3", "promo"),   # never reported delivered: not counted
        ("m4", "2025-11-02 13:00", "W1", "P1", "c4", "promo"),   # delivered, then a failed report: still delivered
        ("m5", "2025-11-02 14:00", "W1", "P1", "c5", "meh"),     # delivered with a YELLOW template: not for the 30 days
        ("m6", "2025-11-02 15:00", "W1", "P1", "c6", "promo"),   # only 'read' reported: read implies delivered
    ]
    send_log(landing, rows, delivered={"m1", "m2", "m4", "m5"})
    statuses(landing, "more", [("m3", "2025-11-02 12:00", "P1", "c3", "sent"),
                               ("m4", "2025-11-02 13:05", "P1", "c4", "failed"),
                               ("m6", "2025-11-02 15:00", "P1", "c6", "read")])
    inbound(landing, "in", [("i1", "2025-11-02 09:00", "P1", "c2")])
    build(warehouse, landing)
    got = query("""SELECT peak_unique_customers_24h, peak_unique_customers_7d, peak_unique_delivered_30d
                   FROM marts.messaging_limit_daily WHERE day = '2025-11-02'""")
    # 24 h and 7 d: c1, c4, c5, c6 = 4. 30 days, high-quality templates only: c1, c4, c6 = 3.
    assert got == [(4, 4, 3)]


def test_a_wa_id_and_its_business_scoped_user_id_count_once(landing, warehouse, query):
    # Meta counts unique users; a person Meta named by wa_id and by user id together (a status carrying both) is
    # one user [domain notes section 11, inference]. The status of m1 pairs 15551230001 with US.777; m2 goes to
    # US.777 alone; m3 to another person. 24 h peak on 11-03: 2, not 3.
    portfolio_at_250(landing, "2025-11-01")
    rows = [("m1", "2025-11-03 10:00", "W1", "P1", "15551230001", "promo"),
            ("m2", "2025-11-03 11:00", "W1", "P1", "US.777", "promo"),
            ("m3", "2025-11-03 12:00", "W1", "P1", "15551230002", "promo")]
    send_log(landing, rows, delivered={"m2", "m3"})
    statuses(landing, "paired", [("m1", "2025-11-03 10:00", "P1", "15551230001", "delivered",
                                  {"recipient_user_id": "US.777"})])
    build(warehouse, landing)
    got = query("SELECT peak_unique_customers_24h, peak_unique_delivered_30d FROM marts.messaging_limit_daily WHERE day = '2025-11-03'")
    assert got == [(2, 2)]


def test_number_ladders_give_way_to_the_portfolio_ladder_on_2025_10_07(landing, warehouse, query):
    # Two numbers at 250 (new numbers) in one portfolio. In the 30 days to 10-06, P1 delivered to c0..c599 and P2 to
    # c300..c899 (600 each, below the per-number scaling threshold of 1,000). On 10-07 the portfolio inherits 250
    # (the highest of its numbers) and its scaling path needs 2,000; its 30-day count joins both numbers: c0..c899 = 900.
    accounts(landing, [("W1", BP)])
    phone_snapshot(landing, "2025-09-20 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_250", "CONNECTED"),
                                                 ("W1", "P2", "15550002222", "GREEN", "TIER_250", "CONNECTED")])
    template_snapshot(landing, "2025-09-20 00:00", [("W1", "T1", "promo", "en_US", "MARKETING", "APPROVED", "GREEN")])
    rows = [(f"a{i}", f"2025-09-2{i % 5} 1{i % 10}:00", "W1", "P1", f"c{i}", "promo") for i in range(600)]
    rows += [(f"b{i}", f"2025-09-2{i % 5} 1{i % 10}:30", "W1", "P2", f"c{300 + i}", "promo") for i in range(600)]
    send_log(landing, rows)
    phone_snapshot(landing, "2025-10-08 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_250", "CONNECTED"),
                                                 ("W1", "P2", "15550002222", "GREEN", "TIER_250", "CONNECTED")])
    build(warehouse, landing)
    got = query("""SELECT day, scope, scope_id, rule, tier, next_tier, next_reached_by, peak_unique_delivered_30d, upgrade_threshold
                   FROM marts.messaging_limit_daily WHERE day IN ('2025-10-06', '2025-10-07') ORDER BY day, scope_id""")
    assert got == [
        (date(2025, 10, 6), "phone_number", "P1", "per_number", "TIER_250", "TIER_1K", "scaling_path", 600, 1000.0),
        (date(2025, 10, 6), "phone_number", "P2", "per_number", "TIER_250", "TIER_1K", "scaling_path", 600, 1000.0),
        (date(2025, 10, 7), "business_portfolio", BP, "per_portfolio_2025_10", "TIER_250", "TIER_2K", "scaling_path", 900, 2000.0),
    ]
    forecast = query("SELECT scope, scope_id, rule, step_reached_by, upgrade_threshold FROM marts.tier_forecast")
    assert forecast == [("business_portfolio", BP, "per_portfolio_2025_10", "scaling_path", 2000.0)]


def test_verification_completes_the_scaling_path_and_unlimited_scopes_get_no_forecast(landing, warehouse, query):
    # A verified business completes a scaling path (Messaging Limits, May 21, 2026): the condition holds now and
    # the upgrade is expected after the review (assumed 24 h). A portfolio already unlimited has no next step.
    portfolio_at_250(landing, "2025-11-01", verification="Verified")
    write_csv(landing / "business_manager" / "accounts.csv",
              ["waba_id", "business_portfolio_id", "timezone", "currency", "business_verification_status"],
              [("W1", BP, "UTC", "USD", "verified"), ("W2", "BP2", "UTC", "USD", "not_verified")])
    phone_snapshot(landing, "2025-11-20 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_250", "CONNECTED"),
                                                 ("W2", "P2", "15550002222", "GREEN", "TIER_UNLIMITED", "CONNECTED")])
    send_log(landing, [(f"m{k}", f"{day('2025-11-01', k)} 12:00", "W1", "P1", f"c{k}", "promo") for k in range(20)])
    build(warehouse, landing)
    got = query("""SELECT scope_id, business_verification_status, method, expected_next_upgrade, blocked_by
                   FROM marts.tier_forecast ORDER BY scope_id""")
    assert got == [(BP, "verified", "condition_met_now", date(2025, 11, 21), [])]
