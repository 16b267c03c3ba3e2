"""Calls, groups and BSUID rotations in the sample world, shaped as Meta documents them:

- Calling API (`calls` field; "API and Webhook Reference", Calling API, Jun 26, 2026): a user-initiated call
  (connect with the user's offer, terminate COMPLETED with start/end/duration) and a business-initiated call
  (connect with the business's answer, statuses RINGING then ACCEPTED, terminate COMPLETED); contacts[] names the
  caller (wa_id and user_id, or user_id alone for a customer who shows only a username);
- Groups API ("Webhooks for Groups API", May 21, 2026): a group created (group_lifecycle_update), participants
  added by invite link and one leaving (group_participants_update), the group suspended (group_status_update);
- Business-scoped user IDs (Jun 29, 2026): user_id_update announces a BSUID rotation (user_id.previous/current,
  with wa_id when the number is known); the customer's next call carries the new BSUID.

The cast is this module's own (never the random population, so nothing the finance, growth or consent truths count
changes) and acts in the last weeks of the period, from May 2026 (BSUIDs reach webhooks from April 2026). Its
envelopes are one plain JSON-lines file, webhooks/cloud/calls_groups.jsonl; what staging must hold is written to
ground_truth_calls_groups.json, and the world's ground_truth.json counts the file, its envelopes and the identity
rows it adds. Deterministic from the seed (own RNG stream).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

from pipelines.sample.rng import FastRandom
from pipelines.sample.truth import Truth
from pipelines.sample.world import PhoneNumber, World, day_start_ts, new_bsuid, new_wa_id

FILE = "webhooks/cloud/calls_groups.jsonl"
TRUTH_FILE = "ground_truth_calls_groups.json"
FIRST_DAY = date(2026, 5, 1)  # Business-scoped user IDs page: BSUIDs in webhooks from early April 2026
# (market key, ISO country, shows only a username (no number in webhooks), rotated)
CAST = (("BR", "BR", False, True), ("IN", "IN", False, False), ("GB", "GB", True, True), ("US", "US", True, False))
HOUR, DAY = 3600, 86400


@dataclass
class Caller:
    name: str
    wa_id: str
    user_ids: list[str]     # every BSUID in order; the last is current
    bsuid_only: bool

    def contact(self, uid: str) -> dict:
        contact = {"profile": {"name": self.name}, "user_id": uid}
        if not self.bsuid_only:
            contact["wa_id"] = self.wa_id
        return contact


class CallsAndGroups:
    def __init__(self, world: World, seed: int, truth: Truth) -> None:
        self.w = world
        self.r = FastRandom(f"calls_groups:{seed}")
        self.truth = truth
        self.lines: list[bytes] = []
        self.expected = {"calls": 0, "call_events": 0, "group_events": 0, "group_participants": 0,
                         "user_id_updates": 0, "identity_changes": 0, "customer_identities": 0}
        self.calls: list[dict] = []
        self.rotations: list[dict] = []
        self.persons: list[list[str]] = []

    # ------------------------------------------------------------ envelopes

    def _envelope(self, phone: PhoneNumber, field: str, t: int, value: dict) -> None:
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": phone.display, "phone_number_id": phone.phone_number_id}, **value}
        doc = {"object": "whatsapp_business_account",
               "entry": [{"id": phone.waba.waba_id, "time": t, "changes": [{"field": field, "value": value}]}]}
        self.lines.append(orjson.dumps(doc))

    def _call_id(self) -> str:
        return "wacid." + "".join(self.r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                  for _ in range(28))

    def _party(self, c: Caller, uid: str, side: str) -> dict:
        party = {f"{side}_user_id": uid}
        if not c.bsuid_only:
            party[side] = c.wa_id
        return party

    def user_call(self, phone: PhoneNumber, c: Caller, t: int) -> None:
        uid, call_id, duration = c.user_ids[-1], self._call_id(), self.r.randrange(20, 600)
        base = {"id": call_id, "to": phone.display, **self._party(c, uid, "from"), "direction": "USER_INITIATED"}
        self._envelope(phone, "calls", t, {"contacts": [c.contact(uid)], "calls": [
            {**base, "event": "connect", "timestamp": str(t), "session": {"sdp_type": "offer", "sdp": "v=0"}}]})
        self._envelope(phone, "calls", t + 5 + duration, {"contacts": [c.contact(uid)], "calls": [
            {**base, "event": "terminate", "timestamp": str(t + 5 + duration), "status": "COMPLETED",
             "start_time": str(t + 5), "end_time": str(t + 5 + duration), "duration": duration}]})
        self._count_call(call_id, "USER_INITIATED", c, uid, duration, events=2)

    def business_call(self, phone: PhoneNumber, c: Caller, t: int) -> None:
        uid, call_id, duration = c.user_ids[-1], self._call_id(), self.r.randrange(20, 600)
        to = self._party(c, uid, "to")
        base = {"id": call_id, **to, "from": phone.display, "direction": "BUSINESS_INITIATED"}
        self._envelope(phone, "calls", t, {"contacts": [c.contact(uid)], "calls": [
            {**base, "event": "connect", "timestamp": str(t), "session": {"sdp_type": "answer", "sdp": "v=0"}}]})
        recipient = {"recipient_user_id": uid} if c.bsuid_only else {"recipient_id": c.wa_id, "recipient_user_id": uid}
        for offset, status in ((2, "RINGING"), (10, "ACCEPTED")):
            self._envelope(phone, "calls", t + offset, {"statuses": [
                {"id": call_id, "timestamp": str(t + offset), "type": "call", "status": status, **recipient}]})
        self._envelope(phone, "calls", t + 10 + duration, {"contacts": [c.contact(uid)], "calls": [
            {**base, "event": "terminate", "timestamp": str(t + 10 + duration), "status": "COMPLETED",
             "start_time": str(t + 10), "end_time": str(t + 10 + duration), "duration": duration}]})
        self._count_call(call_id, "BUSINESS_INITIATED", c, uid, duration, events=4)

    def _count_call(self, call_id: str, direction: str, c: Caller, uid: str, duration: int, events: int) -> None:
        self.expected["calls"] += 1
        self.expected["call_events"] += events
        self.calls.append({"call_id": call_id, "direction": direction, "customer_id": uid if c.bsuid_only else c.wa_id,
                           "customer_user_id": uid, "duration_seconds": duration, "final_status": "COMPLETED",
                           # Calling API Pricing: business-initiated calls are charged per six-second pulse
                           "billable_pulses": -(-duration // 6) if direction == "BUSINESS_INITIATED" else 0})

    def rotate(self, phone: PhoneNumber, c: Caller, t: int) -> None:
        previous = c.user_ids[-1]
        current = new_bsuid(self.r, previous[:2], self.w.used_numbers)
        c.user_ids.append(current)
        update = {"detail": f"User id for {c.name} has been updated.", "user_id": {"previous": previous, "current": current},
                  "timestamp": str(t)}
        value: dict = {"user_id_update": [update]}
        if not c.bsuid_only:
            update["wa_id"] = c.wa_id
            value = {"contacts": [{"profile": {"name": c.name}, "wa_id": c.wa_id}], **value}
        self._envelope(phone, "user_id_update", t, value)
        self.expected["user_id_updates"] += 1
        self.expected["identity_changes"] += 1
        self.rotations.append({"previous_user_id": previous, "current_user_id": current,
                               "wa_id": None if c.bsuid_only else c.wa_id, "changed_at": t})

    def group(self, phone: PhoneNumber, members: list[Caller], t: int) -> None:
        group_id = "Y2FwaV9ncm91cD" + "".join(self.r.choice("0123456789") for _ in range(30))
        self._envelope(phone, "group_lifecycle_update", t, {"groups": [
            {"timestamp": str(t), "group_id": group_id, "type": "group_create", "request_id": f"req-{group_id[-6:]}",
             "subject": "Sample world VIPs", "invite_link": "https://chat.whatsapp.com/SAMPLE", "join_approval_mode": "auto_approve"}]})
        added = [{"user_id": c.user_ids[-1], **({} if c.bsuid_only else {"wa_id": c.wa_id})} for c in members]
        self._envelope(phone, "group_participants_update", t + HOUR, {"groups": [
            {"timestamp": str(t + HOUR), "group_id": group_id, "type": "group_participants_add", "reason": "invite_link",
             "added_participants": added}]})
        self._envelope(phone, "group_participants_update", t + DAY, {"groups": [
            {"timestamp": str(t + DAY), "group_id": group_id, "type": "group_participants_remove",
             "removed_participants": [added[0]], "initiated_by": "participant"}]})
        self._envelope(phone, "group_status_update", t + 2 * DAY, {"groups": [
            {"timestamp": str(t + 2 * DAY), "type": "group_suspend", "group_id": group_id}]})
        self.expected["group_events"] += 4
        self.expected["group_participants"] += len(added) + 1
        self.group_truth = {"group_id": group_id, "members": len(added), "left": added[0]["user_id"]}

    # ------------------------------------------------------------ the script

    def run(self, out: Path) -> dict:
        first = max(self.w.start, FIRST_DAY)
        if (self.w.end - first).days >= 14:
            phone = next(p for p in self.w.phones if p.onprem_until is None)
            callers = [Caller(f"Caller {i}", new_wa_id(self.r, market, self.w.used_numbers),
                              [new_bsuid(self.r, iso2, self.w.used_numbers)], bsuid_only)
                       for i, (market, iso2, bsuid_only, _) in enumerate(CAST)]
            day0 = first + timedelta(days=self.r.randrange((self.w.end - first).days - 13))
            t0 = day_start_ts(day0) + 9 * HOUR
            for i, ((_, _, _, rotated), c) in enumerate(zip(CAST, callers)):
                t = t0 + i * HOUR
                self.user_call(phone, c, t)
                self.business_call(phone, c, t + DAY)
                if rotated:
                    self.rotate(phone, c, t + 3 * DAY)
                    self.user_call(phone, c, t + 4 * DAY)  # the next call carries the new BSUID
            self.group(phone, callers, t0 + 6 * DAY)
            pairs = {(c.wa_id, uid) for c in callers if not c.bsuid_only for uid in c.user_ids}
            self.truth.identities |= pairs
            self.expected["customer_identities"] = len(pairs)
            self.truth.expected["identity_changes"] += self.expected["identity_changes"]
            self.persons = [([] if c.bsuid_only else [c.wa_id]) + c.user_ids for c in callers]
            (out / FILE).parent.mkdir(parents=True, exist_ok=True)
            (out / FILE).write_bytes(b"".join(line + b"\n" for line in self.lines))
            self.truth.file(FILE).rows_in += len(self.lines)
            self.truth.envelopes += len(self.lines)
        result = {"file": FILE if self.lines else None, "envelopes": len(self.lines),
                  "expected": {f"staging.{k}": v for k, v in self.expected.items()},
                  "calls": self.calls, "rotations": self.rotations, "persons": self.persons,
                  "group": getattr(self, "group_truth", None)}
        (out / TRUTH_FILE).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        return result
