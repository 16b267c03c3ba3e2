"""Publishing a read-only copy of the warehouse analysts can open while the next run writes, and the report site
rendered from it."""

from pathlib import Path

import dagster as dg

from pipelines.defs.quality.assets import RESULTS_KEY, checked_asset_keys
from pipelines.defs.resources import WarehouseResource
from pipelines.warehouse import connect, publish, published_path


@dg.asset(
    key=["published_warehouse"], group_name="reporting",
    deps=[key for key in checked_asset_keys() if key.path[0] != "raw"] + [RESULTS_KEY],
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


@dg.asset(
    key=["report_site"], group_name="reporting",
    deps=[published_warehouse.key, RESULTS_KEY] + [key for key in checked_asset_keys() if key.path[0] == "marts"],
    description="The static report site in the reports folder (index.html first): finance, compliance, templates, "
                "messaging limit, data quality and the data dictionary, rendered from the published warehouse; "
                "plotly.js ships beside the pages, so it opens with no network.",
)
def report_site(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from pipelines.reports.site import render_site

    out = Path(warehouse.reports_path)
    pages = render_site(published_path(warehouse.warehouse), out)
    context.log.info(f"report: {out / 'index.html'}")
    return dg.MaterializeResult(metadata={
        "index": str(out / "index.html"), "pages": len(pages),
        "largest_page_kb": max(p.stat().st_size for p in pages) // 1024})
