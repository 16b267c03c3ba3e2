"""The Graph API client and `waba fetch` against a local fake of Meta's Graph API (a real HTTP server on
127.0.0.1): paging, retries, rate-limit headers, timeouts, Graph errors, and exactly what is saved where.
No test touches the internet."""
import hashlib
import json
import logging
import socket
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from fake_graph import FakeGraph, Reply, fake, graph_error  # noqa: F401 (fake: the server fixture)
from graph_world import PHONE_PAGES, PRICING, TEMPLATE_PAGES, TOKEN, V, WABA, serve_world, world_settings
from pipelines.cli import main
from pipelines.sources.graph_api import GraphApiError, GraphClient, GraphSettings
from pipelines.sources.graph_fetch import fetch_business_manager

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)
EXPIRED = ("Error validating access token: Session has expired on Friday, 27-Nov-26 10:00:00 PST. "
           "The current time is Sunday, 29-Nov-26 02:00:00 PST.")


def fetch(fake: FakeGraph, landing: Path, log=None, since=date(2026, 11, 1), **overrides):
    return fetch_business_manager(world_settings(fake, **overrides), landing, since=since, until=date(2026, 11, 28),
                                  log=log or (lambda _: None), now=NOW)


def saved(landing: Path) -> dict[str, dict]:
    return {p.relative_to(landing).as_posix(): json.loads(p.read_text())
            for p in sorted((landing / "business_manager" / "graph").rglob("*.json"))}


def kinds(files: dict) -> dict[str, int]:
    counts = {}
    for path in files:
        counts[path.split("/")[2]] = counts.get(path.split("/")[2], 0) + 1
    return counts


def sha8(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:8]


def get(fake: FakeGraph, path: str = "/123/phone_numbers", sleeps: list | None = None, **overrides):
    sleep = sleeps.append if sleeps is not None else (lambda _: None)
    with GraphClient(world_settings(fake, **overrides), sleep=sleep) as client:
        return client.get(client.request("phone_numbers", path, {"limit": 100}))


def test_a_fetch_saves_every_page_as_it_arrives_in_the_shared_format(fake, landing):
    serve_world(fake)
    result = fetch(fake, landing)
    assert result.failures == []
    files = saved(landing)
    assert kinds(files) == {"phone_numbers": 2, "message_templates": 3, "pricing_analytics": 1,
                            "conversation_analytics": 1, "template_analytics": 2}
    # The second template page, exactly: its request carries the cursor, its response is Meta's body.
    request = {"method": "GET", "path": "/v24.0/123/message_templates",
               "params": {**files[min(p for p in files if "/message_templates/" in p)]["request"]["params"],
                          "after": "C1"}}
    path = f"business_manager/graph/message_templates/123/20261129T100000Z-002-{sha8(request)}.json"
    assert files[path] == {
        "fetched_at": "2026-11-29T10:00:00Z", "kind": "message_templates", "waba_id": "123", "request": request,
        "response": {"data": TEMPLATE_PAGES[1], "paging": {
            "cursors": {"before": "B1", "after": "C2"},
            # Meta echoes a query-string token in paging.next; it is scrubbed before saving.
            "next": f"{fake.url}/v24.0/123/message_templates?access_token=[redacted]&limit=100&after=C2"}}}
    assert [f["response"]["data"] for p, f in files.items() if "/phone_numbers/" in p] == PHONE_PAGES
    every_name = [Path(p).name for p in files]
    assert all(name.startswith("20261129T100000Z-00") for name in every_name)
    assert all(Path(p).name.endswith(f"-{sha8(f['request'])}.json") for p, f in files.items())


def test_it_asks_for_the_documented_fields_with_the_token_only_in_the_header(fake, landing):
    serve_world(fake)
    fetch(fake, landing)
    phone = next(r for r in fake.requests if r["path"] == "/v24.0/123/phone_numbers")
    assert set(phone["params"]["fields"].split(",")) >= {
        "quality_rating", "whatsapp_business_manager_messaging_limit", "messaging_limit_tier", "status",
        "name_status", "throughput", "verified_name", "display_phone_number"}
    template = next(r for r in fake.requests if r["path"] == "/v24.0/123/message_templates")
    assert set(template["params"]["fields"].split(",")) >= {
        "id", "name", "language", "status", "category", "previous_category", "correct_category", "sub_category",
        "components", "parameter_format", "rejected_reason", "quality_score", "message_send_ttl_seconds",
        "cta_url_link_tracking_opted_out", "library_template_name"}
    pricing = next(r for r in fake.requests if "pricing_analytics" in r["params"].get("fields", ""))
    assert pricing["path"] == "/v24.0/123"
    assert pricing["params"] == {"fields": (
        'currency,pricing_analytics.start(1793491200).end(1795910400).granularity(DAILY)'
        '.metric_types(["COST","VOLUME"]).dimensions(["COUNTRY","PHONE","PRICING_CATEGORY","PRICING_TYPE","TIER"])')}
    for request in fake.requests:
        assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert "access_token" not in request["params"]


