"""Building the staging layer from raw: typed, deduplicated, in event-time order.

Webhook models are incremental: each run parses only the deliveries of loads not yet staged, and
inserts rows whose key is not already present (an earlier-by-event-time report replaces a staged
one). A replaced landing file, or changed model SQL, triggers a full rebuild instead. Table models
(the business's own exports, and tables derived from the incremental ones) are rebuilt whole, and
only when a landing source they read loaded something or their SQL changed.

The models are the dbt project's (models/staging/, read by pipelines/staging_models.py); this runner builds them
as dbt would (tests/test_dbt_staging.py holds the two to the same rows, types and comments) until Dagster runs
them through dbt. Bookkeeping (staged loads, build state) lives in the `bookkeeping` schema.
"""
from __future__ import annotations

from typing import Callable

import duckdb

from pipelines.batching import batches_by_size
from pipelines.marts import comment_on
from pipelines.staging_models import (Model, incremental_code_version, incremental_models, inputs, models,
                                      parse_steps, table_models)
from pipelines.warehouse import transaction

# Deliveries parsed per batch: bounds memory on a 10M-envelope first load.
BATCH_ROWS = 200_000
# What the incremental build has done, kept out of the analysts' staging schema.
BOOKKEEPING = "bookkeeping"


def load_model(name: str) -> Model:
    return models()[name]


def needs_full_rebuild(conn, code_version: str) -> bool:
    """True when staged rows may no longer match raw: a landing file was replaced, or the model SQL changed."""
    built = conn.execute("SELECT incremental_sql_md5 FROM bookkeeping.code_version").fetchone() if (
        "bookkeeping.code_version" in _tables(conn, BOOKKEEPING)) else None
    if built is None or built[0] != code_version:
        return True
    return conn.execute("""
        SELECT count(*) FROM bookkeeping.staged_loads s JOIN raw.load_audit a USING (load_id) WHERE a.status = 'replaced'
    """).fetchone()[0] > 0


def _pending_batches(conn) -> list[list[int]]:
    rows = conn.execute("""
        SELECT a.load_id, a.rows_loaded FROM raw.load_audit a
        WHERE a.source = 'webhooks' AND a.status IN ('loaded', 'truncated')  -- a cut gzip's readable lines count
          AND a.load_id NOT IN (SELECT load_id FROM bookkeeping.staged_loads)
        ORDER BY a.load_id
    """).fetchall()
    return [[load_id for load_id, _ in batch] for batch in batches_by_size(rows, lambda row: row[1], BATCH_ROWS)]


def _insert_deduplicated(conn, model: Model) -> tuple[int, int]:
    """Insert the model's new rows whose key is not yet present; return (candidates, inserted).

    Within the batch the earliest by event time wins (then the earlier load and line, the model's tiebreak and
    the row's text: a total order, as models/dbt_macros/earliest_wins.sql). Repeated keys are few, so the window that
    picks the winner runs on those rows alone, never on every candidate.
    """
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _candidates AS {model.sql}")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {model.table} AS SELECT * FROM _candidates WITH NO DATA")
    keys = ", ".join(model.key)
    same_key = lambda a, b: " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in model.key)  # noqa: E731
    order = f"{model.order} NULLS LAST, " if model.order else ""
    tiebreak = f"{model.tiebreak}, " if model.tiebreak else ""
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _losers AS
        SELECT rid FROM (
            SELECT c.rowid AS rid, c.*, CAST(c AS VARCHAR) AS _row_text
            FROM _candidates c
            SEMI JOIN (SELECT {keys} FROM _candidates GROUP BY ALL HAVING count(*) > 1) r ON {same_key("c", "r")}
        )
        QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}_load_id, _line_no, {tiebreak}_row_text) > 1
    """)
    before = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
    if model.order:
        # A late-arriving earlier report replaces the one staged before it, so incremental and full
        # builds agree: the earliest by event time wins whatever the arrival order.
        conn.execute(f"""
            DELETE FROM {model.table} o USING (
                SELECT {keys}, {model.order} FROM _candidates WHERE rowid NOT IN (SELECT rid FROM _losers)) n
            WHERE {same_key("o", "n")} AND n.{model.order} < o.{model.order}
        """)
        before = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
    conn.execute(f"""
        INSERT INTO {model.table}
        SELECT * FROM _candidates n
        WHERE NOT EXISTS (SELECT 1 FROM {model.table} o WHERE {same_key("o", "n")})
          AND n.rowid NOT IN (SELECT rid FROM _losers)
    """)
    after = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
    candidates = conn.execute("SELECT count(*) FROM _candidates").fetchone()[0]
    return candidates, after - before


# Where the bookkeeping lived before it moved to its own schema, among the analysts' staging tables.
LEGACY_BOOKKEEPING = ("staging.staged_loads", "staging.model_state", "staging.code_version")


def build_staging(conn: duckdb.DuckDBPyConnection, progress: Callable[[str], None] = lambda _: None,
                  full: bool = False) -> dict:
    incremental = [load_model(n) for n in incremental_models()]
    stats = {m.name: {"candidates": 0, "inserted": 0} for m in incremental}
    with transaction(conn):
        conn.execute("CREATE SCHEMA IF NOT EXISTS bookkeeping")
        for table in LEGACY_BOOKKEEPING:  # a warehouse from before the move (its code version is gone: a full rebuild)
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute("CREATE TABLE IF NOT EXISTS bookkeeping.staged_loads (load_id BIGINT PRIMARY KEY, staged_at TIMESTAMPTZ)")
        code_version = incremental_code_version()
        if full or needs_full_rebuild(conn, code_version):
            progress("staging: full rebuild")
            for m in incremental:
                conn.execute(f"DROP TABLE IF EXISTS {m.table}")
            conn.execute("DELETE FROM bookkeeping.staged_loads")
            conn.execute("CREATE OR REPLACE TABLE bookkeeping.code_version AS SELECT ? AS incremental_sql_md5", [code_version])
        batches = _pending_batches(conn)
        for number, batch in enumerate(batches, start=1):
            conn.execute("CREATE OR REPLACE TEMP TABLE _webhook_batch AS SELECT unnest(?::BIGINT[]) AS load_id", [batch])
            _parse_batch(conn)
            for m in incremental:
                candidates, inserted = _insert_deduplicated(conn, m)
                stats[m.name]["candidates"] += candidates
                stats[m.name]["inserted"] += inserted
            conn.execute("INSERT INTO bookkeeping.staged_loads SELECT load_id, now() FROM _webhook_batch")
            progress(f"staging: webhook batch {number}/{len(batches)} ({len(batch)} files)")
        existing = _tables(conn, "staging")
        for m in incremental:  # a warehouse with no webhooks yet still gets every table
            if m.table not in existing:
                _create_empty(conn, m)
        _rebuild_table_models(conn, existing, rebuild_all=full)
        document_staging(conn)
        _document_bookkeeping(conn)
        for table in ("_candidates", "_losers", "_webhook_batch", *(f"_{step}" for step in parse_steps())):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return stats


def _tables(conn, schema: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name = ?", [schema]).fetchall()}


def _parse_batch(conn) -> None:
    """The batch's working tables (the webhook models read them), as TEMP tables."""
    for step in parse_steps():
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _{step} AS {load_model(step).sql}")


