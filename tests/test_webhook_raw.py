"""Raw webhook loading: formats, capture records, signatures, duplicates, quarantine, accounting."""
import gzip
import json

from conftest import capture, envelope, load_all, messages_value, write_lines

STATUS = {"id": "wamid.A", "status": "sent", "timestamp": "1751371200", "recipient_id": "5511999990000"}


def status_envelope(message_id: str, status: str = "sent", ts: str = "1751371200") -> dict:
    return envelope("WABA1", "messages", messages_value(statuses=[{**STATUS, "id": message_id, "status": status, "timestamp": ts}]))


def test_every_format_loads_and_is_accounted_for(landing, warehouse, query):
    write_lines(landing / "webhooks" / "a.jsonl.gz", [status_envelope("m1"), status_envelope("m2")], compress=True)
    write_lines(landing / "webhooks" / "b.ndjson", [status_envelope("m3")])
    (landing / "webhooks" / "c.json").write_text(json.dumps([status_envelope("m4"), status_envelope("m5")]))
    (landing / "webhooks" / "d.json").write_text(json.dumps(status_envelope("m6")))
    (landing / "webhooks" / "e.json.gz").write_bytes(gzip.compress(json.dumps([status_envelope("m7")]).encode()))
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.webhook_deliveries") == [(7,)]
    assert query("SELECT count(*) FROM staging.message_statuses") == [(7,)]
    assert query("""SELECT count(*) FROM raw.load_audit
                    WHERE rows_in <> rows_loaded + rows_duplicate + rows_quarantined""") == [(0,)]


def test_redelivered_body_is_a_duplicate_across_files(landing, warehouse, query):
    body = status_envelope("m1")
    write_lines(landing / "webhooks" / "day1.jsonl", [body, status_envelope("m2")])
    write_lines(landing / "webhooks" / "day2.jsonl", [body, body, status_envelope("m3")])
    load_all(warehouse, landing)
    assert query("SELECT file_path, rows_in, rows_loaded, rows_duplicate FROM raw.load_audit ORDER BY file_path") == [
        ("webhooks/day1.jsonl", 2, 2, 0), ("webhooks/day2.jsonl", 3, 1, 2)]
    assert query("SELECT count(*) FROM raw.duplicates") == [(2,)]


def test_rebatched_status_is_deduplicated_in_staging(landing, warehouse, query):
    status = {**STATUS, "id": "m1", "status": "delivered"}
    other = {**STATUS, "id": "m2", "status": "delivered"}
    first = envelope("WABA1", "messages", messages_value(statuses=[status]))
    rebatched = envelope("WABA1", "messages", messages_value(statuses=[status, other]))
    write_lines(landing / "webhooks" / "x.jsonl", [first, rebatched])
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.webhook_deliveries") == [(2,)]
    assert query("SELECT message_id, status FROM staging.message_statuses ORDER BY 1") == [("m1", "delivered"), ("m2", "delivered")]


def test_malformed_and_foreign_lines_are_quarantined_with_reason_and_text(landing, warehouse, query):
    write_lines(landing / "webhooks" / "x.jsonl", [
        status_envelope("m1"), '{"object": "whatsapp_business_acc', "not json at all", "",
        {"object": "page", "entry": []}, [1, 2, 3]])
    load_all(warehouse, landing)
    rows = query("SELECT line_no, reason, original_text FROM raw.quarantine ORDER BY line_no")
    assert rows == [(2, "invalid_json", '{"object": "whatsapp_business_acc'), (3, "invalid_json", "not json at all"),
                    (5, "not_whatsapp", '{"object": "page", "entry": []}'), (6, "not_whatsapp", "[1, 2, 3]")]
    # the blank line 4 is not a delivery: 5 rows in, 1 loaded, 4 quarantined
    assert query("SELECT rows_in, rows_loaded, rows_quarantined FROM raw.load_audit") == [(5, 1, 4)]


