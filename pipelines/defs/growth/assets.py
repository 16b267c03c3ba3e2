"""Growth marts: template quality history and early warnings, phone-number health, messaging-limit usage, the tier forecast."""

import dagster as dg

from pipelines.defs.marts_domain import mart_specs, marts_asset
from pipelines.growth import GROWTH_MARTS, build_growth


def growth_specs() -> list[dg.AssetSpec]:
    # The SQL marts' deps come from their models; the forecast (Python) reads the daily messaging-limit mart.
    return mart_specs("growth", GROWTH_MARTS, [dg.AssetKey(["marts", "messaging_limit_daily"])])


growth_marts = marts_asset("growth", growth_specs, build_growth)