def test_template_analytics_go_ten_template_ids_per_call(fake, landing):
    serve_world(fake)
    fetch(fake, landing)
    calls = [r["params"] for r in fake.requests if r["path"] == "/v24.0/123/template_analytics"]
    assert [json.loads(c["template_ids"]) for c in calls] == [
        ["9000", "9001", "9002", "9003", "9004", "9005", "9006", "9007", "9008", "9009"], ["9010", "9011"]]
    assert calls[0]["granularity"] == "DAILY" and calls[0]["start"] == "1793491200" and calls[0]["end"] == "1795910400"


def test_starts_older_than_metas_lookback_are_moved_up_and_logged(fake, landing):
    serve_world(fake)
    lines = []
    fetch(fake, landing, log=lines.append, since=date(2024, 1, 1))
    pricing = next(r for r in fake.requests if "pricing_analytics" in r["params"].get("fields", ""))
    assert "pricing_analytics.start(1764460800).end(1795910400)" in pricing["params"]["fields"]  # 2025-11-30
    conversations = next(r for r in fake.requests if "conversation_analytics" in r["params"].get("fields", ""))
    assert "conversation_analytics.start(1764460800)" in conversations["params"]["fields"]
    templates = next(r for r in fake.requests if r["path"].endswith("/template_analytics"))
    assert templates["params"]["start"] == "1788220800"  # 2026-09-01: 90 days
    assert "pricing_analytics: Meta keeps 365 days of it; starting at 2025-11-30 instead of 2024-01-01" in lines
    assert "template_analytics: Meta keeps 90 days of it; starting at 2026-09-01 instead of 2024-01-01" in lines


def test_429_with_retry_after_waits_as_asked_then_succeeds(fake):
    fake.add(f"{V}/123/phone_numbers",
             graph_error(429, 4, "(#4) Application request limit reached", headers={"Retry-After": "7"}),
             Reply(body={"data": []}))
    sleeps = []
    assert get(fake, sleeps=sleeps, max_wait=300).body == {"data": []}
    assert sleeps == [7.0]
    assert fake.hits(f"{V}/123/phone_numbers") == 2


def test_business_use_case_headers_set_the_wait_up_to_the_cap(fake):
    usage = {"123": [{"type": "whatsapp_business_management", "call_count": 100, "total_cputime": 12,
                      "total_time": 30, "estimated_time_to_regain_access": 2}]}
    fake.add(f"{V}/123/phone_numbers",
             graph_error(400, 80007, "(#80007) There have been too many calls to this WhatsApp Business account.",
                         headers={"X-Business-Use-Case-Usage": json.dumps(usage)}),
             Reply(body={"data": []}))
    sleeps = []
    get(fake, sleeps=sleeps, max_wait=60)
    assert sleeps == [60.0]  # Meta asked for 2 minutes; we wait at most 60 s at a time


def test_a_full_app_usage_budget_pauses_before_the_next_call(fake):
    fake.add(f"{V}/123/phone_numbers",
             Reply(body={"data": []}, headers={"X-App-Usage": '{"call_count":100,"total_cputime":20,"total_time":25}'}))
    sleeps = []
    with GraphClient(world_settings(fake, max_wait=30), sleep=sleeps.append) as client:
        client.get(client.request("phone_numbers", "/123/phone_numbers", {}))
        assert sleeps == []
        client.get(client.request("phone_numbers", "/123/phone_numbers", {}))
    assert sleeps == [30.0]


