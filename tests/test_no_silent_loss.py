"""Issue 11, silent loss: every hostile landing file becomes loaded rows or quarantine rows with a reason.

Sources for the expected values: RFC 1952 "GZIP file format specification version 4.3" (May 1996): a
gzip file is a series of members, each ending with CRC-32 and ISIZE; a stream without its trailer is
incomplete. ISO 8601-1:2019 section 4.3.8/4.3.13: a time without a UTC designator or offset is local
time of unknown zone. The rest is hand counting of the lines written here.
"""
import gzip
import json
import zlib
from datetime import datetime, timezone

import duckdb

from conftest import envelope, load_all, messages_value, write_lines

LOG_HEADER = "message_id,sent_at,waba_id,phone_number_id,recipient_id,message_type\n"


def status(message_id: str) -> dict:
    return envelope("WABA1", "messages", messages_value(statuses=[
        {"id": message_id, "status": "sent", "timestamp": "1751371200", "recipient_id": "5511999990000"}]))


def lines_text(items) -> bytes:
    return "".join(json.dumps(i) + "\n" for i in items).encode()


def cut_at_flush(keep: bytes) -> bytes:
    """A real gzip stream cut right after `keep` was flushed: what follows (last block, trailer) is gone."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return deflater.compress(keep) + deflater.flush(zlib.Z_FULL_FLUSH)


# -- 1. truncated gzip --------------------------------------------------------------------------------

def test_gzip_cut_at_a_line_boundary_is_reported_as_truncated(landing, warehouse, query):
    items = [status(f"m{i}") for i in range(10)]
    (landing / "webhooks").mkdir()
    (landing / "webhooks" / "cut.jsonl.gz").write_bytes(cut_at_flush(lines_text(items[:4])))
    load_all(warehouse, landing)
    # RFC 1952: the stream lacks its last block and trailer, so lines 5-10 are lost, not absent.
    assert query("SELECT status, rows_in, rows_loaded, rows_quarantined, message LIKE 'truncated_gzip:%' "
                 "FROM raw.load_audit") == [("truncated", 4, 4, 0, True)]
    assert query("SELECT line_no, reason FROM raw.quarantine") == [(None, "truncated_gzip")]
    assert "stops before its end" in query("SELECT detail FROM raw.quarantine")[0][0]


def test_gzip_cut_inside_a_line_quarantines_that_line_as_the_truncation(landing, warehouse, query):
    items = [status(f"m{i}") for i in range(10)]
    full = gzip.compress(lines_text(items), mtime=0)
    (landing / "webhooks").mkdir()
    (landing / "webhooks" / "cut.jsonl.gz").write_bytes(full[: len(full) - 40])  # trailer and a little more gone
    load_all(warehouse, landing)
    status_, rows_in, loaded, bad = query("SELECT status, rows_in, rows_loaded, rows_quarantined FROM raw.load_audit")[0]
    assert status_ == "truncated" and loaded < 10 and rows_in == loaded + bad
    assert [r[0] for r in query("SELECT reason FROM raw.quarantine")] == ["truncated_gzip"]


def test_truncated_csv_gz_loads_its_complete_rows_and_says_so(landing, warehouse, query):
    rows = [f"w{i},2025-07-01T12:00:00Z,W1,PN1,5511999990000,text\n" for i in range(10)]
    keep = (LOG_HEADER + "".join(rows[:4])).encode()
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "2025-07.csv.gz").write_bytes(cut_at_flush(keep))
    load_all(warehouse, landing)
    assert query("SELECT status, rows_loaded FROM raw.load_audit WHERE source = 'message_logs'") == [("truncated", 4)]
    assert query("SELECT reason FROM raw.quarantine") == [("truncated_gzip",)]


def test_empty_jsonl_gz_is_empty_not_truncated(landing, warehouse, query):
    (landing / "webhooks").mkdir()
    (landing / "webhooks" / "empty.jsonl.gz").write_bytes(gzip.compress(b"", mtime=0))
    load_all(warehouse, landing)
    assert query("SELECT status FROM raw.load_audit") == [("unreadable",)]
    assert query("SELECT reason FROM raw.quarantine") == [("empty_file",)]


# -- 2. multi-member gzip -----------------------------------------------------------------------------

def test_every_gzip_member_is_read_even_when_python_reads_the_file(landing, warehouse, query):
    # Member 1 holds a line that is not UTF-8, which sends the file to the Python reader.
    member1 = gzip.compress(b"\xff\xfe not utf-8\n" + lines_text([status("a1"), status("a2")]), mtime=0)
    member2 = gzip.compress(lines_text([status("b1"), status("b2"), status("b3")]), mtime=0)
    (landing / "webhooks").mkdir()
    (landing / "webhooks" / "shipped.jsonl.gz").write_bytes(member1 + member2)  # what `cat a.gz b.gz` gives
    load_all(warehouse, landing)
    assert query("SELECT status, rows_in, rows_loaded, rows_quarantined FROM raw.load_audit") == [("loaded", 6, 5, 1)]
    assert query("SELECT line_no, reason FROM raw.quarantine") == [(1, "not_utf8")]


def test_multi_member_csv_gz_loads_every_member(landing, warehouse, query):
    rows = [f"w{i},2025-07-01T12:00:00Z,W1,PN1,5511999990000,text\n" for i in range(6)]
    data = gzip.compress((LOG_HEADER + "".join(rows[:2])).encode(), mtime=0) + gzip.compress("".join(rows[2:]).encode(), mtime=0)
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "2025-07.csv.gz").write_bytes(data)
    load_all(warehouse, landing)
    assert query("SELECT status, rows_in, rows_loaded FROM raw.load_audit") == [("loaded", 6, 6)]


# -- 4. symlinks --------------------------------------------------------------------------------------

def test_symlinked_folders_are_followed_and_broken_links_quarantined(landing, warehouse, query, tmp_path):
    elsewhere = tmp_path / "archive"
    write_lines(elsewhere / "day1.jsonl", [status("s1"), status("s2")])
    webhooks = landing / "webhooks"
    webhooks.mkdir()
    (webhooks / "archive").symlink_to(elsewhere, target_is_directory=True)
    (webhooks / "gone.jsonl").symlink_to(tmp_path / "no-such-file.jsonl")
    (webhooks / "self.jsonl").symlink_to(webhooks / "self.jsonl")       # a link to itself
    (webhooks / "archive-loop").symlink_to(webhooks, target_is_directory=True)  # back to an ancestor
    load_all(warehouse, landing)
    assert query("SELECT file_path, status, rows_loaded FROM raw.load_audit ORDER BY file_path") == [
        ("webhooks/archive-loop", "unreadable", 0), ("webhooks/archive/day1.jsonl", "loaded", 2),
        ("webhooks/gone.jsonl", "unreadable", 0), ("webhooks/self.jsonl", "unreadable", 0)]
    assert query("SELECT file_path, reason FROM raw.quarantine ORDER BY file_path") == [
        ("webhooks/archive-loop", "symlink_loop"), ("webhooks/gone.jsonl", "dangling_symlink"),
        ("webhooks/self.jsonl", "symlink_loop")]
    # Unchanged next time: still recorded as unreadable (not re-recorded); once the link is fixed, it loads.
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.load_audit WHERE status = 'unreadable'") == [(3,)]
    assert query("SELECT count(*) FROM raw.quarantine") == [(3,)]
    write_lines(tmp_path / "no-such-file.jsonl", [status("s3")])
    load_all(warehouse, landing)
    assert query("SELECT status, rows_loaded FROM raw.load_audit WHERE file_path = 'webhooks/gone.jsonl' "
                 "AND status <> 'replaced'") == [("loaded", 1)]
    assert query("SELECT count(*) FROM raw.quarantine") == [(2,)]


# -- 5. empty JSON files -------------------------------------------------------------------------------

def test_empty_json_and_jsonl_files_are_unreadable_with_one_row(landing, warehouse, query):
    (landing / "webhooks").mkdir()
    for name in ("a.json", "b.jsonl", "c.ndjson"):
        (landing / "webhooks" / name).write_text("" if name != "c.ndjson" else "\n\n")
    load_all(warehouse, landing)
    assert query("SELECT file_path, status FROM raw.load_audit ORDER BY 1") == [
        ("webhooks/a.json", "unreadable"), ("webhooks/b.jsonl", "unreadable"), ("webhooks/c.ndjson", "unreadable")]
    assert query("SELECT file_path, reason FROM raw.quarantine ORDER BY 1") == [
        ("webhooks/a.json", "empty_file"), ("webhooks/b.jsonl", "empty_file"), ("webhooks/c.ndjson", "empty_file")]


# -- 6. .json arrays -----------------------------------------------------------------------------------

def test_a_bad_array_element_is_quarantined_with_its_index_and_the_rest_load(landing, warehouse, query):
    (landing / "webhooks").mkdir()
    good = [json.dumps(status(f"e{i}")) for i in range(3)]
    (landing / "webhooks" / "batch.json").write_text(f"[{good[0]}, {{\"object\": }}, {good[1]}, {good[2]}]")
    (landing / "webhooks" / "bom.json").write_bytes(b"\xef\xbb\xbf" + f"[{good[0]}, [1, 2".encode())
    load_all(warehouse, landing)
    assert query("SELECT file_path, rows_in, rows_loaded, rows_duplicate, rows_quarantined FROM raw.load_audit ORDER BY 1") == [
        ("webhooks/batch.json", 4, 3, 0, 1), ("webhooks/bom.json", 2, 0, 1, 1)]
    assert query("SELECT file_path, line_no, reason FROM raw.quarantine ORDER BY 1") == [
        ("webhooks/batch.json", 2, "invalid_json"), ("webhooks/bom.json", 2, "invalid_json")]


def test_the_size_cap_applies_to_array_elements_and_lines_alike(landing, warehouse, query):
    from pipelines.sources.line_reader import MAX_DELIVERY_BYTES

    (landing / "webhooks").mkdir()
    huge = json.dumps({**status("big"), "padding": "x" * MAX_DELIVERY_BYTES})
    small = json.dumps(status("small"))
    (landing / "webhooks" / "a.json").write_text(f"[{small}, {huge}]")
    (landing / "webhooks" / "b.jsonl").write_text(f"{huge}\n{json.dumps(status('small2'))}\n")
    load_all(warehouse, landing)
    assert query("SELECT file_path, rows_in, rows_loaded, rows_quarantined FROM raw.load_audit ORDER BY 1") == [
        ("webhooks/a.json", 2, 1, 1), ("webhooks/b.jsonl", 2, 1, 1)]
    assert query("SELECT file_path, line_no, reason FROM raw.quarantine ORDER BY 1") == [
        ("webhooks/a.json", 2, "too_large"), ("webhooks/b.jsonl", 1, "too_large")]


# -- 7. invalid bytes in a CSV -------------------------------------------------------------------------

def test_an_invalid_byte_near_the_top_of_a_csv_rejects_only_its_row(landing, warehouse, query):
    rows = [f"w{i},2025-07-01T12:00:00Z,W1,PN1,5511999990000,text\n".encode() for i in range(50)]
    rows[0] = b"w0,2025-07-01T12:00:00Z,W1,PN1,55119\xff99990000,text\n"
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "2025-07.csv").write_bytes(LOG_HEADER.encode() + b"".join(rows))
    load_all(warehouse, landing)
    assert query("SELECT status, rows_in, rows_loaded, rows_quarantined FROM raw.load_audit") == [("loaded", 50, 49, 1)]
    assert query("SELECT line_no, reason FROM raw.quarantine") == [(2, "not_utf8")]


# -- 8. naive timestamps -------------------------------------------------------------------------------

NAIVE_LOG = (LOG_HEADER + "n1,2026-03-02 09:30:00,W1,PN1,5511999990000,text\n"
             + "n2,2026-03-02T09:30:00-03:00,W1,PN1,5511999990000,text\n"
             + "n3,2026-03-02T09:30:00,W2,PN2,447700900000,text\n")
ACCOUNTS = "waba_id,business_portfolio_id,timezone,currency\nW1,BP1,America/Sao_Paulo,BRL\n"


def test_a_timestamp_without_offset_is_quarantined_never_taken_as_utc(landing, warehouse, query, monkeypatch):
    monkeypatch.delenv("WABA_NAIVE_TIMESTAMPS", raising=False)
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "2026-03.csv").write_text(NAIVE_LOG)
    load_all(warehouse, landing)
    assert query("SELECT message_id, sent_at FROM raw.message_logs") == [
        ("n2", datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc))]
    assert query("SELECT line_no, reason FROM raw.quarantine ORDER BY 1") == [
        (2, "timestamp_without_offset"), (4, "timestamp_without_offset")]


def test_naive_timestamps_can_be_read_in_the_wabas_timezone(landing, warehouse, query, monkeypatch):
    monkeypatch.setenv("WABA_NAIVE_TIMESTAMPS", "waba")
    (landing / "message_logs").mkdir()
    (landing / "business_manager").mkdir()
    (landing / "business_manager" / "accounts.csv").write_text(ACCOUNTS)
    (landing / "message_logs" / "2026-03.csv").write_text(NAIVE_LOG)
    load_all(warehouse, landing)
    # IANA tz database: America/Sao_Paulo is UTC-03:00 in March 2026 (no DST since 2019).
    assert query("SELECT message_id, sent_at FROM raw.message_logs ORDER BY 1") == [
        ("n1", datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc)), ("n2", datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc))]
    # W2 has no timezone in accounts.csv: still not guessed.
    assert query("SELECT line_no, reason FROM raw.quarantine") == [(4, "timestamp_without_offset")]


def test_naive_parquet_timestamp_column_follows_the_same_rule(landing, warehouse, query, monkeypatch):
    monkeypatch.delenv("WABA_NAIVE_TIMESTAMPS", raising=False)
    (landing / "message_logs").mkdir()
    duckdb.connect().execute(f"""COPY (SELECT 'p1' AS message_id, TIMESTAMP '2026-03-02 09:30:00' AS sent_at,
        'W1' AS waba_id, 'PN1' AS phone_number_id, '5511999990000' AS recipient_id, 'text' AS message_type)
        TO '{landing / "message_logs" / "2026-03.parquet"}' (FORMAT parquet)""")
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.message_logs") == [(0,)]
    assert query("SELECT reason FROM raw.quarantine") == [("timestamp_without_offset",)]


# -- 9. unreadable files -------------------------------------------------------------------------------

def test_a_file_that_fails_to_read_is_unreadable_and_the_rest_loads(landing, warehouse, query):
    webhooks = landing / "webhooks"
    write_lines(webhooks / "good.jsonl", [status("g1")])
    # /proc/self/mem is a real regular file whose read at offset 0 fails with EIO (nothing is mapped there).
    (webhooks / "eio.jsonl").symlink_to("/proc/self/mem")
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "eio.csv").symlink_to("/proc/self/mem")
    load_all(warehouse, landing)
    assert query("SELECT file_path, status FROM raw.load_audit ORDER BY 1") == [
        ("message_logs/eio.csv", "unreadable"), ("webhooks/eio.jsonl", "unreadable"), ("webhooks/good.jsonl", "loaded")]
    assert query("SELECT file_path, reason FROM raw.quarantine ORDER BY 1") == [
        ("message_logs/eio.csv", "unreadable_file"), ("webhooks/eio.jsonl", "unreadable_file")]
    # Tried again on every run: fixing permissions changes no mtime.
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.load_audit WHERE status = 'replaced'") == [(2,)]
