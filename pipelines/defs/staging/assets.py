"""Staging layer: typed, deduplicated, event-time-ordered tables built by the SQL in models/staging."""

import dagster as dg

from pipelines.defs.ingest.assets import raw_assets
from pipelines.defs.resources import WarehouseResource
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
        counts = {
            row[0]: row[1] for row in conn.execute(
                "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'staging'").fetchall()
        }
    for spec in staging_specs():
        name = spec.key.path[-1]
        metadata = {"rows": dg.MetadataValue.int(counts.get(name, 0))}
        if name in stats:
            metadata["new_candidates"] = dg.MetadataValue.int(stats[name]["candidates"])
            metadata["new_rows"] = dg.MetadataValue.int(stats[name]["inserted"])
        yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
