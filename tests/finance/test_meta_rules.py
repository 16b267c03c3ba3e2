"""The pricing rules as Meta states them (audit of 2026-12-01), each on a hand-built landing folder with a
hand-computed charge. Sources are named per test: M-PRICE = Meta, "Pricing on the WhatsApp Business Platform"
(updated Jul 1, 2026); M-UPD = Meta, "Upcoming pricing updates for Meta Business Agent, service and utility
messages" (Jul 1, 2026); M-CBP = Meta, "Conversation-based pricing (DEPRECATED)" (Dec 2025 copy); M-GRP =
Meta, "Groups API Pricing"."""

from finance.scenario import PHONE, US, WABA, Scenario
from pipelines.finance import PricingParams

TRINIDAD = "18687771234"    # +1 868: Trinidad and Tobago
BAHAMAS = "12423571234"     # +1 242: Bahamas
PUERTO_RICO = "17875551234"  # +1 787: Rest of Latin America on Meta's table
POLAND = "48601234567"
MOROCCO = "212612345678"
INDIA = "919812345678"



def test_plus_one_numbers_outside_the_us_and_canada_are_not_north_america(s):
    # M-PRICE country table: North America = Canada and United States; a country the table does not list is "Other";
    # Puerto Rico (787, 939) is Rest of Latin America. A user id's country prefix goes through the same table.
    s.rate("North America", "marketing", "0.0250").rate("Other", "marketing", "0.0604")
    s.rate("Rest of Latin America", "marketing", "0.0740")
    s.send("tt", "2025-08-04T10:00:00", to=TRINIDAD).send("bs", "2025-08-04T10:00:00", to=BAHAMAS)
    s.send("us", "2025-08-04T10:00:00", to=US).send("pr", "2025-08-04T10:00:00", to=PUERTO_RICO)
    s.send("bsuid_bs", "2025-08-04T10:00:00", to="BS.9988776655")
    s.build()
    assert s.ledger("message_id, market, charge") == [
        ("bs", "Other", 0.0604), ("bsuid_bs", "Other", 0.0604), ("pr", "Rest of Latin America", 0.074),
        ("tt", "Other", 0.0604), ("us", "North America", 0.025)]


def test_market_membership_moves_on_the_date_meta_moved_it_in_the_wabas_timezone(landing, warehouse):
    # M-PRICE change log: Poland becomes a standalone market on 2026-07-01; the nine markets (Morocco among them)
    # leave their regional groups on 2026-10-01. Changes apply at midnight in the WABA's timezone (M-PRICE).
    s = Scenario(landing, warehouse, timezone_name="Europe/Warsaw")
    s.rate("Rest of Central & Eastern Europe", "marketing", "0.0860").rate("Poland", "marketing", "0.0900", effective="2026-07-01")
    s.rate("Rest of Africa", "marketing", "0.0225").rate("Morocco", "marketing", "0.0414", effective="2026-10-01")
    s.send("pl_before", "2026-06-30T21:59:00", to=POLAND)    # 23:59 in Warsaw (UTC+2): still the regional group
    s.send("pl_after", "2026-06-30T22:00:00", to=POLAND)     # 00:00 on 1 July in Warsaw: Poland
    s.send("pl_bsuid", "2026-07-02T10:00:00", to="PL.5566778899")
    s.send("ma_before", "2026-09-30T12:00:00", to=MOROCCO).send("ma_after", "2026-10-02T12:00:00", to=MOROCCO)
    s.build(PricingParams(disabled_regimes=("pmp_2026_10",)))  # the move is Meta's market table, not the regime
    assert s.ledger("message_id, market, charge") == [
        ("ma_after", "Morocco", 0.0414), ("ma_before", "Rest of Africa", 0.0225),
        ("pl_after", "Poland", 0.09), ("pl_before", "Rest of Central & Eastern Europe", 0.086), ("pl_bsuid", "Poland", 0.09)]


def test_marketing_lite_is_charged_at_the_marketing_rate(s):
    # M-CBP "Marketing Messages Lite API pricing": from 2025-07-01 Cloud API marketing rates apply to MM Lite messages.
    s.rate("North America", "marketing", "0.0250")
    lite = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing_lite"}
    s.send("lite", "2025-08-04T10:00:00", template="promo", category=None, pricing=lite, logged=False)
    s.build()
    assert s.ledger("message_id, category, billable, charge") == [("lite", "marketing_lite", True, 0.025)]


