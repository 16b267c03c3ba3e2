"""End to end: a generated sample world through every Dagster asset into a DuckDB file on disk,
compared with the generator's ground truth."""
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.run import run_pipeline
from pipelines.sample import generate_world

SECRET = "sample-app-secret"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("world") / "landing"
    generate_world(landing, seed=11, customers=80, start=date(2025, 6, 1), end=date(2026, 11, 30), app_secret=SECRET)
    return landing


@pytest.fixture(scope="module")
def loaded(world, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("WABA_APP_SECRET", SECRET)
    warehouse = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    summary = run_pipeline(world, warehouse, warehouse.parent / "reports", verbose=False)
    assert summary.failed_checks == []
    return warehouse


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def truth(world: Path) -> dict:
    return json.loads((world / "ground_truth.json").read_text())


def fetch(warehouse: Path, sql: str, params=None):
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


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
    summary = run_pipeline(extra, copy, tmp_path / "reports", verbose=False)
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
    assert {"ingest", "staging", "finance", "reporting"} <= {s.group_name for s in specs}
    assert all(s.description for s in specs)
    assert len([s for s in specs if s.key.path[0] == "raw"]) == 7
    assert d.resolve_job_def(MAIN_JOB) is not None
    check_names = {k.name for k in d.resolve_asset_graph().asset_check_keys}
    assert {"rows_accounted_for", "no_unreadable_files"} <= check_names


def test_every_template_send_gets_the_consent_status_the_generator_expects(world, loaded):
    expected = dict(duckdb.sql(f"SELECT message_id, consent_status FROM '{world / 'ground_truth_consent.parquet'}'").fetchall())
    templates = duckdb.sql(f"SELECT count(*) FROM '{world / 'ground_truth_messages.parquet'}' WHERE is_template").fetchone()[0]
    assert len(expected) == templates
    got = dict(fetch(loaded, "SELECT message_id, consent_status FROM marts.optin_audit"))
    assert got == expected
    assert {"covered", "missing", "after_send", "opted_out", "identity_changed"} <= set(expected.values())


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
