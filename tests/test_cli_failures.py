"""Issue 11, stops and wrong words (items 10-12, 16): every user mistake is one line and a non-zero exit,
one writer holds the warehouse for a whole run, and a warehouse never mixes two landing folders.

Expected texts are the messages this issue asks for; the processes are real (`python -m pipelines.cli`).
"""
import os
import signal
import subprocess
import sys
import time

from conftest import envelope, messages_value, write_lines
from crash import ROOT

STATUS = envelope("WABA1", "messages", messages_value(statuses=[
    {"id": "wamid.A", "status": "sent", "timestamp": "1751371200", "recipient_id": "5511999990000"}]))


def waba(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, cwd=ROOT)


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("waba: error: "), result.stderr
    return lines[0]


def small_landing(path):
    write_lines(path / "webhooks" / "a.jsonl", [STATUS])
    return path


def start_halted_run(tmp_path, landing, warehouse, point="commit:webhooks/a.jsonl"):
    marker = tmp_path / "halted"
    child = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--quiet", "--landing", str(landing),
                              "--warehouse", str(warehouse), "--reports", str(tmp_path / "reports")],
                             cwd=ROOT, env={**os.environ, "WABA_TEST_HALT_AT": point, "WABA_TEST_HALTED_FILE": str(marker)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return child


# -- 10. one writer for the whole run ------------------------------------------------------------------

def test_a_running_pipeline_holds_the_warehouse_against_other_writers(tmp_path):
    landing, warehouse = small_landing(tmp_path / "landing"), tmp_path / "w.duckdb"
    child = start_halted_run(tmp_path, landing, warehouse)
    try:
        # Between steps DuckDB's own lock is not held: only the run's lock file stops these.
        started = time.monotonic()
        reprice = waba("reprice", "--regime", "pmp_2026_10", "--from", "2026-07-01", "--to", "2026-07-31",
                       "--warehouse", warehouse)
        second = waba("run", "--landing", landing, "--warehouse", warehouse, "--reports", tmp_path / "r2")
        for result in (reprice, second):
            line = one_error_line(result)
            assert f"locked by pid {child.pid} since " in line and str(warehouse) in line
        assert time.monotonic() - started < 60
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
    # kill -9 released it: the next writer gets it.
    from pipelines.run_lock import hold_warehouse

    with hold_warehouse(warehouse):
        assert f"{os.getpid()} " in (warehouse.parent / "w.duckdb.lock").read_text()


def test_ctrl_c_is_one_interrupted_line_and_exit_130(tmp_path):
    landing, warehouse = small_landing(tmp_path / "landing"), tmp_path / "w.duckdb"
    child = start_halted_run(tmp_path, landing, warehouse)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("waba: interrupted")
    assert "Traceback" not in err


# -- 11. corruption is not a lock ------------------------------------------------------------------------

def test_a_corrupt_warehouse_is_reported_as_damaged_not_locked(tmp_path):
    landing, warehouse = small_landing(tmp_path / "landing"), tmp_path / "w.duckdb"
    warehouse.write_bytes(b"this is a block of bytes, not a DuckDB file" * 500)
    line = one_error_line(waba("run", "--landing", landing, "--warehouse", warehouse))
    assert "damaged" in line and "lock" not in line.replace("block", "")


# -- 12. user mistakes ----------------------------------------------------------------------------------

def test_user_mistakes_are_one_line_each(tmp_path):
    landing = small_landing(tmp_path / "landing")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [
        ("run", "--landing", landing, "--warehouse", a_file / "w.duckdb", "--reports", tmp_path / "r"),
        ("audit", "--from", "2026-01-01", "--to", "2026-01-31", "--out", tmp_path),
        ("audit", "--from", "2026-01-01", "--to", "2026-01-31", "--out", a_file / "audit.csv"),
        ("report", "--out", a_file, "--warehouse", tmp_path / "w.duckdb"),
    ]
    for args in cases:
        one_error_line(waba(*args))
    line = one_error_line(waba("run", "--landing", landing, "--warehouse", tmp_path / "w.duckdb",
                               env={"WABA_DUCKDB_MEMORY_LIMIT": "lots"}))
    assert "WABA_DUCKDB_MEMORY_LIMIT" in line


# -- 16. one landing folder per warehouse ---------------------------------------------------------------

def test_a_warehouse_refuses_another_landing_folder_without_force(tmp_path):
    from pipelines.run import check_writable

    first, other = small_landing(tmp_path / "first"), small_landing(tmp_path / "other")
    warehouse = tmp_path / "w.duckdb"
    check_writable(warehouse, first)  # what a run does first: records the folder
    line = one_error_line(waba("run", "--landing", other, "--warehouse", warehouse, "--reports", tmp_path / "r"))
    assert f"holds the landing folder {first.resolve()}" in line and "--force" in line
    # The same folder by another path (a symlink) is the same folder.
    (tmp_path / "alias").symlink_to(first, target_is_directory=True)
    check_writable(warehouse, tmp_path / "alias")
    check_writable(warehouse, other, force=True)
    line = one_error_line(waba("run", "--landing", first, "--warehouse", warehouse, "--reports", tmp_path / "r"))
    assert f"holds the landing folder {other.resolve()}" in line


def test_an_empty_or_wrong_landing_folder_says_what_it_should_contain(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = one_error_line(waba("run", "--landing", empty, "--warehouse", tmp_path / "w.duckdb"))
    assert "webhooks/" in line and "message_logs/" in line
    landing = small_landing(tmp_path / "landing")
    line = one_error_line(waba("run", "--landing", landing / "webhooks", "--warehouse", tmp_path / "w.duckdb"))
    assert "not a landing folder" in line
    (tmp_path / "hollow" / "webhooks").mkdir(parents=True)
    line = one_error_line(waba("run", "--landing", tmp_path / "hollow", "--warehouse", tmp_path / "w.duckdb"))
    assert "holds no files" in line


# -- 1. the run summary names a truncated file ------------------------------------------------------------

def test_the_run_summary_names_a_truncated_file_and_exits_2(tmp_path):
    import zlib

    landing = small_landing(tmp_path / "landing")
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # RFC 1952 stream, cut after a flush
    cut = deflater.compress(b'{"object": "whatsapp_business_account", "entry": []}\n') + deflater.flush(zlib.Z_FULL_FLUSH)
    (landing / "webhooks" / "cut.jsonl.gz").write_bytes(cut)
    result = waba("run", "--quiet", "--landing", landing, "--warehouse", tmp_path / "w.duckdb", "--reports", tmp_path / "r")
    assert result.returncode == 2
    assert "file not (fully) loaded: webhooks/cut.jsonl.gz: truncated_gzip: " in result.stdout
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("error: webhooks/cut.jsonl.gz: truncated_gzip")]


def test_a_bare_run_does_not_generate_the_sample_world_into_a_warehouse_of_another_folder(tmp_path):
    from pipelines.run import check_writable

    first, warehouse = small_landing(tmp_path / "first"), tmp_path / "w.duckdb"
    check_writable(warehouse, first)
    home = tmp_path / "home"
    line = one_error_line(waba("run", "--warehouse", warehouse, env={"WABA_HOME": str(home)}))
    assert f"holds the landing folder {first.resolve()}" in line
    assert not (home / "landing").exists()  # nothing was generated
