"""The business's own files: send log, Business Manager exports, opt-in register and rate card."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import polars as pl

from pipelines.sample import model, writers
from pipelines.sample.rng import FastRandom
from pipelines.sample.truth import Truth
from pipelines.sample.world import Customer, World

LOG_COLUMNS = ("message_id", "sent_at", "waba_id", "phone_number_id", "recipient_id", "message_type",
               "template_name", "template_language", "template_category", "campaign", "agent")
LOG_SCHEMA = {c: pl.String for c in LOG_COLUMNS}


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def log_format(day: date) -> str:
    """Parquet some months; of the CSV months, some export sent_at as Unix seconds."""
    n = _month_number(day)
    if n % 4 == 0:
        return "parquet"
    return "csv_unix" if n % 5 == 2 else "csv"


class MessageLog:
    """Buffers one month of send-log rows and writes the month's file when the month ends."""

    def __init__(self, out: Path, world: World, seed: int, truth: Truth) -> None:
        self.out = out
        self.truth = truth
        self.r = FastRandom(f"log:{seed}")
        second_month = (world.start.replace(day=1) + timedelta(days=32)).replace(day=1)
        # the month where an export went wrong: two repeated rows and two unreadable timestamps
        self.flawed_month = second_month if second_month <= world.end else world.start.replace(day=1)
        self.month: date | None = None
        self.rows: list[tuple] = []

    def add(self, row: tuple) -> None:
        self.rows.append(row)

    def start_day(self, day: date) -> None:
        month = day.replace(day=1)
        if month != self.month:
            self.close()
            self.month = month

    def close(self) -> None:
        if self.month is None:
            return
        month, rows = self.month, self.rows
        self.rows = []
        self.month = None
        fmt = log_format(month)
        unix = fmt == "csv_unix"
        out_rows = [(mid, str(ts) if unix else _local_iso(ts, waba.utc_offset_s), waba.waba_id, phone_id, recipient,
                     mtype, tname, tlang, tcat, campaign, agent)
                    for mid, ts, waba, phone_id, recipient, mtype, tname, tlang, tcat, campaign, agent in rows]
        ext = "parquet" if fmt == "parquet" else "csv"
        rel = f"message_logs/{month.strftime('%Y-%m')}.{ext}"
        stats = self.truth.file(rel)
        distinct = len(out_rows)
        if month == self.flawed_month and len(out_rows) >= 4:
            picks = self.r.sample(range(len(out_rows)), 4)
            for i, garbage in zip(picks[:2], ("2025-13-45T25:61:00", "yesterday 14:05")):
                out_rows[i] = (out_rows[i][0], garbage) + out_rows[i][2:]
                stats.quarantine("bad_timestamp")
                distinct -= 1
            for i in sorted(picks[2:], reverse=True):
                out_rows.insert(i + 1, out_rows[i])
                stats.duplicates += 1
        stats.rows_in += len(out_rows)
        self.truth.expected["message_log"] += distinct
        if ext == "parquet":
            writers.write_parquet(self.out / rel, out_rows, LOG_SCHEMA)
        else:
            writers.write_csv(self.out / rel, LOG_COLUMNS, out_rows)  # the csv module writes None as ""


