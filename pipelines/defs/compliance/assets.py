"""Compliance marts: the consent timeline, the opt-in audit of every business-initiated message, daily coverage."""

import dagster as dg

from pipelines.compliance import COMPLIANCE_MARTS, build_compliance
from pipelines.defs.finance.assets import finance_specs
from pipelines.defs.marts_domain import mart_specs, marts_asset
from pipelines.defs.staging.assets import staging_specs


def compliance_specs() -> list[dg.AssetSpec]:
    # The audit reads marts.message_ledger for the business-initiated messages, and staging for consent events.
    return mart_specs("compliance", COMPLIANCE_MARTS, [s.key for s in staging_specs() + finance_specs()])


compliance_marts = marts_asset("compliance", compliance_specs, build_compliance,
                               lambda settings: {"params": settings.consent()})
