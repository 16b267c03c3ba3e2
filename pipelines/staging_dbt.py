"""Building the staging layer with dbt (models/staging/): the webhook models a bounded batch at a time, then the table
models.

dbt holds the rules: which loads are pending (intermediate.webhook_batch), "earliest by event time wins" (the
earliest_wins materialization), what counts as staged (bookkeeping.staged_loads). This module only decides what dbt
cannot see for itself: that a replaced landing file or changed model code means a full refresh
(pipelines/staging.py's rule, the same bookkeeping.code_version), and it repeats `dbt run --select tag:webhook`
until no load is pending, so a 10M-envelope first load is parsed BATCH_ROWS deliveries at a time. With nothing
loaded and no model changed since the last build, dbt is not started at all.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from pipelines.settings import PROJECT_ROOT
from pipelines.staging import BATCH_ROWS, needs_full_rebuild
from pipelines.staging_models import incremental_code_version, models, table_models
from pipelines.warehouse import connect

WEBHOOK_MODELS = "tag:webhook"
TABLE_MODELS = ["--select", "path:models/staging", "--exclude", "tag:webhook"]
TABLE_MODELS_STATE = "dbt:staging_tables"  # bookkeeping.model_state row: what the table models were last built from


class DbtFailed(RuntimeError):
    """A dbt invocation failed; the message carries dbt's own lines."""


@dataclass
class StagingBuild:
    full_refresh: bool
    batches: list[list[int]] = field(default_factory=list)  # the loads each `dbt run` staged
    seconds: list[float] = field(default_factory=list)  # wall time of each webhook batch's dbt run
    tables_rebuilt: bool = False  # False: nothing was loaded and no model changed since, so dbt was not started


def _pending(warehouse: Path) -> int:
    conn = connect(warehouse, read_only=True)
    try:
        return conn.execute("""
            SELECT count(*) FROM raw.load_audit a
            WHERE a.source = 'webhooks' AND a.status IN ('loaded', 'truncated')
              AND a.load_id NOT IN (SELECT load_id FROM bookkeeping.staged_loads)
        """).fetchone()[0]
    finally:
        conn.close()


def _staged_since(warehouse: Path, before: set[int]) -> list[int]:
    conn = connect(warehouse, read_only=True)
    try:
        return sorted({r[0] for r in conn.execute("SELECT load_id FROM bookkeeping.staged_loads").fetchall()} - before)
    finally:
        conn.close()


def _decide_full_refresh(warehouse: Path, full: bool) -> tuple[bool, set[int]]:
    conn = connect(warehouse)
    try:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bookkeeping")
        exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'bookkeeping' "
                              "AND table_name = 'staged_loads'").fetchone()[0] > 0
        full = full or not exists or needs_full_rebuild(conn, incremental_code_version())
        staged = set() if full else {r[0] for r in conn.execute("SELECT load_id FROM bookkeeping.staged_loads").fetchall()}
        return full, staged
    finally:
        conn.close()


def _record_code_version(warehouse: Path) -> None:
    conn = connect(warehouse)
    try:
        conn.execute("CREATE OR REPLACE TABLE bookkeeping.code_version AS SELECT ? AS incremental_sql_md5",
                     [incremental_code_version()])
    finally:
        conn.close()


def _table_models_state(warehouse: Path) -> tuple[tuple[int, str], tuple | None]:
    """(what the table models would be built from now: the last load and their code; what they were last built from)."""
    conn = connect(warehouse)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS bookkeeping.model_state "
                     "(model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")
        now = (conn.execute("SELECT coalesce(max(load_id), 0) FROM raw.load_audit").fetchone()[0],
               hashlib.md5("".join(models()[n].fingerprint for n in table_models()).encode()).hexdigest())
        built = conn.execute("SELECT built_through_load_id, sql_md5 FROM bookkeeping.model_state WHERE model = ?",
                             [TABLE_MODELS_STATE]).fetchone()
        return now, built
    finally:
        conn.close()


def _record_table_models_state(warehouse: Path, state: tuple[int, str]) -> None:
    conn = connect(warehouse)
    try:
        conn.execute("INSERT OR REPLACE INTO bookkeeping.model_state VALUES (?, ?, ?)", [TABLE_MODELS_STATE, *state])
    finally:
        conn.close()


class Dbt:
    """`dbt` on one warehouse, as a subprocess: the profile reads the warehouse path from the child's environment,
    so ours is never changed. Target and log folders are the caller's (a test's temp folder, or the warehouse's)."""

    def __init__(self, warehouse: Path, work: Path | None = None, batch_rows: int = BATCH_ROWS):
        work = work or warehouse.parent / "dbt"
        self.env = os.environ | {"WABA_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(work / "target"),
                                 "DBT_LOG_PATH": str(work / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        self.vars = yaml.safe_dump({"webhook_batch_rows": batch_rows}, default_flow_style=True).strip()

    def __call__(self, command: str, *args: str) -> str:
        dbt = Path(sys.executable).parent / "dbt"
        done = subprocess.run([str(dbt), command, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT),
                               "--vars", self.vars, *args], cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise DbtFailed(f"dbt {command} {' '.join(args)} failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
        return done.stdout


def build_staging_with_dbt(warehouse: Path, *, full: bool = False, batch_rows: int = BATCH_ROWS,
                           work: Path | None = None, progress: Callable[[str], None] = lambda _: None) -> StagingBuild:
    """Stage every pending webhook load (a full refresh when a staged file was replaced or the webhook models'
    code changed), then rebuild the table models."""
    dbt = Dbt(warehouse, work, batch_rows)
    full, staged = _decide_full_refresh(warehouse, full)
    build = StagingBuild(full_refresh=full)
    if full:
        progress("staging (dbt): full refresh")
    while full or _pending(warehouse):
        started = time.monotonic()
        dbt("run", "--select", WEBHOOK_MODELS, *(["--full-refresh"] if full else []))
        build.seconds.append(time.monotonic() - started)
        batch = _staged_since(warehouse, staged)
        staged |= set(batch)
        build.batches.append(batch)
        progress(f"staging (dbt): webhook batch {len(build.batches)} ({len(batch)} files, {build.seconds[-1]:.1f} s)")
        full = False
        if not batch:  # a full refresh of a warehouse without webhooks: the tables exist, empty
            break
    _record_code_version(warehouse)
    now, built = _table_models_state(warehouse)
    if build.batches or tuple(built or ()) != now:
        dbt("run", *TABLE_MODELS)
        _record_table_models_state(warehouse, now)
        build.tables_rebuilt = True
    return build


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipelines.staging_dbt",
                                     description="Build the staging layer of a warehouse with dbt (models/staging/).")
    parser.add_argument("warehouse", type=Path, help="the DuckDB warehouse file (raw loaded, e.g. by `waba run`)")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the webhook models from every load")
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS,
                        help=f"webhook deliveries staged per dbt run (default {BATCH_ROWS:,})")
    args = parser.parse_args(argv)
    if not args.warehouse.exists():
        print(f"error: {args.warehouse}: no such warehouse; run `waba run` first", file=sys.stderr)
        return 2
    try:
        build = build_staging_with_dbt(args.warehouse, full=args.full_refresh, batch_rows=args.batch_rows, progress=print)
    except DbtFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"staged {sum(len(b) for b in build.batches)} webhook loads in {len(build.batches)} batches"
          + (" (full refresh)" if build.full_refresh else "")
          + ("" if build.tables_rebuilt else "; nothing loaded or changed since the last build, so dbt was not started"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