def _local_iso(ts: int, utc_offset_s: int) -> str:
    """datetime.fromtimestamp(ts, timezone(timedelta(seconds=utc_offset_s))).isoformat(), from cached day strings."""
    days, s = divmod(ts + utc_offset_s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{_day_iso(days)}T{h:02d}:{m:02d}:{s:02d}{_offset_iso(utc_offset_s)}"


@lru_cache(maxsize=4096)
def _day_iso(days_since_epoch: int) -> str:
    return date.fromordinal(days_since_epoch + 719163).isoformat()


@lru_cache(maxsize=None)
def _offset_iso(utc_offset_s: int) -> str:
    return datetime(2000, 1, 1, tzinfo=timezone(timedelta(seconds=utc_offset_s))).isoformat()[19:]


def write_snapshots(out: Path, world: World, day: date, truth: Truth) -> None:
    """Business Manager exports as of 00:00 UTC on `day`, before that day's webhooks changed anything."""
    at = f"{day.isoformat()}T00:00:00Z"
    rel = f"business_manager/phone_numbers_{day.isoformat()}.csv"
    rows = [(at, p.waba.waba_id, p.phone_number_id, p.formatted, p.quality_rating, p.messaging_limit, p.status) for p in world.phones]
    writers.write_csv(out / rel, ("snapshot_at", "waba_id", "phone_number_id", "display_phone_number", "quality_rating",
                                  "messaging_limit", "status"), rows)
    truth.file(rel).rows_in += len(rows)
    truth.expected["phone_number_snapshots"] += len(rows)
    rel = f"business_manager/templates_{day.isoformat()}.csv"
    rows = [(at, t.waba.waba_id, str(t.template_id), t.name, t.language, t.category, t.status, t.quality)
            for t in world.templates if t.created <= day]
    writers.write_csv(out / rel, ("snapshot_at", "waba_id", "template_id", "name", "language", "category", "status",
                                  "quality_score"), rows)
    truth.file(rel).rows_in += len(rows)
    truth.expected["template_snapshots"] += len(rows)


def write_accounts(out: Path, world: World, truth: Truth) -> None:
    rel = "business_manager/accounts.csv"
    rows = [(w.waba_id, w.portfolio_id, w.timezone, w.currency) for w in world.wabas]
    writers.write_csv(out / rel, ("waba_id", "business_portfolio_id", "timezone", "currency"), rows)
    truth.file(rel).rows_in += len(rows)
    truth.expected["accounts"] += len(rows)


OPTIN_SOURCES = ("website_form", "checkout", "whatsapp_keyword", "ctwa_ad", "in_store")
BUSINESS_NAMES = {"1059234782391023": "Loja Exemplo Group", "2274019283746510": "Northwind Retail Ltd"}
OPTIN_WORDING = "Yes, {business} may send me {scope} messages on WhatsApp. Reply STOP to opt out."


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _customer_id(c: Customer, ts: int) -> str:
    if c.bsuid_only:
        return c.user_id
    current = c.wa_history[0][1]
    for since, wa in c.wa_history:
        if since <= ts:
            current = wa
    return current


def write_optins(out: Path, world: World, seed: int, truth: Truth) -> dict[int, list[tuple[int, str, str, str]]]:
    """Write the opt-in register; return what it holds per customer index: (time, event, scope, customer_id)."""
    r = FastRandom(f"optins:{seed}")
    end_ts = int(datetime(world.end.year, world.end.month, world.end.day, 23, 59, tzinfo=timezone.utc).timestamp())
    rows = []
    written: dict[int, list[tuple[int, str, str, str]]] = {}
    for c in world.customers:
        if c.optin_plan == "never":
            continue
        joined = int(datetime.fromordinal(c.active_from).replace(tzinfo=timezone.utc).timestamp())
        first = c.first_template_ts
        if c.optin_plan == "late" and first is not None:
            at = first + r.randrange(86400, 20 * 86400)
        elif first is not None:
            at = first - r.randrange(3600, 60 * 86400)
        else:
            at = joined + r.randrange(8 * 3600, 20 * 3600)
        events = [("opt_in", at, c.optin_scope or "all")]
        if c.optin_plan == "out_and_back":
            out_at = at + r.randrange(30 * 86400, 120 * 86400)
            events += [("opt_out", out_at, "all"), ("opt_in", out_at + r.randrange(10 * 86400, 60 * 86400), "all")]
        source = OPTIN_SOURCES[r.randrange(len(OPTIN_SOURCES))]
        for event, ts, scope in events:
            if ts > end_ts:
                break
            evidence = f"ev-{r.getrandbits(48):012x}"
            opt_in = event == "opt_in"
            # the opt-in names the business (M-OPTIN); the register keeps the wording the customer agreed to
            business_name = BUSINESS_NAMES.get(c.phone.waba.portfolio_id, "") if opt_in else ""
            rows.append((_customer_id(c, ts), event, _iso(ts), source if opt_in else "whatsapp_keyword",
                         scope, evidence, c.phone.waba.waba_id,
                         OPTIN_WORDING.format(business=business_name, scope=scope) if opt_in else "", business_name))
            written.setdefault(c.idx, []).append((ts, event, scope, rows[-1][0]))
    rows.sort(key=lambda row: (row[2], row[0], row[1]))
    rel = "optins/optins.csv"
    writers.write_csv(out / rel, ("customer_id", "event", "event_at", "source", "scope", "evidence_ref", "waba_id",
                                  "wording", "business_name"), rows)
    truth.file(rel).rows_in += len(rows)
    truth.expected["optin_events"] += len(rows)
    return written


# Placeholder-but-plausible USD list prices per delivered template (marketing, utility, authentication).
# "Other" holds +1 numbers outside the US and Canada (Trinidad and Tobago); Poland is its own market from
# 2026-07-01 (Meta, "Pricing on the WhatsApp Business Platform", Jul 1, 2026), before it Rest of C&E Europe.
_OTHERS = {"Other": (0.0604, 0.0077, 0.0077), "Rest of Central & Eastern Europe": (0.0860, 0.0212, 0.0212)}
RATES = {
    date(2025, 1, 1): {"Brazil": (0.0625, 0.0080, 0.0315), "India": (0.0107, 0.0014, 0.0014),
                       "United Kingdom": (0.0529, 0.0220, 0.0358), "Nigeria": (0.0516, 0.0067, 0.0067),
                       "North America": (0.0250, 0.0040, 0.0135), "Rest of Latin America": (0.0740, 0.0113, 0.0113),
                       **_OTHERS},
    date(2025, 7, 1): {"Brazil": (0.0625, 0.0068, 0.0068), "India": (0.0107, 0.0014, 0.0014),
                       "United Kingdom": (0.0529, 0.0220, 0.0220), "Nigeria": (0.0516, 0.0067, 0.0067),
                       "North America": (0.0250, 0.0034, 0.0034), "Rest of Latin America": (0.0740, 0.0113, 0.0113),
                       **_OTHERS},
    date(2026, 1, 1): {"Brazil": (0.0625, 0.0068, 0.0068), "India": (0.0118, 0.0014, 0.0014),
                       "United Kingdom": (0.0529, 0.0220, 0.0220), "Nigeria": (0.0516, 0.0067, 0.0067),
                       "North America": (0.0250, 0.0030, 0.0030), "Rest of Latin America": (0.0740, 0.0113, 0.0113),
                       **_OTHERS},
    date(2026, 7, 1): {"Brazil": (0.0625, 0.0068, 0.0068), "India": (0.0118, 0.0014, 0.0014),
                       "United Kingdom": (0.0635, 0.0220, 0.0220), "Nigeria": (0.0516, 0.0067, 0.0067),
                       "North America": (0.0250, 0.0030, 0.0030), "Rest of Latin America": (0.0740, 0.0113, 0.0113),
                       "Poland": (0.0780, 0.0190, 0.0190), **_OTHERS},
    date(2026, 10, 1): {"Brazil": (0.0625, 0.0068, 0.0068), "India": (0.0118, 0.0014, 0.0014),
                        "United Kingdom": (0.0635, 0.0220, 0.0220), "Nigeria": (0.0516, 0.0067, 0.0067),
                        "North America": (0.0250, 0.0030, 0.0030), "Rest of Latin America": (0.0740, 0.0113, 0.0113),
                        "Poland": (0.0780, 0.0190, 0.0190), **_OTHERS},
}
AUTH_INTERNATIONAL_INDIA = 0.0280
VOLUME_TIERS = ((0, 100_000, 1.0), (100_001, 500_000, 0.95), (500_001, None, 0.90))


def write_rate_card(out: Path, truth: Truth) -> None:
    rows = []
    for effective, markets in RATES.items():
        per_message = effective >= model.PMP_START
        for market in sorted(markets):
            marketing, utility, auth = markets[market]
            rows.append((effective.isoformat(), market, "marketing", "USD", f"{marketing:.4f}", 0, ""))
            priced = [("utility", utility), ("authentication", auth)]
            if market == "India":
                priced.append(("authentication_international", AUTH_INTERNATIONAL_INDIA))
            if effective >= model.SERVICE_CHARGED:
                priced.append(("service", utility))
            for category, rate in priced:
                if per_message and category != "service":
                    for lo, hi, factor in VOLUME_TIERS:
                        rows.append((effective.isoformat(), market, category, "USD", f"{rate * factor:.4f}", lo, "" if hi is None else hi))
                else:
                    rows.append((effective.isoformat(), market, category, "USD", f"{rate:.4f}", 0, ""))
    rel = "rate_cards/rate_card.csv"
    writers.write_csv(out / rel, ("effective_from", "market", "category", "currency", "rate", "volume_from", "volume_to"), rows)
    truth.file(rel).rows_in += len(rows)
    truth.expected["rate_cards"] += len(rows)
