"""Ground-truth accounting, filled in while files are written (never by reading them back).

Conventions the loaders' tests rely on:
- per file, `quarantined` = sum of `quarantine_reasons`; a capture record whose signature does not verify is
  quarantined as "bad_signature" and also counted in `bad_signatures`; `duplicates` counts raw duplicates
  (byte-identical bodies seen earlier in load order, i.e. sorted paths) and never quarantined lines;
- `envelopes` counts WhatsApp envelope deliveries in webhooks/cloud, redeliveries and tampered copies included;
- staging counts are distinct keys over Cloud and On-Prem together (On-Prem adds `deleted`/`warning` statuses);
- `staging.message_log` leaves out the send-log rows whose sent_at cannot be parsed (they are quarantined),
  while ground_truth_messages.parquet keeps every message the business sent.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import polars as pl

from pipelines.sample import writers

STAGING_TABLES = (
    "inbound_messages", "message_statuses", "template_status_events", "template_quality_events",
    "template_category_events", "phone_number_quality_events", "business_capability_events",
    "account_update_events", "user_preferences", "identity_changes", "unknown_field_events", "message_log",
    "optin_events", "phone_number_snapshots", "template_snapshots", "accounts", "rate_cards", "customer_identities",
    "invoice_lines", "pricing_analytics",
)

MESSAGE_SCHEMA = {
    "message_id": pl.String, "waba_id": pl.String, "phone_number_id": pl.String, "customer_wa_id": pl.String,
    "customer_user_id": pl.String, "market": pl.String, "sent_at": pl.Datetime("us", "UTC"), "is_template": pl.Boolean,
    "template_name": pl.String, "category": pl.String, "pricing_category": pl.String, "pricing_type": pl.String,
    "final_status": pl.String, "error_code": pl.Int64, "delivered": pl.Boolean, "pricing_model": pl.String,
    # integer micro-units of the WABA's currency: what a ledger of the archived webhooks should charge, and what Meta billed
    "charge_micros": pl.Int64, "meta_charge_micros": pl.Int64,
    # how Meta priced it whether or not a status reached the archive (NULL for failed messages), and the recipient's country
    "billed_model": pl.String, "billed_category": pl.String, "billed_type": pl.String, "country": pl.String,
}


class FileStats:
    __slots__ = ("rows_in", "duplicates", "reasons", "bad_signatures")

    def __init__(self) -> None:
        self.rows_in = 0
        self.duplicates = 0
        self.reasons: Counter[str] = Counter()
        self.bad_signatures = 0

    def quarantine(self, reason: str) -> None:
        self.reasons[reason] += 1

    def as_dict(self) -> dict:
        return {"rows_in": self.rows_in, "duplicates": self.duplicates, "quarantined": sum(self.reasons.values()),
                "quarantine_reasons": dict(sorted(self.reasons.items())), "bad_signatures": self.bad_signatures}


class Truth:
    def __init__(self) -> None:
        self.files: dict[str, FileStats] = {}
        self.expected: Counter[str] = Counter()
        self.inbound_by_type: Counter[str] = Counter()
        self.statuses_by_status: Counter[str] = Counter()
        self.failed_by_error_code: Counter[str] = Counter()
        self.read_without_delivered = 0
        self.envelopes = 0
        self.identities: set[tuple[str, str]] = set()

    def file(self, rel: str) -> FileStats:
        stats = self.files.get(rel)
        if stats is None:
            stats = self.files[rel] = FileStats()
        return stats

    def inbound(self, mtype: str) -> None:
        self.expected["inbound_messages"] += 1
        self.inbound_by_type[mtype] += 1

    def status(self, status: str) -> None:
        self.statuses_by_status[status] += 1  # staging.message_statuses is their sum (as_dict)

    def as_dict(self, header: dict, bsuid_only_customers: int) -> dict:
        expected = dict(self.expected)
        expected["customer_identities"] = len(self.identities)
        expected["message_statuses"] = sum(self.statuses_by_status.values())
        return {
            **header,
            "envelopes": self.envelopes,
            "files": {k: self.files[k].as_dict() for k in sorted(self.files)},
            "expected": {f"staging.{t}": expected.get(t, 0) for t in STAGING_TABLES},
            "inbound_by_type": dict(sorted(self.inbound_by_type.items())),
            "statuses_by_status": dict(sorted(self.statuses_by_status.items())),
            "failed_by_error_code": dict(sorted(self.failed_by_error_code.items())),
            "read_without_delivered": self.read_without_delivered,
            "bsuid_only_customers": bsuid_only_customers,
        }


class MessageTruth:
    """One row per outbound message (sent_at in Unix seconds), spilled to a parquet chunk per 50k rows so memory
    stays flat."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.chunk_dir = out / ".ground_truth_chunks"
        self.chunk_dir.mkdir(parents=True, exist_ok=True)
        self.rows: list[tuple] = []
        self.chunks: list[Path] = []

    def add(self, row: tuple) -> None:
        self.rows.append(row)

    def flush_if_large(self) -> None:
        if len(self.rows) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        path = self.chunk_dir / f"{len(self.chunks):05d}.parquet"
        writers.frame(self.rows, MESSAGE_SCHEMA).write_parquet(path)
        self.chunks.append(path)
        self.rows = []

    def close(self) -> None:
        self.flush()
        target = self.out / "ground_truth_messages.parquet"
        if self.chunks:
            pl.scan_parquet(self.chunks).sink_parquet(target)
        else:
            pl.DataFrame(schema=MESSAGE_SCHEMA).write_parquet(target)
        shutil.rmtree(self.chunk_dir)
