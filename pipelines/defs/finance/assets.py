"""Finance marts: the per-message cost ledger, conversations, spend rollups and reconciliation."""

import dagster as dg

from pipelines.defs.marts_domain import mart_specs, marts_asset
from pipelines.finance import FINANCE_MARTS, build_finance


def finance_specs() -> list[dg.AssetSpec]:
    # The SQL marts' deps come from their models; marts.reprice_scenarios (written by `waba reprice`) reads the ledger.
    return mart_specs("finance", FINANCE_MARTS, [dg.AssetKey(["marts", "message_ledger"])])


finance_marts = marts_asset("finance", finance_specs, build_finance, lambda settings: {"params": settings.pricing()})
