"""The live-archive sensor: start the main job when `waba receive` closes an hour file.

A closed file appears by an atomic rename, which sets its inode change time (ctime), so the cursor is one
number: the ctime up to which every closed file has been seen. Files renamed in the last few seconds are
left for the next tick, so a file renamed while a tick lists the folder is never skipped over.
"""
from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.receive.hourfiles import LIVE_FOLDER

SENSOR = "live_hour_files"
SETTLE_NS = 2_000_000_000
CLOSED_SUFFIXES = (".jsonl", ".jsonl.gz", ".torn")
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
          dg.DagsterRunStatus.STARTED]


def closed_files_since(live: Path, after_ns: int, before_ns: int) -> list[str]:
    """Closed hour files (and .torn sidecars) whose ctime is in [after_ns, before_ns), relative to `live`."""
    if not live.is_dir():
        return []
    found = []
    for path in live.rglob("*"):
        if path.name.endswith(CLOSED_SUFFIXES) and path.is_file():
            ctime = path.stat().st_ctime_ns
            if after_ns <= ctime < before_ns:
                found.append(path.relative_to(live).as_posix())
    return sorted(found)


def _main_job() -> str:
    from pipelines.definitions import MAIN_JOB

    return MAIN_JOB


@dg.definitions
def live_sensor() -> dg.Definitions:
    main_job = _main_job()

    @dg.sensor(name=SENSOR, job_name=main_job, minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Starts the main job when `waba receive` closes an hour file under "
                           "<landing>/webhooks/live (checked every minute; waits while a run is in progress).")
    def live_hour_files(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        after = int(context.cursor or 0)
        before = time.time_ns() - SETTLE_NS
        new = closed_files_since(warehouse.landing / LIVE_FOLDER, after, before)
        if not new:
            context.update_cursor(str(max(after, before)))
            return dg.SkipReason("no newly closed hour file")
        busy = context.instance.get_runs(dg.RunsFilter(job_name=main_job, statuses=ACTIVE), limit=1)
        if busy:
            return dg.SkipReason(f"{len(new)} closed hour files wait for run {busy[0].run_id} to finish")
        context.update_cursor(str(before))
        return dg.RunRequest(run_key=f"live-{before}", tags={"waba/live_files": str(len(new)),
                                                             "waba/first_live_file": new[0]})

    return dg.Definitions(sensors=[live_hour_files])
