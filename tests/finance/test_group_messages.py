"""Group messages (Groups API) priced as Meta states it, on hand-built landing folders with hand-computed charges.
Source M-GRP = Meta, "Groups API Pricing" (updated Oct 22, 2025): a billable group message is charged each time
it is delivered to someone in the group, at the rate of each recipient's country calling code; any member's
message opens a customer-service window for the whole group; group utility messages are not eligible for volume
tiers; non-template messages and utility templates inside the group's window are free_group_customer_service."""
import pytest

from finance.scenario import US, Scenario

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"  # shaped like Meta's sample group id
BR1, BR2 = "5511999990001", "5511999990002"
INDIA = "919812345678"
DO = "18095550100"         # Santo Domingo: Rest of Latin America
US2 = "12125550199"


@pytest.fixture
def s(landing, warehouse) -> Scenario:
    return Scenario(landing, warehouse)


def test_each_delivered_participant_is_charged_at_its_own_market_rate(s):
    # M-GRP: "charged for 5 delivered messages at the going marketing message rate for each recipient's country
    # calling code"; delivered to only 4 of 5 -> charged for 4. A read without a delivered counts as delivered
    # (M-GRP: "the delivered webhook is not sent back" when read at once); a failed participant is not charged.
    s.rate("North America", "marketing", "0.0250").rate("Brazil", "marketing", "0.0625")
    s.rate("India", "marketing", "0.0118").rate("Rest of Latin America", "marketing", "0.0740")
    s.group_send("g1", "2025-08-04T10:00:00", GROUP, {
        US: ("delivered", "read"), BR1: ("read",), INDIA: (), DO: ("failed",)})
    s.build()
    # Hand computation: 0.0250 (US, North America) + 0.0625 (Brazil) = 0.0875; India never delivered, DO failed.
    assert s.ledger("message_id, market, billable, charge, rate, delivered_participants, charged_units, group_id") == [
        ("g1", "Multiple", True, 0.0875, None, 2, 2, GROUP)]
    assert s.ledger_rows("SELECT participant_id, market, pricing_type, rate, charge FROM marts.group_message_deliveries "
                         "ORDER BY participant_id") == [
        (US, "North America", "regular", 0.025, 0.025), (BR1, "Brazil", "regular", 0.0625, 0.0625)]
    # Spend rollups count the two charged deliveries, not one message.
    assert s.ledger_rows("SELECT market, messages, billable_units, charge FROM marts.spend_daily") == [
        ("Multiple", 1, 2, 0.0875)]


def test_a_group_of_one_market_keeps_that_market_and_rate_on_the_ledger_row(s):
    # M-GRP: rates are the same as 1:1 per-message rates; two Brazilian deliveries are two Brazil marketing charges.
    s.rate("Brazil", "marketing", "0.0625")
    s.group_send("g2", "2025-08-04T10:00:00", GROUP, {BR1: ("delivered",), BR2: ("delivered", "failed")})
    s.build()
    # 2 x 0.0625 = 0.125 (a failed status after delivered does not cancel the charge: M-PRICE, statuses unordered).
    assert s.ledger("message_id, market, charge, rate, delivered_participants") == [("g2", "Brazil", 0.125, 0.0625, 2)]


def test_any_members_message_opens_the_window_for_the_whole_group_not_a_one_to_one_window(s):
    # M-GRP "How customer service windows work with Groups API": when any user in the group messages you, a
    # window opens between you and the entire group; utility templates inside it are free_group_customer_service,
    # marketing templates stay REGULAR (its pricing-types table). Under pmp_2025_07 a 1:1 utility template is
    # free only inside that customer's own window (M-PRICE), which the member's group message does not open.
    s.rate("Brazil", "utility", "0.0068").rate("Brazil", "marketing", "0.0625").rate("North America", "utility", "0.0040")
    s.member_says("in1", "2025-08-04T09:00:00", GROUP, BR1)
    s.group_send("g_util", "2025-08-04T10:00:00", GROUP, {BR1: ("delivered",), BR2: ("delivered",)},
                 template="notice", category="UTILITY")
    s.group_send("g_mkt", "2025-08-04T10:05:00", GROUP, {BR1: ("delivered",), BR2: ("delivered",)})
    s.group_send("g_util_late", "2025-08-05T09:30:00", GROUP, {BR1: ("delivered",), US2: ("delivered",)},
                 template="notice", category="UTILITY")
    s.send("one_to_one", "2025-08-04T10:10:00", to=BR1, template="notice", category="UTILITY")
    s.build()
    # g_util: inside the group's window, free. g_mkt: 2 x 0.0625 = 0.125. g_util_late: window closed at 09:00 the
    # next day, so 0.0068 (Brazil) + 0.0040 (North America) = 0.0108. one_to_one: BR1 has no 1:1 window, 0.0068.
    assert s.ledger("message_id, pricing_type, in_service_window, charge") == [
        ("g_mkt", "regular", True, 0.125), ("g_util", "free_customer_service", True, 0.0),
        ("g_util_late", "regular", False, 0.0108), ("one_to_one", "regular", False, 0.0068)]


