"""`.torn` sidecars: the half-written last line a killed `waba receive` left in its hour file.

`waba receive` acknowledges a delivery only after its whole line is on disk, so such bytes were never
acknowledged and Meta sends that delivery again. The bytes are still evidence: each sidecar is one row in,
quarantined with reason `torn_write`, never parsed as a delivery.
"""
from __future__ import annotations

from pathlib import Path

TORN_SUFFIX = ".torn"
REASON = "torn_write"


def is_torn_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(TORN_SUFFIX)


def read_torn_sidecar(path: Path) -> list[tuple[int | None, str, str, str]]:
    """The sidecar as one quarantine problem (line_no, reason, detail, original text)."""
    data = path.read_bytes()
    detail = (f"the receiver stopped while writing this record ({len(data)} bytes, cut off); it was never "
              "acknowledged with 200, so Meta redelivers it")
    return [(1, REASON, detail, data.decode("utf-8", errors="replace"))]
