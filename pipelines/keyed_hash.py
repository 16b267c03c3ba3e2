"""HMAC-SHA256 as DuckDB can compute it set-based: the key's inner and outer pads (RFC 2104)."""
from __future__ import annotations

import hashlib


def hmac_pads(secret: str | None) -> tuple[bytes | None, bytes | None]:
    """The inner and outer HMAC-SHA256 pads; HMAC(m) = sha256(opad || sha256(ipad || m))."""
    if not secret:
        return None, None
    key = secret.encode()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
