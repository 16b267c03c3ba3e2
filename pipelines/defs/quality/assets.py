"""marts.data_quality_results as an asset: built once every layer's checks have run (they are blocking, so an
asset downstream of the checked assets waits for them); the report and the published copy read it."""

import dagster as dg

from pipelines.defs.finance.assets import SCENARIOS_KEY
from pipelines.defs.growth.assets import forecast_specs
from pipelines.defs.ingest.assets import raw_assets
from pipelines.defs.models.assets import model_keys
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.table_metadata import table_metadata
from pipelines.defs.staging.assets import staging_models
from pipelines.marts import mart_descriptions
from pipelines.quality.results import LATEST_SQL, ensure_results_table

RESULTS_KEY = dg.AssetKey(["marts", "data_quality_results"])


def checked_asset_keys() -> list[dg.AssetKey]:
    return ([a.key for a in raw_assets()] + sorted(staging_models.keys) + [s.key for s in forecast_specs()] + model_keys()
            + [SCENARIOS_KEY])


@dg.asset(key=RESULTS_KEY, group_name="quality", kinds={"duckdb"}, deps=checked_asset_keys(),
          description=mart_descriptions(["data_quality_results"])["data_quality_results"])
def data_quality_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        ensure_results_table(conn)
        level_counts = conn.execute(f"""
            SELECT count(*), count(*) FILTER (NOT passed AND level = 'critical'), count(*) FILTER (NOT passed AND level = 'warn')
            FROM ({LATEST_SQL})""").fetchone()
        table = table_metadata(conn, "marts.data_quality_results")
    checks, critical, warn = level_counts
    context.log.info(f"data quality: {checks} checks, {critical} critical and {warn} warn failures")
    return dg.MaterializeResult(metadata={"checks": checks, "critical_failures": critical, "warn_failures": warn} | table)
