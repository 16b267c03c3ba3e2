"""Counters the receiver keeps, the one-line-per-minute log, and the bounded sample of rejected POSTs."""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from pipelines.receive.capture import iso_utc

SAMPLE_MAX_BYTES = 1 << 20      # the rejected sample stops growing here
SAMPLE_BODY_CHARS = 4096


@dataclass
class Counters:
    received: int = 0            # POSTs to /webhook
    archived: int = 0            # acknowledged with 200
    rejected_signature: int = 0  # 403: missing or wrong X-Hub-Signature-256
    rejected_too_large: int = 0  # 413
    failed_archive: int = 0      # 503: could not be made durable
    forwarded: int = 0

    def snapshot(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def minute_line(now: dict[str, int], before: dict[str, int], depth: int | None) -> str:
    delta = {k: now[k] - before[k] for k in now}
    line = (f"received {delta['received']}, archived {delta['archived']}, rejected "
            f"{delta['rejected_signature'] + delta['rejected_too_large']} (signature {delta['rejected_signature']}, "
            f"too large {delta['rejected_too_large']}), failed {delta['failed_archive']}")
    if depth is not None:
        line += f", forwarded {delta['forwarded']}, outbox depth {depth}"
    return line


class RejectedSample:
    """The first rejected POSTs (reason, time, headers kept, start of the body), up to 1 MB, for diagnosis;
    after that they are only counted. Kept beside the outbox, never in the landing folder's webhooks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def add(self, reason: str, headers: dict[str, str], body: bytes, client: str | None) -> None:
        with self._lock:
            try:
                if self.path.exists() and self.path.stat().st_size >= SAMPLE_MAX_BYTES:
                    return
                self.path.parent.mkdir(parents=True, exist_ok=True)
                record = {"rejected_at": iso_utc(datetime.now(timezone.utc)), "reason": reason, "client": client,
                          "headers": headers, "body_bytes": len(body),
                          "body_start": body[:SAMPLE_BODY_CHARS].decode("utf-8", "replace")}
                with open(self.path, "a", encoding="utf-8") as out:
                    out.write(json.dumps(record) + "\n")
            except OSError:
                pass  # diagnosis only: never let it fail a request
