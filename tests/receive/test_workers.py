"""`--workers N`: several processes accept on one port, each with its own hour file; a worker killed by
kill -9 under load is replaced, its file is closed by the replacement, and no acknowledged delivery is lost."""
import os
import signal
import time
from pathlib import Path

from conftest import load_all
from receive.harness import ReceiverProcess, live_files, load_until_signalled, wait_for, wamid


def _workers(parent: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()}


def test_a_killed_worker_is_replaced_and_loses_nothing(landing, warehouse, query):
    receiver = ReceiverProcess(landing, None, "--workers", "2").wait_ready()
    wait_for(lambda: len(_workers(receiver.proc.pid)) == 2, what="two workers")
    first = _workers(receiver.proc.pid)
    victim = min(first)

    def kill_one_then_stop():
        os.kill(victim, signal.SIGKILL)
        time.sleep(2)   # the others keep serving; the parent starts a replacement

    acknowledged = load_until_signalled(receiver, kill_one_then_stop, threads=12, seconds=3)
    wait_for(lambda: len(_workers(receiver.proc.pid)) == 2 and victim not in _workers(receiver.proc.pid),
             what="a replacement worker")
    assert receiver.terminate() in (0, -15)
    assert f"worker {victim} ended (killed by SIGKILL); starting another" in receiver.output()
    assert live_files(landing, "*.part") == []
    # Each worker wrote its own file; the killed one's was closed by its replacement (no .part is left).
    pids = {int(p.name.split("-")[-1].split(".")[0]) for p in live_files(landing, "*.jsonl")}
    assert first <= pids
    load_all(warehouse, landing)
    staged = {row[0] for row in query("SELECT message_id FROM staging.message_statuses")}
    assert len(acknowledged) > 100 and [n for n in acknowledged if wamid(n * 10) not in staged] == []
    assert query("SELECT DISTINCT reason FROM raw.quarantine WHERE reason <> 'torn_write'") == []
