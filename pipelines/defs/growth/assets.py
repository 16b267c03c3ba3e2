"""The tier forecast and its back-test: fitted in Python (pipelines/forecast.py, Polars) once the daily
messaging-limit mart, a dbt model, is built."""

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.table_metadata import table_metadata
from pipelines.forecast import build_forecasts
from pipelines.growth import FORECAST_MARTS
from pipelines.marts import mart_descriptions

DAILY_KEY = dg.AssetKey(["marts", "messaging_limit_daily"])


def forecast_specs() -> list[dg.AssetSpec]:
    return [dg.AssetSpec(key=["marts", name], group_name="growth", owners=["team:growth"], kinds={"duckdb", "polars"},
                         description=description, deps=[DAILY_KEY])
            for name, description in mart_descriptions(FORECAST_MARTS).items()]


@dg.multi_asset(specs=forecast_specs(), name="tier_forecasts")
def tier_forecasts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        build_forecasts(conn)
        tables = {name: table_metadata(conn, f"marts.{name}") for name in FORECAST_MARTS}
    for name, metadata in tables.items():
        context.log.info(f"growth: marts.{name} {metadata['dagster/row_count'].value} rows")
        yield dg.MaterializeResult(asset_key=["marts", name], metadata=metadata)
