"""One multi-asset per marts domain: a spec for each mart table, built together by the domain's build function."""

from typing import Callable

import dagster as dg

from pipelines.defs.resources import WarehouseResource
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
