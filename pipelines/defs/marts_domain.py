"""One multi-asset per marts domain: a spec for each mart table, built together by the domain's build function."""

from typing import Callable

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.marts import mart_descriptions


def mart_specs(group: str, marts: list[str], deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(key=["marts", name], group_name=group, kinds={"duckdb"}, description=description, deps=deps)
        for name, description in mart_descriptions(marts).items()
    ]


def marts_asset(group: str, specs: Callable[[], list[dg.AssetSpec]], build: Callable) -> dg.AssetsDefinition:
    """The domain's build runs once (skipped inside when nothing it reads changed); each table reports its rows."""

    @dg.multi_asset(specs=specs(), name=f"{group}_marts")
    def _marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect() as conn:
            counts = build(conn, progress=context.log.info)
        for spec in specs():
            yield dg.MaterializeResult(asset_key=spec.key,
                                       metadata={"rows": dg.MetadataValue.int(counts[spec.key.path[-1]])})

    return _marts
