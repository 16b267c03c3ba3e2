"""Growth marts: template quality history and early warnings, phone-number health, messaging-limit usage, the tier forecast."""

import dagster as dg

from pipelines.defs.finance.assets import finance_specs
from pipelines.defs.marts_domain import mart_specs, marts_asset
from pipelines.defs.staging.assets import staging_specs
from pipelines.growth import GROWTH_MARTS, build_growth


def growth_specs() -> list[dg.AssetSpec]:
    # The limit and template marts read the finance ledger (outbound messages with their service-window flag).
    return mart_specs("growth", GROWTH_MARTS, [s.key for s in staging_specs() + finance_specs()])


growth_marts = marts_asset("growth", growth_specs, build_growth)
