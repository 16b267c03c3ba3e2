"""Messaging-limit usage: sliding 24-hour and 7-day reach, the 2025-10-07 switch, upgrade eligibility, tier spellings.
Every expected value is worked out by hand in the comments."""
from datetime import date

from growth_helpers import accounts, build, inbound, management, phone_snapshot, send_log

BP = "BP1"


def limit_rows(query, scope_id: str):
    return query("""SELECT day, tier, daily_limit, peak_unique_customers_24h, peak_unique_customers_7d
                    FROM marts.messaging_limit_daily WHERE scope_id = ? ORDER BY day""", [scope_id])


def test_the_24_hour_peak_slides_across_midnight_and_skips_service_windows(landing, warehouse, query):
    accounts(landing, [("W1", BP)])
    for day in ("2025-08-01", "2025-08-10"):   # the second snapshot carries the calendar to 08-10
        phone_snapshot(landing, f"{day} 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_250", "CONNECTED")])
    send_log(landing, [
        ("m1", "2025-08-01 20:00", "W1", "P1", "c1", "promo"),
        ("m2", "2025-08-01 23:00", "W1", "P1", "c2", "promo"),
        ("m3", "2025-08-02 01:00", "W1", "P1", "c3", "promo"),
        ("m4", "2025-08-02 10:00", "W1", "P1", "c1", "promo"),   # c1 again: still one customer, now until 08-03 10:00
        ("m5", "2025-08-02 21:00", "W1", "P1", "c4", "promo"),
        ("m6", "2025-08-02 12:00", "W1", "P1", "c5", "promo"),   # c5 wrote at 09:00: inside its service window
        ("m7", "2025-08-02 12:05", "W1", "P1", "c6", None),      # a free-form reply is not business-initiated
    ])
    inbound(landing, "in", [("i1", "2025-08-02 09:00", "P1", "c5"), ("i2", "2025-08-02 12:00", "P1", "c6")])
    build(warehouse, landing)
    rows = {r[0]: r[3:] for r in limit_rows(query, "P1")}
    # 08-01: c1 from 20:00, c2 from 23:00 -> 2.
    # 08-02 21:00: c1 (until 08-03 10:00), c2 (until 23:00), c3 (until 08-03 01:00), c4 -> 4, although no calendar
    #   day holds more than 3 of them (08-02 alone: c3, c1, c4).
    # 08-03 00:00: c1, c3, c4 -> 3; 08-04: c4's window ended 08-03 21:00 -> 0.
    # 7 days: all four customers are inside one week from 08-02 21:00 on, until c2 (08-01 23:00) drops out on 08-08 23:00.
    assert rows[date(2025, 8, 1)] == (2, 2)
    assert rows[date(2025, 8, 2)] == (4, 4)
    assert rows[date(2025, 8, 3)] == (3, 4)
    assert rows[date(2025, 8, 4)] == (0, 4)
    assert rows[date(2025, 8, 8)] == (0, 4)   # c2 until 23:00, c3..c4 after: the peak is still 4 that day
    assert rows[date(2025, 8, 9)] == (0, 3)   # at midnight c3, c1, c4 are still inside the week (c3 leaves at 01:00)
    assert rows[date(2025, 8, 10)] == (0, 0)


def test_limits_move_from_numbers_to_the_portfolio_on_2025_10_07(landing, warehouse, query):
    accounts(landing, [("W1", BP), ("W2", BP)])
    phone_snapshot(landing, "2025-10-01 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_1K", "CONNECTED"),
                                                 ("W2", "P2", "15550002222", "GREEN", "TIER_250", "CONNECTED")])
    send_log(landing, [("m1", "2025-10-06 22:00", "W1", "P1", "c1", "promo"),
                       ("m2", "2025-10-07 01:00", "W2", "P2", "c1", "promo"),
                       ("m3", "2025-10-07 03:00", "W2", "P2", "c2", "promo")])
    build(warehouse, landing)
    oct6 = query("SELECT scope, scope_id, tier, daily_limit, peak_unique_customers_24h FROM marts.messaging_limit_daily "
                 "WHERE day = '2025-10-06' ORDER BY scope_id")
    oct7 = query("SELECT scope, scope_id, rule, tier, daily_limit, next_tier, limit_change, peak_unique_customers_24h "
                 "FROM marts.messaging_limit_daily WHERE day = '2025-10-07'")
    # Each number its own limit and reach on the 6th; on the 7th one portfolio row that inherited the best number's
    # 1,000 (not a step of the new ladder, so shown bare; the next step is TIER_2K) and counts c1 once across both numbers.
    assert oct6 == [("phone_number", "P1", "TIER_1K", 1000, 1), ("phone_number", "P2", "TIER_250", 250, 0)]
    assert oct7 == [("business_portfolio", BP, "per_portfolio_2025_10", "1000", 1000, "TIER_2K", None, 2)]


