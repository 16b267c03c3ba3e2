"""What one verified delivery becomes on disk: a capture record line the webhook loader reads.

`{"received_at", "headers", "body"}`: the body is the raw string Meta sent, so the loader can verify
X-Hub-Signature-256 again; only Meta's own headers are kept (never cookies or authorization).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

import orjson

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Lower-case request header -> the spelling kept in the record. An allow-list: whatever a proxy or a
# client adds (cookies, authorization, forwarding addresses) never reaches the landing folder.
KEPT_HEADERS = {
    "x-hub-signature-256": SIGNATURE_HEADER,
    "x-hub-signature": "X-Hub-Signature",
    "content-type": "Content-Type",
    "user-agent": "User-Agent",
}


def signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    """HMAC-SHA256 of the raw body keyed with the app secret, compared in constant time."""
    if not header:
        return False
    expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, header.strip().lower().encode())


def sign(secret: bytes, body: bytes) -> str:
    """The header value Meta would send with this body (for clients, tests and the benchmark)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def kept_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    kept = {}
    for name, value in headers:
        spelled = KEPT_HEADERS.get(name.decode("latin-1").lower())
        if spelled:
            kept[spelled] = value.decode("latin-1")
    return kept


def iso_utc(moment: datetime) -> str:
    """2026-12-01T21:03:30.123456Z: microseconds, UTC, the offset always written."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


def capture_line(received_at: datetime, headers: dict[str, str], body: bytes) -> bytes:
    """One JSONL line. A body that is not UTF-8 is kept with replacement characters (it then fails the
    loader's signature check and stays out of staging, but it is not lost)."""
    text = body.decode("utf-8", errors="replace")
    return b"".join((b'{"received_at":"', iso_utc(received_at).encode(), b'","headers":', orjson.dumps(headers),
                     b',"body":', orjson.dumps(text), b"}\n"))
