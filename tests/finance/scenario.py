"""Hand-built landing folders for the pricing rules: a few messages, statuses, customer messages and a rate card."""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from conftest import envelope, load_all, messages_value, write_lines
from pipelines.dbt_project import build as build_models
from pipelines.finance import PricingParams

WABA = "W1"
PHONE = "PN1"
US = "12125550100"      # New York: North America
DO = "18095550100"      # Santo Domingo: +1 but Rest of Latin America
BR = "5511999990000"


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


class Scenario:
    def __init__(self, landing: Path, warehouse: Path, timezone_name: str = "UTC") -> None:
        self.landing, self.warehouse = landing, warehouse
        self.accounts = [(WABA, "P1", timezone_name, "USD")]
        self.rates: list[tuple] = []
        self.log: list[tuple] = []
        self.bodies: list[dict] = []
        self.invoices: list[tuple] = []

    def invoice(self, month: str, market: str, category: str, amount: str):
        self.invoices.append((month, WABA, market, category, amount, "USD"))
        return self

    def rate(self, market: str, category: str, rate: str, effective: str = "2022-01-01", lo: int = 0, hi: int | None = None):
        self.rates.append((effective, market, category, "USD", rate, lo, "" if hi is None else hi))
        return self

    def send(self, message_id: str, at: str, to: str = US, template: str | None = "promo", category: str | None = "MARKETING",
             statuses: tuple = ("delivered",), pricing: dict | None = None, conversation: dict | None = None,
             logged: bool = True, phone: str = PHONE, waba: str = WABA, delay: int = 5):
        """One outbound message: a send-log row (unless not logged) and its statuses, `delay` seconds apart."""
        sent = ts(at)
        if logged:
            self.log.append((message_id, at + "Z", waba, phone, to, "template" if template else "text",
                             template or "", "en_US" if template else "", category or "", "", ""))
        items = []
        for i, status in enumerate(("sent",) + tuple(statuses)):
            st = {"id": message_id, "status": status, "timestamp": str(sent + i * delay), "recipient_id": to}
            if pricing is not None and status == "sent":
                st["pricing"] = pricing
            if conversation is not None and status == "sent":
                st["conversation"] = conversation
            if status == "failed":
                st["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
            items.append(st)
        self.bodies.append(envelope(waba, "messages", messages_value(statuses=items, phone_number_id=phone)))
        return self

    def group_send(self, message_id: str, at: str, group: str, participants: dict[str, tuple], template: str | None = "promo",
                   category: str | None = "MARKETING", pricing: dict | None = None, delay: int = 5):
        """One group message (Groups API): a send-log row to the group, one 'sent' for the group, then each
        participant's own statuses (`participants`: participant id -> statuses), `delay` seconds apart."""
        sent = ts(at)
        self.log.append((message_id, at + "Z", WABA, PHONE, group, "template" if template else "text",
                         template or "", "en_US" if template else "", category or "", "", ""))
        items = [{"id": message_id, "status": "sent", "timestamp": str(sent), "recipient_id": group, "recipient_type": "group",
                  **({"pricing": pricing} if pricing else {})}]
        for participant, statuses in participants.items():
            for i, status in enumerate(statuses, start=1):
                item = {"id": message_id, "status": status, "timestamp": str(sent + i * delay), "recipient_id": group,
                        "recipient_type": "group", "recipient_participant_id": participant}
                if status == "failed":
                    item["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
                items.append(item)
        self.bodies.append(envelope(WABA, "messages", messages_value(statuses=items, phone_number_id=PHONE)))
        return self

    def member_says(self, message_id: str, at: str, group: str, sender: str):
        """A participant's message in a group (the webhook names the group in group_id)."""
        message = {"from": sender, "group_id": group, "id": message_id, "timestamp": str(ts(at)), "type": "text",
                   "text": {"body": "hi all"}}
        self.bodies.append(envelope(WABA, "messages", messages_value(
            messages=[message], contacts=[{"wa_id": sender, "profile": {"name": "M"}}], phone_number_id=PHONE)))
        return self

    def status(self, message_id: str, status: str, at: str, to: str = US):
        item = {"id": message_id, "status": status, "timestamp": str(ts(at)), "recipient_id": to}
        self.bodies.append(envelope(WABA, "messages", messages_value(statuses=[item])))
        return self

    def customer_says(self, message_id: str, at: str, sender: str = US, referral: bool = False, phone: str = PHONE):
        message = {"from": sender, "id": message_id, "timestamp": str(ts(at)), "type": "text", "text": {"body": "hi"}}
        if referral:
            message["referral"] = {"source_type": "ad", "source_id": "ad1", "source_url": "https://fb.me/x", "ctwa_clid": "c1"}
        self.bodies.append(envelope(WABA, "messages", messages_value(
            messages=[message], contacts=[{"wa_id": sender, "profile": {"name": "C"}}], phone_number_id=phone)))
        return self

    def build(self, params: PricingParams | None = None) -> None:
        self._csv("business_manager/accounts.csv", ("waba_id", "business_portfolio_id", "timezone", "currency"), self.accounts)
        if self.rates:
            self._csv("rate_cards/card.csv", ("effective_from", "market", "category", "currency", "rate", "volume_from",
                                              "volume_to"), self.rates)
        if self.log:
            self._csv("message_logs/log.csv", ("message_id", "sent_at", "waba_id", "phone_number_id", "recipient_id",
                                               "message_type", "template_name", "template_language", "template_category",
                                               "campaign", "agent"), self.log)
        if self.invoices:
            self._csv("invoices/invoices.csv", ("month", "waba_id", "market", "category", "amount", "currency"), self.invoices)
        if self.bodies:  # an empty webhook file would be quarantined as empty (docs/landing.md)
            write_lines(self.landing / "webhooks" / "hooks.jsonl", self.bodies)
        load_all(self.warehouse, self.landing)
        params = params or PricingParams()
        build_models(self.warehouse, select="group:finance", disabled_regimes=list(params.disabled_regimes),
                     forced_regime=params.forced_regime, rates_as_of=params.rates_as_of)

    def _csv(self, rel: str, header: tuple, rows: list) -> None:
        path = self.landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    def rows(self, sql: str) -> list[tuple]:
        conn = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def ledger(self, columns: str = "message_id, pricing_type, billable, charge") -> list[tuple]:
        return self.ledger_rows(f"SELECT {columns} FROM marts.message_ledger ORDER BY message_id")

    def ledger_rows(self, sql: str) -> list[tuple]:
        """Rows of any query, decimals as floats (as ledger())."""
        return [tuple(float(v) if hasattr(v, "as_tuple") else v for v in row) for row in self.rows(sql)]
