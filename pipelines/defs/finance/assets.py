"""Finance marts: the per-message cost ledger, conversations, spend rollups and reconciliation."""

import dagster as dg

from pipelines.defs.marts_domain import mart_specs, marts_asset
from pipelines.defs.staging.assets import staging_specs
from pipelines.finance import FINANCE_MARTS, build_finance


def finance_specs() -> list[dg.AssetSpec]:
    return mart_specs("finance", FINANCE_MARTS, [s.key for s in staging_specs()])


finance_marts = marts_asset("finance", finance_specs, build_finance, lambda settings: {"params": settings.pricing()})
