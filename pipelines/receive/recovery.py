"""Closing the `.part` files a killed receiver on this host left behind.

A receiver answers 200 only after its record and the newline ending it are fsynced, so every complete line
of a `.part` is kept; bytes after the last newline were never acknowledged (Meta redelivers them) and go to a
`.torn` sidecar, which the loader quarantines with its reason instead of failing on a half line.
A `.part` whose flock is held belongs to a receiver that is still running and is left alone.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.receive.hourfiles import GZ_TMP, PART, TORN, close_part, closed_name, fsync_dir, try_lock

TAIL_CHUNK = 1 << 16


@dataclass(frozen=True)
class Recovered:
    part: Path
    closed: Path | None      # None: nothing to publish (already published, or not one complete line)
    lines_kept: int
    torn_bytes: int


def _own_parts(live: Path, host: str) -> list[Path]:
    if not live.is_dir():
        return []
    pattern = re.compile(rf"^\d\d-{re.escape(host)}-\d+(\.\d+)?\.jsonl\.part(\.new)?$")
    return sorted(p for p in live.rglob("*.part*") if pattern.match(p.name))


def _complete_length(fd: int, size: int) -> int:
    """Bytes up to and including the last newline, searching backwards from the end."""
    end = size
    while end > 0:
        start = max(0, end - TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


def recover_parts(live: Path, host: str, gzip: bool) -> list[Recovered]:
    recovered: list[Recovered] = []
    for part in _own_parts(live, host):
        try:
            fd = os.open(part, os.O_RDWR)
        except FileNotFoundError:
            continue  # another receiver starting at the same time closed it first
        try:
            if not try_lock(fd):
                continue  # a live receiver's current file
            if not _still_named(part, fd):
                continue  # closed by another receiver between our open and our lock
            result = _recover_locked(part, fd, gzip)
        finally:
            os.close(fd)  # only now, with the file published: the lock is what keeps others off it
        if result:
            recovered.append(result)
    return recovered


def _still_named(part: Path, fd: int) -> bool:
    try:
        return os.stat(part).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _recover_locked(part: Path, fd: int, gzip: bool) -> Recovered | None:
    if part.name.endswith(".new"):  # created but never linked: holds nothing
        os.unlink(part)
        return None
    plain = closed_name(part, False)
    scratch = plain.with_name(plain.name + GZ_TMP)
    if scratch.exists():
        os.unlink(scratch)
    if closed_name(part, True).exists() or plain.exists():
        os.unlink(part)  # killed after publishing, before removing the .part
        fsync_dir(part.parent)
        return Recovered(part, None, 0, 0)
    size = os.fstat(fd).st_size
    keep = _complete_length(fd, size)
    if keep < size:
        _write_torn(part, os.pread(fd, size - keep, keep))
        os.ftruncate(fd, keep)
        os.fsync(fd)
    return Recovered(part, close_part(part, gzip), _count_lines(fd, keep), size - keep)


def _write_torn(part: Path, tail: bytes) -> None:
    torn = part.with_name(part.name[: -len(PART)] + TORN)
    scratch = torn.with_name(torn.name + ".new")
    with open(scratch, "wb") as out:
        out.write(tail)
        out.flush()
        os.fsync(out.fileno())
    os.rename(scratch, torn)
    fsync_dir(part.parent)


def _count_lines(fd: int, length: int) -> int:
    count, offset = 0, 0
    while offset < length:
        chunk = os.pread(fd, min(1 << 20, length - offset), offset)
        count += chunk.count(b"\n")
        offset += len(chunk)
    return count
