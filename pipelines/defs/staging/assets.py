"""Staging layer: typed, deduplicated, event-time-ordered tables built by the SQL in models/staging."""

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.table_metadata import table_metadata
from pipelines.staging import build_staging, table_descriptions
from pipelines.staging_models import models


def upstream_keys(name: str) -> set[dg.AssetKey]:
    """The assets a staging model reads, from its own source() and ref() calls: raw tables, other staging tables,
    and through the batch's working tables (models/staging/intermediate/, not assets) what those read."""
    model = models()[name]
    keys = {dg.AssetKey(list(source)) for source in model.sources}
    for ref in model.refs:
        keys |= upstream_keys(ref) if models()[ref].intermediate else {dg.AssetKey(["staging", ref])}
    return keys


def staging_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(key=["staging", table.split(".")[1]], group_name="staging", kinds={"duckdb"},
                     description=description, deps=sorted(upstream_keys(table.split(".")[1])))
        for table, description in table_descriptions().items()
    ]


@dg.multi_asset(specs=staging_specs(), name="staging_tables")
def staging_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        stats = build_staging(conn, progress=context.log.info)
        tables = {spec.key: table_metadata(conn, f"staging.{spec.key.path[-1]}") for spec in staging_specs()}
    for key, metadata in tables.items():
        name = key.path[-1]
        metadata["rows"] = metadata["dagster/row_count"]
        if name in stats:
            metadata["new_candidates"] = dg.MetadataValue.int(stats[name]["candidates"])
            metadata["new_rows"] = dg.MetadataValue.int(stats[name]["inserted"])
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