def test_capture_record_signatures_are_verified_per_delivery(landing, warehouse, query):
    good = json.dumps(status_envelope("m1"))
    forged = json.dumps(status_envelope("m2"))
    record_forged = capture(forged)
    record_forged["body"] = forged.replace("5511999990000", "5511999990001")  # tampered after signing
    unsigned = capture(json.dumps(status_envelope("m3")), secret=None)
    write_lines(landing / "webhooks" / "cap.jsonl", [capture(good), record_forged, unsigned])
    load_all(warehouse, landing)
    bare = status_envelope("m4")
    write_lines(landing / "webhooks" / "cap2.jsonl", [bare])
    load_all(warehouse, landing)
    assert query("""SELECT line_no, signature_status, received_at IS NOT NULL FROM raw.webhook_deliveries
                    ORDER BY load_id, line_no""") == [(1, "valid", True), (2, "invalid", True), (3, "missing", True),
                                                      (1, "unsigned", False)]
    # a delivery whose signature fails or is absent is kept in raw but never reaches staging
    assert query("SELECT message_id FROM staging.message_statuses ORDER BY 1") == [("m1",), ("m4",)]


def test_signature_header_name_is_case_insensitive(landing, warehouse, query):
    record = capture(json.dumps(status_envelope("m1")))
    record["headers"] = {"x-HUB-signature-256": record["headers"]["X-Hub-Signature-256"]}
    write_lines(landing / "webhooks" / "cap.jsonl", [record])
    load_all(warehouse, landing)
    assert query("SELECT signature_status FROM raw.webhook_deliveries") == [("valid",)]


def test_a_forged_copy_does_not_shadow_the_genuine_delivery(landing, warehouse, query):
    body = json.dumps(status_envelope("m1"))
    write_lines(landing / "webhooks" / "day1.jsonl", [capture(body, secret="rotated-away")])
    write_lines(landing / "webhooks" / "day2.jsonl", [capture(body)])
    load_all(warehouse, landing)
    assert query("SELECT signature_status FROM raw.webhook_deliveries ORDER BY load_id") == [("invalid",), ("valid",)]
    assert query("SELECT count(*) FROM raw.duplicates") == [(0,)]
    assert query("SELECT message_id FROM staging.message_statuses") == [("m1",)]


def test_without_app_secret_signatures_are_unverified(landing, warehouse, query):
    write_lines(landing / "webhooks" / "cap.jsonl", [capture(json.dumps(status_envelope("m1")))])
    load_all(warehouse, landing, secret=None)
    assert query("SELECT signature_status FROM raw.webhook_deliveries") == [("unverified",)]


def test_capture_body_is_what_gets_deduplicated(landing, warehouse, query):
    body = json.dumps(status_envelope("m1"))
    write_lines(landing / "webhooks" / "cap.jsonl", [capture(body, received_at="2025-07-01T12:00:00Z"),
                                                     capture(body, received_at="2025-07-02T08:00:00Z")])
    load_all(warehouse, landing)
    assert query("SELECT rows_loaded, rows_duplicate FROM raw.load_audit") == [(1, 1)]


def test_onprem_bodies_without_envelope_are_loaded(landing, warehouse, query):
    write_lines(landing / "webhooks" / "onprem" / "2025-01.jsonl", [
        {"statuses": [{"id": "gBGGold", "status": "deleted", "timestamp": "1735700000", "recipient_id": "15551230000"}]},
        {"contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511988887777"}],
         "messages": [{"from": "5511988887777", "id": "ABGGin", "timestamp": "1735700100", "type": "text",
                       "text": {"body": "oi"}}]},
    ])
    load_all(warehouse, landing)
    assert query("SELECT payload_format FROM raw.webhook_deliveries") == [("onprem",), ("onprem",)]
    assert query("SELECT message_id, status, waba_id FROM staging.message_statuses") == [("gBGGold", "deleted", None)]
    assert query("SELECT message_id, customer_id, text_body FROM staging.inbound_messages") == [("ABGGin", "5511988887777", "oi")]


