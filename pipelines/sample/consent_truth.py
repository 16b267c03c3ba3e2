"""The consent status every template send should get in the audit, decided from the policy and from what the
generator itself did, never from the landing files, the warehouse or the pipeline's SQL.

The generator knows each customer as one person: which templates it sent them, from which number and when, the
opt-in register it wrote for them, when they really stopped or resumed marketing (also when no webhook said so),
when they wrote to the business and what, when they changed number or identity, and who holds a number that passed
on. The rules, first match wins, each from its source (docs/compliance.md):
  opted_out          the person asked the business to stop (register opt-out, or STOP written in the chat) after
                     their latest opt-in for this message's WABA: the Business Messaging Policy has a business honour
                     a request to stop its communications, so one recorded under another WABA of the same business
                     portfolio counts;
  marketing_stopped  a marketing template while the person had stopped marketing from the business (M-MKT);
  number_reassigned  the recipient holds a number that passed to them, never opted in themselves, and the previous
                     holder had (a number passing to a new owner ends consent);
  covered_identity_changed  an opt-in, but the person changed number, user id or identity since (M-ID: re-verify);
  covered            an opt-in for this WABA covering the category;
  user_initiated_window  no opt-in, but the recipient wrote to this number in the 24 hours before (a reply);
  out_of_scope       an opt-in for this WABA, for other categories only;
  after_send         their first covering opt-in under the id the message went to came later;
  missing            none.
Events at the send's second count as before it. Written to ground_truth_consent.parquet.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

import polars as pl

from pipelines.sample import writers
from pipelines.sample.consent_scenarios import CHAT_STOPS, ConsentScenarios
from pipelines.sample.traffic import Traffic
from pipelines.sample.world import Customer

SCHEMA = {"message_id": pl.String, "sent_at": pl.Datetime("us", "UTC"), "category": pl.String,
          "consent_status": pl.String}
WINDOW_S = 24 * 3600
STOP_WORDS = {word for _, word in CHAT_STOPS}  # what the scenarios write when they mean "stop messaging me"


class ConsentTraffic(Traffic):
    """Traffic that also remembers, per person, what the consent audit will be judged on."""

    def __init__(self, world, seed: int, *args, **kwargs) -> None:
        super().__init__(world, seed, *args, **kwargs)
        # (customer idx, message id, time, category, recipient, waba_id, portfolio_id, inside a window they opened)
        self.sends: list[tuple[int, str, int, str, str, str, str, bool]] = []
        self.preferences: dict[int, list[tuple[int, str, str]]] = {}  # idx -> [(time, 'stop' | 'resume', portfolio)]
        self.chat_stops: dict[int, list[tuple[int, str]]] = {}  # idx -> [(time, portfolio)]
        self.changes: dict[int, list[int]] = {}  # idx -> times of number, user-id and identity changes
        # (customer id, phone_number_id) -> times they wrote in the last two days (days run in order; within one, a
        # session's later turns may be recorded before an earlier send, so a window is judged by time, not order)
        self.inbound: dict[tuple[str, str], list[int]] = {}
        self.scenarios = ConsentScenarios(world, seed)

    def run_day(self, day) -> None:
        super().run_day(day)
        self.scenarios.run_day(self, day)

    @staticmethod
    def _id(c: Customer) -> str:
        return c.user_id if c.bsuid_only else c.wa_id

    def _template_send(self, day, c: Customer, t: int, category: str, campaign) -> None:
        before = c.last_template_id
        super()._template_send(day, c, t, category, campaign)
        if c.last_template_id != before:
            waba = c.phone.waba
            wrote = self.inbound.get((self._id(c), c.phone.phone_number_id))
            in_window = False
            if wrote:  # most recipients never wrote
                wrote[:] = [x for x in wrote if x > t - 2 * WINDOW_S]
                in_window = any(t - WINDOW_S < x <= t for x in wrote)
            self.sends.append((c.idx, c.last_template_id, t, category.lower(), self._id(c), waba.waba_id,
                               waba.portfolio_id, in_window))

    def _inbound(self, day, c: Customer, t: int, mtype: str, onprem: bool, referral: bool, text: str | None = None) -> None:
        super()._inbound(day, c, t, mtype, onprem, referral, text=text)
        self.inbound.setdefault((self._id(c), c.phone.phone_number_id), []).append(t)
        if text in STOP_WORDS:
            self.chat_stops.setdefault(c.idx, []).append((t, c.phone.waba.portfolio_id))

    def _preference(self, day, c: Customer, t: int) -> None:
        before = c.stopped
        super()._preference(day, c, t)
        if c.stopped != before:
            self.preferences.setdefault(c.idx, []).append((t, "stop" if c.stopped else "resume", c.phone.waba.portfolio_id))

    def _number_change(self, day, c: Customer, t: int) -> None:
        wa_id, user_id = c.wa_id, c.user_id
        super()._number_change(day, c, t)
        if c.wa_id != wa_id:
            self.changes.setdefault(c.idx, []).append(t)
        if c.user_id != user_id:
            self.changes.setdefault(c.idx, []).append(t + 5)  # the user_changed_user_id notice follows 5 s later

    def _identity_change(self, day, c: Customer, t: int) -> None:
        super()._identity_change(day, c, t)
        if not c.bsuid_only:
            self.changes.setdefault(c.idx, []).append(t)


class Person:
    """One person's consent history: register entries (time, event, scope, id recorded under, waba_id), stops and
    resumes (time, value, portfolio), chat stops (time, portfolio), change times; all sorted."""

    def __init__(self, register, preferences, chat_stops, changes) -> None:
        self.register = sorted(register)
        self.preferences = sorted(preferences)
        self.chat_stops = sorted(chat_stops)
        self.changes = sorted(changes)

    def latest_optin(self, t: int, category: str, waba_id: str) -> int | None:
        return max((ts for ts, event, scope, _, waba in self.register
                    if ts <= t and event == "opt_in" and scope in ("all", category) and waba in (None, waba_id)),
                   default=None)


def expected_status(t: int, category: str, recipient: str, waba_id: str, portfolio_id: str, in_window: bool,
                    person: Person, portfolios: dict[str, str], previous_holder: tuple[int, Person] | None) -> str:
    grant = person.latest_optin(t, category, waba_id)
    opt_outs = [ts for ts, event, scope, _, waba in person.register
                if ts <= t and event == "opt_out" and scope in ("all", category) and portfolios.get(waba) == portfolio_id]
    opt_outs += [ts for ts, portfolio in person.chat_stops if ts <= t and portfolio == portfolio_id]
    revoke = max(opt_outs, default=None)
    if revoke is not None and (grant is None or revoke >= grant):
        return "opted_out"
    choices = [(ts, value) for ts, value, portfolio in person.preferences if ts <= t and portfolio == portfolio_id]
    if category == "marketing" and choices and choices[-1][1] == "stop":
        return "marketing_stopped"
    if grant is None and previous_holder is not None:
        passed_at, holder = previous_holder
        if holder.latest_optin(passed_at, category, waba_id) is not None:
            return "number_reassigned"
    if grant is not None:
        changes = person.changes[:bisect_right(person.changes, t)]
        return "covered_identity_changed" if changes and changes[-1] > grant else "covered"
    if in_window:
        return "user_initiated_window"
    if any(ts <= t and event == "opt_in" and waba in (None, waba_id) for ts, event, _, _, waba in person.register):
        return "out_of_scope"
    # An opt-in given after a number change is for the new number: only a later one under the same id counts.
    if any(ts > t and event == "opt_in" and under == recipient and scope in ("all", category) and waba in (None, waba_id)
           for ts, event, scope, under, waba in person.register):
        return "after_send"
    return "missing"


def write_consent_truth(out: Path, traffic: ConsentTraffic, optins: dict[int, list[tuple[int, str, str, str]]]) -> None:
    """`optins`: the random population's register (time, event, scope, id recorded under), all under its WABA."""
    scenarios = traffic.scenarios
    scenarios.write_register(out, traffic.truth)
    home_waba = {c.idx: c.phone.waba.waba_id for c in traffic.w.customers + scenarios.customers}
    register = {idx: [(ts, event, scope, under, home_waba[idx]) for ts, event, scope, under in events]
                for idx, events in optins.items()}
    for idx, events in scenarios.register.items():
        register.setdefault(idx, []).extend(events)
    preferences = {idx: list(events) for idx, events in traffic.preferences.items()}
    for idx, t in scenarios.hidden_stops:
        portfolio = next(c.phone.waba.portfolio_id for c in scenarios.customers if c.idx == idx)
        preferences.setdefault(idx, []).append((t, "stop", portfolio))
    people = {idx: Person(register.get(idx, []), preferences.get(idx, []), traffic.chat_stops.get(idx, []),
                          traffic.changes.get(idx, []))
              for idx in {s[0] for s in traffic.sends} | {holder for _, holder in scenarios.passes.values()}}
    portfolios = {w.waba_id: w.portfolio_id for w in traffic.w.wabas}
    rows = []
    for idx, message_id, t, category, recipient, waba_id, portfolio_id, in_window in traffic.sends:
        passed = scenarios.passes.get(idx)
        holder = (passed[0], people[passed[1]]) if passed else None
        status = expected_status(t, category, recipient, waba_id, portfolio_id, in_window, people[idx], portfolios,
                                 holder)
        rows.append((message_id, t, category, status))
    writers.write_parquet(Path(out) / "ground_truth_consent.parquet", rows, SCHEMA)
