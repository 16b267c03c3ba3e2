"""The one Dagster code location: everything under pipelines/defs, plus the main job."""
from pathlib import Path

import dagster as dg

from pipelines.defs.business_manager.assets import GROUP as GRAPH_FETCH_GROUP
from pipelines.defs.progress import progress_logger

MAIN_JOB = "waba_main"


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # The Graph API fetch needs a token and the network; `waba run` must work offline without them.
    offline = dg.AssetSelection.all() - dg.AssetSelection.groups(GRAPH_FETCH_GROUP)
    main_job = dg.define_asset_job(MAIN_JOB, selection=offline,
                                   description="Load every landing source, build staging, publish the warehouse.",
                                   executor_def=dg.in_process_executor)
    # In-process is also the default for runs launched from the UI: the multiprocess executor re-imports
    # everything per step and its DuckDB writers would fight over the one file.
    return dg.Definitions.merge(loaded, dg.Definitions(jobs=[main_job], loggers={"progress": progress_logger},
                                                       executor=dg.in_process_executor))
