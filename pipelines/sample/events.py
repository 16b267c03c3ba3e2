"""Management webhooks (templates, phone quality, capabilities, account) scheduled across the window.

Each event is built when it fires so its payload reflects the state the earlier events left behind,
and it mutates that state so snapshots and template sends see the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from pipelines.sample import model, payloads
from pipelines.sample.world import TEMPLATE_SPECS, PhoneNumber, Template, Waba, World, day_start_ts

FIELD_TABLE = {
    "message_template_status_update": "template_status_events",
    "message_template_quality_update": "template_quality_events",
    "template_category_update": "template_category_events",
    "phone_number_quality_update": "phone_number_quality_events",
    "business_capability_update": "business_capability_events",
    "account_update": "account_update_events",
}

Changes = list[tuple[str, dict]]


@dataclass
class Event:
    day: date
    ts: int
    waba: Waba
    build: Callable[[], Changes]


class Schedule:
    def __init__(self, world: World) -> None:
        self.world = world
        self.events: list[Event] = []
        self._n = 0
        span = (world.end - world.start).days
        pre_end = min(world.end, model.LADDER_CHANGE - timedelta(days=1))
        post_start = max(world.start, model.LADDER_CHANGE + timedelta(days=1))
        self._pre = (world.start, (pre_end - world.start).days) if pre_end >= world.start else None
        self._post = (post_start, (world.end - post_start).days) if post_start <= world.end else None
        self._all = (world.start, span)
        for w, waba in enumerate(world.wabas):
            self._templates(w, waba)
            self._capabilities(w, waba)
        for p, phone in enumerate(world.phones):
            self._phone_quality(p, phone)
        if world.start <= model.LADDER_CHANGE <= world.end:
            self._ladder_change()
        self._account_updates()
        self.events.sort(key=lambda e: e.ts)
        self._by_day: dict[date, list[Event]] = {}
        for e in self.events:
            self._by_day.setdefault(e.day, []).append(e)

    def on(self, day: date) -> list[Event]:
        return self._by_day.get(day, [])

    # ------------------------------------------------------------ scheduling helpers

    def _add(self, window, frac: float, waba: Waba, build: Callable[[], Changes], extra_days: int = 0) -> None:
        if window is None:
            return
        first, span = window
        day = first + timedelta(days=int(span * frac) + extra_days)
        if day > self.world.end:
            return
        # distinct entry.time per event keeps the staging keys unique
        self._n += 1
        ts = day_start_ts(day) + 3 * 3600 + self._n * 37
        self.events.append(Event(day, ts, waba, build))

    # ------------------------------------------------------------ templates

    def _templates(self, w: int, waba: Waba) -> None:
        tpls = self.world.templates_of(waba)
        promo = next(t for t in tpls if t.name == "promo_weekly_offers")
        reminder = next(t for t in tpls if t.name == "appointment_reminder")
        new = [t for t in tpls if t.status == "PENDING"]

        def quality(t: Template, new_score: str) -> Callable[[], Changes]:
            def build() -> Changes:
                prev, t.quality = t.quality, new_score
                return [("message_template_quality_update", payloads.template_quality_value(t, prev, new_score))]
            return build

        def status(t: Template, event: str, reason: str | None, info=None, score: str | None = None) -> Callable[[], Changes]:
            def build() -> Changes:
                changes: Changes = []
                if score is not None:
                    changes += quality(t, score)()
                t.status = event
                changes.append(("message_template_status_update", payloads.template_status_value(t, event, reason, info)))
                return changes
            return build

        self._add(self._all, 0.15, waba, quality(promo, "YELLOW"))
        # a quality drop and the pause it causes reach us as two changes of one entry
        self._add(self._all, 0.22, waba, status(promo, "PAUSED", "NONE",
                  ("FIRST_PAUSE", "Your message template has been paused for 3 hours due to low quality."), score="RED"))
        self._add(self._all, 0.22, waba, status(promo, "REINSTATED", "NONE", ("UNPAUSE", "Your template is active again.")), extra_days=1)
        self._add(self._all, 0.30, waba, quality(promo, "YELLOW"))
        self._add(self._all, 0.55, waba, status(promo, "PAUSED", "NONE",
                  ("SECOND_PAUSE", "Your message template has been paused for 6 hours due to low quality."), score="RED"))
        if w == 2:
            self._add(self._all, 0.62, waba, status(promo, "DISABLED", "NONE"))
        else:
            self._add(self._all, 0.55, waba, status(promo, "REINSTATED", "NONE", ("UNPAUSE", "Your template is active again.")), extra_days=2)

        span = (self.world.end - self.world.start).days
        # Meta announces a recategorisation 24 h before it takes effect.
        effective_at = day_start_ts(self.world.start + timedelta(days=int(span * 0.40) + 1)) + 3 * 3600

        def recategorise_notice(t: Template) -> Changes:
            at = effective_at
            return [("template_category_update", payloads.template_category_impending(t, "MARKETING", at))]

        def recategorise(t: Template) -> Changes:
            prev, t.category = t.category, "MARKETING"
            return [("template_category_update", payloads.template_category_completed(t, prev, "MARKETING"))]

        for t in (x for x in tpls if x.name == reminder.name):
            self._add(self._all, 0.40, waba, lambda t=t: recategorise_notice(t))
            self._add(self._all, 0.40, waba, lambda t=t: recategorise(t), extra_days=1)

        created = {t.name for t in new}
        for name in sorted(created):
            versions = [t for t in new if t.name == name]
            frac = next(spec[3] for spec in TEMPLATE_SPECS if spec[0] == name)
            for i, t in enumerate(versions):
                if name == "payment_receipt" and i == 0:
                    self._add(self._all, frac, waba, status(t, "REJECTED", "INCORRECT_CATEGORY"), extra_days=1)
                else:
                    self._add(self._all, frac, waba, status(t, "APPROVED", "NONE"), extra_days=1)
                    self._add(self._all, frac, waba, quality(t, "GREEN"), extra_days=8)

    # ------------------------------------------------------------ phone numbers and capabilities

    def _phone_quality(self, p: int, phone: PhoneNumber) -> None:
        def change(event: str, rating: str, status: str) -> Callable[[], Changes]:
            # FLAGGED / UNFLAGGED: the rating and status change; current_limit restates the number's limit.
            def build() -> Changes:
                phone.quality_rating, phone.status = rating, status
                return [("phone_number_quality_update", {"display_phone_number": phone.display, "event": event,
                                                         "current_limit": phone.messaging_limit})]
            return build

        # Upgrades are earned by traffic (limits.py); only the quality story is scripted here.
        if p == 4:
            phone.messaging_limit = "TIER_250"  # a new number starts at 250
        if p == 2:
            self._add(self._pre, 0.45, phone.waba, change("FLAGGED", "RED", "FLAGGED"))
            self._add(self._pre, 0.45, phone.waba, change("UNFLAGGED", "YELLOW", "CONNECTED"), extra_days=4)
        if p == 3:
            self._add(self._pre, 0.5, phone.waba, change("FLAGGED", "RED", "FLAGGED"))
            # Flagged for 7 days: Meta lowers the number's limit one level (before 2025-10-07).
            self._add(self._pre, 0.5, phone.waba, self._downgrade(phone), extra_days=7)

    def _downgrade(self, phone: PhoneNumber) -> Callable[[], Changes]:
        def build() -> Changes:
            old = phone.messaging_limit
            new = _PER_NUMBER[max(0, _PER_NUMBER.index(old) - 1)] if old in _PER_NUMBER else old
            phone.messaging_limit = new
            phone.status = "CONNECTED"
            return [("phone_number_quality_update", {"display_phone_number": phone.display, "event": "DOWNGRADE",
                                                     "old_limit": old, "current_limit": new})]
        return build

    def _ladder_change(self) -> None:
        # Existing portfolios moved onto the new ladder on the change day, inheriting their best number's limit.
        for phone in self.world.phones:
            def build(phone=phone) -> Changes:
                siblings = [x for x in self.world.phones if x.waba.portfolio_id == phone.waba.portfolio_id]
                best = max((x.messaging_limit for x in siblings), key=_tier_rank)
                # The portfolio takes its best number's limit; 1K numbers were eligible for automatic scaling,
                # which starts at 2K on the new ladder. 250 stays 250.
                new = "TIER_2K" if best == "TIER_1K" else best
                old = phone.messaging_limit
                phone.messaging_limit = new
                value = {"display_phone_number": phone.display, "event": "UPGRADE", "old_limit": old, "current_limit": new,
                         "max_daily_conversations_per_business": _TIER_CAP[new]}
                return [("phone_number_quality_update", value)]
            self._n += 1
            ts = day_start_ts(model.LADDER_CHANGE) + 2 * 3600 + self._n * 37
            self.events.append(Event(model.LADDER_CHANGE, ts, phone.waba, build))

    def _capabilities(self, w: int, waba: Waba) -> None:
        # Each restates the limit in force when it fires, in the spellings Meta used: before the switch the
        # per-phone value (when the WABA's numbers share one), after it the portfolio's as an integer or TIER_ string.
        def pre() -> Changes:
            limits = {_TIER_INT[x.messaging_limit] for x in self.world.phones if x.waba is waba}
            value: dict = {"max_phone_numbers_per_waba": 25}
            if len(limits) == 1:
                value = {"max_daily_conversation_per_phone": limits.pop(), **value}
            return [("business_capability_update", value)]

        def post() -> Changes:
            best = max((x.messaging_limit for x in self.world.phones if x.waba.portfolio_id == waba.portfolio_id), key=_tier_rank)
            limit = best if w == 1 else _TIER_CAP.get(best, _TIER_INT[best])
            value: dict = {"max_daily_conversations_per_business": limit, "max_phone_numbers_per_waba": 25}
            if w == 1:
                value["max_phone_numbers_per_business"] = 20
            return [("business_capability_update", value)]

        self._add(self._pre, 0.25 + w * 0.05, waba, pre)
        self._add(self._post, 0.1 + w * 0.2, waba, post)

    def _account_updates(self) -> None:
        a, b, c = self.world.wabas
        self._add(self._all, 0.05, a, lambda: [("account_update", {
            "event": "MM_LITE_TERMS_SIGNED", "waba_info": {"waba_id": a.waba_id, "owner_business_id": a.portfolio_id}})])
        # An event name the reference does not list; loaders must keep it rather than drop it.
        self._add(self._all, 0.5, c, lambda: [("account_update", {
            "event": "BUSINESS_MESSAGING_REVIEW_COMPLETED", "waba_info": {"waba_id": c.waba_id, "owner_business_id": c.portfolio_id},
            "review_info": {"decision": "APPROVED"}})])
        self._add(self._all, 0.45, c, lambda: [("some_future_field", {"event": "PILOT_ENROLLED", "pilot": {"name": "smart_retries", "cohort": 3}})])
        self._add(self._all, 0.9, c, lambda: [("some_future_field", {"event": "PILOT_COMPLETED", "pilot": {"name": "smart_retries", "cohort": 3}})])
        tier_month = max(self.world.start, date(2025, 10, 1))
        if tier_month <= self.world.end:
            frac = (tier_month - self.world.start).days / max(1, (self.world.end - self.world.start).days)
            month = (tier_month.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
            base = day_start_ts(tier_month)
            # Meta may announce one tier switch twice; both reach the archive.
            for k in range(2):
                info = {"tier_update_time": base + 5400 + k * 600, "pricing_category": "UTILITY", "tier": "100000:500000",
                        "effective_month": month, "region": "India"}
                self._add(self._all, frac, b, lambda info=info: [("account_update", {
                    "event": "VOLUME_BASED_PRICING_TIER_UPDATE", "volume_tier_info": info})], extra_days=k)


_PER_NUMBER = ("TIER_250", "TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
_TIER_INT = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000,
             "TIER_UNLIMITED": -1}
_TIER_CAP = {"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000, "TIER_UNLIMITED": "UNLIMITED"}


def _tier_rank(tier: str) -> int:
    return ("TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED").index(tier)

