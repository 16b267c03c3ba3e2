"""What a run's staging build does, decided from the warehouse and the dbt graph; dbt builds it (models/staging/).

- **Nothing** (dbt not started) when no file was loaded and no staging model changed since the last build.
- **A full refresh** the first time, when the staging models' code changed (their SQL, config, the macros they call,
  the SQL macros and the reference files they read: `fingerprint`), when a staging table is missing, or when a
  landing file whose rows were staged has been replaced (its old rows must go).
- Otherwise **the models the new loads feed**: for each landing source that loaded something since the last build,
  the staging models downstream of its raw table (`source:raw.<table>+`, intersected with models/staging). The
  webhook models (tag webhook) are incremental over the loads not yet in bookkeeping.staged_loads, so new webhook
  loads select them all, the batch's working tables among them; the table models are rebuilt.

A first load of millions of webhook deliveries is staged a bounded batch at a time: the var webhook_batch_rows caps a
batch (models/staging/intermediate/webhook_batch.sql), and `dbt run --select tag:webhook` runs again while more than
one batch is pending; the final build (every selected model and its tests) stages the last one.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from pipelines.batching import batches_by_size
from pipelines.errors import UserError
from pipelines.warehouse import MODELS_DIR, connect

# Webhook deliveries parsed per batch, so a 10M-envelope first load is staged in bounded steps. Measured at 1M envelopes
# (docs/benchmarks.md): a batch of 200,000 peaks at 0.8 GB, one of all 1.04M deliveries at 2.2 GB (DuckDB's
# memory_limit, 2GB by default, holds it there); each batch beyond the first costs a dbt command (4-5 s when dbt ran
# as a process; less now that it runs in this one on models already parsed, not measured per batch). 1.5M keeps a 1M
# world to one dbt command and a 10M world to seven.
BATCH_ROWS = 1_500_000
BATCH_ROWS_ENV = "WABA_WEBHOOK_BATCH_ROWS"
STATE_KEY = "dbt:staging"  # its bookkeeping.model_state row: the last load and the fingerprint it was built from
SELECT = "path:models/staging"
WEBHOOK_MODELS = "tag:webhook"
_REFERENCE_FILE = re.compile(r"reference_csv\('([\w.-]+)'\)")


def configured_batch_rows() -> int:
    """The batch size of `waba run`: WABA_WEBHOOK_BATCH_ROWS (a positive whole number of deliveries), else BATCH_ROWS."""
    value = os.environ.get(BATCH_ROWS_ENV, "").strip().replace("_", "")
    if not value:
        return BATCH_ROWS
    if not value.isdigit() or int(value) < 1:
        raise UserError(f"{BATCH_ROWS_ENV}={value!r}: expected a positive whole number of webhook deliveries, e.g. 500000")
    return int(value)


@dataclass(frozen=True)
class StagingPlan:
    skip: bool
    full_refresh: bool
    select: tuple[str, ...]  # dbt selectors, a union, of the models the build runs
    reason: str
    last_load: int
    fingerprint: str

    def build_args(self, *, first: bool) -> list[str]:
        """The final `dbt build`: a full refresh only when no batch run came before it (that one refreshed)."""
        # One --select value, the selectors space-separated: a union.
        return ["build", "--select", " ".join(self.select), *(["--full-refresh"] if self.full_refresh and first else [])]


def staging_nodes(manifest: dict) -> dict[str, dict]:
    return {uid: node for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and node["original_file_path"].startswith("models/staging/")}


def fingerprint(manifest: dict) -> str:
    """Of everything the staging rows depend on besides the raw rows: each model's SQL and config, the Jinja macros
    it calls (and those they call), the SQL macros (models/macros.sql) and the reference files it reads."""
    digest = hashlib.md5((MODELS_DIR / "macros.sql").read_bytes())
    macros, todo = set(), []
    for uid, node in sorted(staging_nodes(manifest).items()):
        config = {k: node["config"].get(k) for k in ("materialized", "unique_key", "event_order", "tiebreak", "schema")}
        digest.update(f"{uid}|{node['raw_code']}|{json.dumps(config, sort_keys=True)}".encode())
        todo += node["depends_on"]["macros"]
        for name in sorted(set(_REFERENCE_FILE.findall(node["raw_code"]))):
            digest.update(name.encode() + (MODELS_DIR / "reference" / name).read_bytes())
    while todo:
        uid = todo.pop()
        if uid in macros or uid not in manifest["macros"]:
            continue
        macros.add(uid)
        todo += manifest["macros"][uid].get("depends_on", {}).get("macros", [])
    for uid in sorted(macros):
        if manifest["macros"][uid]["package_name"] == manifest["metadata"].get("project_name", "waba_insights"):
            digest.update(manifest["macros"][uid]["macro_sql"].encode())
    return digest.hexdigest()


def _landing_sources(manifest: dict) -> dict[str, str]:
    """landing source (raw.load_audit.source) -> the raw source tables its loads fill (meta.landing_source)."""
    found: dict[str, list[str]] = {}
    for source in manifest["sources"].values():
        landing = source.get("meta", {}).get("landing_source")
        if landing:
            found.setdefault(landing, []).append(f"{source['source_name']}.{source['name']}")
    return {k: sorted(v) for k, v in found.items()}


def _state_table(conn) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS bookkeeping")
    conn.execute("CREATE TABLE IF NOT EXISTS bookkeeping.model_state "
                 "(model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")


# Bookkeeping from before it moved to its own schema (among the analysts' staging tables), and the Python runner's
# code version: dropped, and their absence of a state means one full rebuild.
LEGACY_BOOKKEEPING = ("staging.staged_loads", "staging.model_state", "staging.code_version", "bookkeeping.code_version")


def plan(conn, manifest: dict) -> StagingPlan:
    for table in LEGACY_BOOKKEEPING:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    _state_table(conn)
    code = fingerprint(manifest)
    last_load = conn.execute("SELECT coalesce(max(load_id), 0) FROM raw.load_audit").fetchone()[0]
    built = conn.execute("SELECT built_through_load_id, sql_md5 FROM bookkeeping.model_state WHERE model = ?",
                         [STATE_KEY]).fetchone()
    existing = {tuple(r) for r in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    missing = [n["name"] for n in staging_nodes(manifest).values() if (n["schema"], n["name"]) not in existing]

    def whole(reason: str) -> StagingPlan:
        return StagingPlan(False, True, (SELECT,), reason, last_load, code)

    if built is None:
        return whole("first build")
    if built[1] != code:
        return whole("the staging models changed")
    if missing:
        return whole(f"{len(missing)} staging table(s) missing, e.g. {missing[0]}")
    replaced = conn.execute("SELECT count(*) FROM bookkeeping.staged_loads s JOIN raw.load_audit a USING (load_id) "
                            "WHERE a.status = 'replaced'").fetchone()[0]
    if replaced:
        return whole(f"{replaced} staged webhook file(s) replaced")
    loaded = [r[0] for r in conn.execute("SELECT DISTINCT source FROM raw.load_audit WHERE load_id > ? ORDER BY 1",
                                         [built[0]]).fetchall()]
    tables = _landing_sources(manifest)
    select = tuple(f"source:{table}+,{SELECT}" for source in loaded for table in tables.get(source, []))
    if "webhooks" in loaded:  # and the batch's working tables, which read raw.load_audit (which loads are pending)
        select += (f"{WEBHOOK_MODELS}+,{SELECT}",)
    if not select:
        return StagingPlan(True, False, (), "nothing loaded since the last build", last_load, code)
    return StagingPlan(False, False, select, f"new loads of {', '.join(loaded)}", last_load, code)


def batch_runs(warehouse: Path, plan: StagingPlan, batch_rows: int = BATCH_ROWS) -> Iterator[list[str]]:
    """The `dbt run` arguments of each webhook batch staged before the final build, while more than one batch is
    pending (read again after each run, which the caller waits for: dbt holds the warehouse meanwhile)."""
    full = plan.full_refresh
    if not any(s.startswith(WEBHOOK_MODELS) or s == SELECT for s in plan.select):
        return
    while len(_pending_batches(warehouse, everything=full, batch_rows=batch_rows)) > 1:
        yield ["run", "--select", WEBHOOK_MODELS, *(["--full-refresh"] if full else [])]
        full = False


def _pending_batches(warehouse: Path, *, everything: bool, batch_rows: int) -> list[list[int]]:
    conn = connect(warehouse, read_only=True)
    try:
        staged = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'bookkeeping' "
                              "AND table_name = 'staged_loads'").fetchone()[0]
        rows = conn.execute(f"""
            SELECT a.load_id, a.rows_loaded FROM raw.load_audit a
            WHERE a.source = 'webhooks' AND a.status IN ('loaded', 'truncated')
            {'' if everything or not staged else 'AND a.load_id NOT IN (SELECT load_id FROM bookkeeping.staged_loads)'}
            ORDER BY a.load_id""").fetchall()
    finally:
        conn.close()
    return batches_by_size(rows, lambda row: row[1], batch_rows)


def record(conn, plan: StagingPlan) -> None:
    """After a build whose every model and test passed: what staging is now built from."""
    _state_table(conn)
    conn.execute("INSERT OR REPLACE INTO bookkeeping.model_state VALUES (?, ?, ?)",
                 [STATE_KEY, plan.last_load, plan.fingerprint])


def build_in_process(warehouse: Path, *, batch_rows: "int | None" = None, full: bool = False,
                     progress: Callable[[str], None] = lambda _: None) -> StagingPlan:
    """The same build without Dagster (the tests' load_all, benchmarks): no connection to the warehouse may be open
    here meanwhile. The batch bound is `waba run`'s (configured_batch_rows()) unless given."""
    from pipelines import dbt_project

    manifest = dbt_project.manifest()
    conn = connect(warehouse)
    try:
        planned = plan(conn, manifest)
    finally:
        conn.close()
    if full:
        planned = StagingPlan(False, True, (SELECT,), "asked for a full refresh", planned.last_load, planned.fingerprint)
    progress(f"staging: {planned.reason}")
    if planned.skip:
        return planned
    batch_rows = configured_batch_rows() if batch_rows is None else batch_rows
    extra = {"webhook_batch_rows": batch_rows}
    runs = 0
    for args in batch_runs(warehouse, planned, batch_rows):
        dbt_project.run_dbt(warehouse, args, **extra)
        runs += 1
        progress(f"staging: webhook batch {runs}")
    dbt_project.run_dbt(warehouse, planned.build_args(first=runs == 0), **extra)
    conn = connect(warehouse)
    try:
        record(conn, planned)
    finally:
        conn.close()
    return planned
