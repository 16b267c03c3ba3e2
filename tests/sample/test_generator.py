"""The sample-world generator: determinism, and ground truth re-derived by reading the files back independently."""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import json
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipelines.sample import generate_world

SECRET = "test-secret"
# three small windows so every platform period appears: CBP->PMP, the tier-ladder change and On-Prem sunset, BSUIDs
WORLDS = {
    "summer25": dict(customers=60, start=date(2025, 6, 1), end=date(2025, 8, 31)),
    "autumn25": dict(customers=60, start=date(2025, 9, 20), end=date(2025, 11, 20)),
    "spring26": dict(customers=200, start=date(2026, 3, 25), end=date(2026, 6, 15)),
}
PMP_TS = int(datetime(2025, 7, 1, tzinfo=timezone.utc).timestamp())
LADDER_TS = int(datetime(2025, 10, 7, tzinfo=timezone.utc).timestamp())
V24_TS = int(datetime(2025, 11, 1, tzinfo=timezone.utc).timestamp())
IDENTITY_TYPES = {"user_changed_number", "customer_changed_number", "customer_identity_changed", "user_changed_user_id"}
FIELD_TABLE = {
    "message_template_status_update": "template_status_events",
    "message_template_quality_update": "template_quality_events",
    "template_category_update": "template_category_events",
    "phone_number_quality_update": "phone_number_quality_events",
    "business_capability_update": "business_capability_events",
    "account_update": "account_update_events",
}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    built = {}
    for name, kwargs in WORLDS.items():
        out = tmp_path_factory.mktemp(name)
        built[name] = (out, generate_world(out, seed=11, app_secret=SECRET, **kwargs))
    return built


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(tmp_path, worlds):
    out, _ = worlds["summer25"]
    again = tmp_path / "again"
    generate_world(again, seed=11, app_secret=SECRET, **WORLDS["summer25"])
    first, second = _tree(out), _tree(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    other = tmp_path / "other"
    generate_world(other, seed=12, app_secret=SECRET, **WORLDS["summer25"])
    third = _tree(other)
    assert sum(first[k] != third.get(k) for k in first) > len(first) // 2


# ---------------------------------------------------------------- independent reading of the archive


class Recount:
    """Re-derives the ground truth from the files with nothing but json/csv parsing."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict] = {}
        self.seen_bodies: set[str] = set()
        self.inbound: dict[str, str] = {}
        self.statuses: set[tuple[str, str]] = set()
        self.failed_codes: dict[str, int] = {}
        self.staging: dict[str, set] = {k: set() for k in (*FIELD_TABLE.values(), "unknown_field_events", "user_preferences")}
        self.identity_changes: set[str] = set()
        self.identities: set[tuple[str, str]] = set()
        self.envelopes = 0
        self.statuses_seen: list[dict] = []
        self.status_waba: dict[str, str] = {}
        self.management: list[tuple[str, int, dict]] = []
        for path in sorted((root / "webhooks" / "cloud").iterdir()):
            self._cloud_file(path)
        onprem = root / "webhooks" / "onprem"
        if onprem.exists():
            for path in sorted(onprem.iterdir()):
                self._onprem_file(path)

    def _stats(self, path: Path) -> dict:
        return self.files.setdefault(str(path.relative_to(self.root)),
                                     {"rows_in": 0, "duplicates": 0, "quarantine_reasons": Counter(), "bad_signatures": 0})

    def _cloud_file(self, path: Path) -> None:
        stats = self._stats(path)
        if path.name.endswith(".json"):
            deliveries = [json.dumps(e) for e in json.loads(path.read_text())]
        else:
            raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
            deliveries = [line.decode("utf-8") for line in raw.split(b"\n") if line.strip()]
        for line in deliveries:
            stats["rows_in"] += 1
            try:
                obj = json.loads(line)
            except ValueError:
                stats["quarantine_reasons"]["invalid_json"] += 1
                continue
            body = line
            if isinstance(obj, dict) and "headers" in obj and "body" in obj:
                body = obj["body"]
                want = "sha256=" + hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
                doc = json.loads(body)
                if obj["headers"]["X-Hub-Signature-256"] != want:
                    stats["bad_signatures"] += 1
                    stats["quarantine_reasons"]["bad_signature"] += 1
                    self.envelopes += 1
                    continue
            else:
                doc = obj
            if doc.get("object") != "whatsapp_business_account":
                stats["quarantine_reasons"]["not_whatsapp"] += 1
                continue
            self.envelopes += 1
            if body in self.seen_bodies:
                stats["duplicates"] += 1
                continue
            self.seen_bodies.add(body)
            self._envelope(doc)

    def _envelope(self, doc: dict) -> None:
        for entry in doc["entry"]:
            for change in entry["changes"]:
                field, value = change["field"], change["value"]
                if field == "messages":
                    assert "time" not in entry
                    for c in value.get("contacts", []):
                        if "wa_id" in c and "user_id" in c:
                            self.identities.add((c["wa_id"], c["user_id"]))
                    for m in value.get("messages", []):
                        self._message(m)
                    for s in value.get("statuses", []):
                        self._status(s)
                        self.status_waba[s["id"]] = entry["id"]
                        if "recipient_id" in s and "recipient_user_id" in s:
                            self.identities.add((s["recipient_id"], s["recipient_user_id"]))
                    continue
                assert isinstance(entry["time"], int)
                if field in ("calls", "user_id_update") or field.startswith("group_"):
                    # staged into their own tables; contacts and rotations feed the identity map
                    for c in value.get("contacts", []):
                        if "wa_id" in c and "user_id" in c:
                            self.identities.add((c["wa_id"], c["user_id"]))
                    for u in value.get("user_id_update", []):
                        self.identity_changes.add(u["user_id"]["previous"] + ">" + u["user_id"]["current"])
                        if "wa_id" in u:
                            self.identities.add((u["wa_id"], u["user_id"]["current"]))
                    continue
                if field == "user_preferences":
                    for c in value.get("contacts", []):
                        if "wa_id" in c and "user_id" in c:
                            self.identities.add((c["wa_id"], c["user_id"]))
                    for p in value["user_preferences"]:
                        assert isinstance(p["timestamp"], int)
                        self.staging["user_preferences"].add((p.get("wa_id") or p["user_id"], p["value"], p["timestamp"]))
                    continue
                self.management.append((field, entry["time"], value))
                table = FIELD_TABLE.get(field, "unknown_field_events")
                if table.startswith("template_"):
                    event = value.get("event") or value.get("new_quality_score") or value.get("new_category")
                    key = (field, value["message_template_id"], entry["time"], event)
                else:
                    key = (field, entry["id"], entry["time"], json.dumps(value, sort_keys=True))
                self.staging[table].add(key)

    def _message(self, m: dict) -> None:
        self.inbound.setdefault(m["id"], m["type"])
        if m["type"] == "system" and m["system"]["type"] in IDENTITY_TYPES:
            self.identity_changes.add(m["id"])

    def _status(self, s: dict) -> None:
        self.statuses.add((s["id"], s["status"]))
        self.statuses_seen.append(s)
        if s["status"] == "failed":
            self.failed_codes[s["id"]] = s["errors"][0]["code"]

    def _onprem_file(self, path: Path) -> None:
        stats = self._stats(path)
        for line in gzip.decompress(path.read_bytes()).split(b"\n"):
            if not line.strip():
                continue
            stats["rows_in"] += 1
            try:
                doc = json.loads(line)
            except ValueError:
                stats["quarantine_reasons"]["invalid_json"] += 1
                continue
            assert "object" not in doc and "entry" not in doc
            key = line.decode()
            if key in self.seen_bodies:
                stats["duplicates"] += 1
                continue
            self.seen_bodies.add(key)
            for m in doc.get("messages", []):
                self._message(m)
            for s in doc.get("statuses", []):
                self._status(s)


def _csv_rows(path: Path) -> list[tuple]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [tuple(row) for row in list(csv.reader(fh))[1:]]


LIST_COLUMNS = {2: "marketing", 3: "utility", 4: "authentication", 5: "authentication_international", 6: "service"}
TIER_GROUPS = ("utility", "authentication", "authentication_international")


def _meta_rates(path: Path) -> set[tuple]:
    """The rates in one of Meta's rate-card layouts, read here independently of the pipeline: (date, market,
    category, band start) for every cell that is not n/a. The date is the one in the file name."""
    day = path.stem.rsplit("_", 1)[-1]
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))
    header = next(i for i, r in enumerate(records) if r and r[0].startswith("Market"))
    found, market = set(), ""
    for row in records[header + 1:]:
        market = row[0] or market
        if "volume_tiers" in path.name:      # groups of From, To, Rate type, Rate, vs. List rate
            found |= {(day, market, cat, row[2 + 5 * g].replace(",", "")) for g, cat in enumerate(TIER_GROUPS)
                      if row[5 + 5 * g] != "n/a"}
        else:
            found |= {(day, market, cat, "0") for c, cat in LIST_COLUMNS.items() if row[c] != "n/a"}
    return found


def _parse_sent_at(value: str) -> bool:
    if value.isdigit():
        return True
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


@pytest.mark.parametrize("name", list(WORLDS))
def test_ground_truth_matches_an_independent_recount(worlds, name):
    root, truth = worlds[name]
    recount = Recount(root)
    for rel, got in recount.files.items():
        want = truth["files"][rel]
        assert got["rows_in"] == want["rows_in"], rel
        assert got["duplicates"] == want["duplicates"], rel
        assert dict(got["quarantine_reasons"]) == want["quarantine_reasons"], rel
        assert sum(got["quarantine_reasons"].values()) == want["quarantined"], rel
        assert got["bad_signatures"] == want["bad_signatures"], rel
    assert recount.envelopes == truth["envelopes"]

    expected = truth["expected"]
    assert len(recount.inbound) == expected["staging.inbound_messages"]
    assert len(recount.statuses) == expected["staging.message_statuses"]
    for table, keys in recount.staging.items():
        assert len(keys) == expected[f"staging.{table}"], table
    assert len(recount.identity_changes) == expected["staging.identity_changes"]
    assert len(recount.identities) == expected["staging.customer_identities"]
    assert dict(Counter(recount.inbound.values())) == truth["inbound_by_type"]
    assert dict(Counter(s for _, s in recount.statuses)) == truth["statuses_by_status"]
    assert dict(Counter(str(c) for c in recount.failed_codes.values())) == truth["failed_by_error_code"]
    delivered = {i for i, s in recount.statuses if s == "delivered"}
    read_only = {i for i, s in recount.statuses if s == "read" and i not in delivered}
    assert len(read_only) == truth["read_without_delivered"]

    # the business files
    log_ids, log_rows = set(), 0
    for path in sorted((root / "message_logs").iterdir()):
        rows = _csv_rows(path) if path.suffix == ".csv" else [tuple("" if v is None else v for v in r) for r in pl.read_parquet(path).rows()]
        want = truth["files"][str(path.relative_to(root))]
        bad = [r for r in rows if not _parse_sent_at(r[1])]
        assert (len(rows), len(rows) - len(set(rows)), len(bad)) == (want["rows_in"], want["duplicates"], want["quarantined"])
        log_ids |= {r[0] for r in rows if _parse_sent_at(r[1])}
        log_rows += len(rows)
    assert len(log_ids) == expected["staging.message_log"]
    for prefix, table in (("business_manager/phone_numbers_", "phone_number_snapshots"),
                          ("business_manager/templates_", "template_snapshots"), ("business_manager/accounts", "accounts"),
                          ("optins/", "optin_events"), ("rate_cards/", "rate_cards")):
        paths = [p for p in root.rglob("*.csv") if str(p.relative_to(root)).startswith(prefix)]
        assert paths, prefix
        meta = [p for p in paths if p.name.startswith("meta_")]   # Meta's own rate-card layouts (INR)
        paths = [p for p in paths if p not in meta]
        # a rate both Meta files give (a first utility or authentication band) is one staging row
        meta_rates = set().union(*(_meta_rates(p) for p in meta))
        assert sum(len(_csv_rows(p)) for p in paths) + len(meta_rates) == expected[f"staging.{table}"], table
        for p in paths:
            assert len(_csv_rows(p)) == truth["files"][str(p.relative_to(root))]["rows_in"]
        for p in meta:
            assert len(_meta_rates(p)) == truth["files"][str(p.relative_to(root))]["rows_in"]

    messages = pl.read_parquet(root / "ground_truth_messages.parquet")
    assert messages["message_id"].n_unique() == messages.height
    # every outbound message in the log, including the rows whose timestamp got mangled
    all_log_ids = set()
    for path in (root / "message_logs").iterdir():
        all_log_ids |= {r[0] for r in (_csv_rows(path) if path.suffix == ".csv" else pl.read_parquet(path).rows())}
    assert set(messages["message_id"]) == all_log_ids
    with_status = {i for i, _ in recount.statuses}
    no_webhook = messages.filter(pl.col("final_status").is_null())["message_id"].to_list()
    # messages whose statuses never reached the archive (P_NO_WEBHOOK) really have none
    assert not (set(no_webhook) & with_status)


def test_every_landing_format_appears(worlds):
    names = set()
    for root, _ in worlds.values():
        names |= {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    cloud = [n for n in names if n.startswith("webhooks/cloud/")]
    assert any(n.endswith(".json") for n in cloud) and any(n.endswith(".ndjson") for n in cloud)
    assert any(n.endswith(".jsonl.gz") for n in cloud)
    assert any(n.startswith("webhooks/onprem/") and n.endswith(".jsonl.gz") for n in names)
    assert any(n.startswith("message_logs/") and n.endswith(".csv") for n in names)
    assert any(n.startswith("message_logs/") and n.endswith(".parquet") for n in names)
    for fixed in ("business_manager/accounts.csv", "optins/optins.csv", "rate_cards/rate_card.csv",
                  "ground_truth.json", "ground_truth_messages.parquet"):
        assert fixed in names
    # capture-record days and bare-envelope days both exist
    root, _ = worlds["summer25"]
    kinds = set()
    for path in (root / "webhooks" / "cloud").glob("*.jsonl.gz"):
        for line in gzip.decompress(path.read_bytes()).split(b"\n"):
            try:
                first = json.loads(line)
            except ValueError:
                continue
            kinds.add("capture" if "headers" in first else first.get("object"))
            break
    assert {"capture", "whatsapp_business_account"} <= kinds
    # a month of the send log with Unix-second timestamps
    assert any(r[1].isdigit() for p in (root / "message_logs").glob("*.csv") for r in _csv_rows(p))


def test_pricing_follows_the_period(worlds):
    # The model follows the message's send time at midnight in its WABA's timezone (Meta's pricing page): the
    # first status of a message is its send time (to within the 2 s the generator allows).
    models = Counter()
    for root, _ in worlds.values():
        recount = Recount(root)
        zones = {r[0]: ZoneInfo(r[2]) for r in _csv_rows(root / "business_manager" / "accounts.csv")}
        sent = {}
        for s in recount.statuses_seen:
            sent[s["id"]] = min(sent.get(s["id"], int(s["timestamp"])), int(s["timestamp"]))
        for s in recount.statuses_seen:
            ts = int(s["timestamp"])
            if "pricing" in s:
                # On-Premises bodies name no WABA: they are the On-Premises number's (the first WABA of accounts.csv)
                zone = zones[recount.status_waba.get(s["id"], next(iter(zones)))]
                local = datetime.fromtimestamp(sent[s["id"]], zone)
                if local.date() == date(2025, 7, 1) and local.hour == 0 and local.minute == 0 and local.second < 3:
                    continue  # sent in the last 2 s of June: either model is right
                want = "CBP" if local.date() < date(2025, 7, 1) else "PMP"
                assert s["pricing"]["pricing_model"] == want
                models[want] += 1
                assert ("type" in s["pricing"]) == (want == "PMP")
                assert s["status"] != "failed"
            if "conversation" in s and ts >= V24_TS:
                assert s["pricing"]["type"] == "free_entry_point"
            if "expiration_timestamp" in s.get("conversation", {}):
                assert s["status"] == "sent"
    assert models["CBP"] and models["PMP"]


def test_both_tier_ladders_appear(worlds):
    root, _ = worlds["autumn25"]
    before, after, caps = set(), set(), set()
    for field, time, value in Recount(root).management:
        if field == "phone_number_quality_update":
            if time < LADDER_TS:
                before.add(value.get("current_limit"))
            else:
                after.add(value.get("current_limit"))
                assert value["event"] not in ("FLAGGED", "UNFLAGGED", "DOWNGRADE")
                caps.add(type(value.get("max_daily_conversations_per_business")))
    assert "TIER_1K" in before and "TIER_2K" not in before
    assert "TIER_2K" in after and "TIER_1K" not in after
    # Integers on the switch; the string spelling (UNLIMITED) only once a portfolio earns it (limits.py).
    assert int in caps


def test_bsuid_era(worlds):
    root, truth = worlds["spring26"]
    recount = Recount(root)
    assert truth["bsuid_only_customers"] > 0
    assert recount.identities
    bsuid_only_statuses = [s for s in recount.statuses_seen if "recipient_id" not in s]
    assert bsuid_only_statuses and all("recipient_user_id" in s for s in bsuid_only_statuses)
    messages = pl.read_parquet(root / "ground_truth_messages.parquet")
    assert messages.filter(pl.col("customer_wa_id").is_null()).height > 0


def test_envelope_scale_is_calibrated(tmp_path):
    truth = generate_world(tmp_path, seed=3, envelopes=30_000)
    assert 27_000 <= truth["envelopes"] <= 33_000
