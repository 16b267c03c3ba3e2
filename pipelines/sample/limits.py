"""Meta's messaging-limit system inside the sample world: upgrades earned by the world's own traffic.

The generator plays Meta. It counts, per scope, the unique users (by the phone number, or the user id of a
username-only user) each template was delivered to while no customer-service window was open, and raises a limit
when Meta's pages say it would, after a random delay inside Meta's stated window:

- Meta, "Messaging Limits" (updated May 21, 2026): limits belong to the business portfolio; from the starting 250
  the only way up is a scaling path: business verification, partner-led verification, or 2,000 delivered messages
  outside customer service windows to unique users within a 30-day moving period using high-quality templates, then
  a review of message quality (no duration stated: REVIEW_HOURS is our assumption). Above it, automatic scaling:
  high-quality messages across all numbers and templates and at least half the current limit used in the last 7
  days raise the limit one level within 6 hours.
- Meta, "Upcoming changes to messaging limits" (Jun 17, 2026), "Before October 7, 2025": limits per number, a new
  number starts at 250, 1,000 upon becoming eligible for automatic scaling (the scaling path of the time: 1,000
  business-initiated conversations in 30 days with high-quality templates, per Meta's page as BSPs copied it in
  2024), then automatic scaling 24 hours after the number is connected, rated Medium or High and used for half its
  limit in 7 days. A number Flagged for 7 days drops one level (events.py schedules that downgrade).

It never reads the pipeline's code or reference files. Its RNG is its own, so the rest of the world is unchanged.
Decisions are written to ground_truth_limits.json.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timezone
from pathlib import Path

import orjson

from pipelines.sample import model
from pipelines.sample.events import FIELD_TABLE
from pipelines.sample.rng import FastRandom
from pipelines.sample.world import Customer, PhoneNumber, Template, World, day_start_ts

DAY = 86400
SWITCH_TS = day_start_ts(model.LADDER_CHANGE)
REVIEW_HOURS = 24  # assumption: Meta states no review time for a completed scaling path
# (ladder, delay of an automatic upgrade in hours, scaling-path threshold)
ERAS = {
    "per_number": (("TIER_250", "TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"), 24, 1000),
    "per_portfolio": (("TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"), 6, 2000),
}
LIMITS = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000,
          "TIER_UNLIMITED": None}
_RANK = {tier: (limit is None, limit or 0) for tier, limit in LIMITS.items()}  # unlimited above every number
CAPABILITY_VALUE = {"TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000, "TIER_UNLIMITED": "UNLIMITED"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SlidingUnique:
    """Distinct users with a counted delivery in (now - window, now], kept as a queue: O(1) per delivery."""

    def __init__(self, window_s: int) -> None:
        self.window = window_s
        self.queue: deque[tuple[int, str]] = deque()
        self.last: dict[str, int] = {}

    def add(self, t: int, user: str) -> None:
        self.expire(t)
        last = self.last.get(user, t)
        if t > last:
            last = t
        self.last[user] = last
        self.queue.append((last, user))

    def expire(self, now: int) -> None:
        while self.queue and self.queue[0][0] <= now - self.window:
            t, user = self.queue.popleft()
            if self.last.get(user) == t:
                del self.last[user]

    def count(self, now: int) -> int:
        self.expire(now)
        return len(self.last)


class MessagingLimits:
    def __init__(self, world: World, seed: int, traffic, truth, growth) -> None:
        self.w = world
        self.r = FastRandom(f"limits:{seed}")
        self.traffic = traffic
        self.truth = truth
        self.growth = growth
        self.windows: dict[tuple[str, str], tuple[SlidingUnique, SlidingUnique]] = {}
        self.pending: dict[tuple[str, str], tuple[int, str, str, dict]] = {}  # scope -> (fire at, from, to, decision)
        self.decisions: list[dict] = []
        self._scope_phones: dict[tuple[str, str], list[PhoneNumber]] = {}
        self._phones_seen = len(world.phones)
        traffic.on_delivered.append(self.delivered)

    # ------------------------------------------------------------ counting

    @staticmethod
    def _scope(phone: PhoneNumber, t: int) -> tuple[str, str]:
        return ("per_number", phone.phone_number_id) if t < SWITCH_TS else ("per_portfolio", phone.waba.portfolio_id)

    def _phones(self, scope: tuple[str, str]) -> list[PhoneNumber]:
        # asked on every delivery; a number never changes portfolio, but the limit scenarios add numbers to the world
        if self._phones_seen != len(self.w.phones):
            self._scope_phones.clear()
            self._phones_seen = len(self.w.phones)
        phones = self._scope_phones.get(scope)
        if phones is None:
            era, scope_id = scope
            if era == "per_number":
                phones = [p for p in self.w.phones if p.phone_number_id == scope_id]
            else:
                phones = [p for p in self.w.phones if p.waba.portfolio_id == scope_id]
            self._scope_phones[scope] = phones
        return phones

    def _limit(self, scope: tuple[str, str]) -> str:
        # The generator moves a portfolio's numbers together, so the best of them is the portfolio's limit.
        phones = self._phones(scope)
        best = phones[0].messaging_limit
        for p in phones[1:]:
            if _RANK[p.messaging_limit] > _RANK[best]:
                best = p.messaging_limit
        return best

    def delivered(self, phone: PhoneNumber, c: Customer, t: int, template: Template) -> None:
        """A template Meta delivered: count it when no customer-service window was open, then judge the scope."""
        if self.pending:
            self.advance(t)
        if c.last_inbound > t - DAY:
            return
        user = c.user_id if c.bsuid_only else c.wa_id
        scope = self._scope(phone, t)
        windows = self.windows.get(scope)
        if windows is None:
            windows = self.windows[scope] = (SlidingUnique(7 * DAY), SlidingUnique(30 * DAY))
        week, month = windows
        week.add(t, user)
        if template.quality == "GREEN":
            month.add(t, user)
        self._judge(scope, t, week.count(t), month.count(t))

    def _judge(self, scope: tuple[str, str], t: int, week: int, month: int) -> None:
        if scope in self.pending:
            return
        ladder, delay_hours, threshold = ERAS[scope[0]]
        current = self._limit(scope)
        limit = LIMITS[current]
        if limit is None or current not in ladder:
            return
        step = ladder.index(current)
        phones = self._phones(scope)
        if step == 0:
            # Scaling path: the delivered-messages path, then a review of message quality (a number must be
            # connected to be eligible, a low rating keeps it at 250).
            if month < threshold or any(p.quality_rating == "RED" or p.status != "CONNECTED" for p in phones):
                return
            reached_by, delay_s = "scaling_path", self.r.randrange(1, REVIEW_HOURS * 3600 + 1)
        else:
            if week * 2 < limit:
                return
            if scope[0] == "per_number":
                if any(p.status != "CONNECTED" or p.quality_rating not in ("GREEN", "YELLOW") for p in phones):
                    return
            elif any(p.quality_rating == "RED" for p in phones):
                return
            reached_by, delay_s = "automatic", self.r.randrange(1, delay_hours * 3600 + 1)
        fire = t + delay_s
        if scope[0] == "per_number" and fire >= SWITCH_TS:
            return  # the number's limit stops mattering at the switch; its portfolio is judged from then on
        if fire >= day_start_ts(self.w.end) + DAY:
            return  # after the world ends
        new = ladder[step + 1]
        decision = {"era": scope[0], "scope_id": scope[1], "reached_by": reached_by, "from": current, "to": new,
                    "condition_met_at": _iso(t), "raised_at": _iso(fire), "unique_7d": week,
                    "unique_30d_high_quality": month}
        # The webhook is archived now, stamped with the time Meta sends it (its day's file is not written yet);
        # the world's state changes when that time comes (advance).
        self._announce(scope, fire, current, new)
        self.pending[scope] = (fire, current, new, decision)

    # ------------------------------------------------------------ raising limits

    def start_day(self, day: date) -> None:
        self.advance(day_start_ts(day))

    def finish(self) -> None:
        self.advance(day_start_ts(self.w.end) + DAY - 1)

    def advance(self, now: int) -> None:
        """Raise every limit whose delay has run out by `now`, in time order."""
        due = sorted((v[0], k) for k, v in self.pending.items() if v[0] <= now)
        for _, scope in due:
            fire, _, new, decision = self.pending.pop(scope)
            for p in self._phones(scope):
                p.messaging_limit = new
            if self.growth is not None:
                self.growth._record(fire)
            self.decisions.append(decision)

    def _announce(self, scope: tuple[str, str], at: int, old: str, new: str) -> None:
        phones = self._phones(scope)
        if scope[0] == "per_number":
            phone = phones[0]
            self._emit(phone.waba.waba_id, at, "phone_number_quality_update",
                       {"display_phone_number": phone.display, "event": "UPGRADE", "old_limit": old, "current_limit": new})
        else:
            # Meta announces an approved increase with business_capability_update (Messaging Limits, Approvals).
            waba = phones[0].waba.waba_id
            self._emit(waba, at, "business_capability_update",
                       {"max_daily_conversations_per_business": CAPABILITY_VALUE[new], "max_phone_numbers_per_waba": 25})

    def _emit(self, waba_id: str, at: int, field: str, value: dict) -> None:
        ts = at
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": waba_id, "time": ts, "changes": [{"value": value, "field": field}]}]}
        self.truth.expected[FIELD_TABLE[field]] += 1
        self.traffic.sink.cloud(ts * 1000 + self.r.randrange(1000), orjson.dumps(body))

    def write(self, out: Path) -> None:
        (Path(out) / "ground_truth_limits.json").write_bytes(
            orjson.dumps({"review_hours_assumed": REVIEW_HOURS, "upgrades": self.decisions},
                         option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
