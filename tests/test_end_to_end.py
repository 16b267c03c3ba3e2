"""End to end: a generated sample world through every Dagster asset into a DuckDB file on disk,
compared with the generator's ground truth. The world and its run are the session fixtures `world` and `loaded`
(conftest.py)."""
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_SECRET, fetch
from pipelines.run import run_pipeline


# One worker runs every test on the sample world, so the world is generated and loaded once (`make test` runs
# pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("sample_world")

@pytest.fixture(autouse=True)
def app_secret(monkeypatch):
    """Re-runs in these tests read the world's capture records too: verify them with its secret."""
    monkeypatch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)


def truth(world: Path) -> dict:
    return json.loads((world / "ground_truth.json").read_text())



def test_every_staging_table_has_the_ground_truth_row_count(world, loaded):
    expected = truth(world)["expected"]
    got = {table: fetch(loaded, f"SELECT count(*) FROM {table}")[0][0] for table in expected}
    assert got == expected


def test_every_file_is_accounted_for_as_the_generator_wrote_it(world, loaded):
    audit = {path: (rows_in, dup, bad) for path, rows_in, dup, bad in fetch(
        loaded, "SELECT file_path, rows_in, rows_duplicate, rows_quarantined FROM raw.load_audit WHERE status = 'loaded'")}
    invalid = dict(fetch(loaded, """SELECT a.file_path, count(*) FROM raw.webhook_deliveries d JOIN raw.load_audit a USING (load_id)
                                    WHERE d.signature_status = 'invalid' GROUP BY 1"""))
    mismatches = []
    for path, f in truth(world)["files"].items():
        # A delivery whose signature fails is kept (and flagged) in raw, not quarantined.
        quarantined = f["quarantined"] - f["quarantine_reasons"].get("bad_signature", 0)
        if audit.get(path) != (f["rows_in"], f["duplicates"], quarantined) or invalid.get(path, 0) != f["bad_signatures"]:
            mismatches.append((path, audit.get(path), f))
    assert mismatches == []
    assert len(audit) == len(truth(world)["files"])


def test_quarantine_reasons_match_what_was_injected(world, loaded):
    injected = {}
    for f in truth(world)["files"].values():
        for reason, n in f["quarantine_reasons"].items():
            if reason != "bad_signature":
                injected[reason] = injected.get(reason, 0) + n
    assert dict(fetch(loaded, "SELECT reason, count(*) FROM raw.quarantine GROUP BY 1")) == injected


def test_statuses_types_and_error_codes_match(world, loaded):
    t = truth(world)
    assert dict(fetch(loaded, "SELECT status, count(*) FROM staging.message_statuses GROUP BY 1")) == t["statuses_by_status"]
    assert dict(fetch(loaded, "SELECT message_type, count(*) FROM staging.inbound_messages GROUP BY 1")) == t["inbound_by_type"]
    assert {str(k): v for k, v in fetch(loaded, """SELECT error_code, count(*) FROM staging.message_statuses
                                                   WHERE status = 'failed' GROUP BY 1""")} == t["failed_by_error_code"]
    read_only = fetch(loaded, """SELECT count(*) FROM (SELECT message_id FROM staging.message_statuses GROUP BY 1
                                 HAVING bool_or(status = 'read') AND NOT bool_or(status = 'delivered'))""")[0][0]
    assert read_only == t["read_without_delivered"]


def test_cbp_only_before_and_pmp_only_after_the_switch(loaded):
    rows = fetch(loaded, """SELECT pricing_model, min(status_at)::DATE, max(status_at)::DATE FROM staging.message_statuses
                            WHERE pricing_model IS NOT NULL GROUP BY 1 ORDER BY 1""")
    assert rows[0][0] == "CBP" and rows[0][2] < date(2025, 7, 1)
    assert rows[1][0] == "PMP" and rows[1][1] >= date(2025, 7, 1)


def test_customers_known_by_both_ids_are_linked(world, loaded):
    assert fetch(loaded, "SELECT count(*) FROM staging.customer_identities")[0][0] == truth(world)["expected"]["staging.customer_identities"]
    assert truth(world)["expected"]["staging.customer_identities"] > 0


def test_rerun_on_unchanged_files_changes_nothing(world, loaded, tmp_path):
    copy = tmp_path / "again.duckdb"
    shutil.copyfile(loaded, copy)
    before = _fingerprint(copy)
    summary = run_pipeline(world, copy, tmp_path / "reports", verbose=False)
    assert summary.files == {}
    assert _fingerprint(copy) == before


