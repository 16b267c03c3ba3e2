"""Day-by-day customer and business activity, turned into webhook deliveries and send-log rows."""

from __future__ import annotations

import math
import random
from binascii import b2a_base64
from datetime import date
from typing import Protocol

import orjson

from pipelines.sample import model, payloads
from pipelines.sample.billing import Billing, ServiceAllowance
from pipelines.sample.events import FIELD_TABLE, Schedule
from pipelines.sample.finance_world import P_FAILED_AFTER_DELIVERED, meta_market, via_marketing_messages_api
from pipelines.sample.payloads import BSUID_TS, Charge
from pipelines.sample.rng import FastRandom
from pipelines.sample.truth import MessageTruth, Truth
from pipelines.sample.world import Customer, PhoneNumber, Template, World, day_start_ts, new_bsuid, new_wa_id, utc_day

INBOUND_TYPES = (("text", 0.52), ("interactive", 0.10), ("button", 0.05), ("reaction", 0.05), ("image", 0.08),
                 ("document", 0.03), ("audio", 0.06), ("video", 0.01), ("sticker", 0.02), ("location", 0.03),
                 ("contacts", 0.01), ("order", 0.02), ("unsupported", 0.02))
REPLY_TYPES = (("text", 0.77), ("interactive", 0.15), ("image", 0.05), ("document", 0.03))
AGENTS = ("ana.souza", "rahul.mehta", "grace.okoro", "tom.baker", "lucia.gomez")
DUMPS = orjson.dumps


class Sink(Protocol):
    def cloud(self, recv_ms: int, body: bytes) -> None: ...
    def onprem(self, recv_ms: int, body: bytes) -> None: ...


class SendLog(Protocol):
    def add(self, row: tuple) -> None: ...


def _sample_count(r: random.Random, mean: float) -> int:
    """Poisson-like count; a normal approximation keeps big days cheap."""
    if mean <= 0:
        return 0
    if mean < 30:
        limit, k, p = math.exp(-mean), 0, r.random()
        while p > limit:
            k += 1
            p *= r.random()
        return k
    return max(0, int(r.gauss(mean, math.sqrt(mean)) + 0.5))


def _cumulative(pairs):
    names, acc, out = [], 0.0, []
    for name, p in pairs:
        acc += p
        names.append(name)
        out.append(acc)
    return names, out


CAMPAIGNS = ("promo_br", "promo_in", "promo_uk")  # one weekly campaign per WABA of world.WABAS


