"""Finance marts: the per-message cost ledger, conversations, spend rollups and reconciliation."""

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.staging.assets import staging_specs
from pipelines.finance import FINANCE_MARTS, build_finance
from pipelines.marts import mart_descriptions


def finance_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(key=["marts", name], group_name="finance", kinds={"duckdb"}, description=description,
                     deps=[s.key for s in staging_specs()])
        for name, description in mart_descriptions(FINANCE_MARTS).items()
    ]


@dg.multi_asset(specs=finance_specs(), name="finance_marts")
def finance_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        counts = build_finance(conn, progress=context.log.info)
    for spec in finance_specs():
        yield dg.MaterializeResult(asset_key=spec.key, metadata={"rows": dg.MetadataValue.int(counts[spec.key.path[-1]])})