def test_group_utility_deliveries_are_never_volume_tiered_nor_counted_on_the_tier_counter(s):
    # M-GRP "Rate cards": group utility messages are not eligible for volume tiers. M-PRICE: 1:1 utility messages
    # accrue per portfolio, market and month. Hand-made card: first band (1 message) 0.0080, from the 2nd 0.0040.
    s.rate("Brazil", "utility", "0.0080", lo=0, hi=1).rate("Brazil", "utility", "0.0040", lo=2)
    s.group_send("g_a", "2025-08-04T10:00:00", GROUP, {BR1: ("delivered",), BR2: ("delivered",)},
                 template="notice", category="UTILITY")
    s.send("a", "2025-08-04T11:00:00", to=BR1, template="notice", category="UTILITY")
    s.send("b", "2025-08-04T12:00:00", to=BR2, template="notice", category="UTILITY")
    s.group_send("g_b", "2025-08-04T13:00:00", GROUP, {BR1: ("delivered",), BR2: ("delivered",)},
                 template="notice", category="UTILITY")
    s.build()
    # a is the portfolio's 1st 1:1 utility message (0.0080) although 2 group deliveries came first; b is the 2nd
    # (0.0040); every group delivery pays the list rate: 2 x 0.0080 = 0.016 each time.
    assert s.ledger("message_id, volume_rank, charge") == [
        ("a", 1, 0.008), ("b", 2, 0.004), ("g_a", None, 0.016), ("g_b", None, 0.016)]


def test_group_deliveries_share_the_reported_free_service_allowance_with_one_to_one_messages(s):
    # M-UPD (Jul 1, 2026, confirmed): from 2026-10-01 service messages are charged per delivered message at the
    # market's rate (the utility rate when the card has none). Reported (BSPs quoting an Aug 25, 2026 version of
    # Meta's page): each business phone number's first 1,000 service messages per month are free, 1:1 and group
    # messages together. M-GRP bills a group message as one delivered message per participant, so each delivery
    # is one message of the allowance (our reading).
    s.rate("North America", "utility", "0.0040", effective="2026-10-01")
    for i in range(998):
        s.send(f"s{i:04d}", "2026-10-02T08:00:00", to=US, template=None, category=None, delay=1)
    s.group_send("g_service", "2026-10-02T09:00:00", GROUP, {US: ("delivered",), US2: ("delivered",), BR1: ()},
                 template=None, category=None)
    s.group_send("g_service_2", "2026-10-02T10:00:00", GROUP, {US: ("delivered",), US2: ("delivered",)},
                 template=None, category=None)
    s.build()
    # 998 1:1 service messages use 998 of the 1,000; g_service's two deliveries use the last two (free); BR1 got
    # nothing. g_service_2's two deliveries are past the allowance: 2 x 0.0040 = 0.008.
    rows = dict((r[0], r[1:]) for r in s.ledger("message_id, pricing_type, charge"))
    assert rows["g_service"] == ("free_customer_service", 0.0)
    assert rows["g_service_2"] == ("regular", 0.008)
    assert sum(r[1] for r in rows.values()) == pytest.approx(0.008)


def test_reconciliation_puts_each_delivery_under_its_participants_market_as_metas_invoice_does(s):
    # M-GRP: each delivery is charged at the recipient's country rate, so Meta's invoice lines split a group
    # message by market. Hand computation: North America 0.0250, Brazil 0.0625, both explained to the cent.
    s.rate("North America", "marketing", "0.0250").rate("Brazil", "marketing", "0.0625")
    s.group_send("g1", "2025-08-04T10:00:00", GROUP, {US: ("delivered",), BR1: ("delivered",)})
    s.invoice("2025-08", "North America", "marketing", "0.025").invoice("2025-08", "Brazil", "marketing", "0.0625")
    s.build()
    assert s.ledger_rows("""SELECT market, ledger_units, ledger_charge, invoice_amount, unexplained_vs_invoice
                            FROM marts.cost_reconciliation ORDER BY market""") == [
        ("Brazil", 1, 0.0625, 0.0625, 0.0), ("North America", 1, 0.025, 0.025, 0.0)]
