"""Two businesses of the sample world that earn their messaging limits step by step from their own traffic.

The random cast never reaches Meta's absolute thresholds in a small world, so the back-test would judge no
upgrade. These two scenario businesses send just enough business-initiated templates for every rule to be
judged, and leave the decision to Meta's rules as played by limits.py (the generator never reads the pipeline):

- Meta, "Upcoming changes to messaging limits" (updated Jun 17, 2026), "Before October 7, 2025": limits are per
  phone number; a new number starts at 250 and reaches 1,000 through a scaling path (1,000 business-initiated
  conversations in a moving 30 days with high-quality templates, as BSPs copied Meta's page in 2024), then rises
  one level 24 hours after it is connected, rated Medium or High and used for half its limit in 7 days.
  The *number* scenario: a new number from the window's second week, a steady 48 new customers a day until the
  first step, then 3 more customers each day on top (reusing the same people: Meta counts unique users inside
  each window, nothing forbids reaching one again later) until half of 1,000 in 7 days earns 10K.
- Meta, "Messaging Limits" (updated May 21, 2026): from 2025-10-07 the limit belongs to the business portfolio; a
  portfolio at 250 reaches 2,000 only through a scaling path (2,000 delivered messages outside customer-service
  windows to unique users in a moving 30 days with high-quality templates), then a review; above it, half the
  current limit used in the last 7 days raises the limit one level within 6 hours.
  The *portfolio* scenario: a portfolio whose number stays idle at 250 until a week after the switch, then 90 new
  customers a day until the scaling path is met and reviewed, then 6 more each day on top until half of
  2,000 in 7 days earns 10K.

The customers never write to the business, so every delivery is outside a customer-service window; the
templates are utility templates rated high quality (GREEN). They opted in before their first template (the
ordinary opt-in register). Sends happen between 00:30 and 03:30 UTC, before the day's random traffic, so Meta's
clock (limits.py) only moves forward. The sends draw from this module's own random stream; the archive's and
the limits' streams see more envelopes, so their later draws shift. Written to ground_truth_limit_scenarios.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import orjson

from pipelines.sample import business, model
from pipelines.sample.rng import FastRandom
from pipelines.sample.world import SURNAMES, Customer, PhoneNumber, Template, Waba, World, day_start_ts, new_bsuid, new_wa_id

FIRST_IDX = 20_000_000  # scenario customers' indexes: apart from the random cast's and the consent scenarios'
SEND_FROM_S, SEND_SPAN_S = 1800, 3 * 3600  # 00:30 to 03:30 UTC
HISTORY_DAYS = 7  # idle days before the first send: the forecast needs a week of history to start


@dataclass
class Scenario:
    name: str
    era: str  # per_number | per_portfolio: the ladder its steps are on
    waba: Waba
    phone: PhoneNumber
    pool_size: int  # customers: enough distinct people for the scaling path's 30 days
    scaling_per_day: int  # new customers a day while on the scaling path
    ramp_per_day: int  # on the automatic step, day d reaches scaling_per_day + ramp_per_day * d customers
    customers: list[Customer] = field(default_factory=list)
    first_day: date | None = None
    next_customer: int = 0
    tier_since: date | None = None
    sent: dict[str, int] = field(default_factory=dict)  # tier -> templates sent at that tier


SCENARIOS = (
    # (name, era, waba id, portfolio id, phone id, digits, formatted, template, business name, pool, rate, ramp)
    ("number", "per_number", "120934857610293", "3381920475610283", "121039485761203", "447418300118",
     "+44 7418 300118", "account_statement_ready", "Harbour Lane Energy", 1150, 48, 3),
    ("portfolio", "per_portfolio", "124857361029384", "3490128374650192", "125938471620394", "447418300557",
     "+44 7418 300557", "delivery_slot_confirmed", "Kestrel Home Delivery", 2300, 90, 6),
)
# The step each scenario stops at: the one after the first automatic step (5,000 in 7 days would cost too much).
TARGET = {"per_number": ("TIER_250", "TIER_1K", "TIER_10K"), "per_portfolio": ("TIER_250", "TIER_2K", "TIER_10K")}


# Templates each scenario sends before it stops (measured on the default world; the schedule depends on Meta's
# thresholds, not on the world's size, and varies by a few with the delivery draws).
MESSAGES = {"per_number": 1866, "per_portfolio": 3786}


def first_send_day(era: str, start: date, end: date) -> date | None:
    """The scenario's first day of sending, or None when the window cannot hold its steps."""
    switch = model.LADDER_CHANGE
    first = start + timedelta(days=HISTORY_DAYS) if era == "per_number" else max(start, switch) + timedelta(days=HISTORY_DAYS)
    # a number's steps must be earned before the switch; a portfolio's need about two months after it
    if era == "per_number" and first + timedelta(days=60) >= switch:
        return None
    return None if first + timedelta(days=70) > end else first


