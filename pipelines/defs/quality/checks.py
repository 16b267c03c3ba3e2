"""Data-quality checks as Dagster asset checks: one multi-asset check per layer, run once its assets are built.

Every check is declared blocking, so downstream assets wait for it; only a critical failure (severity ERROR)
stops them, a warn failure (severity WARN) lets them run. Results also land in marts.data_quality_results.
"""

import dagster as dg

from pipelines.defs.ingest.assets import raw_assets
from pipelines.defs.resources import WarehouseResource
from pipelines.growth import FORECAST_MARTS
from pipelines.quality import catalogue
from pipelines.quality.checks import CRITICAL, Check
from pipelines.quality.results import record


def _raw_sources() -> dict[str, str]:
    # raw.load_audit names the webhook source 'webhooks'; every other source is named like its asset.
    names = [a.key.path[-1] for a in raw_assets()]
    return {name: "webhooks" if name == "webhook_deliveries" else name for name in names}


def layer_checks() -> dict[str, list[Check]]:
    growth = catalogue.growth_checks()
    # The forecasts are built after the growth marts' blocking checks, so theirs run as a layer of their own.
    forecast = [c for c in growth if c.asset[1] in FORECAST_MARTS]
    return {
        "ingest": catalogue.ingest_checks(_raw_sources()),
        "staging": catalogue.staging_checks(),
        "finance": catalogue.finance_checks(),
        "compliance": catalogue.compliance_checks(),
        "growth": [c for c in growth if c not in forecast],
        "forecast": forecast,
    }


def _severity(check: Check) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if check.level == CRITICAL else dg.AssetCheckSeverity.WARN


def _layer_asset_check(layer: str, checks: list[Check]) -> dg.AssetChecksDefinition:
    specs = [dg.AssetCheckSpec(c.name, asset=dg.AssetKey(list(c.asset)), blocking=True,
                               description=f"[{c.level}] {c.description}") for c in checks]

    # Subsettable so that materialising a selection of assets (the UI's "Materialize selected") runs only the
    # checks on the selected assets, instead of pulling in the whole layer and the assets it needs.
    @dg.multi_asset_check(specs=specs, name=f"{layer}_quality_checks", can_subset=True,
                          description=f"Data-quality checks on the {layer} layer (pipelines/quality/catalogue.py).")
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        selected = context.selected_asset_check_keys
        chosen = [c for c in checks if dg.AssetCheckKey(dg.AssetKey(list(c.asset)), c.name) in selected]
        with warehouse.connect() as conn:
            evaluated = [(check, check.evaluate(conn)) for check in chosen]
            if evaluated:
                record(conn, evaluated, context.run.run_id)
        for check, outcome in evaluated:
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(list(check.asset)), check_name=check.name, passed=outcome.passed,
                severity=_severity(check),
                metadata={"level": check.level, "observed": outcome.observed, "expectation": outcome.expectation,
                          "engine": outcome.engine})

    return _checks


@dg.definitions
def quality_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=[_layer_asset_check(layer, checks) for layer, checks in layer_checks().items()])
