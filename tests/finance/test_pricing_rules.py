"""Each pricing rule on a hand-built landing folder; every expected charge is worked out by hand in the test."""

from finance.scenario import BR, DO, US, Scenario
from pipelines.finance import PricingParams


def test_per_message_charges_delivered_templates_only(s):
    s.rate("North America", "marketing", "0.0250")
    s.send("m1", "2025-08-04T10:00:00")                                   # delivered: charged
    s.send("m2", "2025-08-04T11:00:00", statuses=("read",))               # read without delivered counts as delivered
    s.send("m3", "2025-08-04T12:00:00", statuses=("failed",))             # failed: never charged
    s.send("m4", "2025-08-04T13:00:00", statuses=())                      # only sent: not charged
    s.send("m5", "2025-08-04T14:00:00", statuses=("read", "delivered", "delivered"))  # out of order, repeated
    s.build()
    assert s.ledger("message_id, final_status, pricing_model, billable, charge") == [
        ("m1", "delivered", "PMP", True, 0.025),
        ("m2", "read", "PMP", True, 0.025),
        ("m3", "failed", "PMP", False, 0.0),
        ("m4", "sent", "PMP", False, 0.0),
        ("m5", "read", "PMP", True, 0.025),
    ]
    assert s.rows("SELECT sum(charge)::VARCHAR, sum(billable_units) FROM marts.spend_daily")[0] == ("0.075000", 3)


def test_dominican_number_is_latin_america_not_north_america(s):
    s.rate("North America", "marketing", "0.0250").rate("Rest of Latin America", "marketing", "0.0740")
    s.send("us", "2025-08-04T10:00:00", to=US).send("do", "2025-08-04T10:00:00", to=DO)
    s.send("bsuid", "2025-08-04T10:00:00", to="BR.1234567890")
    s.rate("Brazil", "marketing", "0.0625")
    s.build()
    assert s.ledger("message_id, market, charge") == [
        ("bsuid", "Brazil", 0.0625), ("do", "Rest of Latin America", 0.074), ("us", "North America", 0.025)]


def test_utility_inside_the_customer_service_window_is_free_until_the_window_closes(s):
    s.rate("North America", "utility", "0.0040")
    s.customer_says("in1", "2025-08-04T10:00:00")
    s.send("u1", "2025-08-05T09:59:59", category="UTILITY")   # 23:59:59 after the customer's message: free
    s.send("u2", "2025-08-05T10:00:00", category="UTILITY")   # exactly 24 h: the window has closed
    s.send("t1", "2025-08-04T10:05:00", template=None, category=None)  # free-form reply: free
    s.build()
    assert s.ledger("message_id, in_service_window, pricing_type, charge") == [
        ("t1", True, "free_customer_service", 0.0),
        ("u1", True, "free_customer_service", 0.0),
        ("u2", False, "regular", 0.004),
    ]


def test_2026_10_rules_charge_service_and_utility_in_window_and_can_be_switched_off_for_what_if(s):
    # Meta, "Upcoming pricing updates for Meta Business Agent, service and utility messages" (Jul 1, 2026):
    # from 2026-10-01 service messages are charged at the utility rate and utility templates inside the
    # window are charged. The reported 1,000 free service messages are switched off here (tested on their own).
    s.rate("North America", "utility", "0.0030", effective="2026-01-01")
    s.customer_says("in1", "2026-10-05T10:00:00")
    s.send("u1", "2026-10-05T11:00:00", category="UTILITY")
    s.send("t1", "2026-10-05T10:01:00", template=None, category=None)  # no service rate: billed at the utility rate
    s.build(PricingParams(disabled_regimes=("free_service_2026_10",)))
    assert s.ledger("message_id, regime, pricing_type, charge, rate_source") == [
        ("t1", "pmp_2026_10", "regular", 0.003, "landing: rate_cards/card.csv (utility rate, used for service)"),
        ("u1", "pmp_2026_10", "regular", 0.003, "landing: rate_cards/card.csv"),
    ]
    assert s.rows("SELECT confirmed FROM marts.pricing_regimes WHERE regime = 'pmp_2026_10'") == [(True,)]
    s.build(PricingParams(disabled_regimes=("pmp_2026_10",)))
    assert s.ledger("message_id, regime, pricing_type, charge") == [
        ("t1", "pmp_2025_07", "free_customer_service", 0.0),
        ("u1", "pmp_2025_07", "free_customer_service", 0.0),
    ]