def test_adding_a_day_loads_only_that_file(world, loaded, tmp_path):
    copy = tmp_path / "plus.duckdb"
    shutil.copyfile(loaded, copy)
    extra = world.parent / "extra"
    (extra / "webhooks").mkdir(parents=True)
    late = {"object": "whatsapp_business_account", "entry": [{"id": "WLATE", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": "PNLATE", "display_phone_number": "1"},
        "statuses": [{"id": "wamid.late", "status": "delivered", "timestamp": "1796000000", "recipient_id": "1"}]}}]}]}
    (extra / "webhooks" / "late.jsonl").write_text(json.dumps(late) + "\n")
    for folder in ("webhooks", "message_logs", "business_manager", "optins", "rate_cards"):
        shutil.copytree(world / folder, extra / folder, dirs_exist_ok=True)
    statuses_before = fetch(copy, "SELECT count(*) FROM staging.message_statuses")[0][0]
    # Another folder (a copy plus a day): the warehouse holds `world`, so this needs --force.
    summary = run_pipeline(extra, copy, tmp_path / "reports", verbose=False, force=True)
    assert summary.files == {"webhooks": (1, 1, 1, 0, 0)}
    assert fetch(copy, "SELECT count(*) FROM staging.message_statuses")[0][0] == statuses_before + 1