class Traffic:
    def __init__(self, world: World, seed: int, truth: Truth, messages: MessageTruth, sink: Sink, log: SendLog) -> None:
        self.w = world
        self.r = FastRandom(f"traffic:{seed}")
        self.truth = truth
        self.messages = messages
        self.sink = sink
        self.log = log
        self.schedule = Schedule(world)
        self.counter = 0
        self.active: list[Customer] = []
        self._joining: dict[int, list[Customer]] = {}
        for c in world.customers:
            self._joining.setdefault(max(c.active_from, world.start.toordinal()), []).append(c)
        self._inbound_names, self._inbound_cum = _cumulative(INBOUND_TYPES)
        self._reply_names, self._reply_cum = _cumulative(REPLY_TYPES)
        self._turn_values, self._turn_cum = _cumulative(model.INBOUND_PER_SESSION)
        self._cbp_convs: dict[tuple[int, str], tuple[str, int]] = {}
        self.ledger_billing = Billing()
        self.service_allowance = ServiceAllowance()
        self.meta_billing = Billing()
        self._last_status: dict[str, dict] = {}
        self._held_sent: dict[str, tuple[int, dict, list | None]] = {}
        # sendable templates per (waba, category); management events change status/category, so they reset it
        self._sendable: dict[tuple[str, str], list[list[Template]]] = {}
        # called as hook(phone, customer, send time, template) for each template Meta delivered (limits.py)
        self.on_delivered: list = []

    # ------------------------------------------------------------ ids

    def _wamid(self, c: Customer) -> str:
        self.counter += 1
        raw = (c.wa_id or c.user_id).encode() + self.counter.to_bytes(6, "big") + self.r.getrandbits(32).to_bytes(4, "big")
        return "wamid.HBgM" + b2a_base64(raw, newline=False).decode()  # base64.b64encode, without its wrapper

    def _onprem_id(self) -> str:
        self.counter += 1
        raw = self.counter.to_bytes(8, "big") + self.r.getrandbits(64).to_bytes(8, "big")
        return "gBEGVUiZ" + b2a_base64(raw, newline=False).decode().rstrip("=")

    def _conv_id(self) -> str:
        return f"{self.r.getrandbits(128):032x}"

    # ------------------------------------------------------------ day loop

    def run_day(self, day: date) -> None:
        r = self.r
        self.active.extend(self._joining.get(day.toordinal(), ()))
        ds = day_start_ts(day)
        for event in self.schedule.on(day):
            self._management(event)
        n_active = len(self.active)
        if not n_active:
            return
        actions: list[tuple[int, int, str, Customer]] = []
        seq = 0

        def pick(n: int, kind: str, lo: int, hi: int) -> None:
            nonlocal seq
            for _ in range(n):
                seq += 1
                actions.append((ds + r.randrange(lo, hi), seq, kind, self.active[r.randrange(n_active)]))

        wf = model.WEEKDAY_FACTOR[day.weekday()]
        pick(_sample_count(r, n_active * model.SESSION_P * wf), "session", 6 * 3600, 20 * 3600)
        pick(_sample_count(r, n_active * model.UTILITY_P), "UTILITY", 7 * 3600, 21 * 3600)
        pick(_sample_count(r, n_active * model.AUTH_P), "AUTHENTICATION", 4 * 3600, 23 * 3600)
        pick(_sample_count(r, n_active * model.FOLLOWUP_P), "followup", 8 * 3600, 22 * 3600)
        pick(_sample_count(r, n_active * model.NUMBER_CHANGE_P), "number_change", 0, 23 * 3600)
        pick(_sample_count(r, n_active * model.IDENTITY_CHANGE_P), "identity_change", 0, 23 * 3600)
        pick(_sample_count(r, n_active * model.PREFERENCE_P), "preference", 0, 23 * 3600)
        actions.sort(key=lambda a: (a[0], a[1]))
        # the cast's WABAs run weekly campaigns; the limit scenarios' WABAs (limit_scenarios.py) send their own
        campaigns = [i for i in range(len(CAMPAIGNS)) if (day.toordinal() + 2 * i) % model.MARKETING_EVERY == 0]
        campaign_at = ds + 13 * 3600
        done_campaigns = False
        for t, _, kind, c in actions:
            if not done_campaigns and t >= campaign_at:
                self._campaigns(day, campaigns, campaign_at)
                done_campaigns = True
            if kind == "session":
                self._session(day, c, t)
            elif kind == "followup":
                self._followup(day, c, t)
            elif kind == "number_change":
                self._number_change(day, c, t)
            elif kind == "identity_change":
                self._identity_change(day, c, t)
            elif kind == "preference":
                self._preference(day, c, t)
            else:
                self._template_send(day, c, t, kind, campaign=None)
        if not done_campaigns:
            self._campaigns(day, campaigns, campaign_at)

    # ------------------------------------------------------------ management fields

    def _management(self, event) -> None:
        changes = event.build()
        self._sendable.clear()
        value = {"object": "whatsapp_business_account",
                 "entry": [{"id": event.waba.waba_id, "time": event.ts,
                            "changes": [{"value": v, "field": f} for f, v in changes]}]}
        for f, _ in changes:
            self.truth.expected[FIELD_TABLE.get(f, "unknown_field_events")] += 1
        self.sink.cloud(event.ts * 1000 + self.r.randrange(1000), DUMPS(value))

    # ------------------------------------------------------------ customer activity

    def _can_receive(self, c: Customer, t: int) -> bool:
        return not c.bsuid_only or t >= payloads.BSUID_SEND_TS

    def _session(self, day: date, c: Customer, t: int) -> None:
        r = self.r
        turns = self._turn_values[self._bisect(self._turn_cum, r.random())]
        ctwa = r.random() < model.CTWA_SESSION_P
        onprem = c.phone.is_onprem(day)
        for turn in range(turns):
            mtype = self._inbound_names[self._bisect(self._inbound_cum, r.random())]
            if (mtype == "button" and not c.last_template_buttons) or (mtype == "reaction" and not c.last_out_id):
                mtype = "text"
            if ctwa and turn == 0:
                mtype = "text"
            self._inbound(day, c, t, mtype, onprem, referral=ctwa and turn == 0)
            if r.random() < model.REPLY_P and self._can_receive(c, t):
                t += r.randrange(20, 300)
                rtype = self._reply_names[self._bisect(self._reply_cum, r.random())]
                self._send(day, c, t, template=None, msg_type=rtype, campaign=None, agent=AGENTS[c.idx % len(AGENTS)])
            t += r.randrange(30, 900)

    @staticmethod
    def _bisect(cum: list[float], x: float) -> int:
        for i, edge in enumerate(cum):
            if x < edge:
                return i
        return len(cum) - 1

    def _inbound(self, day: date, c: Customer, t: int, mtype: str, onprem: bool, referral: bool,
                 text: str | None = None) -> None:
        r = self.r
        mid = self._onprem_id() if onprem else self._wamid(c)
        msg = payloads.inbound_message(r, mtype, mid, c, t, c.phone)
        if text is not None:  # a scripted text (consent scenarios: a keyword written in the chat)
            msg["text"] = {"body": text}
        if referral:
            payloads.add_referral(r, msg, f"ARAkLkA{r.getrandbits(96):024x}")
            c.fep_pending_until = t + 86400  # the business's first reply within 24 h opens the free window
        c.last_inbound = t
        self.truth.inbound(mtype)
        recv = t * 1000 + r.randrange(200, 4000)
        if onprem:
            self.sink.onprem(recv, DUMPS({"contacts": [{"profile": {"name": c.name}, "wa_id": c.wa_id}], "messages": [msg]}))
            if r.random() < 0.01:
                # the customer deleted the message; On-Prem reported that as a status on the inbound id
                self.truth.status("deleted")
                del_ts = t + r.randrange(30, 600)
                self.sink.onprem(del_ts * 1000 + 500, DUMPS({"statuses": [{"id": mid, "recipient_id": c.wa_id, "status": "deleted", "timestamp": str(del_ts)}]}))
            return
        if t >= BSUID_TS and not c.bsuid_only:
            self.truth.identities.add((c.wa_id, c.user_id))
        self.sink.cloud(recv, payloads.messages_body(c.phone, [payloads.contact(c, t)], [msg]))

    def _followup(self, day: date, c: Customer, t: int) -> None:
        if t - 7 * 86400 < c.last_inbound < t - 86400 and self._can_receive(c, t):
            self._send(day, c, t, template=None, msg_type="text", campaign=None, agent=AGENTS[c.idx % len(AGENTS)])

    def _system(self, day: date, c: Customer, t: int, kind: str, old_wa, new_wa, old_uid, new_uid) -> None:
        onprem = c.phone.is_onprem(day)
        mid = self._onprem_id() if onprem else self._wamid(c)
        msg = payloads.system_message(kind, mid, t, c, old_wa, new_wa, None if onprem else old_uid, new_uid, self.r)
        self.truth.inbound("system")
        self.truth.expected["identity_changes"] += 1
        recv = t * 1000 + self.r.randrange(200, 4000)
        if onprem:
            self.sink.onprem(recv, DUMPS({"messages": [msg]}))
        else:
            self.sink.cloud(recv, payloads.messages_body(c.phone, None, [msg]))

    def _number_change(self, day: date, c: Customer, t: int) -> None:
        if c.bsuid_only:
            return
        old_wa, old_uid = c.wa_id, c.user_id
        new_wa = new_wa_id(self.r, c.market, self.w.used_numbers)
        kind = "customer_changed_number" if day < model.NEW_SYSTEM_SPELLING else "user_changed_number"
        self._system(day, c, t, kind, old_wa, new_wa, old_uid, None)
        c.wa_id = new_wa
        c.wa_history.append((t, new_wa))
        if t >= BSUID_TS:
            # a BSUID is tied to the phone number, so a new number brings a new one
            c.user_id = new_bsuid(self.r, c.iso2, self.w.used_numbers)
            self._system(day, c, t + 5, "user_changed_user_id", new_wa, new_wa, old_uid, c.user_id)

    def _identity_change(self, day: date, c: Customer, t: int) -> None:
        if not c.bsuid_only:
            self._system(day, c, t, "customer_identity_changed", c.wa_id, None, c.user_id, None)

    def _preference(self, day: date, c: Customer, t: int) -> None:
        if c.phone.is_onprem(day):
            return
        value = "resume" if c.stopped else "stop"
        c.stopped = not c.stopped
        self.truth.expected["user_preferences"] += 1
        if t >= BSUID_TS and not c.bsuid_only:
            self.truth.identities.add((c.wa_id, c.user_id))
        body = payloads.envelope(c.phone.waba.waba_id, "user_preferences", payloads.user_preferences_value(c.phone, c, value, t), t + 2)
        self.sink.cloud(t * 1000 + 2500, DUMPS(body))

    # ------------------------------------------------------------ business sends

    def _templates_for(self, c: Customer, category: str) -> list[list[Template]]:
        """The sendable templates of the customer's WABA in `category`: the versions (languages) of each name, by name."""
        key = (c.phone.waba.waba_id, category)
        by_name = self._sendable.get(key)
        if by_name is None:
            tpls = [t for t in self.w.templates if t.waba is c.phone.waba and t.category == category and t.sendable]
            by_name = self._sendable[key] = [[x for x in tpls if x.name == name] for name in sorted({x.name for x in tpls})]
        return by_name

    def _template_send(self, day: date, c: Customer, t: int, category: str, campaign: str | None) -> None:
        if not self._can_receive(c, t):
            return
        by_name = self._templates_for(c, category)
        if not by_name:
            return
        versions = by_name[self.r.randrange(len(by_name))]
        template = versions[c.idx % 2 % len(versions)]
        self._send(day, c, t, template=template, msg_type="template", campaign=campaign, agent=None)

    def _campaigns(self, day: date, wabas: list[int], at: int) -> None:
        r = self.r
        n_active = len(self.active)
        for w in wabas:
            waba = self.w.wabas[w]
            campaign = f"{day.strftime('%Y%m%d')}_{CAMPAIGNS[w]}"
            n = _sample_count(r, n_active * model.MARKETING_P)
            for i in range(n):
                c = self.active[r.randrange(n_active)]
                if c.phone.waba is waba:
                    self._template_send(day, c, at + i // 25, "MARKETING", campaign)
            for phone_id in sorted(self._held_sent):
                recv, st, contacts = self._held_sent.pop(phone_id)
                phone = next(p for p in self.w.phones if p.phone_number_id == phone_id)
                self._emit_statuses(phone, [st], contacts, recv)

    def _charge(self, c: Customer, t: int, template: Template | None) -> Charge:
        """Price a message the way Meta does, by the rules in force at its send time in the WABA's timezone."""
        in_csw = c.last_inbound > t - 86400
        local = t + c.phone.waba.utc_offset_s
        per_message = local >= payloads.PMP_START_TS
        service_charged = local >= payloads.SERVICE_CHARGED_TS
        model_name = "PMP" if per_message else "CBP"
        if c.fep_from <= t < c.fep_until:
            return Charge("referral_conversion", "free_entry_point", c.fep_conv, model_name)
        if template is None and not per_message:
            # A service message opens a conversation only when none of any category is open (Meta, Conversation-based
            # pricing): inside a charged marketing, utility or authentication conversation it belongs to that one.
            for other in ("marketing", "utility", "authentication"):
                conv = self._cbp_convs.get((c.idx, other))
                if conv is not None and conv[1] > t and conv[0] in self.ledger_billing.charged_conversations:
                    return Charge(other, "regular", conv[0], model_name)
        if template is None:
            category = "service"
            local_day = utc_day(local)
            charged = service_charged and not self.service_allowance.take(c.phone.phone_number_id, local_day)
            ptype = "regular" if charged else "free_customer_service"
        else:
            category = template.category.lower()
            free_utility = category == "utility" and in_csw and per_message and not service_charged
            ptype = "free_customer_service" if free_utility else "regular"
        if per_message:
            return Charge(category, ptype, self._conv_id(), model_name)
        key = (c.idx, category)
        conv = self._cbp_convs.get(key)
        if conv is None or conv[1] <= t:
            conv = (self._conv_id(), t + 86400)
            self._cbp_convs[key] = conv
        return Charge(category, ptype, conv[0], model_name)

    def _failure(self, c: Customer, t: int, template: Template | None) -> int | None:
        r = self.r
        if template is None:
            if c.last_inbound <= t - 86400 and not c.fep_from <= t < c.fep_until:
                return 131047
        elif template.category == "MARKETING":
            if c.market == "US":
                return 131049
            if c.stopped:
                return 131050
            if r.random() < model.P_FAIL_ECOSYSTEM:
                return 131049
        x = r.random()
        if x < model.P_FAIL_UNDELIVERABLE:
            return 131026
        if x < model.P_FAIL_UNDELIVERABLE + model.P_FAIL_EXPERIMENT:
            return 130472
        return None

    def _send(self, day: date, c: Customer, t: int, template: Template | None, msg_type: str, campaign: str | None, agent: str | None) -> None:
        r = self.r
        phone = c.phone
        onprem = phone.is_onprem(day)
        mid = self._onprem_id() if onprem else self._wamid(c)
        recipient = c.user_id if c.bsuid_only else c.wa_id
        self.log.add((mid, t, phone.waba, phone.phone_number_id, recipient, msg_type,
                      template.name if template else None, template.language if template else None,
                      template.category if template else None, campaign, agent))
        if template is not None:
            c.last_template_id = mid
            c.last_template_buttons = template.buttons
            if c.first_template_ts is None:
                c.first_template_ts = t
        c.last_out_id = mid
        error = self._failure(c, t, template)
        if error is None and c.fep_pending_until > t:
            c.fep_from, c.fep_until, c.fep_conv = t, t + 72 * 3600, self._conv_id()
            c.fep_pending_until = -10**12
        charge = self._charge(c, t, template) if error is None else None
        if charge is not None and campaign is not None:
            charge = via_marketing_messages_api(charge, phone.waba, t)
        final, delivered, model_name = None, False, None
        priced = None
        if error is not None:
            final = "failed"
            self.truth.status("failed")
            self.truth.failed_by_error_code[str(error)] += 1
            ft = t + r.randrange(1, 6)
            if onprem:
                self.sink.onprem(ft * 1000 + r.randrange(1000), DUMPS({"statuses": [payloads.onprem_failed(mid, ft, recipient, error)]}))
            else:
                st = payloads.status_object(mid, "failed", ft, c, not c.bsuid_only, None, 0, error, href_relative=ft >= BSUID_TS)
                self._emit_statuses(phone, [st], None, ft * 1000 + r.randrange(1000))
        elif r.random() >= model.P_NO_WEBHOOK:
            final, delivered, model_name, priced = self._lifecycle(day, c, mid, t, charge, onprem, campaign is not None, template)
        if template is not None and error is None and (delivered or final is None):
            for hook in self.on_delivered:
                hook(phone, c, t, template)
        ledger_micros = meta_micros = 0
        market = meta_market(c.market, utc_day(t + phone.waba.utc_offset_s))
        if charge is not None:
            # Meta delivered (and billed) the messages whose statuses never reached the archive, too.
            waba = phone.waba
            ledger_micros = self.ledger_billing.bill(charge, market, waba.portfolio_id, t, waba.utc_offset_s, delivered,
                                                     waba.currency)
            meta_micros = self.meta_billing.bill(charge, market, waba.portfolio_id, t, waba.utc_offset_s,
                                                 delivered or final is None, waba.currency)
        self.messages.add((
            mid, phone.waba.waba_id, phone.phone_number_id, None if c.bsuid_only else c.wa_id, c.user_id, market,
            t, template is not None, template.name if template else None,
            template.category.lower() if template else "service", priced.category if priced else None,
            priced.ptype if priced else None, final, error, delivered, model_name, ledger_micros, meta_micros,
            charge.model if charge else None, charge.category if charge else None, charge.ptype if charge else None, c.iso2,
        ))

    def _lifecycle(self, day: date, c: Customer, mid: str, t: int, charge: Charge, onprem: bool, batchable: bool, template):
        r = self.r
        sent_ts = t + r.randrange(0, 3)
        u = r.random()
        has_delivered = u < model.P_DELIVERED
        read_only = not has_delivered and u < model.P_DELIVERED + model.P_READ_WITHOUT_DELIVERED
        events = [("sent", sent_ts)]
        if has_delivered:
            dts = sent_ts + r.randrange(1, 120)
            events.append(("delivered", dts))
            if r.random() < model.P_READ:
                events.append(("read", dts + int(r.expovariate(1 / 1800)) + 2))
        elif read_only:
            events.append(("read", sent_ts + r.randrange(2, 600)))
            self.truth.read_without_delivered += 1
        if has_delivered and len(events) == 3 and r.random() < model.P_PRICING_ON_READ:
            priced_status = "read"
        else:
            priced_status = events[1][0] if len(events) > 1 else None
        expiration = c.fep_until if charge.free_entry_point else sent_ts + 86400
        recvs = []
        for _, ts in events:
            recvs.append(ts * 1000 + r.randrange(100, 3000))
        if len(events) == 3 and has_delivered and r.random() < model.P_SWAP:
            recvs[1] = recvs[2] + r.randrange(1000, 60000)
        for i in range(1, len(events)):
            if r.random() < model.P_LATE:
                recvs[i] += 86400 * 1000 + r.randrange(3_600_000)
        for i, (status, ts) in enumerate(events):
            self.truth.status(status)
            with_price = status == "sent" or status == priced_status
            ch = charge if with_price else None
            if onprem:
                self.sink.onprem(recvs[i], DUMPS({"statuses": [payloads.onprem_status(mid, status, ts, c.wa_id, ch, expiration)]}))
                continue
            st = payloads.status_object(mid, status, ts, c, not c.bsuid_only, ch, expiration)
            contacts = None
            if ts >= BSUID_TS:
                contacts = [payloads.contact(c, ts)]
                if not c.bsuid_only:
                    self.truth.identities.add((c.wa_id, c.user_id))
            if status == "sent" and batchable:
                held = self._held_sent.pop(c.phone.phone_number_id, None)
                if held is not None:
                    self._emit_statuses(c.phone, [held[1], st], _merge(held[2], contacts), max(held[0], recvs[i]))
                    continue
                if r.random() < model.P_BATCH:
                    self._held_sent[c.phone.phone_number_id] = (recvs[i], st, contacts)
                    continue
            self._emit_statuses(c.phone, [st], contacts, recvs[i])
        if has_delivered and not onprem and r.random() < P_FAILED_AFTER_DELIVERED:
            # A late 'failed' report after 'delivered': Meta still charges (it charges on delivery; statuses are unordered).
            fts = events[-1][1] + r.randrange(5, 600)
            self.truth.status("failed")
            self.truth.failed_by_error_code["131026"] += 1
            st = payloads.status_object(mid, "failed", fts, c, not c.bsuid_only, None, 0, 131026, href_relative=fts >= BSUID_TS)
            self._emit_statuses(c.phone, [st], None, fts * 1000 + r.randrange(1000))
            return "failed", True, charge.model, charge
        if onprem and template is not None and r.random() < 0.005:
            # On-Prem's `warning` status (e.g. a catalog item became unavailable)
            wts = sent_ts + 30
            self.truth.status("warning")
            self.sink.onprem(wts * 1000, DUMPS({"statuses": [{"id": mid, "recipient_id": c.wa_id, "status": "warning", "timestamp": str(wts)}]}))
        return events[-1][0], has_delivered or read_only, charge.model, charge

    def _emit_statuses(self, phone: PhoneNumber, statuses: list[dict], contacts: list | None, recv_ms: int) -> None:
        previous = self._last_status.get(phone.phone_number_id)
        if previous is not None and self.r.random() < model.P_REBATCH:
            # an already-delivered status object reappears inside this new envelope
            statuses = [previous] + statuses
        self._last_status[phone.phone_number_id] = statuses[-1]
        self.sink.cloud(recv_ms, payloads.statuses_body(phone, statuses, contacts))


def _merge(a: list | None, b: list | None) -> list | None:
    if not a:
        return b
    if not b:
        return a
    return a + [x for x in b if x not in a]
