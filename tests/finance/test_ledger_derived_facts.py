"""The ledger's derived facts (local_sent_date, local_month, is_delivered, is_business_initiated), worked out by hand,
and the rollups that read them instead of re-deriving them (spend_daily, spend_monthly_by_template, waba reprice)."""
from datetime import date

from finance.scenario import Scenario
from pipelines.cli import main

# A second WABA east of UTC, beside the scenario's own (W1, set to Sao Paulo below).
KOLKATA_WABA, KOLKATA_PHONE = "W2", "PN2"
IN = "919812345678"


def _two_timezones(s: Scenario) -> Scenario:
    # Offsets by hand from the IANA tz database: America/Sao_Paulo is UTC-03:00 all year (Brazil ended daylight saving
    # in 2019), Asia/Kolkata UTC+05:30 (no daylight saving).
    s.accounts = [("W1", "P1", "America/Sao_Paulo", "USD"), (KOLKATA_WABA, "P2", "Asia/Kolkata", "USD")]
    s.rate("North America", "marketing", "0.0250").rate("India", "marketing", "0.0107")
    s.send("sp_late", "2025-08-01T02:59:59")   # 2025-07-31 23:59:59 in Sao Paulo: July there, August in UTC
    s.send("sp_midnight", "2025-08-01T03:00:00")  # 2025-08-01 00:00:00 in Sao Paulo: the local month has turned
    s.send("in_early", "2025-08-31T18:30:00", to=IN, waba=KOLKATA_WABA, phone=KOLKATA_PHONE)  # 2025-09-01 00:00 in Kolkata
    s.send("in_before", "2025-08-31T18:29:59", to=IN, waba=KOLKATA_WABA, phone=KOLKATA_PHONE)  # 2025-08-31 23:59:59 there
    return s


def test_local_send_date_and_month_are_the_wabas_own_across_local_midnight(landing, warehouse):
    s = _two_timezones(Scenario(landing, warehouse))
    s.build()
    assert s.ledger("message_id, local_sent_date, local_month") == [
        ("in_before", date(2025, 8, 31), date(2025, 8, 1)),
        ("in_early", date(2025, 9, 1), date(2025, 9, 1)),
        ("sp_late", date(2025, 7, 31), date(2025, 7, 1)),
        ("sp_midnight", date(2025, 8, 1), date(2025, 8, 1)),
    ]
    # The spend marts group by the ledger's local day and month, not the UTC one.
    assert s.rows("SELECT day, waba_id, messages FROM marts.spend_daily ORDER BY waba_id, day") == [
        (date(2025, 7, 31), "W1", 1), (date(2025, 8, 1), "W1", 1),
        (date(2025, 8, 31), KOLKATA_WABA, 1), (date(2025, 9, 1), KOLKATA_WABA, 1)]
    assert s.rows("SELECT month, waba_id, messages FROM marts.spend_monthly_by_template ORDER BY waba_id, month") == [
        (date(2025, 7, 1), "W1", 1), (date(2025, 8, 1), "W1", 1),
        (date(2025, 8, 1), KOLKATA_WABA, 1), (date(2025, 9, 1), KOLKATA_WABA, 1)]


def test_reprice_takes_the_period_in_local_dates(landing, warehouse):
    s = _two_timezones(Scenario(landing, warehouse))
    s.build()
    # Local July holds only sp_late (0.025, hand-computed: one delivered North America marketing message), though its
    # UTC date is in August; the reprice's actual side reads the ledger's local_sent_date.
    assert main(["reprice", "--regime", "pmp_2025_07", "--from", "2025-07-01", "--to", "2025-07-31",
                 "--warehouse", str(warehouse)]) == 0
    assert s.rows("SELECT month, waba_id, sum(actual_units), sum(actual_charge)::VARCHAR FROM marts.reprice_scenarios "
                  "GROUP BY ALL") == [(date(2025, 7, 1), "W1", 1, "0.025000")]


def test_is_delivered_follows_metas_statuses_and_a_failure_does_not_cancel_a_delivery(s):
    # Domain file section 11 (Pricing regimes; Meta, "Pricing on the WhatsApp Business Platform", Jul 1, 2026, and the
    # status reference): charging happens on delivery, statuses are unordered, a failed report does not cancel a
    # delivered or read one. Section 1.6 (Meta's status reference): a message read at once may get `read` without a
    # `delivered` webhook, and `delivered` can arrive after `failed` or before it (multi-device).
    s.send("delivered", "2025-08-04T10:00:00")
    s.send("read_only", "2025-08-04T10:01:00", statuses=("read",))
    s.send("failed", "2025-08-04T10:02:00", statuses=("failed",))
    s.send("sent_only", "2025-08-04T10:03:00", statuses=())
    s.send("delivered_then_failed", "2025-08-04T10:04:00", statuses=("delivered", "failed"))
    s.send("failed_then_delivered", "2025-08-04T10:05:00", statuses=("failed", "delivered"))
    s.build()
    assert s.ledger("message_id, final_status, is_delivered") == [
        ("delivered", "delivered", True),
        ("delivered_then_failed", "failed", True),
        ("failed", "failed", False),
        ("failed_then_delivered", "failed", True),
        ("read_only", "read", True),
        ("sent_only", "sent", False),
    ]
    # spend_daily's documented 'delivered' count is of messages delivered and not failed: delivered and read_only.
    assert s.rows("SELECT sum(messages), sum(delivered) FROM marts.spend_daily") == [(6, 2)]


def test_is_business_initiated_is_a_template_send_not_a_service_reply(s):
    # Domain file section 7 (WhatsApp Business Messaging Policy): business-initiated messages must be approved
    # templates; section 11 (Messaging limits; Meta, "Messaging Limits", May 21, 2026): the limit counts those delivered
    # outside a customer-service window. A free-form reply inside the window the customer opened is not one.
    s.customer_says("in1", "2025-08-04T10:00:00")
    s.send("reply", "2025-08-04T10:05:00", template=None, category=None)     # free-form service reply
    s.send("template", "2025-08-04T10:06:00", category="UTILITY")            # a template, even inside the window
    s.send("unlogged_marketing", "2025-08-05T12:00:00", logged=False,  # 26 h later: the window has closed
           pricing={"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"})
    s.send("unlogged_service", "2025-08-04T10:07:00", logged=False,
           pricing={"billable": False, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"})
    s.build()
    assert s.ledger("message_id, message_type, in_service_window, is_business_initiated") == [
        ("reply", "text", True, False),
        ("template", "template", True, True),
        ("unlogged_marketing", "unknown", False, True),
        ("unlogged_service", "unknown", True, False),
    ]
