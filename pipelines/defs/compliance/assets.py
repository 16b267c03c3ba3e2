"""Compliance marts: the consent timeline, the opt-in audit of every business-initiated message, daily coverage."""

import dagster as dg

from pipelines.compliance import COMPLIANCE_MARTS, build_compliance
from pipelines.defs.marts_domain import mart_specs, marts_asset


def compliance_specs() -> list[dg.AssetSpec]:
    # Every compliance mart is SQL: its deps come from its model (the audit reads marts.message_ledger).
    return mart_specs("compliance", COMPLIANCE_MARTS, [])


compliance_marts = marts_asset("compliance", compliance_specs, build_compliance,
                               lambda settings: {"params": settings.consent()})