def test_upgrade_eligibility_at_exactly_half_the_limit_and_with_quality(landing, warehouse, query):
    # Automatic scaling (per number, before 2025-10-07): a number above the starting limit rises one level once it
    # is connected, rated Medium or High and "in the last 7 days ... used to open X or more business-initiated
    # conversations, where X is the current messaging limit divided by 2" (Meta Messaging Limits, as copied by
    # Webex Connect docs 2024; Meta "Upcoming changes to messaging limits", Jun 17, 2026, 'Before October 7, 2025').
    # At TIER_1K that is 500 unique customers.
    accounts(landing, [("W1", BP)])
    phone_snapshot(landing, "2025-08-01 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_1K", "CONNECTED"),
                                                 ("W1", "P2", "15550002222", "GREEN", "TIER_1K", "CONNECTED"),
                                                 ("W1", "P3", "15550003333", "YELLOW", "TIER_1K", "CONNECTED")])
    rows = []
    for phone, customers in (("P1", 500), ("P2", 499), ("P3", 500)):
        for i in range(customers):   # spread over three days, all inside one 7-day window
            rows.append((f"{phone}-{i}", f"2025-08-0{2 + i % 3} 1{i % 10}:00", "W1", phone, f"c{i}", "promo"))
    send_log(landing, rows)
    # P3 is flagged (quality RED) on 08-03 and unflagged on 08-06.
    management(landing, "quality", [
        ("W1", "2025-08-03 06:00", "phone_number_quality_update", {"display_phone_number": "15550003333", "event": "FLAGGED", "current_limit": "TIER_1K"}),
        ("W1", "2025-08-06 06:00", "phone_number_quality_update", {"display_phone_number": "15550003333", "event": "UNFLAGGED", "current_limit": "TIER_1K"})])
    build(warehouse, landing)
    got = query("""SELECT scope_id, day, peak_unique_customers_7d, next_reached_by, upgrade_threshold, quality_ok, flagged,
                          upgrade_condition_met
                   FROM marts.messaging_limit_daily WHERE day BETWEEN '2025-08-04' AND '2025-08-06' ORDER BY scope_id, day""")
    assert got == [
        ("P1", date(2025, 8, 4), 500, "automatic", 500.0, True, False, True),    # exactly half of 1,000 qualifies
        ("P1", date(2025, 8, 5), 500, "automatic", 500.0, True, False, True),
        ("P1", date(2025, 8, 6), 500, "automatic", 500.0, True, False, True),
        ("P2", date(2025, 8, 4), 499, "automatic", 500.0, True, False, False),   # one short
        ("P2", date(2025, 8, 5), 499, "automatic", 500.0, True, False, False),
        ("P2", date(2025, 8, 6), 499, "automatic", 500.0, True, False, False),
        ("P3", date(2025, 8, 4), 500, "automatic", 500.0, False, True, False),   # flagged: RED blocks it
        ("P3", date(2025, 8, 5), 500, "automatic", 500.0, False, True, False),
        ("P3", date(2025, 8, 6), 500, "automatic", 500.0, True, False, True),    # unflagged (at least YELLOW) that morning
    ]
    health = query("""SELECT day, quality_rating, quality_stated_by, status FROM marts.phone_number_health_daily
                      WHERE phone_number_id = 'P3' AND day IN ('2025-08-02', '2025-08-03', '2025-08-06') ORDER BY day""")
    assert health == [(date(2025, 8, 2), "YELLOW", "snapshot", "CONNECTED"), (date(2025, 8, 3), "RED", "FLAGGED", "FLAGGED"),
                      (date(2025, 8, 6), "YELLOW", "UNFLAGGED", "CONNECTED")]


def test_every_tier_spelling_meta_used_is_read(landing, warehouse, query):
    accounts(landing, [("W1", BP)])
    phone_snapshot(landing, "2025-10-10 00:00", [("W1", "P1", "15550001111", "GREEN", "TIER_50", "CONNECTED")])
    send_log(landing, [("m1", "2025-10-10 12:00", "W1", "P1", "c1", "promo")])
    per_business = [("2025-10-11", "TIER_250"), ("2025-10-12", 2000), ("2025-10-13", "TIER_10K"), ("2025-10-14", "100000"),
                    ("2025-10-15", "TIER_NOT_SET"), ("2025-10-16", "UNLIMITED"), ("2025-10-17", "TIER_2K"),
                    ("2025-10-18", "TIER_UNLIMITED")]
    events = [("W1", f"{day} 06:00", "business_capability_update", {"max_daily_conversations_per_business": value})
              for day, value in per_business]
    events += [("W1", "2025-10-19 06:00", "business_capability_update", {"max_daily_conversation_per_phone": 1000}),
               ("W1", "2025-10-20 06:00", "business_capability_update", {"max_daily_conversation_per_phone": -1}),
               ("W1", "2025-10-21 06:00", "phone_number_quality_update",
                {"display_phone_number": "15550001111", "event": "UPGRADE", "old_limit": "TIER_UNLIMITED", "current_limit": "TIER_1K"})]
    management(landing, "caps", events)
    build(warehouse, landing)
    portfolio = query("SELECT day, tier, daily_limit FROM marts.messaging_limit_daily WHERE day BETWEEN '2025-10-10' AND '2025-10-21' ORDER BY day")
    assert [(d.day, tier, limit) for d, tier, limit in portfolio] == [
        (10, "50", 50),                     # the snapshot's TIER_50 (a number's statement speaks for its portfolio)
        (11, "TIER_250", 250), (12, "TIER_2K", 2000), (13, "TIER_10K", 10000), (14, "TIER_100K", 100000),
        (15, "TIER_100K", 100000),          # TIER_NOT_SET states no limit: the last one stands
        (16, "TIER_UNLIMITED", None), (17, "TIER_2K", 2000), (18, "TIER_UNLIMITED", None),
        (19, "1000", 1000),                 # the deprecated per-phone field, integer 1000
        (20, "TIER_UNLIMITED", None),       # -1 means unlimited
        (21, "1000", 1000)]                 # TIER_1K on a quality event
    phone = query("SELECT day, messaging_limit, daily_limit, unlimited FROM marts.phone_number_health_daily "
                  "WHERE day IN ('2025-10-10', '2025-10-20', '2025-10-21') ORDER BY day")
    assert phone == [(date(2025, 10, 10), "TIER_50", 50, False), (date(2025, 10, 20), "-1", None, True),
                     (date(2025, 10, 21), "TIER_1K", 1000, False)]
