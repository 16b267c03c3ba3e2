"""`waba receive` over real HTTP on 127.0.0.1: verification, signatures, size cap, batching, hour rotation.

Expected behaviour comes from Meta's "Create a webhook endpoint" page (Dec 2025 copy in ArielAmzalak/WBAPI_Doc,
doc/create-webhook-endpoint.md): GET with hub.mode=subscribe, hub.challenge, hub.verify_token is answered 200
with the challenge when the token matches, anything but 200 otherwise; POSTs carry X-Hub-Signature-256 and
are answered 200 when valid, a 400-level status otherwise; up to 1000 updates are batched in one POST.
Payload size: Meta's Webhooks overview (Apr 29, 2026; domain file section 3) caps payloads at 3 MB.
"""
import gzip
import json
import time

import httpx
import pytest

from conftest import load_all
from receive.harness import (
    FakeClock, VERIFY_TOKEN, config, live_files, post, receiver_in_thread, sign, status_envelope, utc, wait_for, wamid,
)

CHALLENGE = "1158201444"  # the example challenge on Meta's page


def records(path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_verification_answers_the_challenge_only_for_the_right_token(landing):
    with receiver_in_thread(config(landing)) as (url, _):
        ok = httpx.get(url + "/webhook", params={"hub.mode": "subscribe", "hub.challenge": CHALLENGE,
                                                 "hub.verify_token": VERIFY_TOKEN})
        assert (ok.status_code, ok.text) == (200, CHALLENGE)
        for params in ({"hub.mode": "subscribe", "hub.challenge": CHALLENGE, "hub.verify_token": "guess"},
                       {"hub.mode": "unsubscribe", "hub.challenge": CHALLENGE, "hub.verify_token": VERIFY_TOKEN},
                       {"hub.challenge": CHALLENGE}):
            refused = httpx.get(url + "/webhook", params=params)
            assert refused.status_code == 403 and CHALLENGE not in refused.text


def test_without_a_verify_token_every_verification_is_refused(landing):
    with receiver_in_thread(config(landing, verify_token=None)) as (url, _):
        response = httpx.get(url + "/webhook", params={"hub.mode": "subscribe", "hub.challenge": CHALLENGE,
                                                       "hub.verify_token": ""})
        assert response.status_code == 403


def test_a_signed_post_is_on_disk_when_the_200_arrives_with_only_metas_headers(landing):
    body = status_envelope([1])
    with receiver_in_thread(config(landing)) as (url, receiver), httpx.Client() as client:
        response = post(client, url, body, Cookie="session=abc", Authorization="Bearer xyz",
                        **{"User-Agent": "facebookexternalua"})
        assert response.status_code == 200
        # Read the .part file as soon as the 200 arrives: the record must already be there, whole.
        (part,) = live_files(landing, "*.jsonl.part")
        (record,) = records(part)
        assert record["body"] == body.decode()
        assert record["headers"] == {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json",
                                     "User-Agent": "facebookexternalua"}
        assert record["received_at"].endswith("Z")
        assert receiver.counters.archived == 1


def test_unsigned_and_mis_signed_posts_are_refused_counted_and_not_archived(landing):
    body = status_envelope([2])
    with receiver_in_thread(config(landing)) as (url, receiver), httpx.Client() as client:
        assert post(client, url, body, secret=None).status_code == 403
        assert post(client, url, body, secret="another-apps-secret").status_code == 403
        tampered = body.replace(b"delivered", b"read")
        response = client.post(url + "/webhook", content=tampered, headers={"X-Hub-Signature-256": sign(body)})
        assert response.status_code == 403
        health = client.get(url + "/healthz").json()
    assert health["counters"]["rejected_signature"] == 3 and health["counters"]["archived"] == 0
    assert live_files(landing, "*.jsonl*") == []
    sample = [json.loads(line) for line in (landing / ".receive" / "rejected-sample.jsonl").read_text().splitlines()]
    assert [s["reason"] for s in sample] == ["missing_signature", "bad_signature", "bad_signature"]


def test_a_body_over_the_cap_gets_413_whether_declared_or_streamed(landing):
    with receiver_in_thread(config(landing, max_body_bytes=10_000)) as (url, receiver), httpx.Client() as client:
        big = b'{"object":"whatsapp_business_account","entry":[' + b" " * 10_000 + b"]}"
        assert post(client, url, big).status_code == 413
        # Chunked, without Content-Length: the cap is enforced while reading.
        response = client.post(url + "/webhook", content=iter([big[:6000], big[6000:]]),
                               headers={"X-Hub-Signature-256": sign(big)})
        assert response.status_code == 413
        exactly = b'{"object":"whatsapp_business_account","entry":[]}'.ljust(10_000)
        assert post(client, url, exactly).status_code == 200
        assert receiver.counters.rejected_too_large == 2


def test_the_default_cap_admits_metas_largest_payload(landing):
    # Meta's Webhooks overview: payloads up to 3 MB. 3,000,000 bytes must be archived.
    body = status_envelope([3])
    body = body[:-1] + b"," + b'"pad":"' + b"x" * (3_000_000 - len(body) - 9) + b'"}'
    assert len(body) == 3_000_000
    with receiver_in_thread(config(landing)) as (url, _), httpx.Client(timeout=30) as client:
        assert post(client, url, body).status_code == 200


def test_batched_envelopes_are_one_record_and_every_status_is_staged(tmp_path, landing, warehouse, query):
    ids = list(range(100, 160))
    batched = status_envelope(ids, entries=3)   # 3 entries, 20 statuses each
    with receiver_in_thread(config(landing)) as (url, _), httpx.Client() as client:
        assert post(client, url, batched).status_code == 200
        assert post(client, url, status_envelope([200])).status_code == 200
    (closed,) = live_files(landing, "*.jsonl")      # closed on shutdown
    assert len(records(closed)) == 2
    load_all(warehouse, landing)
    assert query("SELECT count(*), min(signature_status), max(signature_status) FROM raw.webhook_deliveries") == [
        (2, "valid", "valid")]
    staged = {row[0] for row in query("SELECT message_id FROM staging.message_statuses")}
    assert staged == {wamid(n) for n in ids + [200]}


def test_the_hour_file_is_closed_at_the_hour_even_without_traffic(landing):
    clock = FakeClock(utc(2026, 12, 1, 10, 59, 59, 500_000))
    with receiver_in_thread(config(landing), clock=clock) as (url, receiver), httpx.Client() as client:
        assert post(client, url, status_envelope([1])).status_code == 200
        assert [p.name for p in live_files(landing, "*.part")] == [f"10-testhost-{receiver.pid}.jsonl.part"]
        clock.now = utc(2026, 12, 1, 11, 0, 0, 200_000)
        wait_for(lambda: live_files(landing, "*.part") == [], what="rotation at 11:00")
        (closed,) = live_files(landing, "*.jsonl")
        assert closed.relative_to(landing).as_posix() == f"webhooks/live/2026/12/01/10-testhost-{receiver.pid}.jsonl"
        assert [json.loads(r["body"])["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
                for r in records(closed)] == [wamid(1)]
        assert post(client, url, status_envelope([2])).status_code == 200
        (part,) = live_files(landing, "*.part")
        assert part.relative_to(landing).as_posix() == f"webhooks/live/2026/12/01/11-testhost-{receiver.pid}.jsonl.part"
        # Across midnight the folder changes with the date.
        clock.now = utc(2026, 12, 2, 0, 0, 1)
        assert post(client, url, status_envelope([3])).status_code == 200
        assert [p.relative_to(landing).as_posix() for p in live_files(landing, "*.part")] == [
            f"webhooks/live/2026/12/02/00-testhost-{receiver.pid}.jsonl.part"]
    assert len(live_files(landing, "*.jsonl")) == 3 and live_files(landing, "*.part") == []


def test_gzip_closes_each_hour_to_a_readable_jsonl_gz(landing, warehouse, query):
    clock = FakeClock(utc(2026, 12, 1, 8, 30))
    with receiver_in_thread(config(landing, gzip=True), clock=clock) as (url, receiver), httpx.Client() as client:
        for n in range(5):
            assert post(client, url, status_envelope([n])).status_code == 200
        clock.now = utc(2026, 12, 1, 9, 0, 1)
        wait_for(lambda: live_files(landing, "*.jsonl.gz"), what="the compressed hour file")
    (closed,) = live_files(landing, "*.jsonl.gz")
    assert closed.name == f"08-testhost-{receiver.pid}.jsonl.gz" and len(records(closed)) == 5
    assert live_files(landing, "*.part") == [] and live_files(landing, "*.tmp") == []
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM staging.message_statuses") == [(5,)]


def test_healthz_reports_counters_and_the_current_file(landing):
    with receiver_in_thread(config(landing)) as (url, _), httpx.Client() as client:
        post(client, url, status_envelope([1]))
        post(client, url, status_envelope([2]), secret=None)
        health = client.get(url + "/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["counters"]["received"] == 2 and body["counters"]["archived"] == 1
    assert body["archive"]["current_file"].endswith(".jsonl.part") and "forward" not in body


def test_concurrent_posts_share_fsyncs(landing):
    # Group commit: 64 deliveries in flight at once need fewer fsync groups than deliveries.
    import concurrent.futures

    with receiver_in_thread(config(landing)) as (url, receiver):
        with httpx.Client(limits=httpx.Limits(max_connections=64)) as client, \
                concurrent.futures.ThreadPoolExecutor(32) as pool:
            codes = list(pool.map(lambda n: post(client, url, status_envelope([n])).status_code, range(400)))
        assert codes == [200] * 400
        assert receiver.writer.counters.archived == 400
        assert receiver.writer.counters.groups < 400
