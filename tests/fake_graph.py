"""A local stand-in for Meta's Graph API: a real HTTP server on 127.0.0.1 that plays scripted replies.

Routes are keyed by what Meta would be asked: the path, plus the analytics field for the field-expansion
form on the WABA node (`/v24.0/123#pricing_analytics`), plus the paging cursor. Each route's replies are
served in order; the last one keeps being served.
"""
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from pipelines.sources.graph_api import GraphSettings

ANALYTICS_FIELDS = ("pricing_analytics", "conversation_analytics")


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=dict)   # dict/list as JSON, str as raw text
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    cut_after: int | None = None   # send only this many bytes of the body, then close (a transfer cut short)


def graph_error(status: int, code: int, message: str, kind: str = "OAuthException", subcode: int | None = None,
                headers: dict | None = None) -> Reply:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Reply(status, {"error": error}, headers or {})


def route_key(path: str, params: dict) -> str:
    fields = params.get("fields", "")
    for name in ANALYTICS_FIELDS:
        if f"{name}." in fields:
            path = f"{path}#{name}"
    return path + (f"@{params['after']}" if "after" in params else "")


class FakeGraph:
    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[dict] = []    # every request: path, params, headers
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                url = urlsplit(self.path)
                params = dict(parse_qsl(url.query, keep_blank_values=True))
                with fake._lock:
                    fake.requests.append({"path": url.path, "params": params, "headers": dict(self.headers)})
                    replies = fake.routes.get(route_key(url.path, params))
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else graph_error(
                        400, 100, f"Unknown path components: {url.path}", "OAuthException")
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = body.encode()
                try:
                    self.send_response(reply.status)
                    content_type = "application/json" if not isinstance(reply.body, str) else "text/html"
                    self.send_header("Content-Type", reply.headers.get("Content-Type", content_type))
                    for name, value in reply.headers.items():
                        if name != "Content-Type":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if reply.cut_after is not None:
                        self.wfile.write(data[:reply.cut_after])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout tests)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, key: str, *replies: Reply) -> None:
        self.routes[key] = list(replies)

    def paged(self, key: str, pages: list[list[dict]], token: str = "") -> None:
        """A cursor-paged edge: one route per page, linked by paging.cursors.after and paging.next.

        Like Meta, `next` repeats the query, including an access_token when there is one.
        """
        for n, items in enumerate(pages):
            body = {"data": items, "paging": {"cursors": {"before": f"B{n}", "after": f"C{n + 1}"}}}
            if n + 1 < len(pages):
                body["paging"]["next"] = f"{self.url}{key}?access_token={token}&limit=100&after=C{n + 1}"
            self.add(key + (f"@C{n}" if n else ""), Reply(body=body))

    def hits(self, key: str) -> int:
        return sum(1 for r in self.requests if route_key(r["path"], r["params"]) == key)

    def __enter__(self) -> "FakeGraph":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def quick_settings(fake: "FakeGraph", token: str, wabas: tuple[str, ...], **overrides) -> GraphSettings:
    """Client settings against the fake server with short timeouts and backoffs, so retry tests take milliseconds."""
    values = {"base_url": fake.url, "timeout": 1.0, "max_retries": 2, "backoff_base": 0.01, "max_wait": 0.05}
    return GraphSettings(token, wabas, **{**values, **overrides})


@pytest.fixture
def fake():
    """A fake Graph API server for one test; a test module imports this fixture to use it."""
    with FakeGraph() as server:
        yield server