def test_5xx_is_retried_with_exponential_backoff_and_jitter(fake):
    fake.add(f"{V}/123/phone_numbers", Reply(500, "<html>Internal error</html>"),
             graph_error(503, 2, "Service temporarily unavailable", "OAuthException"), Reply(body={"data": [1]}))
    sleeps = []
    assert get(fake, sleeps=sleeps, backoff_base=1.0, max_wait=300).body == {"data": [1]}
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_a_slow_response_times_out_and_is_retried(fake):
    fake.add(f"{V}/123/phone_numbers", Reply(body={"data": ["late"]}, delay=1.0), Reply(body={"data": ["ok"]}))
    assert get(fake, timeout=0.2).body == {"data": ["ok"]}
    assert fake.hits(f"{V}/123/phone_numbers") == 2


def test_a_server_that_stays_slow_is_one_clear_error(fake):
    fake.add(f"{V}/123/phone_numbers", Reply(body={}, delay=0.6))
    with pytest.raises(GraphApiError) as caught:
        get(fake, timeout=0.2, max_retries=1)
    assert str(caught.value) == ("Graph API GET /v24.0/123/phone_numbers (phone_numbers): no response within 0.2s; "
                                 "gave up after 2 attempts")
    assert not caught.value.fatal


def test_an_expired_token_is_not_retried_and_says_what_to_do(fake):
    fake.add(f"{V}/123/phone_numbers", graph_error(401, 190, EXPIRED, subcode=463))
    with pytest.raises(GraphApiError) as caught:
        get(fake)
    assert str(caught.value) == (
        f"Graph API GET /v24.0/123/phone_numbers (phone_numbers): HTTP 401, code 190/463, OAuthException: {EXPIRED} "
        "(the access token is invalid or expired; put a new one in WABA_GRAPH_TOKEN) [fbtrace_id AbCdEf123]")
    assert caught.value.fatal and caught.value.code == 190
    assert fake.hits(f"{V}/123/phone_numbers") == 1


def test_an_invalid_parameter_is_not_retried(fake):
    fake.add(f"{V}/123/phone_numbers", graph_error(400, 100, "(#100) Tried accessing nonexisting field (foo)"))
    with pytest.raises(GraphApiError) as caught:
        get(fake)
    assert str(caught.value) == (
        "Graph API GET /v24.0/123/phone_numbers (phone_numbers): HTTP 400, code 100, OAuthException: (#100) Tried "
        "accessing nonexisting field (foo) (Meta rejected a parameter of this request) [fbtrace_id AbCdEf123]")
    assert not caught.value.fatal and fake.hits(f"{V}/123/phone_numbers") == 1


def test_a_malformed_json_body_is_a_clear_error(fake):
    fake.add(f"{V}/123/phone_numbers", Reply(200, '{"data": [{"id": ', {"Content-Type": "application/json"}))
    with pytest.raises(GraphApiError) as caught:
        get(fake)
    assert str(caught.value) == ("Graph API GET /v24.0/123/phone_numbers (phone_numbers): HTTP 200: the response "
                                 "body is not valid JSON (application/json, 17 bytes)")


def test_an_unreachable_server_is_retried_then_stops_the_fetch(landing):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = GraphSettings(TOKEN, ("123", "456"), base_url=f"http://127.0.0.1:{port}", timeout=1.0,
                                max_retries=1, backoff_base=0.01, max_wait=0.05)
    result = fetch_business_manager(unreachable, landing, since=date(2026, 11, 1), now=NOW)
    assert len(result.failures) == 1  # the second WABA was not tried
    assert result.failures[0].startswith(f"Graph API GET /v24.0/123/phone_numbers (phone_numbers): cannot reach "
                                         f"http://127.0.0.1:{port} (ConnectError: ")
    assert result.failures[0].endswith("; gave up after 2 attempts")


def test_a_failure_mid_paging_keeps_the_pages_already_saved_and_the_fetch_goes_on(fake, landing):
    serve_world(fake)
    fake.add(f"{V}/123/message_templates@C2", Reply(500, {"error": {"message": "An unknown error occurred",
                                                                    "type": "OAuthException", "code": 1}}))
    result = fetch(fake, landing)
    assert result.failures == [
        "Graph API GET /v24.0/123/message_templates (message_templates): HTTP 500, code 1, OAuthException: An unknown "
        "error occurred; gave up after 3 attempts"]
    files = saved(landing)
    assert kinds(files) == {"phone_numbers": 2, "message_templates": 2, "pricing_analytics": 1,
                            "conversation_analytics": 1, "template_analytics": 1}
    # Template analytics still ran for the ten templates listed before the failure.
    templates = [f for p, f in files.items() if "/template_analytics/" in p]
    assert json.loads(templates[0]["request"]["params"]["template_ids"]) == [f"900{n}" for n in range(10)]


