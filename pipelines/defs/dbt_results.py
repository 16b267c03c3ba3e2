"""What the dbt-built assets (staging, marts) share: asset keys and owners from the dbt graph, the dbt selection of
what a run selected, and the results they report: dbt's result events as Dagster's, a built model's rows and column
schema, read once dbt has let go of the warehouse file; an unchanged model's too, with its checks passed as they were."""
from __future__ import annotations

from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Iterator, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from pipelines.dbt_project import DbtInvocation, invoke, target_path
from pipelines.quality.expectations import warm_up
from pipelines.defs.table_metadata import table_metadata


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys are [schema, table], the names analysts query (marts.message_ledger is marts/message_ledger)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> "str | None":
        """The model's dbt group (its domain); the staging models, shared by every domain, are the group staging."""
        group = dbt_resource_props.get("config", {}).get("group")
        if group is None and dbt_resource_props.get("original_file_path", "").startswith("models/staging/"):
            return "staging"
        return group

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> "list[str] | None":
        """The team of the model's domain (its dbt group, models/marts/_groups.yml)."""
        group = dbt_resource_props.get("config", {}).get("group")
        return [f"team:{group}"] if group else None


TRANSLATOR = WarehouseTranslator(DagsterDbtTranslatorSettings(enable_asset_checks=True))


def context_selection(context: dg.AssetExecutionContext) -> list[str]:
    """dbt's selection of what the run selected of these assets: the op's own (its --select) when it runs whole,
    else the selected models and tests by name, as dagster-dbt's CLI resource selects them for a subset."""
    from dagster_dbt.asset_utils import (DAGSTER_DBT_EXCLUDE_METADATA_KEY, DAGSTER_DBT_SELECT_METADATA_KEY,
                                         DAGSTER_DBT_SELECTOR_METADATA_KEY, get_subset_selection_for_context)

    tags = context.op_execution_context.op.tags
    args, indirect = get_subset_selection_for_context(
        context=context, manifest=_manifest_of(context), select=tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY), selector=tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=TRANSLATOR, current_dbt_indirect_selection_env=None)
    return [*args, *(["--indirect-selection", indirect] if indirect else [])]


def dbt_step(warehouse: Path, args: list[str], step: str, **settings) -> DbtInvocation:
    """A dbt command of a run's step (staging, marts) in this process, its artifacts and logs in the step's folder
    beside the warehouse (target_path), reused by every run so dbt parses again only what changed."""
    warm_up()  # the checks' library loads in the background meanwhile, mostly while DuckDB works (a no-op once started)
    return invoke(warehouse, args, target_path(warehouse, step), **settings)


def in_build_order(assets: dg.AssetsDefinition, keys: list[dg.AssetKey]) -> list[dg.AssetKey]:
    """The keys each after the models it reads (Dagster takes a multi-asset's results in that order)."""
    wanted = set(keys)
    graph = {spec.key: {d.asset_key for d in spec.deps} & wanted for spec in assets.specs if spec.key in wanted}
    return list(TopologicalSorter(graph).static_order())


def unchanged_results(context: dg.AssetExecutionContext, assets: dg.AssetsDefinition, conn,
                      keys: list[dg.AssetKey]) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The results of models dbt did not rebuild: their tables as they are, their checks as they last passed (the
    state is stored only after a build whose every test passed, and the tables are those tables)."""
    for key in in_build_order(assets, keys):
        yield dg.MaterializeResult(asset_key=key, metadata={"rebuilt": False} | table_metadata(conn, ".".join(key.path)))
    wanted = set(keys)
    for check in sorted(context.selected_asset_check_keys, key=lambda c: (c.asset_key, c.name)):
        if check.asset_key in wanted:
            yield dg.AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True,
                                      metadata={"rerun": False, "why": "the table is unchanged since the build it passed on"})


def streamed(context: dg.AssetExecutionContext, invocation: DbtInvocation, label: str) -> list:
    """dbt's result events as Dagster's: built models as the op's outputs, tests as their asset checks (what
    dagster-dbt's invocation.stream() makes of a dbt subprocess's log lines, here from a dbt run in this process)."""
    translator, manifest = TRANSLATOR, _manifest_of(context)
    events = [event for raw in invocation.raw_events
              for event in DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={}).to_default_asset_events(
                  manifest=manifest, dagster_dbt_translator=translator, context=context,
                  target_path=invocation.target_path)]
    built = sum(isinstance(e, dg.Output) for e in events)
    checks = [e for e in events if isinstance(e, dg.AssetCheckResult)]
    context.log.info(f"{label}: dbt built {built} table(s), {sum(c.passed for c in checks)} of {len(checks)} test(s) "
                     f"passed; dbt's log: {invocation.target_path / 'console.log'}")
    return events


def _manifest_of(context: dg.AssetExecutionContext) -> dict:
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    return get_manifest_and_translator_from_dbt_assets([context.assets_def])[0]


def built_results(context: dg.AssetExecutionContext, conn, events: list, extra=lambda key: {}) -> Iterator[Any]:
    """dbt's events, each built model's with its rows and column schema (and `extra(key)`)."""
    for event in events:
        if isinstance(event, dg.Output):
            key = context.asset_key_for_output(event.output_name)
            yield event.with_metadata({**event.metadata, "rebuilt": True, **extra(key),
                                       **table_metadata(conn, ".".join(key.path))})
        else:
            yield event


def built_keys(context: dg.AssetExecutionContext, events: list) -> set[dg.AssetKey]:
    return {context.asset_key_for_output(e.output_name) for e in events if isinstance(e, dg.Output)}


def failed_check(events: list) -> bool:
    return any(isinstance(e, dg.AssetCheckResult) and not e.passed for e in events)
