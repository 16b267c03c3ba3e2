"""Staging layer: typed, deduplicated, event-time-ordered tables built by the SQL in models/staging."""

import dagster as dg

from pipelines.defs.ingest.assets import raw_assets
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.table_metadata import table_metadata
from pipelines.staging import build_staging, table_descriptions

def staging_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(key=["staging", table.split(".")[1]], group_name="staging", kinds={"duckdb"},
                     description=description, deps=[a.key for a in raw_assets()])
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