@pytest.fixture
def graph_env(fake, monkeypatch):
    for name, value in {"WABA_GRAPH_TOKEN": TOKEN, "WABA_GRAPH_WABA_IDS": WABA, "WABA_GRAPH_BASE_URL": fake.url,
                        "WABA_GRAPH_TIMEOUT": "0.3", "WABA_GRAPH_MAX_RETRIES": "2", "WABA_GRAPH_BACKOFF_BASE": "0.01",
                        "WABA_GRAPH_MAX_WAIT": "0.05"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WABA_GRAPH_API_VERSION", raising=False)


def test_waba_fetch_with_an_expired_token_exits_2_with_one_line(fake, landing, graph_env, capsys):
    fake.add(f"{V}/123/phone_numbers", graph_error(401, 190, EXPIRED, subcode=463))
    assert main(["fetch", "--landing", str(landing)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"waba: error: Graph API GET /v24.0/123/phone_numbers (phone_numbers): HTTP 401, code 190/463, "
        f"OAuthException: {EXPIRED} (the access token is invalid or expired; put a new one in WABA_GRAPH_TOKEN) "
        f"[fbtrace_id AbCdEf123]"]
    assert len(fake.requests) == 1 and saved(landing) == {}


@pytest.mark.parametrize("unset, message", [
    ("WABA_GRAPH_TOKEN", "no Graph API token: set WABA_GRAPH_TOKEN to a system-user access token"),
    ("WABA_GRAPH_WABA_IDS", "no WhatsApp Business Account id: set WABA_GRAPH_WABA_IDS (comma separated)"),
])
def test_waba_fetch_without_token_or_ids_names_the_variable_to_set(graph_env, monkeypatch, capsys, landing,
                                                                    unset, message):
    monkeypatch.delenv(unset)
    assert main(["fetch", "--landing", str(landing)]) == 2
    assert capsys.readouterr().err == f"waba: error: {message}\n"


def test_the_token_never_reaches_a_saved_file_a_log_or_an_error(fake, landing, graph_env, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    serve_world(fake)
    # Every path through the client: retries after 429/5xx/timeouts, and errors whose text echoes the token.
    fake.add(f"{V}/123/phone_numbers",
             graph_error(429, 4, f"(#4) limit reached for token {TOKEN}", headers={"Retry-After": "1"}),
             Reply(body={}, delay=1.0), Reply(body={"data": PHONE_PAGES[0]}))
    fake.add(f"{V}/123#conversation_analytics",
             graph_error(400, 100, f"Invalid parameter: https://graph.facebook.com/v24.0/123?access_token={TOKEN}"))
    fake.add(f"{V}/123/template_analytics", Reply(502, f"<html>Bad gateway for {TOKEN}</html>"))
    fake.add(f"{V}/123#pricing_analytics", Reply(body={**PRICING, "echo": f"?access_token={TOKEN}&x=1"}))
    assert main(["fetch", "--landing", str(landing), "--since", "2026-11-01"]) == 2
    out = capsys.readouterr()
    assert len(out.err.splitlines()) == 3  # conversation analytics and two template-analytics batches
    assert "[redacted]" in out.err
    for path in landing.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in out.out + out.err
    assert caplog.text and TOKEN not in caplog.text


def test_waba_fetch_documents_its_options_and_refuses_a_backwards_range(graph_env, landing, capsys):
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for word in ("--since", "--until", "--landing", "WABA_GRAPH_TOKEN", "WABA_GRAPH_WABA_IDS", "WABA_GRAPH_API_VERSION",
                 "WABA_GRAPH_BASE_URL"):
        assert word in help_text
    assert main(["fetch", "--landing", str(landing), "--since", "2026-11-20", "--until", "2026-11-10"]) == 2
    assert capsys.readouterr().err == "waba: error: --since 2026-11-20 is after --until 2026-11-10\n"


def test_a_landing_folder_that_cannot_be_written_is_one_line(fake, graph_env, tmp_path, capsys):
    serve_world(fake)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["fetch", "--landing", str(blocker)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"waba: error: {blocker}/business_manager/graph/phone_numbers/123/")
    assert err[0].endswith(": cannot save the Graph API response (Not a directory)")
