"""Staging layer: typed, deduplicated, event-time-ordered tables, one Dagster asset per dbt model in models/staging
(its deps the raw tables and models its SQL reads through source() and ref()).

A run builds only what its new loads feed (pipelines/staging_build.py): nothing when nothing was loaded, the models
downstream of each landing source that loaded something, everything after a change to the staging models. A first
load of many webhook deliveries is staged in bounded batches (`dbt run --select tag:webhook` again while more than
one batch is pending) before the final `dbt build`, whose events these assets report.
"""

import dagster as dg
from dagster_dbt import dbt_assets

from pipelines import staging_build
from pipelines.dbt_project import manifest, manifest_path
from pipelines.defs.dbt_results import (TRANSLATOR, built_keys, built_results, context_selection, dbt_step,
                                        failed_check, streamed, unchanged_results)
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_settings import RunSettings


@dbt_assets(manifest=manifest_path(), select=staging_build.SELECT, dagster_dbt_translator=TRANSLATOR,
            name="staging_models")
def staging_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource, run_settings: RunSettings):
    selected = sorted(context.selected_asset_keys)
    whole = set(selected) == set(staging_models.keys)
    with warehouse.connect() as conn:
        plan = staging_build.plan(conn, manifest())
    if not whole:  # a selection from the UI rebuilds those models and leaves the state for the next whole run
        plan = staging_build.StagingPlan(False, False, (), "a selection", plan.last_load, plan.fingerprint)
    context.log.info(f"staging: {plan.reason}" + ("; dbt not started" if plan.skip else ""))
    if plan.skip:
        with warehouse.connect() as conn:
            yield from unchanged_results(context, staging_models, conn, selected)
        return
    # The batch bound goes to every dbt command of the build.
    settings = {"webhook_batch_rows": staging_build.configured_batch_rows(), **run_settings.dbt_vars()}
    batches = 0
    for args in staging_build.batch_runs(warehouse.warehouse, plan, settings["webhook_batch_rows"]):
        invocation = dbt_step(warehouse.warehouse, args, "staging", **settings)
        if not invocation.success:
            raise dg.Failure(f"dbt staging batch failed: {invocation.error()}")
        batches += 1
        context.log.info(f"staging: webhook batch {batches} staged")
    args = plan.build_args(first=batches == 0)
    # Whole: the plan's own selection (what its new loads feed); a selection from the UI: the selected models.
    invocation = dbt_step(warehouse.warehouse, args if whole else [args[0], *context_selection(context)], "staging",
                          **settings)
    events = streamed(context, invocation, "staging")
    with warehouse.connect() as conn:
        yield from built_results(context, conn, events)
        yield from unchanged_results(context, staging_models, conn, sorted(set(selected) - built_keys(context, events)))
        if invocation.success and whole:
            staging_build.record(conn, plan)
    if not invocation.success and not failed_check(events):
        raise dg.Failure(f"dbt staging build failed: {invocation.error()}")