def test_a_failed_status_does_not_cancel_a_delivered_one_whatever_the_order(s):
    # M-PRICE: charged when delivered; status webhooks arrive unordered, so failed + delivered/read is charged.
    s.rate("North America", "marketing", "0.0250")
    s.send("failed_then_delivered", "2025-08-04T10:00:00", statuses=("failed", "delivered"))
    s.send("read_then_failed", "2025-08-04T11:00:00", statuses=("read", "failed"))
    s.send("failed_only", "2025-08-04T12:00:00", statuses=("failed",))
    s.build()
    assert s.ledger("message_id, billable, charge") == [
        ("failed_only", False, 0.0), ("failed_then_delivered", True, 0.025), ("read_then_failed", True, 0.025)]


def _service_replies(s: Scenario, prefix: str, count: int, day: str, phone: str = PHONE, first_statuses=("delivered",)) -> None:
    for i in range(count):
        s.send(f"{prefix}{i:04d}", f"{day}T12:{i // 60 % 60:02d}:{i % 60:02d}", template=None, category=None, phone=phone,
               statuses=first_statuses if i == 0 else ("delivered",))


def test_reported_1000_free_service_messages_per_phone_number_and_month_then_charged(s):
    # Reported (BSPs quoting Meta's Aug 25, 2026 pricing-updates page): from 2026-10-01 each business phone number's
    # first 1,000 delivered service messages of a month are free (free_customer_service), the rest charged at the
    # service rate (here the utility rate, M-UPD); no rollover; a second number has its own allowance. Meta states the
    # type on the 'sent' status, so a send not (yet) reported delivered takes its place in the allowance too.
    s.rate("North America", "utility", "0.0034", effective="2026-01-01")
    s.customer_says("in1", "2026-10-05T11:00:00").customer_says("in2", "2026-10-05T11:00:00", phone="PN2")
    _service_replies(s, "a", 1001, "2026-10-05", first_statuses=())  # a0000: sent only
    _service_replies(s, "b", 3, "2026-10-05", phone="PN2")
    s.customer_says("in3", "2026-11-02T11:00:00")
    _service_replies(s, "n", 1, "2026-11-02")
    s.build()
    rows = s.rows("""SELECT phone_number_id, date_trunc('month', sent_at)::DATE::VARCHAR, pricing_type, count(*), sum(charge)::VARCHAR
                     FROM marts.message_ledger GROUP BY ALL ORDER BY ALL""")
    assert rows == [("PN1", "2026-10-01", "free_customer_service", 1000, "0.000000"),
                    ("PN1", "2026-10-01", "regular", 1, "0.003400"),   # the 1,001st: 1 x 0.0034
                    ("PN1", "2026-11-01", "free_customer_service", 1, "0.000000"),  # a new month, a new allowance
                    ("PN2", "2026-10-01", "free_customer_service", 3, "0.000000")]
    # Switched off, every delivered service message is charged: 1,004 x 0.0034 = 3.4136 (a0000 is not delivered)
    s.build(PricingParams(disabled_regimes=("free_service_2026_10",)))
    assert s.rows("SELECT sum(charge)::VARCHAR, count(*) FILTER (pricing_type = 'regular') FROM marts.message_ledger") == [
        ("3.413600", 1005)]


def test_authentication_and_authentication_international_accrue_on_one_volume_counter(s):
    # M-PRICE volume tiers, example 2: a message that switches between authentication and
    # authentication-international inside a month keeps accruing at the current tier.
    s.rate("India", "authentication", "0.0014", lo=0, hi=2).rate("India", "authentication", "0.0012", lo=3)
    s.rate("India", "authentication_international", "0.0280", lo=0, hi=2).rate("India", "authentication_international", "0.0250", lo=3)
    intl = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "authentication_international"}
    s.send("a1", "2025-08-04T10:00:00", to=INDIA, template="otp", category="AUTHENTICATION")
    s.send("a2", "2025-08-04T11:00:00", to=INDIA, template="otp", category="AUTHENTICATION")
    s.send("i3", "2025-08-04T12:00:00", to=INDIA, template="otp", category="AUTHENTICATION", pricing=intl)
    s.build()
    assert s.ledger("message_id, billed_category, volume_rank, charge") == [
        ("a1", "authentication", 1, 0.0014), ("a2", "authentication", 2, 0.0014),
        ("i3", "authentication_international", 3, 0.025)]  # the third unit on the shared counter: band 3+


