"""Growth marts: template quality history and early warnings, phone-number health, messaging-limit usage, the tier forecast."""

import dagster as dg

from pipelines.defs.finance.assets import finance_specs
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.staging.assets import staging_specs
from pipelines.growth import GROWTH_MARTS, build_growth
from pipelines.marts import mart_descriptions


def growth_specs() -> list[dg.AssetSpec]:
    # The limit and template marts read the finance ledger (outbound messages with their service-window flag).
    deps = [s.key for s in staging_specs() + finance_specs()]
    return [
        dg.AssetSpec(key=["marts", name], group_name="growth", kinds={"duckdb"}, description=description, deps=deps)
        for name, description in mart_descriptions(GROWTH_MARTS).items()
    ]


@dg.multi_asset(specs=growth_specs(), name="growth_marts")
def growth_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        counts = build_growth(conn, progress=context.log.info)
    for spec in growth_specs():
        yield dg.MaterializeResult(asset_key=spec.key, metadata={"rows": dg.MetadataValue.int(counts[spec.key.path[-1]])})
