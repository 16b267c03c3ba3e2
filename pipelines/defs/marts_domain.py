"""One multi-asset per marts domain: a spec for each mart table, built together by the domain's build function."""

from typing import Callable

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_settings import RunSettings
from pipelines.defs.table_metadata import table_metadata
from pipelines.marts import mart_descriptions


def mart_specs(group: str, marts: list[str], deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(key=["marts", name], group_name=group, kinds={"duckdb"}, description=description, deps=deps)
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