def test_a_waba_is_priced_in_its_own_currency_and_never_from_another(landing, warehouse):
    # M-PRICE: rate cards are published per currency; a WABA pays in its own (accounts.csv). With no card in its
    # currency the charge is unknown (no_rate_in_currency), never a USD figure.
    s = Scenario(landing, warehouse)
    s.accounts.append(("W_INR", "P2", "Asia/Kolkata", "INR"))
    s.accounts.append(("W_EUR", "P3", "UTC", "EUR"))
    s.rate("India", "marketing", "0.0118", effective="2026-01-01")
    s.rates.append(("2026-01-01", "India", "marketing", "INR", "0.8600", 0, ""))
    s.send("usd", "2026-02-02T10:00:00", to=INDIA).send("inr", "2026-02-02T10:00:00", to=INDIA, waba="W_INR", phone="PN_IN")
    s.send("eur", "2026-02-02T10:00:00", to=INDIA, waba="W_EUR", phone="PN_EU")
    s.build()
    assert s.ledger("message_id, currency, charge, unpriced_reason") == [
        ("eur", "EUR", None, "no_rate_in_currency"), ("inr", "INR", 0.86, None), ("usd", "USD", 0.0118, None)]
    assert s.rows("SELECT currency, sum(charge)::VARCHAR, sum(unpriced_units) FROM marts.spend_daily GROUP BY ALL ORDER BY 1") == [
        ("EUR", "0.000000", 1), ("INR", "0.860000", 0), ("USD", "0.011800", 0)]


def test_a_landing_card_in_one_currency_leaves_the_bundled_card_for_the_others(landing, warehouse):
    # DESIGN: landing rate cards replace the bundled card; per currency, so an INR download does not unprice USD WABAs.
    s = Scenario(landing, warehouse)
    s.rates.append(("2026-01-01", "India", "marketing", "INR", "0.8600", 0, ""))
    s.send("usd", "2026-02-02T10:00:00", to=INDIA)
    s.build()
    assert s.ledger("message_id, rate_verification, charge") == [("usd", "third_party", 0.0118)]  # bundled USD row (Intelli transcription)


def test_meta_business_agent_replies_are_not_service_and_left_unpriced_with_their_reason(s):
    # M-UPD: Meta Business Agent messages are priced per token (USD 2 per 1M tokens) from 2026-08-01 and are not
    # service messages; we cannot count tokens, so the charge is unknown with its own reason.
    s.rate("North America", "utility", "0.0034", effective="2026-01-01")
    agent = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "business_agent"}
    s.customer_says("in1", "2026-10-05T10:00:00")
    s.send("agent", "2026-10-05T10:01:00", template=None, category=None, pricing=agent)
    s.build()
    assert s.ledger("message_id, billed_category, billable, charge, unpriced_reason") == [
        ("agent", "business_agent", True, None, "business_agent_token_priced")]


def test_conversation_era_service_reply_inside_an_open_marketing_conversation_opens_nothing(s):
    # M-CBP "Service conversations": a service conversation opens only when no conversation of any category is open.
    # 2024-06 is cbp_2023_06: service conversations are charged after the 1,000 free per month, so the free tier is
    # used up first by 1,000 service conversations of other customers on another day.
    s.rate("North America", "marketing", "0.0250", effective="2023-06-01").rate("North America", "service", "0.0088", effective="2023-06-01")
    for i in range(1000):
        other = f"1212555{i:04d}"
        s.customer_says(f"x{i}", "2024-06-01T08:00:00", sender=other)
        s.send(f"free{i:04d}", "2024-06-01T09:00:00", to=other, template=None, category=None)
    s.send("mk", "2024-06-10T10:00:00")                                          # opens a marketing conversation
    s.customer_says("in1", "2024-06-10T11:00:00")
    s.send("reply_inside", "2024-06-10T12:00:00", template=None, category=None)  # joins the open marketing conversation
    s.send("reply_after", "2024-06-11T10:30:00", template=None, category=None)   # marketing closed at 10:00: opens service
    s.build()
    rows = s.ledger("message_id, conversation_id, charged_unit, charge")
    by_id = {r[0]: r for r in rows}
    assert by_id["reply_inside"][1] == by_id["mk"][1] and by_id["reply_inside"][2:] == (False, 0.0)
    assert by_id["mk"][2:] == (True, 0.025)
    assert by_id["reply_after"][2:] == (True, 0.0088)
    assert s.rows("SELECT sum(charge)::VARCHAR FROM marts.message_ledger") == [("0.033800",)]  # 0.0250 + 0.0088