def _rebuild_table_models(conn, existing: set[str], rebuild_all: bool) -> None:
    """Rebuild a table model only when its SQL changed or a landing source it reads loaded something since."""
    conn.execute("CREATE TABLE IF NOT EXISTS bookkeeping.model_state "
                 "(model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")
    latest = dict(conn.execute("SELECT source, max(load_id) FROM raw.load_audit GROUP BY source").fetchall())
    built = {r[0]: r[1:] for r in conn.execute("SELECT model, built_through_load_id, sql_md5 FROM bookkeeping.model_state").fetchall()}
    for name in table_models():
        m = load_model(name)
        through = max((latest.get(source, 0) for source in inputs(name)), default=0)
        state = (through, m.fingerprint)
        if rebuild_all or m.table not in existing or built.get(name) != state:
            conn.execute(f"CREATE OR REPLACE TABLE {m.table} AS {m.sql}")
            conn.execute("INSERT OR REPLACE INTO bookkeeping.model_state VALUES (?, ?, ?)", [name, *state])


def _create_empty(conn, model: Model) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE _webhook_batch (load_id BIGINT)")
    _parse_batch(conn)
    conn.execute(f"CREATE TABLE {model.table} AS {model.sql} LIMIT 0")


def document_staging(conn) -> dict[str, list[str]]:
    """COMMENT ON every staging table and column from its model's YAML (models/staging/_staging.yml), as dbt's
    persist_docs does.

    Returns each model's undocumented columns. Not strict at build time, so a column added on another
    branch never stops a load; tests/test_staging_documentation.py holds every model's docs complete.
    """
    missing = {}
    for name in incremental_models() + table_models():
        m = load_model(name)
        missing[m.name] = comment_on(conn, "staging", m.name, m.description, m.columns,
                                     "models/staging/_staging.yml", strict=False)
    return {name: cols for name, cols in missing.items() if cols}


# The bookkeeping tables this runner writes (dbt documents its staged_loads in models/staging/bookkeeping/).
BOOKKEEPING_TABLES = {
    "staged_loads": ("one row per webhook load whose deliveries the incremental staging models hold; the next run "
                     "parses only loads not listed here", {"load_id": "The raw.load_audit load that was staged.",
                                                            "staged_at": "When it was staged (UTC)."}),
    "code_version": ("one row: the hash of the webhook models' code (SQL, config, macros, reference files) that staged "
                     "the rows; another hash means a full rebuild", {"incremental_sql_md5": "The hash."}),
    "model_state": ("one row per staging table model: what it was last built from (a rebuild comes when either changes)",
                    {"model": "The staging model.", "built_through_load_id": "The last load of its landing sources it read.",
                     "sql_md5": "The hash of its SQL, config and reference files."}),
}


def _document_bookkeeping(conn) -> None:
    for name, (description, columns) in BOOKKEEPING_TABLES.items():
        comment_on(conn, BOOKKEEPING, name, description, columns, "pipelines/staging.py", strict=False)


def table_descriptions() -> dict[str, str]:
    return {f"staging.{n}": load_model(n).description for n in incremental_models() + table_models()}
