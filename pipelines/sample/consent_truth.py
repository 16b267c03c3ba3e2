"""The consent status every template send should get in the audit, from what the generator itself did.

The generator knows each customer as one person: which templates it sent them and when, the opt-in register it
wrote for them, when they stopped or resumed marketing in WhatsApp, and when they changed number or identity.
The rules below restate the audit's documented precedence (models/marts/optin_audit.sql) in those terms; they
never read the landing files or the warehouse. Written to ground_truth_consent.parquet.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from pipelines.sample.traffic import Traffic
from pipelines.sample.world import Customer

SCHEMA = {"message_id": pl.String, "sent_at": pl.Datetime("us", "UTC"), "category": pl.String,
          "consent_status": pl.String}


class ConsentTraffic(Traffic):
    """Traffic that also remembers, per customer, what the consent audit will be judged on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sends: list[tuple[int, str, int, str, str]] = []  # (customer idx, message id, time, category, recipient)
        self.preferences: dict[int, list[tuple[int, str]]] = {}  # idx -> [(time, 'stop' | 'resume')]
        self.changes: dict[int, list[int]] = {}  # idx -> times of number, user-id and identity changes

    def _template_send(self, day, c: Customer, t: int, category: str, campaign) -> None:
        before = c.last_template_id
        super()._template_send(day, c, t, category, campaign)
        if c.last_template_id != before:
            recipient = c.user_id if c.bsuid_only else c.wa_id
            self.sends.append((c.idx, c.last_template_id, t, category.lower(), recipient))

    def _preference(self, day, c: Customer, t: int) -> None:
        before = c.stopped
        super()._preference(day, c, t)
        if c.stopped != before:
            self.preferences.setdefault(c.idx, []).append((t, "stop" if c.stopped else "resume"))

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


def expected_status(t: int, category: str, recipient: str, optins: list[tuple[int, str, str, str]],
                    preferences: list[tuple[int, str]], changes: list[int]) -> str:
    """One send's status under the documented precedence; every list sorted by time, events at `t` count as before.

    `optins` are the customer's register entries (time, event, scope, id recorded under); `recipient` is the id the
    message went to.
    """
    def covers(scope: str) -> bool:
        return scope in ("all", category)

    before = [(ts, event, scope) for ts, event, scope, _ in optins if ts <= t]
    grant = max((ts for ts, event, scope in before if event == "opt_in" and covers(scope)), default=None)
    revoke = max((ts for ts, event, scope in before if event == "opt_out" and covers(scope)), default=None)
    stops = preferences[:bisect_right(preferences, (t, "~"))]
    if category == "marketing" and stops and stops[-1][1] == "stop":
        return "opted_out"
    if revoke is not None and (grant is None or revoke >= grant):
        return "opted_out"
    if grant is not None:
        earlier_changes = changes[:bisect_right(changes, t)]
        return "covered" if not earlier_changes or grant > earlier_changes[-1] else "identity_changed"
    if any(event == "opt_in" for _, event, _ in before):
        return "out_of_scope"
    # An opt-in given after a number change is for the new number: only a later one under the same id counts.
    if any(event == "opt_in" and ts > t and under == recipient for ts, event, _, under in optins):
        return "after_send"
    return "missing"


def write_consent_truth(out: Path, traffic: ConsentTraffic, optins: dict[int, list[tuple[int, str, str, str]]]) -> None:
    optins = {idx: sorted(events) for idx, events in optins.items()}
    preferences = {idx: sorted(events) for idx, events in traffic.preferences.items()}
    changes = {idx: sorted(times) for idx, times in traffic.changes.items()}
    rows = []
    for idx, message_id, t, category, recipient in traffic.sends:
        status = expected_status(t, category, recipient, optins.get(idx, []), preferences.get(idx, []),
                                 changes.get(idx, []))
        rows.append((message_id, datetime.fromtimestamp(t, timezone.utc), category, status))
    pl.DataFrame(rows, schema=SCHEMA, orient="row").write_parquet(Path(out) / "ground_truth_consent.parquet")
