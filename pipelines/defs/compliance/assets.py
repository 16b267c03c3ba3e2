"""Compliance marts: the consent timeline, the opt-in audit of every business-initiated message, daily coverage."""

import dagster as dg

from pipelines.compliance import COMPLIANCE_MARTS, build_compliance
from pipelines.defs.finance.assets import finance_specs
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.staging.assets import staging_specs
from pipelines.marts import mart_descriptions


def compliance_specs() -> list[dg.AssetSpec]:
    # The audit reads marts.message_ledger for the business-initiated messages, and staging for consent events.
    deps = [s.key for s in staging_specs() + finance_specs()]
    return [
        dg.AssetSpec(key=["marts", name], group_name="compliance", kinds={"duckdb"}, description=description, deps=deps)
        for name, description in mart_descriptions(COMPLIANCE_MARTS).items()
    ]


@dg.multi_asset(specs=compliance_specs(), name="compliance_marts")
def compliance_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        counts = build_compliance(conn, progress=context.log.info)
    for spec in compliance_specs():
        yield dg.MaterializeResult(asset_key=spec.key, metadata={"rows": dg.MetadataValue.int(counts[spec.key.path[-1]])})
