"""One multi-asset per marts domain: a spec for each mart table, built together by the domain's build function."""

from typing import Callable

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_settings import RunSettings
from pipelines.defs.table_metadata import table_metadata
from pipelines.marts import is_sql_model, mart_descriptions, mart_upstream

# Assets a mart can depend on; raw.load_audit (bookkeeping the marts read for file names) is not an asset.
ASSET_SCHEMAS = ("staging", "marts")


def sql_mart_deps(name: str) -> list[dg.AssetKey]:
    """What a SQL mart reads, from its dbt refs and sources (through its intermediates)."""
    return [dg.AssetKey(list(table)) for table in sorted(mart_upstream(name)) if table[0] in ASSET_SCHEMAS]


def mart_specs(group: str, marts: list[str], python_deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    """A spec per mart: a SQL mart depends on what its model reads; a mart built in Python on `python_deps`."""
    return [
        dg.AssetSpec(key=["marts", name], group_name=group, kinds={"duckdb"}, description=description,
                     deps=sql_mart_deps(name) if is_sql_model(name) else python_deps)
        for name, description in mart_descriptions(marts).items()
    ]


def marts_asset(group: str, specs: Callable[[], list[dg.AssetSpec]], build: Callable,
                settings: Callable[[RunSettings], dict] = lambda _: {}) -> dg.AssetsDefinition:
    """The domain's build runs once (skipped inside when nothing it reads changed), under the run's settings
    (`settings` picks the build's keyword arguments from them); each table reports its rows and column schema."""

    @dg.multi_asset(specs=specs(), name=f"{group}_marts")
    def _marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, run_settings: RunSettings):
        with warehouse.connect() as conn:
            counts = build(conn, progress=context.log.info, **settings(run_settings))
            tables = {spec.key: table_metadata(conn, f"marts.{spec.key.path[-1]}") for spec in specs()}
        for key, metadata in tables.items():
            yield dg.MaterializeResult(asset_key=key,
                                       metadata={"rows": dg.MetadataValue.int(counts[key.path[-1]])} | metadata)

    return _marts