def test_truncated_gzip_keeps_complete_lines_and_quarantines_the_cut(landing, warehouse, query):
    lines = [status_envelope(f"m{i}") for i in range(200)]
    path = write_lines(landing / "webhooks" / "cut.jsonl.gz", lines, compress=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    load_all(warehouse, landing)
    rows_in, loaded, bad = query("SELECT rows_in, rows_loaded, rows_quarantined FROM raw.load_audit")[0]
    assert 0 < loaded < 200 and bad == 1 and rows_in == loaded + bad
    assert query("SELECT count(*) FROM raw.quarantine WHERE file_path = 'webhooks/cut.jsonl.gz'") == [(1,)]


def test_binary_file_is_quarantined_not_crashed_on(landing, warehouse, query):
    (landing / "webhooks").mkdir()
    (landing / "webhooks" / "junk.jsonl").write_bytes(bytes(range(256)) * 4 + b"\n" + json.dumps(status_envelope("m1")).encode() + b"\n")
    (landing / "webhooks" / "junk2.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate")
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM staging.message_statuses") == [(1,)]
    reasons = {r[0] for r in query("SELECT reason FROM raw.quarantine")}
    assert "not_utf8" in reasons or "invalid_json" in reasons
    assert query("SELECT status FROM raw.load_audit WHERE file_path = 'webhooks/junk2.jsonl.gz'") == [("unreadable",)]


def test_empty_webhook_file_loads_nothing_and_says_so(landing, warehouse, query):
    (landing / "webhooks").mkdir()
    (landing / "webhooks" / "empty.jsonl").write_text("")
    load_all(warehouse, landing)
    assert query("SELECT rows_in, rows_loaded FROM raw.load_audit") == [(0, 0)]


def test_same_content_is_skipped_and_a_changed_file_replaces_its_old_rows(landing, warehouse, query):
    path = write_lines(landing / "webhooks" / "day.jsonl", [status_envelope("m1"), status_envelope("m2")])
    load_all(warehouse, landing)
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.load_audit") == [(1,)]
    write_lines(path, [status_envelope("m1"), status_envelope("m2"), status_envelope("m3")])
    load_all(warehouse, landing)
    assert query("SELECT status, rows_loaded FROM raw.load_audit ORDER BY load_id") == [("replaced", 2), ("loaded", 3)]
    assert query("SELECT count(*) FROM raw.webhook_deliveries") == [(3,)]
    assert query("SELECT count(*) FROM staging.message_statuses") == [(3,)]


def test_glob_characters_in_a_file_name_read_only_that_file(landing, warehouse, query):
    write_lines(landing / "webhooks" / "a.jsonl", [status_envelope("m1")])
    write_lines(landing / "webhooks" / "b.jsonl", [status_envelope("m2")])
    write_lines(landing / "webhooks" / "[ab].jsonl", [status_envelope("m3")])
    load_all(warehouse, landing)
    assert query("SELECT file_path, rows_in, rows_loaded FROM raw.load_audit ORDER BY file_path") == [
        ("webhooks/[ab].jsonl", 1, 1), ("webhooks/a.jsonl", 1, 1), ("webhooks/b.jsonl", 1, 1)]
    assert query("SELECT count(*) FROM staging.message_statuses") == [(3,)]


def test_a_changed_file_does_not_take_rows_another_file_still_holds(landing, warehouse, query):
    x, y, z = status_envelope("x"), status_envelope("y"), status_envelope("z")
    day1 = write_lines(landing / "webhooks" / "day1.jsonl", [x, y])
    write_lines(landing / "webhooks" / "day2.jsonl", [x, z])
    load_all(warehouse, landing)
    write_lines(day1, [y])  # x was removed from day1, but day2 still delivered it
    load_all(warehouse, landing)
    assert query("SELECT message_id FROM staging.message_statuses ORDER BY 1") == [("x",), ("y",), ("z",)]
    assert query("""SELECT file_path, rows_in, rows_loaded, rows_duplicate FROM raw.load_audit
                    WHERE status = 'loaded' ORDER BY file_path""") == [
        ("webhooks/day1.jsonl", 1, 1, 0), ("webhooks/day2.jsonl", 2, 2, 0)]


def test_a_capture_records_received_at_without_an_offset_is_unknown_not_utc(landing, warehouse, query):
    # Issue 11 item 8 / docs/landing.md: a timestamp without an offset is never silently UTC. The delivery
    # itself loads (its body carries its own Unix times); only its arrival time is unknown. With an offset,
    # 2025-07-01T17:30:00+05:30 is 12:00 UTC (ISO 8601).
    naive = capture(json.dumps(status_envelope("m1")), received_at="2025-07-01T12:00:00")
    offset = capture(json.dumps(status_envelope("m2")), received_at="2025-07-01T17:30:00+05:30")
    write_lines(landing / "webhooks" / "cap.jsonl", [naive, offset])
    load_all(warehouse, landing)
    assert query("""SELECT line_no, signature_status, strftime(received_at AT TIME ZONE 'UTC', '%H:%M')
                    FROM raw.webhook_deliveries ORDER BY line_no""") == [(1, "valid", None), (2, "valid", "12:00")]
    assert query("SELECT message_id FROM staging.message_statuses ORDER BY 1") == [("m1",), ("m2",)]
