"""Raw layer assets: one per landing source, each loading new or changed files as received."""

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_settings import AppSecretResource, RunSettings
from pipelines.defs.table_metadata import table_metadata
from pipelines.sources.graph_responses import load_graph_responses
from pipelines.sources.tabular import SOURCES_BY_NAME, load_tabular
from pipelines.sources.webhooks import load_webhooks

GROUP = "ingest"


def _metadata(conn, table: str, totals: dict) -> dict:
    """This load's counts, and the table's row count and column schema."""
    return {k: dg.MetadataValue.int(v) for k, v in totals.items() if isinstance(v, int)} | table_metadata(conn, table)


@dg.asset(
    key=["raw", "webhook_deliveries"], group_name=GROUP, kinds={"duckdb"},
    description="One row per distinct webhook delivery from landing/webhooks (Cloud API envelopes, On-Premises "
                "bodies, capture records with their signature check). Redeliveries go to raw.duplicates, "
                "unreadable lines to raw.quarantine.",
)
def raw_webhook_deliveries(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                           app_secret: AppSecretResource) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        totals = load_webhooks(conn, warehouse.landing, app_secret=app_secret.secret(), progress=context.log.info)
        return dg.MaterializeResult(metadata=_metadata(conn, "raw.webhook_deliveries", totals))


def _tabular_asset(name: str, description: str) -> dg.AssetsDefinition:
    source = SOURCES_BY_NAME[name]

    @dg.asset(key=["raw", name], group_name=GROUP, kinds={"duckdb"}, description=description)
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               run_settings: RunSettings) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            totals = load_tabular(conn, warehouse.landing, source, progress=context.log.info,
                                  naive_timestamps=run_settings.naive_timestamps)
            return dg.MaterializeResult(metadata=_metadata(conn, source.table, totals))

    return _asset


raw_message_logs = _tabular_asset(
    "message_logs", "One row per send-log row from landing/message_logs (CSV or Parquet): template, campaign, agent.")
raw_phone_number_snapshots = _tabular_asset(
    "phone_number_snapshots", "One row per phone number per Business Manager export (landing/business_manager/phone_numbers*.csv).")
raw_template_snapshots = _tabular_asset(
    "template_snapshots", "One row per template per Business Manager export (landing/business_manager/templates*.csv).")
raw_accounts = _tabular_asset(
    "accounts", "One row per WABA from landing/business_manager/accounts.csv: portfolio, timezone, currency.")
raw_optin_events = _tabular_asset(
    "optin_events", "One row per consent event from landing/optins/*.csv.")
raw_chat_keywords = _tabular_asset(
    "chat_keywords", "One row per chat keyword from landing/optins/chat_keywords*.csv (the business's own list).")
raw_rate_cards = _tabular_asset(
    "rate_cards", "One row per rate from landing/rate_cards/*.csv.")
raw_invoices = _tabular_asset(
    "invoices", "One row per invoice line from landing/invoices/*.csv (month, WABA, market, category, amount).")


# Written by the business_manager group's fetch, which the main job leaves out (it needs a token and
# the network); declared here so the lineage shows where these files come from.
GRAPH_FETCH_KEY = dg.AssetKey(["landing", "graph_api_responses"])


@dg.asset(
    key=["raw", "graph_responses"], group_name=GROUP, kinds={"duckdb"}, deps=[GRAPH_FETCH_KEY],
    description="One row per saved Graph API response page from landing/business_manager/graph (phone numbers, "
                "templates, pricing / conversation / template analytics), request and body as Meta sent them. "
                "Files that are not such a record go to raw.quarantine.",
)
def raw_graph_responses(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        totals = load_graph_responses(conn, warehouse.landing, progress=context.log.info)
        return dg.MaterializeResult(metadata=_metadata(conn, "raw.graph_responses", totals))


def raw_assets() -> list[dg.AssetsDefinition]:
    return [raw_webhook_deliveries, raw_message_logs, raw_phone_number_snapshots, raw_template_snapshots,
            raw_accounts, raw_optin_events, raw_chat_keywords, raw_rate_cards, raw_invoices, raw_graph_responses]


# Written by every raw loader above as it loads (the accounting identity of each landing file); the marts read it
# for file names and the last load, so it is their dependency in the graph, not an asset of its own to build.
load_audit = dg.AssetSpec(
    key=["raw", "load_audit"], group_name=GROUP, kinds={"duckdb"},
    description="One row per landing file load: its source, rows in, loaded, duplicate and quarantined, and its status "
                "(loaded, replaced, unreadable, truncated). Written by every raw loader; not built on its own.",
)
