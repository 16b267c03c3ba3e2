"""Issue 11, reproducible (items 17-18): two clean runs of one landing folder give the same marts (clock
columns aside), and a touched file is hashed once.

Expected values: equality with an independent second run, and hand counts.
"""
import os

import duckdb

from conftest import SAMPLE_SECRET, load_all, write_lines

# Documented clock columns (docs/warehouse.md, docs/data-quality.md): when something ran, not what it found.
CLOCK_COLUMNS = {"loaded_at", "checked_at", "run_id", "created_at", "computed_at"}


def marts_content(warehouse) -> dict[str, list]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        content = {}
        for (table,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
                                     "ORDER BY 1").fetchall():
            columns = [c for (c,) in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = ? "
                "ORDER BY column_index", [table]).fetchall() if c not in CLOCK_COLUMNS]
            quoted = ", ".join(f'"{c}"' for c in columns)
            content[table] = conn.execute(f"SELECT {quoted} FROM marts.{table} ORDER BY ALL").fetchall()
        return content
    finally:
        conn.close()


def test_two_clean_runs_give_the_same_marts(world, loaded, tmp_path, monkeypatch):
    from pipelines.run import run_pipeline

    monkeypatch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
    again = tmp_path / "again.duckdb"
    run_pipeline(world, again, tmp_path / "reports", verbose=False)
    first, second = marts_content(loaded), marts_content(again)
    assert first.keys() == second.keys() and "consent_timeline" in first
    differing = [table for table in first if first[table] != second[table]]
    assert differing == []


def test_a_touched_file_is_hashed_once_then_skipped_by_its_new_mtime(landing, warehouse, query, monkeypatch):
    import pipelines.sources.landing as landing_module

    path = write_lines(landing / "webhooks" / "a.jsonl", [{"object": "whatsapp_business_account", "entry": []}])
    load_all(warehouse, landing)
    touched = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(touched, touched))
    hashed = []
    real = landing_module.file_sha256
    monkeypatch.setattr(landing_module, "file_sha256", lambda p: hashed.append(p) or real(p))
    load_all(warehouse, landing)
    assert len(hashed) == 1
    assert query("SELECT file_mtime_ns, status FROM raw.load_audit") == [(touched, "loaded")]
    load_all(warehouse, landing)
    assert len(hashed) == 1  # the third run took the recorded mtime as proof: not hashed again
