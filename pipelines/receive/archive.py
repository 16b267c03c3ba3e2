"""The durable archive writer: hourly `.part` files, appended in groups, one fsync per group.

Request handlers hand their capture line to `append` and wait. One writer thread takes everything that
queued up while it was busy, writes it with one write and one fdatasync, and only then wakes the waiting
handlers, so under load one fsync covers many deliveries and nothing is acknowledged before it is on disk.
The clock is injected so that rotation at the hour can be tested.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipelines.receive.hourfiles import close_part, create_part, hour_dir

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ArchiveError(Exception):
    """The record could not be made durable; the request must not be acknowledged."""


@dataclass
class _Pending:
    line: bytes
    hour: datetime
    future: asyncio.Future
    extra: object = None   # passed to after_write (the forward outbox entry)


@dataclass
class _OpenFile:
    path: Path
    fd: int
    hour: datetime
    size: int = 0


@dataclass
class ArchiveCounters:
    archived: int = 0
    groups: int = 0
    failures: int = 0
    closed_files: list[Path] = field(default_factory=list)
    last_error: str | None = None


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


class ArchiveWriter:
    def __init__(self, live: Path, host: str, pid: int, clock: Clock = utc_now, gzip: bool = False,
                 after_write: Callable[[list], None] | None = None, tick_seconds: float = 0.5) -> None:
        self.live, self.host, self.pid, self.clock, self.gzip = live, host, pid, clock, gzip
        self.after_write = after_write      # runs in the writer thread after the fsync, before the acks
        self.tick = tick_seconds
        self.counters = ArchiveCounters()
        self._pending: list[_Pending] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._current: _OpenFile | None = None
        self._thread = threading.Thread(target=self._run, name="waba-archive", daemon=True)
        # Compressing a closed hour must not hold up the next hour's writes.
        self._closer = ThreadPoolExecutor(1, thread_name_prefix="waba-archive-close") if gzip else None

    @property
    def current_file(self) -> Path | None:
        current = self._current
        return current.path if current else None

    def start(self) -> None:
        self._thread.start()

    async def append(self, line: bytes, received_at: datetime, extra: object = None) -> None:
        future = asyncio.get_running_loop().create_future()
        with self._cond:
            if self._stopping:
                raise ArchiveError("the receiver is shutting down")
            self._pending.append(_Pending(line, hour_of(received_at), future, extra))
            self._cond.notify()
        await future

    def stop(self) -> None:
        """Write what is queued, close the current file under its final name, stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()
        if self._closer:
            self._closer.shutdown(wait=True)

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._stopping:
                    self._cond.wait(self.tick)
                batch, self._pending = self._pending, []
                stopping = self._stopping
            if batch:
                self._write_group(batch)
            self._rotate_if_hour_passed()
            if stopping and not batch:  # nothing can queue up any more
                self._close_current()
                return

    def _write_group(self, batch: list[_Pending]) -> None:
        error = None
        try:
            chunk: list[bytes] = []
            for p in batch:
                # A record never goes back to an hour already closed: a late one joins the current file.
                hour = p.hour if self._current is None else max(p.hour, self._current.hour)
                if self._current is None or hour != self._current.hour:
                    if chunk:
                        self._write(b"".join(chunk))
                        chunk = []
                    self._open_for(hour)
                chunk.append(p.line)
            self._write(b"".join(chunk))
            if self._current is not None:
                os.fdatasync(self._current.fd)
            if self.after_write:
                self.after_write([p.extra for p in batch if p.extra is not None])
            self.counters.archived += len(batch)
            self.counters.groups += 1
            self.counters.last_error = None
        except Exception as exc:  # disk full, I/O error: refuse the whole group, keep serving
            self.counters.failures += 1
            self.counters.last_error = f"{type(exc).__name__}: {exc}"
            error = ArchiveError(self.counters.last_error)
        self._wake(batch, error)

    def _write(self, data: bytes) -> None:
        current = self._current
        view = memoryview(data)
        try:
            while view:
                written = os.write(current.fd, view)
                view = view[written:]
        except OSError:
            # Cut back what this group wrote, or the next record would be glued to a half line.
            os.ftruncate(current.fd, current.size)
            raise
        current.size += len(data)

    def _open_for(self, hour: datetime) -> None:
        if self._current is not None and self._current.hour == hour:
            return
        self._close_current()
        path, fd = create_part(hour_dir(self.live, hour), hour, self.host, self.pid)
        self._current = _OpenFile(path, fd, hour)

    def _rotate_if_hour_passed(self) -> None:
        if self._current is not None and hour_of(self.clock()) > self._current.hour:
            try:
                self._close_current()
            except OSError as exc:  # the thread must live on; the .part is closed by the next start
                self.counters.failures += 1
                self.counters.last_error = f"closing the hour file: {type(exc).__name__}: {exc}"

    def _close_current(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        os.fsync(current.fd)
        if self._closer:
            # The lock stays held (fd open) until the compressed file is published.
            self._closer.submit(self._publish, current)
        else:
            self._publish(current)

    def _publish(self, current: _OpenFile) -> None:
        try:
            closed = close_part(current.path, self.gzip)
            if closed is not None:
                self.counters.closed_files.append(closed)
        finally:
            os.close(current.fd)

    @staticmethod
    def _wake(batch: list[_Pending], error: Exception | None) -> None:
        by_loop: dict = {}
        for p in batch:
            by_loop.setdefault(p.future.get_loop(), []).append(p.future)
        for loop, futures in by_loop.items():
            loop.call_soon_threadsafe(_settle, futures, error)


def _settle(futures: list[asyncio.Future], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the client went away; the record is written all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
