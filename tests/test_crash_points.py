"""Issue 11: a kill -9 at a named point loses nothing (items 3 and 18).

The child is a real Python process running the real loader against a DuckDB file on disk; it stops at
a point named by the test-only hook (pipelines/testing_hooks.py) and is killed there with SIGKILL.
Expected values are hand counts of the rows written here.
"""
import textwrap

from conftest import load_all
from crash import kill_at

HEADER = "message_id,sent_at,waba_id,phone_number_id,recipient_id,message_type\n"


def row(message_id: str) -> str:
    return f"{message_id},2026-10-31T12:00:00Z,W1,PN1,5511999990000,text\n"


LOAD_LOGS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pipelines.sources.tabular import SOURCES_BY_NAME, load_tabular
    from pipelines.warehouse import open_warehouse
    with open_warehouse(Path(sys.argv[1])) as conn:
        load_tabular(conn, Path(sys.argv[2]), SOURCES_BY_NAME["message_logs"])
""")


def test_a_kill_between_a_replaced_file_and_its_dependents_loses_no_row(landing, warehouse, query, tmp_path):
    logs = landing / "message_logs"
    logs.mkdir()
    # X is in October's file and, as a duplicate, in November's.
    (logs / "2026-10.csv").write_text(HEADER + row("X") + row("A"))
    (logs / "2026-11.csv").write_text(HEADER + row("X") + row("B"))
    load_all(warehouse, landing)
    assert query("SELECT count(*) FROM raw.duplicates") == [(1,)]
    # October is replaced without X: X must now come from November's file.
    (logs / "2026-10.csv").write_text(HEADER + row("A") + row("C"))
    kill_at("commit:message_logs/2026-10.csv", ["-c", LOAD_LOGS, str(warehouse), str(landing)], tmp_path / "halted")
    load_all(warehouse, landing)
    assert query("SELECT message_id FROM raw.message_logs ORDER BY 1") == [("A",), ("B",), ("C",), ("X",)]
    assert query("SELECT file_path, rows_loaded, rows_duplicate FROM raw.load_audit WHERE status <> 'replaced' "
                 "ORDER BY 1") == [("message_logs/2026-10.csv", 2, 0), ("message_logs/2026-11.csv", 2, 0)]


PUBLISH = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pipelines.warehouse import publish
    publish(Path(sys.argv[1]))
""")


def test_a_publish_killed_midway_leaves_its_copy_only_until_the_next_run(landing, warehouse, tmp_path):
    from pipelines.run import run_pipeline
    from pipelines.warehouse import publish_temp_path

    (landing / "rate_cards").mkdir()
    (landing / "rate_cards" / "card.csv").write_text("effective_from,market,category,currency,rate\n"
                                                    "2025-07-01,Brazil,marketing,USD,0.0625\n")
    load_all(warehouse, landing)
    kill_at("publish:copied", ["-c", PUBLISH, str(warehouse)], tmp_path / "halted")
    leftover = publish_temp_path(warehouse)
    assert leftover.exists() and leftover.stat().st_size > 0
    run_pipeline(landing, warehouse, tmp_path / "reports", verbose=False)
    assert not leftover.exists()
