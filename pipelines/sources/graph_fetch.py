"""Fetching Business Manager state and Meta's analytics for a date range into landing files.

Every page is saved the moment it arrives, so a failure later in a fetch loses nothing already
fetched. The file layout and content are a contract shared with the sample-world generator:

    <landing>/business_manager/graph/<kind>/<waba_id>/<YYYYmmddTHHMMSSZ>-<page:03d>-<sha8>.json
    {"fetched_at": "...Z", "kind": ..., "waba_id": ..., "request": {"method", "path", "params"}, "response": <body>}

`sha8` is the first 8 hex digits of the SHA-256 of the request object as compact JSON with sorted
keys; `page` counts from 001 along one request's cursor chain; all files of one fetch share its
`fetched_at`, the snapshot time of what was fetched.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable

from pipelines.errors import UserError
from pipelines.sources import graph_api
from pipelines.sources.graph_api import GraphApiError, GraphClient, GraphSettings, Page, Request

GRAPH_FOLDER = "business_manager/graph"
KINDS = ("phone_numbers", "message_templates", "pricing_analytics", "conversation_analytics", "template_analytics")
# How far back Meta answers (since 2025-12-01 for pricing and conversation analytics).
LOOKBACK = {"pricing_analytics": timedelta(days=365), "conversation_analytics": timedelta(days=365),
            "template_analytics": timedelta(days=90)}
DEFAULT_DAYS = 30


@dataclass
class FetchResult:
    fetched_at: datetime
    files: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)   # one line each, naming the call


def request_sha8(request: Request) -> str:
    canonical = json.dumps(request.as_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def saved_path(landing: Path, waba_id: str, fetched_at: datetime, page_no: int, request: Request) -> Path:
    stamp = fetched_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return landing / GRAPH_FOLDER / request.kind / waba_id / f"{stamp}-{page_no:03d}-{request_sha8(request)}.json"


def save_page(landing: Path, waba_id: str, fetched_at: datetime, page_no: int, page: Page) -> Path:
    """Write one page atomically; the response goes in as the text Meta sent (token scrubbed)."""
    path = saved_path(landing, waba_id, fetched_at, page_no, page.request)
    head = {"fetched_at": fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": page.request.kind, "waba_id": waba_id, "request": page.request.as_dict()}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "response": ' + page.text + "}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside its final name and renamed: a crash never leaves half a file for the loader.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"{path}: cannot save the Graph API response ({exc.strerror or exc})") from None
    return path


def day_window(since: date | None, until: date | None, now: datetime) -> tuple[datetime, datetime]:
    """[since 00:00 UTC, the day after until 00:00 UTC), never past now; default the last DEFAULT_DAYS days."""
    until = until or now.date()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since > until:
        raise UserError(f"--since {since} is after --until {until}")
    start = datetime.combine(since, time(), timezone.utc)
    end = min(datetime.combine(until + timedelta(days=1), time(), timezone.utc), now)
    if start >= end:
        raise UserError(f"--since {since} is in the future")
    return start, end


def clamp_to_lookback(kind: str, start: datetime, now: datetime, log: Callable[[str], None]) -> datetime:
    """Meta refuses starts older than its lookback: begin at the first whole day it still keeps, and say so."""
    oldest = now - LOOKBACK[kind]
    earliest = datetime.combine(oldest.date() + timedelta(days=1), time(), timezone.utc)
    if start >= earliest:
        return start
    log(f"{kind}: Meta keeps {LOOKBACK[kind].days} days of it; starting at {earliest.date()} "
        f"instead of {start.date()}")
    return earliest


def fetch_business_manager(settings: GraphSettings, landing: Path, since: date | None = None,
                           until: date | None = None, log: Callable[[str], None] = lambda _: None,
                           now: datetime | None = None) -> FetchResult:
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    result = FetchResult(fetched_at=now)
    start, end = day_window(since, until, now)
    starts = {kind: clamp_to_lookback(kind, start, now, log) for kind in LOOKBACK}
    with GraphClient(settings, log=log) as graph:
        for waba_id in settings.waba_ids:
            try:
                _fetch_waba(graph, landing, waba_id, starts, end, now, log, result)
            except GraphApiError as exc:  # fatal: later calls would fail the same way
                log(f"stopping: {exc}")
                result.failures.append(str(exc))
                break
    return result


def _fetch_waba(graph: GraphClient, landing: Path, waba_id: str, starts: dict[str, datetime], end: datetime,
                now: datetime, log: Callable[[str], None], result: FetchResult) -> None:
    def save_all(request: Request, pages: list[Page] | None = None) -> None:
        """Save every page of one request; a non-fatal failure is recorded and the fetch goes on."""
        try:
            for page_no, page in enumerate(graph.pages(request), start=1):
                path = save_page(landing, waba_id, now, page_no, page)
                result.files.append(path)
                if pages is not None:
                    pages.append(page)
                log(f"{request.kind} {waba_id}: page {page_no} saved ({path.relative_to(landing).as_posix()})")
        except GraphApiError as exc:
            if exc.fatal:
                raise
            result.failures.append(str(exc))
            log(f"{request.kind} {waba_id}: failed, going on with the next call: {exc}")

    save_all(graph.request("phone_numbers", f"/{waba_id}/phone_numbers", graph_api.phone_numbers_params()))
    templates: list[Page] = []
    save_all(graph.request("message_templates", f"/{waba_id}/message_templates",
                           graph_api.message_templates_params()), templates)
    until = int(end.timestamp())
    for kind, params in (("pricing_analytics", graph_api.pricing_analytics_params),
                         ("conversation_analytics", graph_api.conversation_analytics_params)):
        if starts[kind] < end:
            save_all(graph.request(kind, f"/{waba_id}", params(int(starts[kind].timestamp()), until)))
    # Template analytics for the templates just listed (those fetched before any failure).
    template_ids = [str(t["id"]) for page in templates for t in page.body.get("data") or []
                    if isinstance(t, dict) and t.get("id") is not None]
    if starts["template_analytics"] >= end:
        return
    per_call = graph_api.TEMPLATE_IDS_PER_CALL
    for i in range(0, len(template_ids), per_call):
        params = graph_api.template_analytics_params(template_ids[i:i + per_call],
                                                     int(starts["template_analytics"].timestamp()), until)
        save_all(graph.request("template_analytics", f"/{waba_id}/template_analytics", params))