def test_2022_template_inside_a_user_opened_window_belongs_to_the_user_initiated_conversation(s):
    # 2022 conversation-based pricing (rasayel and mluvii explainers, reported): a template the business sends inside
    # a customer-service window the user opened is part of that user-initiated conversation. The free tier (first
    # 1,000 conversations of the month) is used up by 1,000 business-initiated conversations of other customers.
    s.rate("North America", "business_initiated", "0.0147", effective="2022-02-01")
    s.rate("North America", "user_initiated", "0.0088", effective="2022-02-01")
    for i in range(1000):
        s.send(f"bi{i:04d}", "2022-05-01T09:00:00", to=f"1212555{i:04d}")
    s.customer_says("in1", "2022-05-02T10:00:00")
    s.send("tpl_in_window", "2022-05-02T10:30:00")
    s.build()
    assert s.ledger("message_id, billed_category, charged_unit, charge")[-1] == ("tpl_in_window", "user_initiated", True, 0.0088)


def test_spend_on_unverified_bundled_rows_is_counted_everywhere_and_warned(s):
    # The bundled card's Hong Kong rows of 2026-07-01 are unverified: M-PRICE makes Hong Kong standalone that day
    # but no source we read gives its figures, so they are priced at the Rest of Asia Pacific rate and flagged.
    import csv

    from pipelines.dbt_project import REFERENCE_DIR
    from pipelines.quality import catalogue
    from pipelines.quality.checks import WARN
    from pipelines.warehouse import open_warehouse

    with open(REFERENCE_DIR / "bundled_rates.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle)
                   if (r["effective_from"], r["market"], r["category"]) == ("2026-07-01", "Hong Kong", "marketing"))
    assert row["verification"] == "unverified" and "Rest of Asia Pacific" in row["source"]
    s.send("hk", "2026-07-06T10:00:00", to="85261234567")
    s.build()
    assert s.ledger("message_id, market, rate_verification, charge") == [("hk", "Hong Kong", "unverified", float(row["rate"]))]
    assert s.rows("SELECT sum(unverified_charge)::DOUBLE, sum(unverified_units) FROM marts.spend_daily") == [(float(row["rate"]), 1)]
    assert s.rows("""SELECT count(DISTINCT market) FROM marts.rate_card WHERE effective_from = DATE '2026-10-01'
                     AND currency = 'USD' AND source <> ''""") == [(47,)]
    check = next(c for c in catalogue.finance_checks() if c.name == "spend_on_unverified_rates")
    with open_warehouse(s.warehouse) as conn:
        outcome = check.evaluate(conn)
    assert check.level == WARN and not outcome.passed and f"USD {float(row['rate']):.6f}" in outcome.observed