def test_free_entry_point_window_lasts_72_hours_from_the_reply(s):
    # Meta, conversation-based pricing: the free entry point conversation "is opened as soon as your message is
    # delivered and lasts 72 hours" (domain file 4.2: "starting at delivery of the reply").
    s.rate("North America", "marketing", "0.0250")
    s.customer_says("ad", "2025-08-04T10:00:00", referral=True)
    s.send("reply", "2025-08-04T10:01:00", template=None, category=None, delay=60)  # delivered 10:02: the window opens
    s.send("m1", "2025-08-07T10:01:59")   # 71:59:59 after the delivery (72:00:59 after the send): free
    s.send("m2", "2025-08-07T10:02:00")   # 72 h after the delivery: charged
    s.build()
    assert s.ledger("message_id, pricing_type, charge") == [
        ("m1", "free_entry_point", 0.0), ("m2", "regular", 0.025), ("reply", "free_entry_point", 0.0)]


def test_inferred_conversations_last_a_fixed_24_hours_not_a_gap(s):
    # Delivered at 0 h, 23 h, 25 h and 48 h (+5 s). A 24 h gap rule would see one conversation (the
    # gaps are 23, 2 and 23 hours); fixed windows from each opening give two: {0 h, 23 h} and {25 h, 48 h}.
    s.rate("North America", "marketing", "0.0250")
    for message_id, at in (("a", "2025-03-03T00:00:00"), ("b", "2025-03-03T23:00:00"),
                           ("c", "2025-03-04T01:00:00"), ("d", "2025-03-05T00:00:00")):
        s.send(message_id, at)
    s.build()
    ledger = s.rows("SELECT message_id, conversation_id, charge FROM marts.message_ledger ORDER BY message_id")
    assert ledger[0][1] == ledger[1][1] != ledger[2][1] == ledger[3][1]
    assert [float(r[2]) for r in ledger] == [0.025, 0.0, 0.025, 0.0]
    assert s.rows("""SELECT id_source, opened_at::VARCHAR, expires_at::VARCHAR, messages, pricing_model_ok
                     FROM (SELECT *, true AS pricing_model_ok FROM marts.conversations) ORDER BY opened_at""") == [
        ("inferred", "2025-03-03 00:00:05+00", "2025-03-04 00:00:05+00", 2, True),
        ("inferred", "2025-03-04 01:00:05+00", "2025-03-05 01:00:05+00", 2, True),
    ]


def test_meta_conversation_ids_are_charged_once(s):
    s.rate("North America", "marketing", "0.0250")
    conversation = {"id": "conv-1", "origin": {"type": "marketing"}}
    pricing = {"billable": True, "pricing_model": "CBP", "category": "marketing"}
    s.send("a", "2025-03-03T00:00:00", conversation=conversation, pricing=pricing)
    s.send("b", "2025-03-03T12:00:00", conversation=conversation, pricing=pricing)
    s.build()
    assert s.ledger("message_id, conversation_id, pricing_model, meta_pricing_type, agrees_with_meta, charge") == [
        ("a", "conv-1", "CBP", "regular", True, 0.025), ("b", "conv-1", "CBP", "regular", True, 0.0)]
    assert s.rows("SELECT conversation_id, id_source, messages FROM marts.conversations") == [("conv-1", "meta", 2)]


def test_first_1000_service_conversations_of_a_month_are_free_in_2024(s):
    s.rate("North America", "service", "0.0100")
    for i in range(1001):
        s.send(f"m{i:04d}", f"2024-03-04T10:{i // 60 % 60:02d}:{i % 60:02d}", to=f"1212555{i:04d}", template=None, category=None)
    s.send("april", "2024-04-01T10:00:00", to="12125550000", template=None, category=None)
    s.build()
    assert s.rows("""SELECT pricing_type, count(*), sum(charge)::DOUBLE FROM marts.conversations
                     GROUP BY ALL ORDER BY ALL""") == [("free_tier", 1001, 0.0), ("regular", 1, 0.01)]
    assert s.rows("SELECT opening_message_id FROM marts.conversations WHERE billable") == [("m1000",)]


def test_volume_tier_is_crossed_mid_month_and_resets_on_the_first(s):
    s.rate("North America", "utility", "0.0100", lo=0, hi=2).rate("North America", "utility", "0.0050", lo=3)
    for i, day in enumerate(("03", "10", "17", "24")):
        s.send(f"aug{i}", f"2025-08-{day}T10:00:00", category="UTILITY")
    s.send("sep0", "2025-09-01T10:00:00", category="UTILITY")
    s.build()
    assert s.ledger("message_id, volume_rank, charge") == [
        ("aug0", 1, 0.01), ("aug1", 2, 0.01), ("aug2", 3, 0.005), ("aug3", 4, 0.005), ("sep0", 1, 0.01)]