def _fingerprint(warehouse: Path) -> dict:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'staging') "
            "AND table_name NOT IN ('staged_loads', 'load_audit')").fetchall()]
        return {t: conn.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM (SELECT * FROM {t})").fetchall() for t in tables}
    finally:
        conn.close()


def test_dagster_definitions_are_grouped_described_and_checked():
    from pipelines.definitions import MAIN_JOB, defs

    d = defs()
    specs = list(d.resolve_all_asset_specs())
    assert {"ingest", "staging", "finance", "compliance", "growth", "quality", "reporting", "business_manager"} <= {
        s.group_name for s in specs}
    assert all(s.description for s in specs)
    loaders = [s for s in specs if s.key.path[0] == "raw" and s.key.path[1] != "load_audit"]  # load_audit: their accounts
    assert len(loaders) == 10  # raw.chat_keywords (the business's own chat keyword list) is the tenth
    assert d.resolve_job_def(MAIN_JOB) is not None
    check_keys = d.resolve_asset_graph().asset_check_keys
    assert {"rows_accounted_for", "no_unreadable_files", "ids_unique_not_null", "templates_known"} <= {k.name for k in check_keys}
    assert {k.asset_key.path[0] for k in check_keys} == {"raw", "staging", "marts"}
    report = next(s for s in specs if s.key.path == ["report_site"])
    assert report.group_name == "reporting"
    assert {"published_warehouse", "marts/data_quality_results", "marts/message_ledger"} <= {
        d.asset_key.to_user_string() for d in report.deps}


def test_ledger_charges_equal_the_generators_ground_truth_to_the_cent(world, loaded):
    truth_file = world / "ground_truth_messages.parquet"
    by_group = fetch(loaded, f"""
        WITH truth AS (
            SELECT pricing_model, market, sum(charge_micros) AS micros FROM '{truth_file}' GROUP BY ALL
        ), ours AS (
            SELECT g.pricing_model, g.market, sum(l.charge * 1000000)::BIGINT AS micros
            FROM marts.message_ledger l JOIN '{truth_file}' g USING (message_id) GROUP BY ALL
        )
        SELECT pricing_model, market, t.micros, o.micros FROM truth t FULL JOIN ours o USING (pricing_model, market)
        WHERE t.micros IS DISTINCT FROM o.micros AND (t.micros <> 0 OR o.micros <> 0)""")
    assert by_group == []
    total = fetch(loaded, f"SELECT (SELECT sum(charge) FROM marts.message_ledger)::VARCHAR, "
                          f"(SELECT sum(charge_micros) / 1e6 FROM '{truth_file}')::DECIMAL(18, 6)::VARCHAR")[0]
    assert total[0] == total[1] and float(total[0]) > 0
    # every message the business sent is in the ledger, and nothing else is
    assert fetch(loaded, f"SELECT count(*) FROM marts.message_ledger ANTI JOIN '{truth_file}' USING (message_id)") == [(0,)]
    assert fetch(loaded, f"SELECT count(*) FROM '{truth_file}' ANTI JOIN marts.message_ledger USING (message_id)") == [(0,)]


def test_ledger_agrees_with_webhook_pricing_wherever_meta_sent_it(loaded):
    compared, disagreeing = fetch(loaded, """SELECT count(agrees_with_meta), count(*) FILTER (NOT agrees_with_meta)
                                             FROM marts.message_ledger""")[0]
    assert compared > 1000 and disagreeing == 0


def test_reconciliation_explains_every_difference_from_the_invoice_and_meta(world, loaded):
    truth_file = world / "ground_truth_messages.parquet"
    invoiced, billed = fetch(loaded, f"""SELECT (SELECT sum(invoice_amount) FROM marts.cost_reconciliation)::VARCHAR,
                                                (SELECT sum(meta_charge_micros) / 1e6 FROM '{truth_file}')::DECIMAL(18, 6)::VARCHAR""")[0]
    assert invoiced == billed
    assert fetch(loaded, """SELECT count(*) FROM marts.cost_reconciliation
                            WHERE unexplained_vs_invoice <> 0 OR (meta_cost IS NOT NULL AND meta_cost <> invoice_amount)""") == [(0,)]
    # Meta keeps one year of analytics: older months say so instead of inventing a figure
    months = fetch(loaded, """SELECT bool_and(meta_cost IS NULL) FILTER (month < DATE '2025-12-01'),
                                     bool_or(meta_cost IS NOT NULL) FILTER (month >= DATE '2025-12-01'),
                                     bool_and(list_contains([e.reason FOR e IN explanations], 'meta_analytics_unavailable'))
                                         FILTER (month < DATE '2025-12-01')
                              FROM marts.cost_reconciliation WHERE ledger_units > 0""")[0]
    assert months == (True, True, True)


def growth_truth(world: Path) -> dict:
    return json.loads((world / "ground_truth_growth.json").read_text())


def state_at(history: list[dict], day: date) -> dict:
    """The generator's state at the end of a UTC day."""
    end = f"{date.fromordinal(day.toordinal() + 1).isoformat()}T00:00:00Z"
    return [h for h in history if h["at"] < end][-1]


TIER_LIMITS = {"TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000, "TIER_UNLIMITED": None}


def test_messaging_limits_follow_the_generators_tiers_day_by_day(world, loaded):
    phones = growth_truth(world)["phones"]
    rows = fetch(loaded, "SELECT scope, scope_id, day, tier, daily_limit FROM marts.messaging_limit_daily")
    assert {r[0] for r in rows} == {"phone_number", "business_portfolio"}
    for scope, scope_id, day, tier, limit in rows:
        if scope == "phone_number":
            assert day < date(2025, 10, 7)
            expected = state_at(phones[scope_id]["history"], day)["messaging_limit"]
        else:
            assert day >= date(2025, 10, 7)
            # the generator moves a portfolio's numbers together, so any of them carries the portfolio's limit
            expected = max((state_at(p["history"], day)["messaging_limit"] for p in phones.values() if p["portfolio_id"] == scope_id),
                           key=lambda t: list(TIER_LIMITS).index(t))
        assert (tier, limit) == (expected, TIER_LIMITS[expected]), (scope_id, day)
    # Every upgrade is one the generator's traffic earned (pipelines/sample/limits.py), none scripted.
    upgrades = fetch(loaded, "SELECT count(*) FROM marts.messaging_limit_daily WHERE limit_change = 'upgrade'")[0][0]
    assert upgrades == len(json.loads((world / "ground_truth_limits.json").read_text())["upgrades"])


def test_template_status_quality_and_category_follow_the_generator(world, loaded):
    templates = growth_truth(world)["templates"]
    rows = fetch(loaded, "SELECT template_id, day, status, quality_score, category FROM marts.template_health_daily")
    assert len({r[0] for r in rows}) == len(templates)
    for template_id, day, status, quality, category in rows:
        expected = state_at(templates[template_id]["history"], day)
        assert (status, quality, category) == (expected["status"], expected["quality"], expected["category"]), (template_id, day)
    pauses = fetch(loaded, "SELECT pause_kind, count(*) FROM marts.template_events WHERE value_to = 'PAUSED' GROUP BY ALL ORDER BY 1")
    assert pauses == [("FIRST_PAUSE", 3), ("SECOND_PAUSE", 3)]
    at_risk = fetch(loaded, "SELECT template_name, risk_reasons FROM marts.template_health WHERE at_risk")
    assert {name for name, _ in at_risk} >= {"promo_weekly_offers"}


def test_sliding_24_hour_reach_equals_a_brute_force_count(loaded):
    # For every scope and day: the most distinct persons a business-initiated message was delivered to in
    # (t - 24 h, t], over every send time t of the day and its midnight, counted pairwise (fine on a small world).
    brute = fetch(loaded, """
        WITH sends AS (
            SELECT l.sent_at, coalesce((SELECT min(i.wa_id) FROM staging.customer_identities i WHERE i.user_id = l.customer_id),
                                       l.customer_id) AS customer_id, l.phone_number_id, a.business_portfolio_id
            FROM marts.message_ledger l JOIN staging.accounts a USING (waba_id)
            WHERE (l.message_type = 'template' OR (l.message_type = 'unknown' AND l.category IN ('marketing', 'utility', 'authentication')))
              AND NOT l.in_service_window AND coalesce(l.delivered_at, l.read_at) IS NOT NULL
        ), scoped AS (
            SELECT 'phone_number' AS scope, phone_number_id AS scope_id, sent_at, customer_id FROM sends
            UNION ALL SELECT 'business_portfolio', business_portfolio_id, sent_at, customer_id FROM sends
        ), ends AS (
            SELECT DISTINCT d.scope, d.scope_id, d.day, t.sent_at AS t
            FROM marts.messaging_limit_daily d JOIN scoped t ON t.scope = d.scope AND t.scope_id = d.scope_id AND t.sent_at::DATE = d.day
            UNION SELECT scope, scope_id, day, day::TIMESTAMPTZ FROM marts.messaging_limit_daily
        ), counts AS (
            SELECT e.scope, e.scope_id, e.day, e.t, count(DISTINCT s.customer_id) AS n
            FROM ends e LEFT JOIN scoped s ON s.scope = e.scope AND s.scope_id = e.scope_id
             AND s.sent_at > e.t - INTERVAL 24 HOUR AND s.sent_at <= e.t
            GROUP BY ALL
        )
        SELECT scope, scope_id, day, max(n) FROM counts GROUP BY ALL ORDER BY ALL""")
    swept = fetch(loaded, "SELECT scope, scope_id, day, peak_unique_customers_24h FROM marts.messaging_limit_daily ORDER BY ALL")
    assert swept == brute
    assert sum(r[3] for r in swept) > 0


def test_forecast_and_backtest_cover_every_current_scope(world, loaded):
    # every portfolio of the world (the generator's), none unlimited at the end
    portfolios = {p["portfolio_id"] for p in growth_truth(world)["phones"].values()}
    current = fetch(loaded, "SELECT scope, count(*) FROM marts.tier_forecast GROUP BY ALL")
    assert current == [("business_portfolio", len(portfolios))]
    outcomes = dict(fetch(loaded, "SELECT outcome, count(*) FROM marts.tier_forecast_backtest GROUP BY ALL"))
    assert sum(outcomes.values()) > 0 and set(outcomes) <= {
        "within_range", "outside_range", "missed", "false_alarm", "correctly_none", "no_forecast"}
    undocumented = fetch(loaded, """SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'marts'
                                    AND (comment IS NULL OR comment = '')""")
    assert undocumented == []


def test_every_template_send_gets_the_consent_status_the_generator_expects(world, loaded):
    expected = dict(duckdb.sql(f"SELECT message_id, consent_status FROM '{world / 'ground_truth_consent.parquet'}'").fetchall())
    templates = duckdb.sql(f"SELECT count(*) FROM '{world / 'ground_truth_messages.parquet'}' WHERE is_template").fetchone()[0]
    assert len(expected) == templates
    got = dict(fetch(loaded, "SELECT message_id, consent_status FROM marts.optin_audit"))
    assert got == expected
    assert {"covered", "missing", "after_send", "opted_out", "covered_identity_changed", "marketing_stopped",
            "number_reassigned", "user_initiated_window"} <= set(expected.values())


def test_compliance_marts_are_built_and_published(loaded):
    from pipelines.definitions import defs

    specs = {s.key.to_user_string(): s for s in defs().resolve_all_asset_specs()}
    for name in ("consent_timeline", "optin_audit", "optin_coverage_daily"):
        assert specs[f"marts/{name}"].group_name == "compliance"
        assert specs[f"marts/{name}"].key in {d.asset_key for d in specs["published_warehouse"].deps}
    coverage = fetch(loaded.with_name(loaded.stem + ".published.duckdb"),
                     "SELECT sum(messages), sum(covered) FROM marts.optin_coverage_daily")[0]
    audit = fetch(loaded, "SELECT count(*), count(*) FILTER (consent_status = 'covered') FROM marts.optin_audit")[0]
    assert coverage == audit
