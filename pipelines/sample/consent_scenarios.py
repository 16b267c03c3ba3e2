"""Scripted consent stories in the sample world, each a case the policy decides (see consent_truth.py):

- a customer of a business with two WABAs opts in on both, then opts out on one (the opt-out is the business's);
- a customer stops marketing in WhatsApp without the user_preferences webhook reaching the business: the 131050
  failures of the next marketing templates are the only evidence; a resume follows later;
- a customer's identity (security code) changes after the opt-in;
- a customer moves to a new number; the old number passes to a new owner, who is messaged, writes, and opts in;
- a customer with no opt-in writes, and the business answers with a template inside the window they opened;
- customers write STOP in several languages.

The customers are the scenarios' own (never in the random population), act only on the scripted days, and go
through the same Traffic methods as everyone else, so every webhook, send-log row and ground-truth count stays
consistent. Their opt-in register is optins/scenarios.csv.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from pipelines.sample import model, writers
from pipelines.sample.rng import FastRandom
from pipelines.sample.truth import Truth
from pipelines.sample.world import Customer, PhoneNumber, World, day_start_ts, new_bsuid, new_wa_id

FIRST_IDX = 10_000_000  # scenario customers' indexes: apart from the random population's
CHAT_STOPS = (("fr", "ARRÊT"), ("es", "Baja"), ("pt", "parar!"), ("hi", "band karo"), ("de", "STOPP"),
              ("it", "Basta"), ("en", "Stop"))
HOUR = 3600
DAY = 86400


class ConsentScenarios:
    def __init__(self, world: World, seed: int) -> None:
        self.w = world
        self.r = FastRandom(f"consent_scenarios:{seed}")
        self.customers: list[Customer] = []
        # idx -> register entries (time, event, scope, id recorded under, waba_id)
        self.register: dict[int, list[tuple[int, str, str, str, str]]] = {}
        self.actions: dict[int, list[tuple[int, int, Callable]]] = {}  # day ordinal -> [(time, seq, action)]
        self.hidden_stops: list[tuple[int, int]] = []  # (idx, time): stops whose webhook never reached us
        self.passes: dict[int, tuple[int, int]] = {}  # new owner idx -> (time the number passed, previous holder idx)
        self._seq = 0
        self._plan()

    # ------------------------------------------------------------ cast and script

    def _phone(self, waba_index: int) -> PhoneNumber | None:
        return next((p for p in self.w.phones if p.waba is self.w.wabas[waba_index] and p.onprem_until is None), None)

    def _customer(self, market: str, iso2: str, phone: PhoneNumber) -> Customer:
        idx = FIRST_IDX + len(self.customers)
        wa = new_wa_id(self.r, market, self.w.used_numbers)
        uid = new_bsuid(self.r, iso2, self.w.used_numbers)
        c = Customer(idx, market, iso2, wa, uid, f"Scenario {idx - FIRST_IDX}", phone, self.w.start.toordinal(),
                     False, "never", "")
        self.customers.append(c)
        return c

    def _at(self, t: int, action: Callable) -> None:
        self._seq += 1
        self.actions.setdefault(t // DAY + 719163, []).append((t, self._seq, action))

    def _opt(self, c: Customer, t: int, event: str, waba_index: int, under: str | None = None) -> None:
        self.register.setdefault(c.idx, []).append((t, event, "all", under or c.wa_id, self.w.wabas[waba_index].waba_id))

    def _plan(self) -> None:
        # Late enough for every platform feature the stories touch (Cloud API only, BSUIDs), with room to play out.
        first = max(self.w.start + timedelta(days=40), model.ONPREM_SUNSET + timedelta(days=1))
        if first + timedelta(days=30) > self.w.end or len(self.w.wabas) < 2:
            return
        br, other = self._phone(0), self._phone(1)
        if br is None or other is None or br.waba.portfolio_id != other.waba.portfolio_id:
            return
        d0 = day_start_ts(first)
        before = d0 - 30 * DAY

        # An opt-out recorded on one WABA of a two-WABA business.
        c = self._customer("IN", "IN", br)
        self._opt(c, before, "opt_in", 0)
        self._opt(c, before, "opt_in", 1)
        self._opt(c, d0 + 10 * HOUR, "opt_out", 0)
        self._send(c, d0 + 2 * DAY + 10 * HOUR, "UTILITY", other)
        self._send(c, d0 + 2 * DAY + 11 * HOUR, "UTILITY", br)

        # A marketing stop seen only through 131050, then a resume (whose webhook does arrive).
        c = self._customer("IN", "IN", br)
        self._opt(c, before, "opt_in", 0)
        self._opt(c, before, "opt_in", 1)
        self._at(d0 + 9 * HOUR, lambda tr, day, c=c, t=d0 + 9 * HOUR: self._hidden_stop(c, t))
        self._send(c, d0 + DAY + 10 * HOUR, "MARKETING", other)
        self._send(c, d0 + 3 * DAY + 10 * HOUR, "MARKETING", br)
        self._send(c, d0 + 3 * DAY + 11 * HOUR, "UTILITY", br)
        self._at(d0 + 10 * DAY + 9 * HOUR, lambda tr, day, c=c, t=d0 + 10 * DAY + 9 * HOUR: tr._preference(day, c, t))
        self._send(c, d0 + 12 * DAY + 10 * HOUR, "UTILITY", other)

        # An identity change after the opt-in.
        c = self._customer("IN", "IN", other)
        self._opt(c, before, "opt_in", 1)
        self._at(d0 + 8 * HOUR, lambda tr, day, c=c, t=d0 + 8 * HOUR: tr._identity_change(day, c, t))
        self._send(c, d0 + 2 * DAY + 10 * HOUR, "UTILITY", other)

        # A move to a new number; the old number passes to a new owner.
        mover = self._customer("BR", "BR", br)
        old_number = mover.wa_id
        self._opt(mover, before, "opt_in", 0)
        self._send(mover, d0 - 5 * DAY + 10 * HOUR, "UTILITY", br)
        moved_at = d0 + 7 * HOUR
        self._at(moved_at, lambda tr, day, c=mover, t=moved_at: tr._number_change(day, c, t))
        self._send(mover, d0 + 2 * DAY + 10 * HOUR, "UTILITY", br)
        owner = Customer(FIRST_IDX + len(self.customers), "BR", "BR", old_number,
                         new_bsuid(self.r, "BR", self.w.used_numbers), "Scenario new owner", br,
                         self.w.start.toordinal(), False, "never", "")
        self.customers.append(owner)
        self.passes[owner.idx] = (moved_at, mover.idx)
        self._send(owner, d0 + 3 * DAY + 10 * HOUR, "UTILITY", br)
        self._write(owner, d0 + 4 * DAY + 10 * HOUR, "Who is this? I just got this number")
        self._send(owner, d0 + 4 * DAY + 11 * HOUR, "UTILITY", br)
        self._opt(owner, d0 + 6 * DAY + 10 * HOUR, "opt_in", 0)
        self._send(owner, d0 + 7 * DAY + 10 * HOUR, "UTILITY", br)

        # No opt-in: a template answers the customer inside the window they opened; three days later it does not.
        c = self._customer("BR", "BR", br)
        self._write(c, d0 + 10 * HOUR, "Hi, is my order on the way?")
        self._send(c, d0 + 11 * HOUR, "UTILITY", br)
        self._send(c, d0 + 3 * DAY + 11 * HOUR, "UTILITY", br)

        # STOP written in the chat, in several languages.
        for i, (_, word) in enumerate(CHAT_STOPS):
            market, phone = ("BR", br) if i % 2 == 0 else ("IN", other)
            c = self._customer(market, market, phone)
            self._opt(c, before, "opt_in", 0 if phone is br else 1)
            self._write(c, d0 + 12 * HOUR + i * 60, word)
            self._send(c, d0 + DAY + 12 * HOUR + i * 60, "UTILITY", phone)

    def _send(self, c: Customer, t: int, category: str, phone: PhoneNumber) -> None:
        def act(tr, day, c=c, t=t, category=category, phone=phone) -> None:
            home, c.phone = c.phone, phone  # the business writes from another of its numbers
            try:
                tr._template_send(day, c, t, category, None)
            finally:
                c.phone = home
        self._at(t, act)

    def _write(self, c: Customer, t: int, text: str) -> None:
        self._at(t, lambda tr, day, c=c, t=t, text=text: tr._inbound(day, c, t, "text", False, False, text=text))

    def _hidden_stop(self, c: Customer, t: int) -> None:
        c.stopped = True  # the customer stopped marketing; no user_preferences webhook reached the business
        self.hidden_stops.append((c.idx, t))

    # ------------------------------------------------------------ running

    def run_day(self, traffic, day: date) -> None:
        for _, _, action in sorted(self.actions.get(day.toordinal(), ()), key=lambda a: (a[0], a[1])):
            action(traffic, day)

    def write_register(self, out: Path, truth: Truth) -> None:
        """optins/scenarios.csv: the scenario customers' opt-ins, with the wording and the business they name."""
        from pipelines.sample.business import BUSINESS_NAMES, OPTIN_WORDING, _iso

        portfolio = {w.waba_id: w.portfolio_id for w in self.w.wabas}
        rows = []
        for idx in sorted(self.register):
            for n, (t, event, scope, under, waba_id) in enumerate(sorted(self.register[idx])):
                opt_in = event == "opt_in"
                name = BUSINESS_NAMES.get(portfolio[waba_id], "") if opt_in else ""
                rows.append((under, event, _iso(t), "website_form" if opt_in else "call_centre", scope,
                             f"sc-{idx - FIRST_IDX:03d}-{n}", waba_id,
                             OPTIN_WORDING.format(business=name, scope=scope) if opt_in else "", name))
        rows.sort(key=lambda row: (row[2], row[0], row[1], row[5]))
        rel = "optins/scenarios.csv"
        writers.write_csv(out / rel, ("customer_id", "event", "event_at", "source", "scope", "evidence_ref", "waba_id",
                                      "wording", "business_name"), rows)
        truth.file(rel).rows_in += len(rows)
        truth.expected["optin_events"] += len(rows)
