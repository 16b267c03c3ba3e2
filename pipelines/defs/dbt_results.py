"""What the dbt-built assets (staging, marts) share: asset keys and owners from the dbt graph, the dbt resource, and
the results they report: a built model's rows and column schema, read once dbt has let go of the warehouse file; an
unchanged model's too, with its checks passed as they were; dbt's first error in one line."""
from __future__ import annotations

import contextlib
import sys
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Iterator, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource

from pipelines.dbt_project import PROJECT_DIR
# While dbt works in its own process this one mostly waits: the checks' library loads meanwhile (a no-op once started).
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


class WarehouseDbtResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without the dbt adapter it builds in this process before each dbt command:
    that takes about 1.7 s a command (loading the profile, project and macros) and serves only dagster-dbt's
    fetch_row_counts / fetch_column_metadata, which these assets do not use: they read a built table's rows and
    schema from the warehouse themselves (table_metadata). DbtCliInvocation takes no adapter as well."""

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    # this environment's dbt, whatever PATH says
    return WarehouseDbtResource(project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR),
                                dbt_executable=str(Path(sys.executable).parent / "dbt"))


def target_path(warehouse: Path, step: str) -> Path:
    """Where a step's dbt writes its artifacts and logs: beside the warehouse (`<name>.dbt/<step>`), one folder per step
    reused by every run (not a new folder per run under the project), so dbt can parse again only what changed."""
    return warehouse.absolute().parent / f"{warehouse.stem}.dbt" / step


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


def streamed(context: dg.AssetExecutionContext, invocation, label: str) -> list:
    """dbt's events, once dbt has exited (it holds the warehouse file until then). Its console lines go to
    `console.log` in the invocation's target folder, not to the run's output, which gets one line instead."""
    warm_up()
    log = _console_log(invocation)
    with open(log, "w") as out, contextlib.redirect_stdout(out):
        # Converted with the asset context even when dbt was started without it (staging's own --select): built
        # models are then the op's outputs and its tests the asset checks, as invocation.stream() makes them.
        events = [event for raw in invocation.stream_raw_events()
                  for event in raw.to_default_asset_events(manifest=invocation.manifest,
                                                           dagster_dbt_translator=invocation.dagster_dbt_translator,
                                                           context=context, target_path=invocation.target_path)]
    built = sum(isinstance(e, dg.Output) for e in events)
    checks = [e for e in events if isinstance(e, dg.AssetCheckResult)]
    context.log.info(f"{label}: dbt built {built} table(s), {sum(c.passed for c in checks)} of {len(checks)} test(s) "
                     f"passed; dbt's log: {log}")
    return events


def _console_log(invocation) -> Path:
    folder = Path(invocation.target_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "console.log"


def waited(invocation) -> None:
    """A dbt command run to its end, its console lines in the target folder's `console.log`."""
    warm_up()
    with open(_console_log(invocation), "w") as out, contextlib.redirect_stdout(out):
        invocation.wait()


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


def dbt_error(invocation) -> str:
    """The first error dbt reported, in one line."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # no artifact: dbt stopped before running anything (a usage, parse or profile error)
        console = Path(invocation.target_path) / "console.log"
        said = [line.strip() for line in console.read_text().splitlines() if "Error" in line] if console.is_file() else []
        return said[0] if said else f"see the dbt log in {invocation.target_path}"
    for result in results:
        if result["status"] in ("error", "fail"):
            return f"{result['unique_id']}: {(result.get('message') or '').strip().splitlines()[0]}"
    return f"see the dbt log in {invocation.target_path}"
