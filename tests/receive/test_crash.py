"""Crashes: kill -9 of `waba receive` under load, `.part` recovery with `.torn` sidecars, SIGTERM shutdown.

The rule under test is the issue's: a delivery answered 200 is on disk, so after any crash every
acknowledged delivery is in the archive; a half-written last line was never acknowledged and is kept
aside (quarantined with a reason), never breaking the loader.
"""
import fcntl
import json
import os

from conftest import capture, load_all
from pipelines.receive.recovery import recover_parts
from receive.harness import HOST, ReceiverProcess, live_files, load_until_signalled, status_envelope, wamid


def _write_part(landing, name, lines, tail=b""):
    folder = landing / "webhooks" / "live" / "2026" / "12" / "01"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + tail)
    return path


def _record(n):
    return capture(status_envelope([n]).decode(), received_at="2026-12-01T10:15:00.000000Z")


def test_a_torn_last_line_goes_to_a_sidecar_the_loader_quarantines(landing, warehouse, query):
    torn_tail = json.dumps(_record(3)).encode()[:57]
    _write_part(landing, f"10-{HOST}-4242.jsonl.part", [_record(1), _record(2)], tail=torn_tail)
    (result,) = recover_parts(landing / "webhooks" / "live", HOST, gzip=False)
    assert (result.lines_kept, result.torn_bytes) == (2, 57)
    folder = landing / "webhooks" / "live" / "2026" / "12" / "01"
    assert sorted(p.name for p in folder.iterdir()) == [f"10-{HOST}-4242.jsonl", f"10-{HOST}-4242.jsonl.torn"]
    assert (folder / f"10-{HOST}-4242.jsonl.torn").read_bytes() == torn_tail
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM staging.message_statuses") == [(2,)]
    assert query("SELECT file_path, line_no, reason, original_text FROM raw.quarantine") == [
        (f"webhooks/live/2026/12/01/10-{HOST}-4242.jsonl.torn", 1, "torn_write", torn_tail.decode())]
    assert query("SELECT file_path, status, rows_in, rows_loaded, rows_quarantined FROM raw.load_audit ORDER BY 1") == [
        (f"webhooks/live/2026/12/01/10-{HOST}-4242.jsonl", "loaded", 2, 2, 0),
        (f"webhooks/live/2026/12/01/10-{HOST}-4242.jsonl.torn", "loaded", 1, 0, 1)]


def test_part_files_are_not_loaded_and_a_live_receivers_part_is_left_alone(landing, warehouse, query):
    live_part = _write_part(landing, f"11-{HOST}-77.jsonl.part", [_record(5)])
    other_host = _write_part(landing, "11-otherhost-77.jsonl.part", [_record(6)])
    holder = os.open(live_part, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)   # as the running receiver holds it
    try:
        assert recover_parts(landing / "webhooks" / "live", HOST, gzip=False) == []
    finally:
        os.close(holder)
    assert live_part.exists() and other_host.exists()
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.load_audit") == [(0,)]


def test_a_part_without_any_newline_is_all_torn_and_an_empty_one_is_removed(landing, warehouse, query):
    _write_part(landing, f"12-{HOST}-5.jsonl.part", [], tail=b'{"received_at":"2026-12-01T12:')
    _write_part(landing, f"13-{HOST}-5.jsonl.part", [])
    results = recover_parts(landing / "webhooks" / "live", HOST, gzip=True)
    assert sorted((r.part.name, r.closed, r.lines_kept, r.torn_bytes) for r in results) == [
        (f"12-{HOST}-5.jsonl.part", None, 0, 30), (f"13-{HOST}-5.jsonl.part", None, 0, 0)]
    # Nothing was acknowledged into either: no empty archive file (the loader would quarantine it as empty)
    assert sorted(p.name for p in live_files(landing) if p.is_file()) == [f"12-{HOST}-5.jsonl.torn"]
    load_all(warehouse, landing)
    assert query("SELECT reason, count(*) FROM raw.quarantine GROUP BY reason") == [("torn_write", 1)]
    assert query("SELECT count(*) FROM raw.load_audit WHERE rows_in <> rows_loaded + rows_duplicate + rows_quarantined") == [(0,)]


def test_kill_9_under_load_loses_no_acknowledged_delivery(tmp_path, landing, warehouse, query):
    receiver = ReceiverProcess(landing).wait_ready()
    acknowledged = load_until_signalled(receiver, receiver.kill9)   # no chance to close anything
    assert len(acknowledged) > 100, "the load was too light to test anything"
    assert len(live_files(landing, "*.part")) == 1 and live_files(landing, "*.jsonl") == []
    # A new receiver recovers the killed one's file on start, then stops cleanly.
    restarted = ReceiverProcess(landing).wait_ready()
    assert restarted.terminate() in (0, -15)
    assert live_files(landing, "*.part") == []
    load_all(warehouse, landing)
    staged = {row[0] for row in query("SELECT message_id FROM staging.message_statuses")}
    missing = [n for n in acknowledged if wamid(n * 10) not in staged or wamid(n * 10 + 9) not in staged]
    assert missing == []
    assert query("SELECT DISTINCT reason FROM raw.quarantine WHERE reason <> 'torn_write'") == []
    assert query("SELECT count(*) FROM raw.webhook_deliveries WHERE signature_status <> 'valid'") == [(0,)]
    assert query("SELECT count(*) FROM raw.load_audit WHERE status <> 'loaded' "
                 "OR rows_in <> rows_loaded + rows_duplicate + rows_quarantined") == [(0,)]


def test_sigterm_under_load_finishes_in_flight_requests_and_closes_the_hour_file(landing, warehouse, query):
    receiver = ReceiverProcess(landing).wait_ready()
    codes = []
    acknowledged = load_until_signalled(receiver, lambda: codes.append(receiver.terminate()), threads=8)
    assert codes[0] in (0, -15) and len(acknowledged) > 50
    assert live_files(landing, "*.part") == [] and len(live_files(landing, "*.jsonl")) == 1
    assert live_files(landing, "*.torn") == []   # a clean stop tears nothing
    assert "stopped:" in receiver.output()
    load_all(warehouse, landing)
    staged = {row[0] for row in query("SELECT message_id FROM staging.message_statuses")}
    assert [n for n in acknowledged if wamid(n * 10) not in staged] == []
