"""A group message of the sample world (issue 12b), following Meta's "Groups API Pricing" page (updated Oct 22,
2025) rather than the pipeline:

- a billable group message is charged each time it is delivered to someone in the group, at the rate of that
  recipient's country calling code (the same rates as 1:1 per-message pricing); a participant it was not
  delivered to costs nothing;
- any member's message in the group opens a customer-service window for the whole group, so the business may
  send the group a non-template message;
- from 2026-10-01 service messages are charged (M-UPD, confirmed), and the reported 1,000 free service messages
  per business phone number and month are shared by 1:1 and group messages: each delivery takes one of them.

The UTC WABA's US number replies, on 2026-11-10, in a group of four people in four markets: three receive it,
the Brazilian participant's delivery fails. Participants, ids and times come from their own random stream (the
rest of the world is unchanged). Ground truth: one row in ground_truth_messages.parquet (market "Multiple", as
the ledger documents a message priced in several markets) and one row per participant in
ground_truth_group_deliveries.parquet, which Meta's side of the bill (meta_billing) uses per participant.
"""
from __future__ import annotations

import base64
from datetime import date, datetime, timezone
from pathlib import Path

import orjson
import polars as pl

from pipelines.sample import payloads
from pipelines.sample.billing import rate_micros
from pipelines.sample.payloads import BSUID_TS
from pipelines.sample.rng import FastRandom
from pipelines.sample.world import MARKETS, World, new_bsuid, new_wa_id

GROUP_DAY = date(2026, 11, 10)
GROUP_PHONE = "119384756102938"           # the UTC WABA's +1 number (Cloud API)
# (market key, delivered): four participants in four markets; the Brazilian one never receives it.
PARTICIPANTS = (("GB", True), ("NG", True), ("US", True), ("BR", False))
DELIVERIES_FILE = "ground_truth_group_deliveries.parquet"
DELIVERY_SCHEMA = {
    "message_id": pl.String, "group_id": pl.String, "participant_id": pl.String, "waba_id": pl.String,
    "sent_at": pl.Datetime("us", "UTC"), "market": pl.String, "country": pl.String, "delivered": pl.Boolean,
    "final_status": pl.String, "billed_model": pl.String, "billed_category": pl.String, "billed_type": pl.String,
    "charge_micros": pl.Int64, "meta_charge_micros": pl.Int64,
}


class GroupMessages:
    def __init__(self, world: World, seed: int, traffic, out: Path) -> None:
        self.w, self.traffic, self.out = world, traffic, out
        self.r = FastRandom(f"group-messages:{seed}")
        self.phone = next(p for p in world.phones if p.phone_number_id == GROUP_PHONE)
        self.group_id = base64.b64encode(b"capi_group:" + str(self.r.getrandbits(60)).encode()).decode().rstrip("=")
        self.people = [(key, delivered, new_wa_id(self.r, key, world.used_numbers), new_bsuid(self.r, MARKETS[key][2],
                        world.used_numbers)) for key, delivered in PARTICIPANTS]
        self.deliveries: list[tuple] = []

    def run_day(self, day: date) -> None:
        if day != GROUP_DAY:
            return
        r, t = self.r, int(datetime(day.year, day.month, day.day, 11, 30, tzinfo=timezone.utc).timestamp())
        waba, truth = self.phone.waba, self.traffic.truth
        # A member writes in the group: the window opens for the whole group (M-GRP).
        _, _, member, member_uid = self.people[0]
        inbound = {"from": member, "group_id": self.group_id, "id": f"wamid.GRP{r.getrandbits(64):016x}",
                   "timestamp": str(t), "type": "text", "text": {"body": "Is the shop open on Saturday?"}}
        contact = {"profile": {"name": "Group member"}, "wa_id": member}
        if t >= BSUID_TS:
            inbound["from_user_id"] = member_uid
            contact["user_id"] = member_uid
            truth.identities.add((member, member_uid))
        truth.inbound("text")
        self._emit(t * 1000 + 700, payloads.messages_value(self.phone, [contact], [inbound]))
        # The business replies to the group half an hour later with a non-template message.
        sent = t + 1800
        mid = f"wamid.GRP{r.getrandbits(64):016x}"
        self.traffic.log.add((mid, sent, waba, self.phone.phone_number_id, self.group_id, "text", None, None, None, None, None))
        statuses = [{"id": mid, "status": "sent", "timestamp": str(sent), "recipient_id": self.group_id,
                     "recipient_type": "group"}]
        truth.status("sent")
        local_day = datetime.fromtimestamp(sent + waba.utc_offset_s, timezone.utc).date()
        total = 0
        for key, delivered, wa_id, _ in self.people:
            at = sent + r.randrange(2, 90)
            market = MARKETS[key][1]
            item = {"id": mid, "timestamp": str(at), "recipient_id": self.group_id, "recipient_type": "group",
                    "recipient_participant_id": wa_id}
            if delivered:
                # Inside the allowance the delivery is free_customer_service; past it, the market's service rate
                # (the utility rate on the generator's card).
                free = self.traffic.service_allowance.take(self.phone.phone_number_id, local_day)
                ptype = "free_customer_service" if free else "regular"
                micros = 0 if free else rate_micros(market, "service", local_day, None, waba.currency)
                item |= {"status": "delivered", "pricing": {"billable": not free, "pricing_model": "PMP", "type": ptype,
                                                             "category": "group_service"}}
                truth.status("delivered")
            else:
                ptype, micros = None, 0
                item |= {"status": "failed", "errors": [{"code": 131026, "title": "Message undeliverable",
                                                        "message": "Message undeliverable",
                                                        "error_data": {"details": "Message undeliverable."}}]}
                truth.status("failed")
                truth.failed_by_error_code["131026"] += 1
            statuses.append(item)
            total += micros
            self.deliveries.append((mid, self.group_id, wa_id, waba.waba_id, datetime.fromtimestamp(sent, timezone.utc),
                                    market, MARKETS[key][2], delivered, item["status"], "PMP" if delivered else None,
                                    "service" if delivered else None, ptype, micros, micros))
        self._emit(max(int(s["timestamp"]) for s in statuses) * 1000 + 900, payloads.statuses_value(self.phone, statuses))
        # The ledger's row: one message, its charge the sum of the deliveries; Meta's side is billed per delivery.
        self.traffic.messages.add((
            mid, waba.waba_id, self.phone.phone_number_id, None, None, "Multiple", sent,
            False, None, "service", "group_service", "regular" if total else "free_customer_service", "failed", None, True,
            "PMP", total, total,
            None, None, None, None))

    def _emit(self, recv_ms: int, value: dict) -> None:
        self.traffic.sink.cloud(recv_ms, orjson.dumps(payloads.envelope(self.phone.waba.waba_id, "messages", value)))

    def close(self) -> None:
        pl.DataFrame(self.deliveries, schema=DELIVERY_SCHEMA, orient="row").write_parquet(self.out / DELIVERIES_FILE)
