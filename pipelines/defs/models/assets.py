"""Every dbt model and seed as one Dagster asset, from the dbt manifest: its deps are the models, seeds and sources
its SQL refs, its group the dbt group it belongs to (finance, compliance, growth), its checks the dbt tests on it.
The seeds are the reference CSVs the marts read (models/reference, schema reference), so a mart shows the rules it
is built from upstream of it.

One `dbt build` runs them all (seeds first), under the run's settings as dbt vars and its month plan as a table. Afterwards each built table
reports its rows and column schema, read from the warehouse once dbt has closed it (DuckDB lets one process write
the file, so nothing here holds a connection while dbt runs). A run in which nothing a model reads has changed (no
new load, no model or reference file edited, the same settings) does not start dbt at all; a run after new loads
rebuilds only the months they touch of the month-partitioned marts (pipelines/mart_months.py), the others whole.
"""

import hashlib
import json
from dataclasses import dataclass

import dagster as dg
from dagster_dbt import dbt_assets

from pipelines import mart_months
from pipelines.dbt_project import manifest, manifest_path, models_md5
from pipelines.defs.dbt_results import (TRANSLATOR, built_results, context_selection, dbt_step, failed_check, streamed,
                                        unchanged_results)
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.run_settings import RunSettings

STATE_KEY = "dbt:models"


def model_keys() -> list[dg.AssetKey]:
    return sorted(spec.key for spec in warehouse_models.specs)


def _inputs_fingerprint(conn, settings: dict) -> str:
    """What a model reads besides the new loads: the models, their YAML and the reference CSVs (models_md5), the
    settings, and the tables the month-partitioned marts read whole (pipelines/mart_months.py)."""
    digest = hashlib.md5(f"{models_md5()}|{json.dumps(settings, sort_keys=True)}".encode())
    digest.update(mart_months.inputs_digest(conn, manifest()).encode())
    return digest.hexdigest()


def _state_table(conn) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS bookkeeping")
    conn.execute("CREATE TABLE IF NOT EXISTS bookkeeping.model_state "
                 "(model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")


@dataclass(frozen=True)
class BuildPlan:
    """What a run of the models does: nothing (dbt not started), or a dbt build with these extra arguments."""
    skip: bool
    dbt_args: tuple[str, ...]
    rebuild_months: "list[str] | None"   # the months the partitioned marts rebuild, None for every month
    reason: str
    rebuild_consent_months: "list[str] | None" = None   # those of the compliance marts (pipelines/mart_months.py)
    rebuild_audit_months: "list[str] | None" = None     # optin_audit's, and the customers whose rows it rebuilds
    rebuild_audit_customers: tuple[str, ...] = ()

    def write(self, conn) -> None:
        """The months, as bookkeeping.month_plan, which the partitioned models read (models/dbt_macros/
        month_partitions.sql). Not dbt vars: vars that change every run make dbt parse the whole project again
        (about 4.5 s a build), a table does not. The build's on-run-end hook deletes the rows."""
        conn.execute("CREATE SCHEMA IF NOT EXISTS bookkeeping")
        conn.execute("CREATE OR REPLACE TABLE bookkeeping.month_plan (plan VARCHAR PRIMARY KEY, months VARCHAR)")
        conn.execute("COMMENT ON TABLE bookkeeping.month_plan IS 'One row per month plan of the build running now: "
                     "the WABA-local months its month-partitioned marts rebuild; emptied when the build ends'")
        conn.execute("COMMENT ON COLUMN bookkeeping.month_plan.plan IS 'finance (the finance marts) or compliance "
                     "(optin_coverage_daily: meta.months_plan) or audit (optin_audit, which also rebuilds "
                     "the customers of bookkeeping.customer_plan)'")
        conn.execute("COMMENT ON COLUMN bookkeeping.month_plan.months IS 'The first days (YYYY-MM-01) of the months "
                     "to rebuild, comma-separated; empty: none; NULL: every month'")
        conn.executemany("INSERT INTO bookkeeping.month_plan VALUES (?, ?)",
                         [[name, None if months is None else ",".join(months)]
                          for name, months in (("finance", self.rebuild_months),
                                               ("compliance", self.rebuild_consent_months),
                                               ("audit", self.rebuild_audit_months))])
        conn.execute("CREATE OR REPLACE TABLE bookkeeping.customer_plan (plan VARCHAR, customer_id VARCHAR)")
        conn.execute("COMMENT ON TABLE bookkeeping.customer_plan IS 'One row per customer whose rows a customer-partitioned "
                     "mart rebuilds in every month in the build running now (optin_audit: those new identity data names); "
                     "emptied when the build ends'")
        conn.execute("COMMENT ON COLUMN bookkeeping.customer_plan.plan IS 'The plan of the marts that read the row (audit: "
                     "optin_audit, meta.months_plan)'")
        conn.execute("COMMENT ON COLUMN bookkeeping.customer_plan.customer_id IS 'A customer (wa_id, else business-scoped "
                     "user id) whose rows the build replaces in every month'")
        conn.execute("INSERT INTO bookkeeping.customer_plan SELECT 'audit', unnest(?::VARCHAR[])",
                     [list(self.rebuild_audit_customers)])


