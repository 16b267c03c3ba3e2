"""Business Manager over the Graph API: the fetch into the landing folder. The main job (`waba run`)
leaves this group out: it needs a token and the network, and `waba run` must work offline."""

import dagster as dg

from pipelines.defs.business_manager.resources import GraphApiResource
from pipelines.defs.ingest.assets import GRAPH_FETCH_KEY
from pipelines.defs.resources import WarehouseResource
from pipelines.sources.graph_fetch import GRAPH_FOLDER, fetch_business_manager

GROUP = "business_manager"


@dg.asset(
    key=GRAPH_FETCH_KEY, group_name=GROUP,
    description=f"Today's phone numbers and message templates, and the last 30 days of pricing, conversation "
                f"and template analytics, for every WABA in WABA_GRAPH_WABA_IDS, saved page by page under "
                f"landing/{GRAPH_FOLDER}/<kind>/<waba_id>/. Pages fetched before a failure stay saved.",
)
def graph_api_responses(context: dg.AssetExecutionContext, graph_api: GraphApiResource,
                        warehouse: WarehouseResource) -> dg.MaterializeResult:
    result = fetch_business_manager(graph_api.settings(), warehouse.landing, log=context.log.info)
    metadata = {"files_saved": dg.MetadataValue.int(len(result.files)),
                "fetched_at": dg.MetadataValue.text(result.fetched_at.isoformat())}
    if result.failures:
        raise dg.Failure(description="\n".join(result.failures), metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)