def test_a_free_entry_point_conversation_closes_the_open_ones_and_blocks_new_ones_until_it_expires(s):
    # M-CBP "Free Entry Point conversations": the conversation opens when the reply is delivered and lasts 72 hours;
    # when it opens it closes all other open conversations with the customer, and no new conversation opens until it
    # expires; "Conversation duration": conversations last 24 hours unless closed by a newly opened one. 2024-08 is
    # cbp_2023_06 (only service conversations have a free tier). Statuses arrive 5 s after the send.
    s.rate("North America", "marketing", "0.0250", effective="2023-06-01")
    s.rate("North America", "utility", "0.0150", effective="2023-06-01")
    s.send("mk1", "2024-08-05T08:00:00")                                        # marketing conversation, 0.0250
    s.send("ut1", "2024-08-05T09:00:00", template="notice", category="UTILITY")  # utility conversation, 0.0150
    s.customer_says("ad", "2024-08-05T10:00:00", referral=True)
    s.send("reply", "2024-08-05T10:30:00", template=None, category=None)         # free entry point opens 10:30:05
    s.send("mk2", "2024-08-05T12:00:00")        # inside mk1's 24 h, but mk1 is closed and none opens: free
    s.send("ut2", "2024-08-07T09:00:00", template="notice", category="UTILITY")  # still inside the 72 h: free
    s.send("mk3", "2024-08-08T10:31:00")        # the free entry point expired at 10:30:05: a new marketing one
    s.build()
    rows = {r[0]: r[1:] for r in s.ledger("message_id, pricing_type, conversation_id, charge")}
    assert [rows[m][0] for m in ("mk1", "ut1", "reply", "mk2", "ut2", "mk3")] == [
        "regular", "regular", "free_entry_point", "free_entry_point", "free_entry_point", "regular"]
    assert rows["mk2"][1] == rows["ut2"][1] == rows["reply"][1] != rows["mk1"][1]
    # Hand computation: 0.0250 (mk1) + 0.0150 (ut1) + 0.0250 (mk3) = 0.0650.
    assert s.rows("SELECT sum(charge)::VARCHAR FROM marts.message_ledger") == [("0.065000",)]
    assert s.rows("""SELECT category, pricing_type, expires_at::VARCHAR, closed_at::VARCHAR FROM marts.conversations
                     ORDER BY opened_at""") == [
        ("marketing", "regular", "2024-08-06 08:00:05+00", "2024-08-05 10:30:05+00"),
        ("utility", "regular", "2024-08-06 09:00:05+00", "2024-08-05 10:30:05+00"),
        ("service", "free_entry_point", "2024-08-08 10:30:05+00", "2024-08-08 10:30:05+00"),
        ("marketing", "regular", "2024-08-09 10:31:05+00", "2024-08-09 10:31:05+00")]


def test_the_card_in_force_lists_every_market_on_every_date_a_later_standalone_one_at_its_group_rate(s):
    # M-PRICE "Pricing on the WhatsApp Business Platform" (updated Jul 1, 2026): Poland is a standalone market from
    # 2026-07-01 and was part of "Rest of Central & Eastern Europe" before; the bundled card (sourced rows of
    # models/reference/bundled_rates.csv) lists 47 markets on 2026-10-01. Read at any card date, the card in force
    # must list all 47, a market not yet standalone at the rate of the group its country then belonged to, and
    # only the categories of that date's pricing era (2022: business- and user-initiated; 2025-07: no service).
    import csv

    from pipelines.dbt_project import REFERENCE_DIR

    with open(REFERENCE_DIR / "bundled_rates.csv", newline="") as handle:
        card = [r for r in csv.DictReader(handle) if r["currency"] == "USD"]
    group_april = next(r["rate"] for r in card if (r["effective_from"], r["market"], r["category"]) == (
        "2026-04-01", "Rest of Central & Eastern Europe", "marketing"))
    poland_july = next(r["rate"] for r in card if (r["effective_from"], r["market"], r["category"]) == (
        "2026-07-01", "Poland", "marketing"))
    s.send("m1", "2026-07-06T10:00:00")
    s.build()
    dates = sorted({r["effective_from"] for r in card})
    counts = dict(s.rows("SELECT as_of::VARCHAR, count(DISTINCT market) FROM marts.rate_card_in_force "
                         "WHERE currency = 'USD' GROUP BY ALL"))
    assert counts == {d: 47 for d in dates}
    assert s.rows("""SELECT as_of::VARCHAR, priced_as, rate::VARCHAR FROM marts.rate_card_in_force
                     WHERE market = 'Poland' AND category = 'marketing' AND as_of IN ('2026-04-01', '2026-07-01')
                     ORDER BY as_of""") == [("2026-04-01", "Rest of Central & Eastern Europe", f"{float(group_april):.6f}"),
                                            ("2026-07-01", "Poland", f"{float(poland_july):.6f}")]
    assert s.rows("SELECT DISTINCT category FROM marts.rate_card_in_force WHERE as_of = '2022-02-01' ORDER BY 1") == [
        ("business_initiated",), ("user_initiated",)]
    assert s.rows("SELECT count(*) FROM marts.rate_card_in_force WHERE as_of = '2025-07-01' AND category = 'service'") == [(0,)]