def _plan(conn, fingerprint: str, keys: list[dg.AssetKey], last_load: int) -> BuildPlan:
    """Whole rebuild when the models, settings or whole-read inputs changed (or a table is missing); nothing when no
    load came since the last build; else the months the new loads touch."""
    _state_table(conn)
    built = conn.execute("SELECT built_through_load_id, sql_md5 FROM bookkeeping.model_state WHERE model = ?",
                         [STATE_KEY]).fetchone()
    existing = {tuple(r) for r in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    if built is None or built[1] != fingerprint or built[0] is None or not all(tuple(k.path) in existing for k in keys):
        return BuildPlan(False, ("--full-refresh",), None, "first build, or models, settings or whole-read inputs changed")
    if built[0] == last_load:
        return BuildPlan(True, (), None, "nothing they read changed since the last build")
    months = mart_months.plan(conn, manifest(), built[0])
    return BuildPlan(False, (), months.month_list, f"{months.reason}; compliance: {months.consent_reason}",
                     months.consent_month_list, months.audit_month_list, months.audit_customers)


# The seeds and the marts; the staging models are pipelines/defs/staging/assets.py's.
DBT_SELECT = "path:models/reference path:models/marts"


@dbt_assets(manifest=manifest_path(), select=DBT_SELECT, dagster_dbt_translator=TRANSLATOR, name="warehouse_models")
def warehouse_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource, run_settings: RunSettings):
    settings = run_settings.dbt_vars()
    selected = sorted(context.selected_asset_keys)
    whole = set(selected) == set(warehouse_models.keys)
    with warehouse.connect() as conn:
        last_load = conn.execute("SELECT coalesce(max(load_id), 0) FROM raw.load_audit").fetchone()[0]
        fingerprint = _inputs_fingerprint(conn, settings)  # where the files are is not what they hold
        # A partial selection (from the UI) rebuilds its models whole and leaves the state for the next whole run.
        plan = _plan(conn, fingerprint, selected, last_load) if whole else BuildPlan(False, (), None, "a selection")
    context.log.info(f"models: {plan.reason}" + ("; dbt not started" if plan.skip else
                     f"; rebuilding {_months_text(plan.rebuild_months)} of the month-partitioned finance marts"
                     f" and {_months_text(plan.rebuild_consent_months)} of the compliance marts"
                     + ("" if plan.rebuild_audit_months is None else
                        f" (optin_audit: {_months_text(plan.rebuild_audit_months)}, and the messages of"
                        f" {len(plan.rebuild_audit_customers)} customer(s) in every month)")))
    if plan.skip:
        with warehouse.connect() as conn:
            yield from unchanged_results(context, warehouse_models, conn, selected)
        return
    with warehouse.connect() as conn:
        plan.write(conn)
    # The dbt unit tests (models/**/_unit_tests_*.yml) are development tests of the rules on given rows, not checks
    # of this run's data: tests/test_dbt_unit_tests.py runs them.
    invocation = dbt_step(warehouse.warehouse, ["build", "--exclude-resource-type", "unit_test", *plan.dbt_args,
                                                *context_selection(context)], "marts", **settings)
    events = streamed(context, invocation, "models")
    partitioned = {uid.split(".")[-1] for uid in mart_months.partitioned_models(manifest())}
    with warehouse.connect() as conn:
        months = _rebuilt_months(conn, invocation)
        yield from built_results(context, conn, events, lambda key: {
            "rebuilt_months": ["all"] if plan.rebuild_months is None else months.get(key.path[-1], [])
        } if key.path[-1] in partitioned else {})
        if invocation.success and whole:
            _state_table(conn)
            conn.execute("INSERT OR REPLACE INTO bookkeeping.model_state VALUES (?, ?, ?)", [STATE_KEY, last_load, fingerprint])
    if not invocation.success and not failed_check(events):
        raise dg.Failure(f"dbt build failed: {invocation.error()}")


def _months_text(months: "list[str] | None") -> str:
    return "every month" if months is None else ", ".join(months) or "no month"


def _rebuilt_months(conn, invocation) -> dict[str, list[str]]:
    """model -> the months (YYYY-MM) this build replaced in it, or ["all"], from bookkeeping.month_partition_builds."""
    try:
        invocation_id = invocation.get_artifact("run_results.json")["metadata"]["invocation_id"]
    except Exception:  # no artifact: dbt built nothing
        return {}
    if not conn.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'bookkeeping' "
                        "AND table_name = 'month_partition_builds'").fetchone():
        return {}
    rows = conn.execute("SELECT model, CASE WHEN bool_or(month IS NULL) THEN ['all'] ELSE list(DISTINCT strftime(month, '%Y-%m') "
                        "ORDER BY strftime(month, '%Y-%m')) END FROM bookkeeping.month_partition_builds "
                        "WHERE invocation_id = ? GROUP BY model", [invocation_id]).fetchall()
    return dict(rows)


@dg.definitions
def models() -> dg.Definitions:
    return dg.Definitions(assets=[warehouse_models])