def expected_envelopes(start: date, end: date) -> float:
    """Webhook envelopes the scenarios add to a world of this window (for `envelopes=` worlds' calibration)."""
    per_template = model._status_envelopes(model.P_FAIL_UNDELIVERABLE + model.P_FAIL_EXPERIMENT) * (1 + model.P_REDELIVER)
    return sum(MESSAGES[era] * per_template for _, era, *_ in SCENARIOS if first_send_day(era, start, end) is not None)


class LimitScenarios:
    """Adds the scenario businesses to the world (after the random traffic is set up) and sends their templates."""

    def __init__(self, world: World, seed: int, traffic, growth) -> None:
        self.w = world
        self.r = FastRandom(f"limit-scenarios:{seed}")
        self.traffic = traffic
        self.scenarios: list[Scenario] = []
        for name, era, waba_id, portfolio_id, phone_id, digits, formatted, tpl, biz, pool, rate, ramp in SCENARIOS:
            first = first_send_day(era, world.start, world.end)
            if first is None:
                continue
            waba = Waba(waba_id, portfolio_id, "UTC", 0)
            phone = PhoneNumber(phone_id, waba, digits, formatted, messaging_limit="TIER_250")
            template = Template(self._template_id(), waba, tpl, "en_GB", "UTILITY", world.start - timedelta(days=400))
            s = Scenario(name, era, waba, phone, pool, rate, ramp, first_day=first)
            for i in range(pool):
                wa_id = new_wa_id(self.r, "GB", world.used_numbers)
                user_id = new_bsuid(self.r, "GB", world.used_numbers)
                person = f"{self.r.choice(('Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Ava'))} {self.r.choice(SURNAMES)}"
                # added after the random traffic built its cast: it never picks them
                s.customers.append(Customer(FIRST_IDX + len(self.scenarios) * 1_000_000 + i, "GB", "GB", wa_id, user_id,
                                            person, phone, world.start.toordinal(), False, "before", "all"))
            world.wabas.append(waba)
            world.phones.append(phone)
            world.templates.append(template)
            world.customers.extend(s.customers)
            business.BUSINESS_NAMES[portfolio_id] = biz
            if growth is not None:
                growth.phones[phone.phone_number_id] = []
                growth.templates[template.template_id] = []
            self.scenarios.append(s)
        if growth is not None and self.scenarios:
            growth._record(day_start_ts(world.start))

    def _template_id(self) -> int:
        return 1_300_000_000_000_000 + self.r.randrange(10**12)

    def run_day(self, day: date) -> None:
        """Send the day's templates of each scenario, in time order, with this module's random stream."""
        # The sends go through the ordinary traffic model (statuses, billing, send log, consent truth); lending it
        # this module's stream keeps the random cast's behaviour the same draw for draw.
        saved = self.traffic.r
        self.traffic.r = self.r
        try:
            for s in self.scenarios:
                self._day(s, day)
        finally:
            self.traffic.r = saved

    def _day(self, s: Scenario, day: date) -> None:
        if day < s.first_day:
            return
        tier = s.phone.messaging_limit
        ladder = TARGET[s.era]
        if tier not in ladder[:-1]:
            return  # the target step is reached: the business stops its campaign
        if s.tier_since is None or s.sent.get(tier) is None:
            s.tier_since = day
            s.sent[tier] = 0
        if tier == ladder[0]:
            n = s.scaling_per_day
        else:
            n = min(s.scaling_per_day + s.ramp_per_day * ((day - s.tier_since).days + 1), s.pool_size)
        ds = day_start_ts(day)
        for i in range(n):
            c = s.customers[s.next_customer]
            s.next_customer = (s.next_customer + 1) % s.pool_size
            self.traffic._template_send(day, c, ds + SEND_FROM_S + i * SEND_SPAN_S // n, "UTILITY", None)
        s.sent[tier] += n

    def write(self, out: Path) -> None:
        doc = {"scenarios": [{"name": s.name, "era": s.era, "waba_id": s.waba.waba_id, "portfolio_id": s.waba.portfolio_id,
                              "phone_number_id": s.phone.phone_number_id, "customers": s.pool_size,
                              "first_send_day": s.first_day.isoformat(), "final_limit": s.phone.messaging_limit,
                              "templates_sent_by_tier": s.sent}
                             for s in self.scenarios]}
        (Path(out) / "ground_truth_limit_scenarios.json").write_bytes(
            orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
