"""Checks on the raw layer: every file accounted for, and no file left unreadable."""

import dagster as dg

from pipelines.defs.ingest.assets import raw_assets
from pipelines.defs.resources import WarehouseResource


def _source(asset: dg.AssetsDefinition) -> str:
    name = asset.key.path[-1]
    return "webhooks" if name == "webhook_deliveries" else name


def _accounting_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    source = _source(asset)

    @dg.asset_check(asset=asset, name="rows_accounted_for", blocking=True,
                    description="For every loaded file: rows in = rows loaded + duplicates + quarantined.")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            bad = conn.execute("""
                SELECT file_path, rows_in, rows_loaded, rows_duplicate, rows_quarantined FROM raw.load_audit
                WHERE source = ? AND status <> 'replaced'
                  AND rows_in <> rows_loaded + rows_duplicate + rows_quarantined
            """, [source]).fetchall()
        return dg.AssetCheckResult(passed=not bad, metadata={"unbalanced_files": len(bad), "examples": str(bad[:5])})

    return _check


def _readable_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    source = _source(asset)

    @dg.asset_check(asset=asset, name="no_unreadable_files",
                    description="No landing file was rejected whole (unreadable, empty, missing columns).")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            bad = conn.execute("SELECT file_path || ': ' || message FROM raw.load_audit WHERE source = ? AND status = 'unreadable'",
                               [source]).fetchall()
        return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"unreadable_files": len(bad), "files": "\n".join(r[0] for r in bad[:20])})

    return _check


@dg.definitions
def ingest_checks() -> dg.Definitions:
    assets = raw_assets()
    return dg.Definitions(asset_checks=[_accounting_check(a) for a in assets] + [_readable_check(a) for a in assets])
