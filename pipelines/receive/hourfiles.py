"""Names and durable file operations for the live archive's hour files.

<landing>/webhooks/live/YYYY/MM/DD/HH-<host>-<pid>.jsonl.part while a receiver appends to it (holding an
exclusive flock, which the kernel drops when the process dies, even by kill -9), renamed to `.jsonl` (or
compressed to `.jsonl.gz`) when the hour ends. The loader reads only the closed names.
"""
from __future__ import annotations

import fcntl
import os
import re
import socket
from datetime import datetime
from pathlib import Path

LIVE_FOLDER = Path("webhooks") / "live"
PART = ".part"
TORN = ".torn"          # the torn last line of a killed receiver's file; the loader quarantines it
GZ_TMP = ".gz.tmp"      # a compression in progress


def host_label(name: str | None = None) -> str:
    """The host name as a file-name part: letters, digits and dashes only."""
    return re.sub(r"[^A-Za-z0-9-]", "_", name or socket.gethostname()) or "host"


def hour_dir(live: Path, hour: datetime) -> Path:
    return live / f"{hour:%Y}" / f"{hour:%m}" / f"{hour:%d}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """mkdir -p, making each new directory entry durable (a crash must not lose the file's folder)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            pass
        fsync_dir(folder.parent)


def try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def stem_taken(folder: Path, stem: str) -> bool:
    return any((folder / f"{stem}{ext}").exists()
               for ext in (".jsonl", ".jsonl.gz", ".jsonl" + PART, ".jsonl" + TORN, ".jsonl" + PART + ".new"))


def create_part(folder: Path, hour: datetime, host: str, pid: int) -> tuple[Path, int]:
    """Create and lock a new `.part` file for this hour; returns (path, fd open for appending).

    The stem is HH-host-pid, with .2, .3, ... when a restarted receiver got the same pid within the hour
    (always the case in a container). The file is created under a scratch name, locked, then hard-linked to
    its `.part` name, so a starting receiver never sees an unlocked `.part` that a live one owns.
    """
    make_dirs(folder)
    base = f"{hour:%H}-{host}-{pid}"
    for n in range(1, 10_000):
        stem = base if n == 1 else f"{base}.{n}"
        if stem_taken(folder, stem):
            continue
        scratch = folder / f"{stem}.jsonl{PART}.new"
        try:
            fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        part = folder / f"{stem}.jsonl{PART}"
        try:
            os.link(scratch, part)
        except FileExistsError:
            os.close(fd)
            os.unlink(scratch)
            continue
        os.unlink(scratch)
        fsync_dir(folder)
        return part, fd
    raise RuntimeError(f"{folder}: no free file name for hour {hour:%H}")


def closed_name(part: Path, gzip: bool) -> Path:
    """`X.jsonl.part` -> `X.jsonl` (or `X.jsonl.gz`)."""
    plain = part.with_name(part.name[: -len(PART)])
    return plain.with_name(plain.name + ".gz") if gzip else plain


def close_part(part: Path, gzip: bool) -> Path | None:
    """Publish a finished `.part` under its closed name, atomically; returns the closed path.

    An empty `.part` (nothing was acknowledged into it) is removed instead, returning None: an empty archive
    file would only be quarantined by the loader as `empty_file`.

    Plain: one rename. Gzipped: compressed to a scratch file, fsynced, renamed, then the `.part` is removed
    (a crash in between leaves both; recovery then drops the `.part`, whose content the `.gz` holds).
    """
    if part.stat().st_size == 0:
        os.unlink(part)
        fsync_dir(part.parent)
        return None
    target = closed_name(part, gzip)
    if gzip:
        import gzip as gz
        import shutil

        scratch = target.with_name(target.name[: -len(".gz")] + GZ_TMP)
        with open(part, "rb") as src, open(scratch, "wb") as raw:
            with gz.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0, filename="") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            raw.flush()
            os.fsync(raw.fileno())
        os.rename(scratch, target)
        fsync_dir(part.parent)
        os.unlink(part)
    else:
        os.rename(part, target)
    fsync_dir(part.parent)
    return target
