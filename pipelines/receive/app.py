"""The ASGI app (Starlette): GET /webhook (Meta's verification), POST /webhook, GET /healthz."""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pipelines.receive.archive import ArchiveError, ArchiveWriter, Clock, utc_now
from pipelines.receive.capture import SIGNATURE_HEADER, capture_line, iso_utc, kept_headers, signature_matches
from pipelines.receive.config import ReceiveConfig
from pipelines.receive.hourfiles import host_label
from pipelines.receive.outbox import Forwarder, Outbox, OutboxEntry
from pipelines.receive.recovery import recover_parts
from pipelines.receive.stats import Counters, RejectedSample, minute_line

log = logging.getLogger("waba.receive")


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    """The client went away before sending its whole body: nothing to archive, nobody to answer."""


async def _respond(send, status: int, body: bytes, close: bool = False) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"text/plain; charset=utf-8")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Receiver:
    """Everything one running receiver holds: config, writer, outbox, forwarder, counters."""

    def __init__(self, config: ReceiveConfig, clock: Clock = utc_now, host: str | None = None,
                 pid: int | None = None, tick_seconds: float = 0.5) -> None:
        self.config, self.clock = config, clock
        self.host, self.pid = host_label(host), pid if pid is not None else os.getpid()
        self.counters = Counters()
        self.started_at = time.time()
        self.rejected = RejectedSample(config.state_dir / "rejected-sample.jsonl")
        self.outbox: Outbox | None = None
        self.forwarder: Forwarder | None = None
        self.tick = tick_seconds
        self.writer: ArchiveWriter | None = None

    def open(self) -> None:
        """Close what a killed receiver left, open the outbox, start the threads (once)."""
        if self.writer is not None:
            return
        for r in recover_parts(self.config.live, self.host, self.config.gzip):
            torn = f", torn last line ({r.torn_bytes} bytes, never acknowledged) kept in a .torn sidecar" \
                if r.torn_bytes else ""
            if r.closed is None:
                log.info("recovered %s: nothing to publish (already published, or no complete line), removed%s",
                         r.part, torn)
            else:
                log.info("recovered %s -> %s: %d complete lines%s", r.part.name, r.closed.name, r.lines_kept, torn)
        after_write = None
        if self.config.forward:
            self.outbox = Outbox(self.config.state_dir / "outbox.sqlite")
            self.forwarder = Forwarder(self.outbox.path, self.config.forward, timeout=self.config.forward_timeout,
                                       max_backoff=self.config.forward_max_backoff)

            def after_write(entries: list) -> None:
                last_id = self.outbox.add(entries)
                self.forwarder.added(len(entries), last_id)
        self.writer = ArchiveWriter(self.config.live, self.host, self.pid, self.clock, self.config.gzip,
                                    after_write=after_write, tick_seconds=self.tick)
        self.writer.start()
        if self.forwarder:
            self.forwarder.start()

    def close(self) -> None:
        if self.writer:
            self.writer.stop()
            for path in self.writer.counters.closed_files[-1:]:
                log.info("closed %s", path)
        if self.forwarder:
            self.forwarder.stop()
        if self.outbox:
            self.outbox.close()
        log.info("stopped: %d received, %d archived", self.counters.received, self.counters.archived)

    # ------------------------------------------------------------------ handlers

    async def verify(self, request: Request) -> Response:
        params = request.query_params
        token = self.config.verify_token
        given = params.get("hub.verify_token", "")
        if (token and params.get("hub.mode") == "subscribe"
                and hmac.compare_digest(given.encode(), token.encode())):
            log.info("verification request accepted")
            return PlainTextResponse(params.get("hub.challenge", ""), headers={"X-Content-Type-Options": "nosniff"})
        log.warning("verification request refused (%s)", "no WABA_VERIFY_TOKEN set" if not token
                    else "hub.mode is not subscribe" if params.get("hub.mode") != "subscribe" else "wrong verify token")
        return PlainTextResponse("verification refused", status_code=403)

    async def deliver(self, scope, receive, send) -> None:
        """POST /webhook as a bare ASGI endpoint: the hot path skips the framework's request objects."""
        received_at = self.clock()
        self.counters.received += 1
        headers = kept_headers(scope["headers"])
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            self.counters.rejected_too_large += 1
            self.rejected.add("too_large", headers, b"", _client(scope))
            return await _respond(send, 413, f"body over {self.config.max_body_bytes} bytes".encode(), close=True)
        signature = headers.get(SIGNATURE_HEADER)
        if self.config.app_secret is not None and not signature_matches(self.config.app_secret, body, signature):
            self.counters.rejected_signature += 1
            self.rejected.add("missing_signature" if not signature else "bad_signature", headers, body, _client(scope))
            return await _respond(send, 403, b"signature check failed")
        entry = OutboxEntry(iso_utc(received_at), signature, body) if self.forwarder else None
        try:
            await self.writer.append(capture_line(received_at, headers, body), received_at, entry)
        except ArchiveError as exc:
            self.counters.failed_archive += 1
            log.error("could not archive a delivery (answered 503, Meta will retry): %s", exc)
            return await _respond(send, 503, b"could not archive; retry")
        self.counters.archived += 1
        await _respond(send, 200, b"")

    async def _read_body(self, scope, receive) -> bytes:
        cap = self.config.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > cap:
                raise _TooLarge
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def health(self, request: Request) -> Response:
        writer = self.writer.counters
        body = {
            "status": "ok" if writer.last_error is None else "failing",
            "pid": self.pid,
            "uptime_seconds": round(time.time() - self.started_at, 1),
            "counters": self.counters.snapshot() | {"forwarded": self._forwarded()},
            "archive": {"current_file": str(self.writer.current_file) if self.writer.current_file else None,
                        "fsync_groups": writer.groups, "last_error": writer.last_error},
        }
        if self.forwarder:
            state = self.forwarder.state
            oldest = state.oldest_received_at
            lag = (self.clock() - datetime.fromisoformat(oldest.replace("Z", "+00:00"))).total_seconds() if oldest else 0.0
            body["forward"] = {"target": state.target, "outbox_depth": state.depth,
                               "lag_seconds": round(max(lag, 0.0), 3), "forwarded": state.forwarded,
                               "failed_attempts": state.failures, "last_error": state.last_error,
                               "last_success_at": datetime.fromtimestamp(state.last_success_at, timezone.utc).isoformat()
                               if state.last_success_at else None}
        return JSONResponse(body, status_code=200 if writer.last_error is None else 503)

    def _forwarded(self) -> int:
        return self.forwarder.state.forwarded if self.forwarder else 0

    async def log_every_interval(self) -> None:
        before = self.counters.snapshot()
        while True:
            await asyncio.sleep(self.config.log_interval)
            self.counters.forwarded = self._forwarded()
            now = self.counters.snapshot()
            log.info(minute_line(now, before, self.forwarder.state.depth if self.forwarder else None))
            before = now


def _client(scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None


def create_app(receiver: Receiver) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app):
        await asyncio.to_thread(receiver.open)
        ticker = asyncio.create_task(receiver.log_every_interval())
        try:
            yield
        finally:
            ticker.cancel()
            await asyncio.to_thread(receiver.close)

    framework = Starlette(routes=[
        Route("/webhook", receiver.verify, methods=["GET"]),
        Route("/healthz", receiver.health, methods=["GET"]),
    ], lifespan=lifespan)

    async def app(scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/webhook":
            try:
                await receiver.deliver(scope, receive, send)
            except _Disconnected:
                pass
        else:
            await framework(scope, receive, send)

    return app
