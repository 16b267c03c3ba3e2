"""Reading .gz landing files whole: every member, and whether the stream ended where it should.

DuckDB reads a gzip stream cut short without an error, and stops at the first member of a file that
holds several (`cat a.gz b.gz`, log shippers). So every .gz is checked here, whichever reader loads it:
a stream is complete when each member ends with its trailer (CRC-32 and length, checked by zlib) and
nothing but members follows.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

BLOCK = 1 << 20


@dataclass(frozen=True)
class GzipScan:
    members: int              # gzip members that ended with a valid trailer
    text_bytes: int           # bytes of decompressed text, complete members and the readable part of a cut one
    problem: str | None       # why the stream is not complete (cut short, corrupt, trailing garbage), or None
    reason: str | None = None  # truncated_gzip | corrupt_gzip (some text read) | unreadable_file (none)

    @property
    def complete(self) -> bool:
        return self.problem is None


def _members(path: Path, sink) -> GzipScan:
    """Inflate every member of `path`, passing text to `sink` (None: count only)."""
    members = text = 0
    inflater = None
    with open(path, "rb") as handle:
        pending = b""
        while True:
            block = pending or handle.read(BLOCK)
            pending = b""
            if not block:
                break
            if inflater is None:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out = inflater.decompress(block)
            except zlib.error as exc:
                if members == 0 and text == 0:
                    return GzipScan(0, 0, f"not a readable gzip file ({exc})", "unreadable_file")
                return GzipScan(members, text, f"the gzip data is corrupt after {text:,} bytes of text ({exc}): "
                                               "whatever followed is lost", "corrupt_gzip")
            text += len(out)
            if sink is not None and out:
                sink(out)
            if inflater.eof:
                members += 1
                pending = inflater.unused_data
                inflater = None
        if inflater is not None:
            tail = inflater.flush()
            text += len(tail)
            if sink is not None and tail:
                sink(tail)
            return GzipScan(members, text, f"the gzip stream stops before its end (member {members + 1} has no "
                                           f"trailer) after {text:,} bytes of text: whatever followed is lost", "truncated_gzip")
    return GzipScan(members, text, None)


def scan_gzip(path: Path) -> GzipScan:
    """Check a .gz file without keeping its text."""
    return _members(path, None)


def read_gzip(path: Path) -> tuple[bytes, GzipScan]:
    """All the text of every member (the readable part of a cut one too), and how the stream ended."""
    parts: list[bytes] = []
    scan = _members(path, parts.append)
    return b"".join(parts), scan
