"""The sample world's messaging-limit authority decides upgrades as Meta's pages state them.

Meta, "Messaging Limits" (updated May 21, 2026): from the starting 250 only a scaling path raises the limit (2,000
delivered messages outside customer service windows to unique users in a 30-day moving period with high-quality
templates, then a review); above it automatic scaling at half the limit used in 7 days, within 6 hours. Meta,
"Upcoming changes to messaging limits" (Jun 17, 2026): before 2025-10-07 per number, 24 hours after meeting the
criteria (number connected, quality Medium or High)."""
from collections import Counter
from datetime import date, datetime, timezone

from pipelines.sample.limits import MessagingLimits, SlidingUnique
from pipelines.sample.world import Customer, PhoneNumber, Template, Waba, World

WABA = Waba("W1", "BP1", "UTC", 0)


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


class Sink:
    def __init__(self) -> None:
        self.bodies: list[tuple[int, bytes]] = []

    def cloud(self, recv_ms: int, body: bytes) -> None:
        self.bodies.append((recv_ms, body))


class Traffic:
    def __init__(self) -> None:
        self.on_delivered = []
        self.sink = Sink()


class Truth:
    def __init__(self) -> None:
        self.expected = Counter()


def setup(limit: str, start: date = date(2025, 11, 1)):
    phone = PhoneNumber("P1", WABA, "15550001111", "+1 555-000-1111", messaging_limit=limit)
    template = Template(1, WABA, "promo", "en_US", "MARKETING", date(2025, 1, 1))
    world = World([WABA], [phone], [template], [], start, date(2026, 3, 31))
    traffic = Traffic()
    limits = MessagingLimits(world, 1, traffic, Truth(), None)
    return phone, template, traffic, limits


def customer(i: int) -> Customer:
    return Customer(i, "US", "US", f"1555{i:07d}", f"US.{i}", "x", None, 0, False, "before", "all")


def test_2000_unique_users_in_30_days_earn_the_scaling_path_after_a_review():
    phone, template, traffic, limits = setup("TIER_250")
    # 1,999 users over 20 days: no upgrade. The 2,000th completes the path.
    for i in range(1999):
        traffic.on_delivered[0](phone, customer(i), ts("2025-11-01T00:00:00") + i * 864, template)
    assert limits.pending == {}
    limits.delivered(phone, customer(1999), ts("2025-11-21T00:00:00"), template)
    fire, old, new, decision = limits.pending[("per_portfolio", "BP1")]
    assert (old, new, decision["reached_by"]) == ("TIER_250", "TIER_2K", "scaling_path")
    assert 0 < fire - ts("2025-11-21T00:00:00") <= 24 * 3600   # the assumed review time
    limits.advance(fire)
    assert phone.messaging_limit == "TIER_2K" and len(traffic.sink.bodies) == 1
    assert b'"max_daily_conversations_per_business":2000' in traffic.sink.bodies[0][1]


def test_a_weekly_campaign_to_the_same_200_users_never_leaves_250():
    phone, template, traffic, limits = setup("TIER_250")
    for week in range(8):
        for i in range(200):
            limits.delivered(phone, customer(i), ts("2025-11-03T10:00:00") + week * 7 * 86400 + i, template)
    assert limits.pending == {} and phone.messaging_limit == "TIER_250"


def test_messages_inside_a_service_window_and_low_quality_templates_do_not_count():
    phone, template, traffic, limits = setup("TIER_250")
    at = ts("2025-11-05T12:00:00")
    people = [customer(i) for i in range(2500)]
    for c in people[:1000]:
        c.last_inbound = at - 3600          # wrote an hour earlier: window open
    template.quality = "YELLOW"
    for k, c in enumerate(people[1000:2000]):
        limits.delivered(phone, c, at + k, template)   # outside the window, but not a high-quality template
    template.quality = "GREEN"
    for k, c in enumerate(people[:1000] + people[2000:]):
        limits.delivered(phone, c, at + 2000 + k, template)
    # Counted for the scaling path: people[2000:] only (500).
    assert limits.pending == {}
    assert limits.windows[("per_portfolio", "BP1")][1].count(at + 4000) == 500


def test_automatic_scaling_at_half_the_limit_within_6_hours_and_24_hours_before_the_switch():
    phone, template, traffic, limits = setup("TIER_2K")
    for i in range(1000):
        limits.delivered(phone, customer(i), ts("2025-12-01T10:00:00") + i * 60, template)
    fire, old, new, decision = limits.pending[("per_portfolio", "BP1")]
    met = ts("2025-12-01T10:00:00") + 999 * 60
    assert (old, new, decision["reached_by"]) == ("TIER_2K", "TIER_10K", "automatic") and 0 < fire - met <= 6 * 3600
    phone, template, traffic, limits = setup("TIER_1K", start=date(2025, 6, 1))
    for i in range(500):
        limits.delivered(phone, customer(i), ts("2025-07-01T10:00:00") + i * 60, template)
    fire, old, new, decision = limits.pending[("per_number", "P1")]
    met = ts("2025-07-01T10:00:00") + 499 * 60
    assert (old, new, decision["era"]) == ("TIER_1K", "TIER_10K", "per_number") and 0 < fire - met <= 24 * 3600
    # A number flagged (RED) is not raised.
    phone, template, traffic, limits = setup("TIER_1K", start=date(2025, 6, 1))
    phone.quality_rating, phone.status = "RED", "FLAGGED"
    for i in range(600):
        limits.delivered(phone, customer(i), ts("2025-07-01T10:00:00") + i * 60, template)
    assert limits.pending == {}


def test_the_sliding_count_forgets_users_a_window_later():
    window = SlidingUnique(100)
    window.add(0, "a")
    window.add(50, "b")
    window.add(60, "a")
    # (t - 100, t]: b (at 50) leaves at 150, a (last at 60) at 160.
    assert window.count(60) == 2 and window.count(149) == 2 and window.count(150) == 1 and window.count(160) == 0
