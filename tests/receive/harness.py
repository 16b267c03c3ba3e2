"""Real receivers on 127.0.0.1 for the tests: one in a thread (with an injected clock), or `waba receive`
in its own process (to be killed); realistic signed Meta envelopes; a small app to forward to."""
from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import uvicorn

from pipelines.receive.app import Receiver, create_app
from pipelines.receive.config import ReceiveConfig
from pipelines.receive.server import uvicorn_config

SECRET = "test-secret"          # the same app secret tests/conftest.py signs capture records with
VERIFY_TOKEN = "verify-token-7f3a"
HOST = "testhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, secret: str = SECRET) -> str:
    # Meta, "Create a webhook endpoint" (Dec 2025 copy): X-Hub-Signature-256 is "sha256=" + the hex
    # HMAC-SHA256 of the raw payload keyed with the app secret.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wamid(n: int) -> str:
    # A wamid is "wamid." + a base64 string (domain file 1.3, Meta messages webhook reference Apr 30, 2026).
    return "wamid." + base64.b64encode(f"HBgNNTUxMTk4ODg4{n:012d}FQIAERgS".encode()).decode()


def status(n: int, state: str = "delivered") -> dict:
    # Shape from Meta's status messages webhook reference (Apr 30, 2026; domain file 1.6): v24+ has no
    # conversation object; pricing on delivered with PMP type and category.
    return {"id": wamid(n), "status": state, "timestamp": str(1764620000 + n % 3600),
            "recipient_id": "5511988887777", "recipient_user_id": "BR.1349120865530274191",
            "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}}


def status_envelope(ids: list[int], waba_id: str = "102290129340398", entries: int = 1) -> bytes:
    """One POST body: `entries` entries, the statuses spread over them (Meta batches, "Create a webhook
    endpoint": up to 1000 updates per POST)."""
    per = [ids[i::entries] for i in range(entries)]
    entry = [{"id": waba_id, "changes": [{"value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Maria"}, "wa_id": "5511988887777", "user_id": "BR.1349120865530274191"}],
        "statuses": [status(n) for n in chunk]}, "field": "messages"}]} for chunk in per if chunk]
    return json.dumps({"object": "whatsapp_business_account", "entry": entry}, separators=(",", ":")).encode()


def inbound_envelope(n: int) -> bytes:
    # Meta messages webhook reference (Apr 30, 2026; domain file 1.2-1.3): a text message with contacts.
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
             "contacts": [{"profile": {"name": "Maria"}, "wa_id": "5511988887777"}],
             "messages": [{"from": "5511988887777", "id": wamid(900_000 + n), "timestamp": "1764620000",
                           "type": "text", "text": {"body": "Olá, quero saber o prazo de entrega"}}]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}).encode()


def post(client: httpx.Client, url: str, body: bytes, secret: str | None = SECRET, **headers) -> httpx.Response:
    sent = {"Content-Type": "application/json", **headers}
    if secret is not None:
        sent["X-Hub-Signature-256"] = sign(body, secret)
    return client.post(url + "/webhook", content=body, headers=sent)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def config(landing: Path, **changes) -> ReceiveConfig:
    base = ReceiveConfig(landing=landing, port=free_port(), app_secret=SECRET.encode(), verify_token=VERIFY_TOKEN,
                         log_interval=3600, forward_max_backoff=0.5)
    return replace(base, **changes)


@contextmanager
def receiver_in_thread(cfg: ReceiveConfig, clock=None):
    """uvicorn serving the real app on 127.0.0.1 from a thread; yields (base URL, Receiver)."""
    receiver = Receiver(cfg, **({"clock": clock} if clock else {}), host=HOST, tick_seconds=0.05)
    server = uvicorn.Server(uvicorn_config(create_app(receiver), cfg))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{cfg.port}", receiver
    finally:
        server.should_exit = True
        thread.join(30)


class ReceiverProcess:
    """`waba receive` as a user runs it, in its own process group."""

    def __init__(self, landing: Path, port: int | None = None, *extra: str, secret: str | None = SECRET,
                 token: str | None = VERIFY_TOKEN, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("WABA_APP_SECRET", "WABA_VERIFY_TOKEN")}
        if secret:
            env["WABA_APP_SECRET"] = secret
        if token:
            env["WABA_VERIFY_TOKEN"] = token
        self.log = log or landing.parent / f"receiver-{self.port}-{time.monotonic_ns()}.log"
        self._log_handle = open(self.log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "receive", "--landing", str(landing),
                                      "--port", str(self.port), *extra], env=env, stdout=self._log_handle,
                                     stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> "ReceiverProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"receiver exited: {self.log.read_text()}"
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"receiver not ready: {self.log.read_text()}")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log_handle.close()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._log_handle.close()
        return code

    def output(self) -> str:
        return self.log.read_text()


class RecordingApp:
    """The business's own app on 127.0.0.1: records what was forwarded; `fail_first` answers 503 first."""

    def __init__(self, port: int, fail_first: int = 0) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self.port = port
        self.fail_first = fail_first
        self._lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's spelling)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with app._lock:
                    if app.fail_first > 0:
                        app.fail_first -= 1
                        code = 503
                    else:
                        app.received.append((body, self.headers.get("X-Hub-Signature-256")))
                        code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingApp":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def live_files(landing: Path, pattern: str = "*") -> list[Path]:
    return sorted((landing / "webhooks" / "live").rglob(pattern))


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def load_until_signalled(receiver, stop_action, threads=16, seconds=2.0, per_body=10, min_acknowledged=150):
    """Clients post batched status envelopes until `stop_action` ends the receiver (after `seconds` and
    `min_acknowledged` deliveries, however slow the shared machine is); returns the acknowledged n."""
    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**9))

    def client_loop(_):
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                body = status_envelope([n * per_body + k for k in range(per_body)], entries=2)
                try:
                    response = post(client, receiver.url, body)
                except httpx.HTTPError:
                    continue  # the receiver went away mid-request: not acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(n)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(client_loop, i) for i in range(threads)]
        started = time.monotonic()
        while time.monotonic() - started < seconds or (len(acknowledged) < min_acknowledged
                                                       and time.monotonic() - started < 120):
            time.sleep(0.05)
        stop_action()
        stop.set()
        for f in futures:
            f.result()
    return acknowledged
