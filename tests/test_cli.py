"""The `waba` command as a user meets it: help, one-line errors, exit codes."""
import subprocess
import sys

import duckdb

from conftest import envelope, messages_value, write_lines


def waba(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)


def test_help_documents_every_command():
    out = waba("--help").stdout
    assert "generate" in out and "run" in out
    run_help = waba("run", "--help").stdout
    for option in ("--landing", "--warehouse", "--reports"):
        assert option in run_help
    gen_help = waba("generate", "--help").stdout
    for option in ("--out", "--seed", "--customers", "--start", "--end", "--scale"):
        assert option in gen_help


def test_missing_landing_folder_is_one_clear_line(tmp_path):
    result = waba("run", "--landing", tmp_path / "nope", "--warehouse", tmp_path / "w.duckdb")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"waba: error: {tmp_path / 'nope'}: landing folder does not exist (expected webhooks/, message_logs/, ... inside)"]


def test_locked_warehouse_is_one_clear_line(tmp_path, landing):
    write_lines(landing / "webhooks" / "a.jsonl", [{"object": "whatsapp_business_account", "entry": []}])
    warehouse = tmp_path / "w.duckdb"
    holder = duckdb.connect(str(warehouse))
    try:
        result = waba("run", "--landing", landing, "--warehouse", warehouse)
    finally:
        holder.close()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked by another process" in lines[0] and str(warehouse) in lines[0]


def test_run_loads_through_dagster_and_flags_unreadable_files(tmp_path, landing):
    status = {"id": "m1", "status": "sent", "timestamp": "1751371200", "recipient_id": "1"}
    write_lines(landing / "webhooks" / "a.jsonl", [envelope("W1", "messages", messages_value(statuses=[status]))])
    (landing / "optins").mkdir()
    (landing / "optins" / "bad.csv").write_text("customer_id\n1\n")
    warehouse = tmp_path / "w.duckdb"
    result = waba("run", "--landing", landing, "--warehouse", warehouse, "--reports", tmp_path / "reports")
    assert result.returncode == 2, result.stderr
    assert "[raw__webhook_deliveries] webhooks 1/1 webhooks/a.jsonl: 1 loaded" in result.stdout
    assert "error: optins/bad.csv: missing required column(s) event, event_at" in result.stderr
    published = tmp_path / "w.published.duckdb"
    conn = duckdb.connect(str(published), read_only=True)
    assert conn.execute("SELECT message_id FROM staging.message_statuses").fetchall() == [("m1",)]
    conn.close()


def test_published_copy_is_readable_while_the_warehouse_is_being_written(tmp_path, landing):
    status = {"id": "m1", "status": "sent", "timestamp": "1751371200", "recipient_id": "1"}
    write_lines(landing / "webhooks" / "a.jsonl", [envelope("W1", "messages", messages_value(statuses=[status]))])
    warehouse = tmp_path / "w.duckdb"
    assert waba("run", "--landing", landing, "--warehouse", warehouse, "--reports", tmp_path / "reports").returncode == 0
    writer = duckdb.connect(str(warehouse))  # the next run holds the working file
    try:
        reader = subprocess.run([sys.executable, "-c", (
            "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True);"
            "print(c.execute('select count(*) from staging.message_statuses').fetchone()[0])"),
            str(tmp_path / "w.published.duckdb")], capture_output=True, text=True, timeout=60)
    finally:
        writer.close()
    assert reader.stdout.strip() == "1", reader.stderr


def test_generate_refuses_a_backwards_period_and_a_full_folder(tmp_path):
    result = waba("generate", "--out", tmp_path / "w", "--start", "2026-01-01", "--end", "2025-01-01")
    assert result.returncode == 2
    assert result.stderr.strip() == "waba: error: --end 2025-01-01 is before --start 2026-01-01"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = waba("generate", "--out", tmp_path / "full")
    assert result.returncode == 2 and "folder is not empty" in result.stderr


def test_generate_writes_a_small_world(tmp_path):
    out = tmp_path / "w"
    result = waba("generate", "--out", out, "--customers", "20", "--start", "2025-06-01", "--end", "2025-06-30")
    assert result.returncode == 0, result.stderr
    assert (out / "ground_truth.json").exists() and (out / "webhooks" / "cloud").is_dir()
    assert "webhook envelopes" in result.stdout.splitlines()[-1]