def test_regime_switches_at_midnight_in_the_wabas_timezone(landing, warehouse):
    s = Scenario(landing, warehouse, timezone_name="America/Sao_Paulo")  # UTC-3 in 2025
    s.rate("North America", "marketing", "0.0250")
    s.send("before", "2025-07-01T02:59:00")   # 23:59 on 30 June in Sao Paulo: conversation-based
    s.send("after", "2025-07-01T03:00:00")    # 00:00 on 1 July in Sao Paulo: per-message
    s.build()
    assert s.ledger("message_id, regime, pricing_model") == [
        ("after", "pmp_2025_07", "PMP"), ("before", "cbp_2024_11", "CBP")]
    assert s.rows("SELECT day::VARCHAR, pricing_model FROM marts.spend_daily ORDER BY day") == [
        ("2025-06-30", "CBP"), ("2025-07-01", "PMP")]


def test_category_comes_from_the_webhook_then_the_log_and_disagreements_are_flagged(s):
    s.rate("North America", "marketing", "0.0250").rate("North America", "utility", "0.0040")
    s.send("logged_marketing_meta_utility", "2025-08-04T10:00:00", category="MARKETING",
           pricing={"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"})
    s.send("log_only", "2025-08-04T11:00:00", category="MARKETING")
    s.build()
    assert s.ledger("message_id, category, template_category, charge, disagreement") == [
        ("log_only", "marketing", "marketing", 0.025, None),
        ("logged_marketing_meta_utility", "utility", "marketing", 0.004, "category"),
    ]


def test_a_market_missing_from_the_rate_card_leaves_the_charge_unknown_not_zero(s):
    s.rate("North America", "marketing", "0.0250")
    s.send("br", "2025-08-04T10:00:00", to=BR)
    s.build()
    assert s.ledger("message_id, billable, charge, rate_source") == [("br", True, None, None)]
    assert s.rows("SELECT billable_units, unpriced_units FROM marts.spend_daily") == [(1, 1)]


def test_every_mart_table_and_column_is_commented(s):
    s.rate("North America", "marketing", "0.0250").send("m1", "2025-08-04T10:00:00")
    s.build()
    assert s.rows("""SELECT table_name, column_name FROM duckdb_columns()
                     WHERE schema_name = 'marts' AND (comment IS NULL OR comment = '')""") == []
    assert s.rows("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' AND comment IS NULL") == []


def test_reconciliation_explains_an_invoice_that_bills_a_message_we_never_heard_about(s):
    s.rate("North America", "marketing", "0.0250")
    s.send("m1", "2025-08-04T10:00:00")                    # delivered: 0.025 in our ledger
    s.send("m2", "2025-08-04T11:00:00", statuses=())       # only sent: Meta bills it only if it delivered it
    s.log.append(("m3", "2025-08-04T12:00:00Z", "W1", "PN1", "12125550100", "template", "promo", "en_US", "MARKETING", "", ""))
    s.invoice("2025-08", "North America", "marketing", "0.0500")  # Meta billed m1 and m3
    s.build()
    row = s.rows("""SELECT ledger_units, ledger_charge::VARCHAR, invoice_amount::VARCHAR, diff_vs_invoice::VARCHAR,
                           explained_amount::VARCHAR, unexplained_vs_invoice::VARCHAR, meta_units,
                           [e.reason || ':' || e.units || ':' || coalesce(e.amount::VARCHAR, '') FOR e IN explanations]
                    FROM marts.cost_reconciliation""")
    assert row == [(1, "0.025000", "0.050000", "0.025000", "0.025000", "0.000000", None,
                    ["no_status_received:1:0.025000", "sent_never_delivered:1:0.025000", "meta_analytics_unavailable:0:"])]


def _bundled_card() -> list[dict]:
    import csv

    from pipelines.dbt_project import REFERENCE_DIR

    with open(REFERENCE_DIR / "bundled_rates.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_without_a_landing_rate_card_the_bundled_card_prices_and_names_its_source(s):
    s.send("br", "2025-08-04T10:00:00", to=BR)
    s.build()
    row = next(r for r in _bundled_card()
               if (r["effective_from"], r["market"], r["category"]) == ("2025-07-01", "Brazil", "marketing"))
    assert s.ledger("message_id, charge, rate_source") == [("br", float(row["rate"]), row["source"])]


def test_bundled_card_covers_every_market_of_the_calling_code_table():
    import csv

    from pipelines.dbt_project import REFERENCE_DIR

    with open(REFERENCE_DIR / "calling_codes.csv", newline="") as handle:
        markets = {r["market"] for r in csv.DictReader(handle) if not r["requires_regime"]}
    priced = {(r["market"], r["category"]) for r in _bundled_card() if r["effective_from"] == "2026-10-01"}
    missing = [(m, c) for m in sorted(markets) for c in ("marketing", "utility", "authentication") if (m, c) not in priced]
    assert len(markets) == 47 and missing == []
    assert all(r["source"] for r in _bundled_card())
