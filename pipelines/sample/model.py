"""Behavioural constants of the sample world, the platform's change dates, and the envelope-count calibration."""

from __future__ import annotations

from datetime import date

# Platform timeline (see docs/whatsapp-platform.md in the shared domain notes).
PMP_START = date(2025, 7, 1)  # pricing_model flips from CBP to PMP on webhooks sent from this day
LADDER_CHANGE = date(2025, 10, 7)  # TIER_1K -> TIER_2K, portfolio-level limits, FLAGGED/DOWNGRADE gone
ONPREM_SUNSET = date(2025, 10, 23)  # last On-Prem day; the legacy number is on Cloud from here on
WEBHOOK_V24 = date(2025, 11, 1)  # our app's webhook version; v24+ drops `conversation` outside FEP
NEW_SYSTEM_SPELLING = date(2025, 9, 1)  # customer_changed_number before, user_changed_number after
BSUID_START = date(2026, 4, 1)  # user_id / recipient_user_id appear in webhooks
BSUID_SEND_START = date(2026, 5, 1)  # businesses may send to a BSUID
SERVICE_CHARGED = date(2026, 10, 1)  # rate cards gain a `service` rate

# Customer population
PRESENT_AT_START = 0.7  # the rest join uniformly across the window
BSUID_ONLY_SHARE = 0.04  # username users whose phone is never shared with the business

# Conversations started by customers
SESSION_P = 0.012  # per active customer-day, before the weekday factor
WEEKDAY_FACTOR = (1.10, 1.05, 1.00, 1.00, 1.05, 0.90, 0.90)  # Monday first; mean exactly 1
INBOUND_PER_SESSION = ((1, 0.35), (2, 0.30), (3, 0.20), (4, 0.10), (5, 0.05))
REPLY_P = 0.9  # an agent answers each customer turn with a free-form message
CTWA_SESSION_P = 0.05  # sessions opened from a Click-to-WhatsApp ad
FOLLOWUP_P = 0.002  # agent tries a free-form nudge days after the chat (fails with 131047 outside the CSW)

# Business-initiated templates
MARKETING_EVERY = 7  # a WABA runs one campaign a week
MARKETING_P = 0.12  # share of its customers a campaign reaches
UTILITY_P = 0.010
AUTH_P = 0.004

# Delivery outcomes of messages that do not fail
P_NO_WEBHOOK = 0.002
P_DELIVERED = 0.95
P_READ_WITHOUT_DELIVERED = 0.03
P_READ = 0.75  # given delivered
P_PRICING_ON_READ = 0.1  # pricing rides on read instead of delivered
P_FAIL_UNDELIVERABLE = 0.008  # 131026
P_FAIL_EXPERIMENT = 0.002  # 130472
P_FAIL_ECOSYSTEM = 0.03  # 131049 on marketing outside the US (inside the US it is always)

# Archive defects
P_BATCH = 0.04  # campaign `sent` statuses of two messages share one envelope
P_REBATCH = 0.004  # a status already sent rides again inside a later envelope
P_REDELIVER = 0.01  # Meta retries a POST with the same body
P_LATE = 0.003  # a status is received the next day
P_SWAP = 0.01  # delivered arrives after read
P_INT_TIMESTAMP = 0.02  # inbound timestamps sent as integers

# Identity events, per active customer-day
NUMBER_CHANGE_P = 0.0002
IDENTITY_CHANGE_P = 0.0001
PREFERENCE_P = 0.0001


def _mean_inbound() -> float:
    return sum(n * p for n, p in INBOUND_PER_SESSION)


def _status_envelopes(fail_p: float, sent_share: float = 1.0) -> float:
    ok = 1 - fail_p
    delivered = P_DELIVERED
    read = P_DELIVERED * P_READ + P_READ_WITHOUT_DELIVERED
    return (1 - P_NO_WEBHOOK) * (fail_p + ok * (sent_share + delivered + read))


def envelopes_per_customer_day() -> float:
    """Expected webhook envelopes one active customer produces per day, derived from the constants above."""
    from pipelines.sample.world import MARKETS

    us_share = MARKETS["US"][0]
    common_fail = P_FAIL_UNDELIVERABLE + P_FAIL_EXPERIMENT
    marketing_fail = us_share + (1 - us_share) * P_FAIL_ECOSYSTEM + common_fail
    inbound = _mean_inbound()
    session = SESSION_P * (inbound + inbound * REPLY_P * _status_envelopes(common_fail))
    campaign_sent = 1 - P_BATCH / 2
    templates = (
        MARKETING_P / MARKETING_EVERY * _status_envelopes(marketing_fail, campaign_sent)
        + (UTILITY_P + AUTH_P) * _status_envelopes(common_fail)
    )
    followups = FOLLOWUP_P * 0.5
    return (session + templates + followups) * (1 + P_REDELIVER)


def active_share(start: date, end: date) -> float:
    """Expected share of (customer, day) pairs in which a customer exists."""
    days = (end - start).days + 1
    bsuid_from = max(start, BSUID_START)
    bsuid_days = max(0, (end - bsuid_from).days + 1 - 15)
    bsuid_share = BSUID_ONLY_SHARE if bsuid_from <= end else 0.0
    regular = PRESENT_AT_START + (1 - PRESENT_AT_START) * 0.5
    return (1 - bsuid_share) * regular + bsuid_share * bsuid_days / days


def cloud_share(start: date, end: date) -> float:
    """Share of traffic that reaches the Cloud archive: the legacy number's On-Prem days are not envelopes."""
    from pipelines.sample.world import MARKETS, PHONES

    days = (end - start).days + 1
    onprem_days = max(0, (min(end, ONPREM_SUNSET) - start).days)
    waba = next(w for w, *_, until in PHONES if until is not None)
    numbers_in_waba = sum(1 for w, *_ in PHONES if w == waba)
    customers_on_number = sum(share for share, _, _, w, *_ in MARKETS.values() if w == waba) / numbers_in_waba
    return 1 - customers_on_number * onprem_days / days


def customers_for_envelopes(envelopes: int, start: date, end: date) -> int:
    days = (end - start).days + 1
    per_customer = envelopes_per_customer_day() * active_share(start, end) * cloud_share(start, end) * days
    return max(1, round(envelopes / per_customer))
