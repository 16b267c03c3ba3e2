"""One writer at a time, for the whole of its work: a lock file beside the warehouse holding the writer's pid.

DuckDB locks the file only while a connection is open, and a run opens and closes one per step, so
between steps another writer (`waba reprice`, a second `waba run`) could slip in and make the run fail
halfway. A run (and a reprice) therefore holds `<warehouse>.lock` with flock from its first write to its
publish; the kernel releases it when the process ends, even by kill -9, so a crash never leaves it held.
Every other writer is refused at once with who holds it and since when.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from pipelines.errors import UserError

_held: set[Path] = set()   # warehouses this process holds (its own steps may write them)


def lock_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".lock")


def _refusal(warehouse: Path, fd: int) -> UserError:
    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    pid, since = (holder + ["?", "?"])[:2]
    return UserError(f"{warehouse}: locked by pid {pid} since {since} (another waba command is writing it); "
                     "wait for it to finish, or read the .published copy meanwhile")


@contextmanager
def hold_warehouse(warehouse: Path) -> Iterator[None]:
    """Hold the warehouse's write lock for the duration; re-entrant within one process."""
    key = Path(warehouse).absolute()
    if key in _held:
        yield
        return
    try:
        key.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT, 0o644)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{warehouse}: cannot create the warehouse there: a parent of it is a file, not a folder") from None
    except PermissionError:
        raise UserError(f"{warehouse}: cannot write beside the warehouse (permission denied)") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(key, fd) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}\n".encode(), 0)
        _held.add(key)
        try:
            yield
        finally:
            _held.discard(key)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def check_not_held_elsewhere(warehouse: Path) -> None:
    """Refuse to write a warehouse another process holds (this process's own hold is fine)."""
    key = Path(warehouse).absolute()
    path = lock_path(key)
    if key in _held or not path.exists():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(key, fd) from None
    finally:
        os.close(fd)
