"""marts.reprice_scenarios, the one finance table not built by dbt: `waba reprice` appends to it, and a run only makes
sure it exists, documented, once the ledger it compares against is built (the finance SQL marts are dbt models,
pipelines/defs/models/)."""

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.table_metadata import table_metadata
from pipelines.finance import SCENARIO_TABLE, ensure_scenario_table
from pipelines.marts import mart_descriptions

SCENARIOS_KEY = dg.AssetKey(SCENARIO_TABLE.split("."))


@dg.asset(key=SCENARIOS_KEY, group_name="finance", owners=["team:finance"], kinds={"duckdb"},
          deps=[dg.AssetKey(["marts", "message_ledger"])], description=mart_descriptions(["reprice_scenarios"])["reprice_scenarios"])
def reprice_scenarios(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        ensure_scenario_table(conn)  # kept across runs: the scenarios `waba reprice` wrote
        return dg.MaterializeResult(metadata=table_metadata(conn, SCENARIO_TABLE))
