"""Running the main Dagster job in-process for one landing folder, and summarising what it did."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import run_state, staging_build
from pipelines.errors import UserError
from pipelines.landing_origin import check_landing_folder, check_landing_origin
from pipelines.run_lock import hold_warehouse
from pipelines.warehouse import connect, ensure_raw_schema, published_path, remove_stale_publish_copy

if TYPE_CHECKING:
    from pipelines.defs.run_settings import RunSettings


@dataclass
class RunSummary:
    warehouse: Path
    reports: Path
    seconds: float
    files: dict = field(default_factory=dict)          # source -> (files loaded, rows in, loaded, duplicates, quarantined)
    staging_rows: dict = field(default_factory=dict)
    unreadable_files: list[str] = field(default_factory=list)  # unreadable or truncated: data was not (all) loaded
    failed_checks: list[str] = field(default_factory=list)    # critical: downstream assets were not built
    warned_checks: list[str] = field(default_factory=list)    # warn: reported, the run went on
    unchanged_since: str | None = None   # set when nothing changed since that run's end: Dagster was not started

    def text(self) -> str:
        lines = [f"done in {self.seconds:.1f}s"]
        if self.unchanged_since:
            lines.append(f"  nothing changed since the run that ended {self.unchanged_since} (landing files, code, "
                         "settings, warehouse and reports): Dagster not started; --force runs every step")
        elif not self.files:
            lines.append("  no new or changed files: every landing file was already loaded with the same content")
        else:
            lines.append(f"  {'source':24} {'files':>6} {'rows in':>10} {'loaded':>10} {'duplicate':>10} {'quarantined':>11}")
        for source, (files, rows_in, loaded, dup, bad) in sorted(self.files.items()):
            lines.append(f"  {source:24} {files:>6} {rows_in:>10} {loaded:>10} {dup:>10} {bad:>11}")
        busiest = sorted(self.staging_rows.items(), key=lambda kv: -kv[1])[:6]
        lines.append("  staging rows: " + ", ".join(f"{name} {rows}" for name, rows in busiest))
        lines.append(f"warehouse: {self.warehouse}")
        lines.append(f"published (open this one while the pipeline runs): {published_path(self.warehouse)}")
        lines.append(f"reports:   {self.reports / 'index.html'} (opens offline)")
        lines.extend(f"file not (fully) loaded: {line}" for line in self.unreadable_files)
        lines.extend(f"check warning: {check}" for check in self.warned_checks)
        lines.extend(f"check failed: {check}" for check in self.failed_checks)
        return "\n".join(lines)


def check_writable(warehouse: Path, landing: Path, force: bool = False) -> int:
    """Fail early, with one line, when another process holds the warehouse or it holds another landing
    folder; return the last load id."""
    conn = connect(warehouse)
    try:
        ensure_raw_schema(conn)
        check_landing_origin(conn, landing, warehouse, force)
        return conn.execute("SELECT coalesce(max(load_id), 0) FROM raw.load_audit").fetchone()[0]
    finally:
        conn.close()


def run_pipeline(landing: Path, warehouse: Path, reports: Path, verbose: bool = True, force: bool = False,
                 run_settings: "RunSettings | None" = None) -> RunSummary:
    """Load, build and publish, holding the warehouse's write lock from the first write to the publish; the run is
    recorded in the persistent Dagster instance (pipelines/instance.py). `run_settings` None: the documented
    environment defaults."""
    from pipelines.defs.run_settings import RunSettings

    started = time.monotonic()
    check_landing_folder(landing)
    run_settings = run_settings or RunSettings.from_env()
    run_settings.check()  # a bad setting is one line now, not a failed step later
    staging_build.configured_batch_rows()  # and so is a bad WABA_WEBHOOK_BATCH_ROWS
    settings = run_settings.run_config()
    with hold_warehouse(warehouse):
        last = None if force else run_state.unchanged_since(landing, warehouse, reports, settings)
        if last is not None:
            summary = _summarise(warehouse, reports, _last_load(warehouse), time.monotonic() - started)
            summary.unchanged_since, summary.warned_checks = last["finished_at"], last["warned_checks"]
            return summary
        run_state.forget(warehouse)
        remove_stale_publish_copy(warehouse)
        summary = _run(landing, warehouse, reports, verbose, force, run_settings)
        if not summary.failed_checks and not summary.unreadable_files:
            run_state.record(landing, warehouse, reports, settings, summary.warned_checks)
        return summary


def _last_load(warehouse: Path) -> int:
    conn = connect(warehouse, read_only=True)
    try:
        return conn.execute("SELECT coalesce(max(load_id), 0) FROM raw.load_audit").fetchone()[0]
    finally:
        conn.close()


def _run(landing: Path, warehouse: Path, reports: Path, verbose: bool, force: bool, run_settings) -> RunSummary:
    import dagster as dg

    from pipelines.definitions import MAIN_JOB, defs
    from pipelines.instance import persistent_instance

    started = time.monotonic()
    last_load = check_writable(warehouse, landing, force)
    run_config = {
        "resources": {"warehouse": {"config": {"warehouse_path": str(warehouse), "landing_path": str(landing),
                                               "reports_path": str(reports)}},
                      "run_settings": run_settings.run_config()},
        "loggers": {"progress": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}},
    }
    with persistent_instance() as instance:
        result = defs().resolve_job_def(MAIN_JOB).execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False)
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    critical = [e for e in failed if e.severity == dg.AssetCheckSeverity.ERROR]
    # A critical check that fails stops its step, and so the run; that is a finding to summarise, not a crash.
    if not result.success and not critical:
        if _interrupted(result):
            raise KeyboardInterrupt  # Dagster turned Ctrl-C into a failed step; the CLI says "interrupted"
        raise UserError(_failure_text(result))
    summary = _summarise(warehouse, reports, last_load, time.monotonic() - started)
    summary.failed_checks = [_check_line(e) for e in critical]
    summary.warned_checks = [_check_line(e) for e in failed if e not in critical]
    return summary


def _check_line(evaluation) -> str:
    observed = evaluation.metadata.get("observed")
    return f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}" + (f": {observed.value}" if observed else "")


def _interrupted(result) -> bool:
    return any(event.is_step_failure and event.step_failure_data.error is not None
               and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError"
               for event in result.all_events)


def _failure_text(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            cause = error.cause or error
            while cause.cause is not None:
                cause = cause.cause
            return f"step {event.step_key} failed: {cause.message.strip().splitlines()[0]}"
    return "the pipeline run failed"


def _summarise(warehouse: Path, reports: Path, last_load: int, seconds: float) -> RunSummary:
    conn = connect(warehouse, read_only=True)
    try:
        summary = RunSummary(warehouse, reports, seconds)
        for source, files, rows_in, loaded, dup, bad in conn.execute("""
            SELECT source, count(*), sum(rows_in), sum(rows_loaded), sum(rows_duplicate), sum(rows_quarantined)
            FROM raw.load_audit WHERE load_id > ? GROUP BY source
        """, [last_load]).fetchall():
            summary.files[source] = (files, int(rows_in), int(loaded), int(dup), int(bad))
        summary.unreadable_files = [f"{path}: {message}" for path, message in conn.execute(
            "SELECT file_path, message FROM raw.load_audit WHERE load_id > ? AND status IN ('unreadable', 'truncated') "
            "ORDER BY file_path",
            [last_load]).fetchall()]
        summary.staging_rows = dict(conn.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'staging'"
        ).fetchall())
        return summary
    finally:
        conn.close()
