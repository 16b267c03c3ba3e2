"""The durable forward outbox: every verified delivery, kept on disk until the business's app answered 2xx.

A SQLite file (stdlib; WAL, synchronous=FULL): the archive writer inserts a group's entries in one
transaction before the group's deliveries are acknowledged, so an acknowledged delivery survives a crash in
the outbox as well as in the archive. The forwarder sends each entry with its original body and signature
header and deletes it only after a 2xx. While the app is down (connection refused, timeout, 5xx, 429) the
forwarder backs off as a whole, doubling up to a ceiling; an entry the app refuses with another 4xx backs
off on its own so it cannot hold up the others. Nothing here runs on the request path except the insert.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipelines.errors import UserError
from pipelines.receive.capture import SIGNATURE_HEADER
from pipelines.receive.hourfiles import try_lock

log = logging.getLogger("waba.receive")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    entry_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at     TEXT NOT NULL,     -- ISO 8601 UTC, as in the capture record
    signature       TEXT,              -- the X-Hub-Signature-256 Meta sent
    body            BLOB NOT NULL,     -- the raw body Meta sent
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,   -- Unix seconds
    last_error      TEXT
)
"""


@dataclass(frozen=True)
class OutboxEntry:
    received_at: str
    signature: str | None
    body: bytes


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One forwarder per outbox, or entries would be sent twice.
        self._lock_fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        if not try_lock(self._lock_fd):
            os.close(self._lock_fd)
            raise UserError(f"{path}: another waba receive is forwarding from this outbox; give this one "
                            "another --state folder")
        self._writer = _connect(path)   # used by the archive thread only
        self._writer.execute(SCHEMA)

    def add(self, entries: list[OutboxEntry]) -> int:
        """Store the entries; return the id of the last one (ids grow: they end the entries just added)."""
        if not entries:
            return 0
        with self._writer:
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.executemany("INSERT INTO outbox (received_at, signature, body) VALUES (?, ?, ?)",
                                     [(e.received_at, e.signature, e.body) for e in entries])
            return self._writer.execute("SELECT max(entry_id) FROM outbox").fetchone()[0]

    def close(self) -> None:
        self._writer.close()
        os.close(self._lock_fd)


@dataclass
class ForwardState:
    target: str
    depth: int = 0
    oldest_received_at: str | None = None
    forwarded: int = 0
    failures: int = 0
    last_success_at: float | None = None
    last_error: str | None = None
    paused_until: float = 0.0


class Forwarder:
    """Sends outbox entries to the app from its own thread, a few at a time."""

    def __init__(self, outbox_path: Path, target: str, concurrency: int = 8, timeout: float = 10.0,
                 min_backoff: float = 0.5, max_backoff: float = 60.0, poll_seconds: float = 0.2) -> None:
        self.target, self.concurrency = target, concurrency
        self.min_backoff, self.max_backoff, self.poll = min_backoff, max_backoff, poll_seconds
        self.state = ForwardState(target)
        self._conn = _connect(outbox_path)
        self._conn.execute(SCHEMA)
        self._client = httpx.Client(timeout=timeout, headers={"User-Agent": "waba-receive-forward"})
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="waba-forward")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._backoff = 0.0
        self._depth_lock = threading.Lock()
        self._counted_through = 0   # the highest entry id the depth already counts
        self._thread = threading.Thread(target=self._run, name="waba-forward", daemon=True)
        self._refresh_depth()

    def start(self) -> None:
        self._thread.start()

    def added(self, count: int, last_id: int) -> None:
        """`count` entries ending with id `last_id` were just added (by the archive thread): count those a
        depth refresh has not already counted (it may have read them between their commit and this call)."""
        with self._depth_lock:
            self.state.depth += max(0, min(count, last_id - self._counted_through))
            self._counted_through = max(self._counted_through, last_id)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._pool.shutdown(wait=True)
        self._client.close()
        self._conn.close()

    def _refresh_depth(self) -> None:
        """Re-read the depth and the oldest waiting entry (the forwarding lag) from the outbox."""
        self._refreshed = time.monotonic()
        with self._depth_lock:
            self.state.depth, self.state.oldest_received_at, last_id = self._conn.execute(
                "SELECT count(*), min(received_at), max(entry_id) FROM outbox").fetchone()
            self._counted_through = max(self._counted_through, last_id or 0)

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.state.paused_until - time.time()
            if wait > 0:
                if time.monotonic() - self._refreshed > 1.0:
                    self._refresh_depth()   # keep /healthz current while the app is down
                self._stop.wait(min(wait, self.poll))
                continue
            rows = self._conn.execute(
                "SELECT entry_id, signature, body, attempts FROM outbox WHERE next_attempt_at <= ? "
                "ORDER BY entry_id LIMIT ?", [time.time(), self.concurrency * 4]).fetchall()
            if not rows:
                self._refresh_depth()
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            self._send_all(rows)
            self._refresh_depth()

    def _send_all(self, rows: list[tuple]) -> None:
        results = list(self._pool.map(self._send, rows))
        delivered = [row[0] for row, (ok, _, _) in zip(rows, results) if ok]
        now = time.time()
        app_down = False
        deferred = []
        for (entry_id, _sig, _body, attempts), (ok, down, error) in zip(rows, results):
            if ok:
                continue
            app_down = app_down or down
            # A refused entry waits on its own, doubling per attempt.
            delay = min(self.max_backoff, self.min_backoff * 2 ** min(attempts, 30))
            deferred.append((attempts + 1, 0 if down else now + delay, error, entry_id))
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            if delivered:
                self._conn.executemany("DELETE FROM outbox WHERE entry_id = ?", [(i,) for i in delivered])
            if deferred:
                self._conn.executemany("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? "
                                       "WHERE entry_id = ?", deferred)
        self.state.forwarded += len(delivered)
        self.state.failures += len(deferred)
        if delivered:
            self.state.last_success_at = now
        if deferred:
            self.state.last_error = deferred[-1][2]
        if app_down:
            self._backoff = min(self.max_backoff, max(self.min_backoff, self._backoff * 2))
            self.state.paused_until = now + self._backoff
            log.warning("forward: %s unreachable (%s); retrying in %.1fs, %d waiting",
                        self.target, self.state.last_error, self._backoff, self.state.depth)
        elif delivered:
            self._backoff = 0.0

    def _send(self, row: tuple) -> tuple[bool, bool, str | None]:
        """(delivered, the app looks down, error)."""
        _entry_id, signature, body, _attempts = row
        headers = {"Content-Type": "application/json"}
        if signature:
            headers[SIGNATURE_HEADER] = signature
        try:
            response = self._client.post(self.target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, True, f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return True, False, None
        down = response.status_code >= 500 or response.status_code in (408, 429)
        return False, down, f"HTTP {response.status_code}"
