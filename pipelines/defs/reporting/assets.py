"""Publishing: a read-only copy of the warehouse analysts can open while the next run writes."""

import dagster as dg

from pipelines.defs.compliance.assets import compliance_specs
from pipelines.defs.finance.assets import finance_specs
from pipelines.defs.growth.assets import growth_specs
from pipelines.defs.quality.assets import RESULTS_KEY
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.staging.assets import staging_specs
from pipelines.warehouse import connect, publish


@dg.asset(
    key=["published_warehouse"], group_name="reporting",
    deps=[s.key for s in staging_specs() + finance_specs() + compliance_specs() + growth_specs()] + [RESULTS_KEY],
    description="A checkpointed copy of the warehouse beside it (<name>.published.duckdb), swapped in atomically; "
                "open it with `duckdb <file>` while the pipeline writes the working file.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    conn = connect(warehouse.warehouse)
    conn.execute("CHECKPOINT")
    conn.close()
    target = publish(warehouse.warehouse)
    context.log.info(f"published {target}")
    return dg.MaterializeResult(metadata={"path": str(target)})
