"""Saved Graph API responses through raw.graph_responses into staging, with hand-written files in the
shared format; and `waba fetch` followed by `waba run` (and the Dagster daily job) against the fake API."""
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from conftest import load_all
from fake_graph import fake  # noqa: F401 (the server fixture)
from graph_world import DAY, TOKEN, WABA, serve_world
from pipelines.cli import main

UTC = timezone.utc
D1 = datetime(2026, 11, 27, tzinfo=UTC)
D2 = datetime(2026, 11, 28, tzinfo=UTC)


def write_saved(landing: Path, kind: str, fetched_at: str, response, waba_id: str = "123", page: int = 1,
                params: dict | None = None, name: str | None = None) -> Path:
    """A saved response exactly as the shared format describes it (written here by hand, not by our writer)."""
    stamp = fetched_at.replace("-", "").replace(":", "")
    path = landing / "business_manager" / "graph" / kind / waba_id / (name or f"{stamp}-{page:03d}-0123abcd.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"fetched_at": fetched_at, "kind": kind, "waba_id": waba_id,
              "request": {"method": "GET", "path": f"/v24.0/{waba_id}", "params": params or {}},
              "response": response}
    path.write_text(json.dumps(record))
    return path


def pricing_params(granularity: str = "DAILY") -> dict:
    return {"fields": f"pricing_analytics.start(1795651200).end(1795824000).granularity({granularity})"
                      '.dimensions(["COUNTRY","PHONE","PRICING_CATEGORY","PRICING_TYPE","TIER"])'}


def point(day: datetime, **values) -> dict:
    start = int(day.timestamp())
    return {"start": start, "end": start + 86400, **values}


def test_pricing_analytics_are_typed_and_the_latest_fetch_wins(landing, warehouse, query):
    marketing = {"country": "BR", "phone_number": "15550001111", "tier": "0:MAX", "pricing_type": "REGULAR",
                 "pricing_category": "MARKETING"}
    write_saved(landing, "pricing_analytics", "2026-11-28T06:00:00Z", {"pricing_analytics": {"data": [{"data_points": [
        point(D1, **marketing, volume=100, cost=6.25),
        point(D2, **marketing, volume=7, cost=0.4375),
    ]}]}, "id": "123"}, params=pricing_params())
    write_saved(landing, "pricing_analytics", "2026-11-29T06:00:00Z", {"currency": "USD", "pricing_analytics": {"data": [
        {"data_points": [
            point(D1, **marketing, volume=120, cost=7.5),  # Meta revised the day: this fetch wins
            point(D1, country="BR", phone_number="15550001111", pricing_type="FREE_CUSTOMER_SERVICE",
                  pricing_category="SERVICE", volume=300),  # free: no tier, no cost
        ]}]}, "id": "123"}, params=pricing_params())
    load_all(warehouse, landing)
    assert query("""SELECT waba_id, period_start, period_end, granularity, country, phone_number, pricing_type,
                           pricing_category, tier, volume, cost, currency, fetched_at
                    FROM staging.pricing_analytics ORDER BY period_start, pricing_type""") == [
        ("123", D1, D2, "DAILY", "BR", "15550001111", "free_customer_service", "service", None, 300, None, "USD",
         datetime(2026, 11, 29, 6, tzinfo=UTC)),
        ("123", D1, D2, "DAILY", "BR", "15550001111", "regular", "marketing", "0:MAX", 120, Decimal("7.500000"),
         "USD", datetime(2026, 11, 29, 6, tzinfo=UTC)),
        ("123", D2, D2 + timedelta(days=1), "DAILY", "BR", "15550001111", "regular", "marketing", "0:MAX", 7,
         Decimal("0.437500"), None, datetime(2026, 11, 28, 6, tzinfo=UTC)),
    ]
    assert query("SELECT typeof(volume), typeof(cost), typeof(period_start) FROM staging.pricing_analytics LIMIT 1") == [
        ("BIGINT", "DECIMAL(18,6)", "TIMESTAMP WITH TIME ZONE")]


def test_conversation_and_template_analytics_are_typed(landing, warehouse, query):
    write_saved(landing, "conversation_analytics", "2026-11-29T06:00:00Z", {"conversation_analytics": {"data": [
        {"data_points": [point(D1, conversation=12, phone_number="15550001111", country="GB",
                               conversation_type="FREE_ENTRY_POINT", conversation_direction="USER_INITIATED",
                               conversation_category="SERVICE")]}]}},
        params={"fields": "conversation_analytics.start(1).end(2).granularity(MONTHLY)"})
    write_saved(landing, "template_analytics", "2026-11-29T06:00:00Z", {"data": [{
        "granularity": "DAILY", "product_type": "cloud_api", "data_points": [
            point(D1, template_id="9000", sent=10, delivered=9, read=5,
                  clicked=[{"type": "quick_reply_button", "button_content": "Yes", "count": 2},
                           {"type": "url_button", "button_content": "Shop", "count": 3}],
                  cost=[{"type": "amount_spent", "value": 0.45}, {"type": "cost_per_delivered", "value": 0.05}]),
            # No spend: Meta sends cost items without a value; no clicks list at all.
            point(D1, template_id="9001", sent=1, delivered=1, read=0,
                  cost=[{"type": "amount_spent"}, {"type": "cost_per_delivered"}]),
        ]}], "paging": {"cursors": {"before": "a", "after": "b"}}})
    load_all(warehouse, landing)
    assert query("SELECT * EXCLUDE (fetched_at) FROM staging.conversation_analytics") == [
        ("123", D1, D2, "MONTHLY", "GB", "15550001111", "free_entry_point", "user_initiated", "service", 12, None, None)]
    assert query("SELECT * EXCLUDE (fetched_at) FROM staging.template_analytics ORDER BY template_id") == [
        ("123", "9000", D1, D2, "cloud_api", 10, 9, 5, 5, Decimal("0.450000")),
        ("123", "9001", D1, D2, "cloud_api", 1, 1, 0, None, None),
    ]


def test_graph_snapshots_join_the_csv_snapshots(landing, warehouse, query):
    (landing / "business_manager").mkdir(parents=True)
    (landing / "business_manager" / "phone_numbers_2026-11-01.csv").write_text(
        "snapshot_at,waba_id,phone_number_id,display_phone_number,quality_rating,messaging_limit,status\n"
        "2026-11-01T00:00:00Z,123,1111,+1 555-000-1111,green,TIER_1K,connected\n")
    (landing / "business_manager" / "templates_2026-11-01.csv").write_text(
        "snapshot_at,waba_id,template_id,name,language,category,status,quality_score\n"
        "2026-11-01T00:00:00Z,123,9000,promo,en-US,marketing,approved,green\n")
    write_saved(landing, "phone_numbers", "2026-11-29T06:00:00Z", {"data": [
        {"id": "1111", "display_phone_number": "+1 555-000-1111", "verified_name": "Acme", "quality_rating": "YELLOW",
         "whatsapp_business_manager_messaging_limit": "TIER_10K", "messaging_limit_tier": "TIER_1K",
         "status": "CONNECTED", "name_status": "APPROVED", "throughput": {"level": "STANDARD"}},
        {"id": "2222", "display_phone_number": "+44 20 0000 2222", "quality_rating": "GREEN",
         "messaging_limit_tier": "TIER_250", "status": "PENDING"},  # only the deprecated limit field
    ], "paging": {"cursors": {"before": "a", "after": "b"}}})
    write_saved(landing, "message_templates", "2026-11-29T06:00:00Z", {"data": [
        {"id": "9000", "name": "promo", "language": "en_US", "status": "PAUSED", "category": "MARKETING",
         "previous_category": "TRANSACTIONAL", "sub_category": "CUSTOM", "parameter_format": "POSITIONAL",
         "rejected_reason": "NONE", "quality_score": {"score": "RED", "date": 1795737600},
         "components": [{"type": "BODY", "text": "Hi {{1}}"}]},
    ]})
    load_all(warehouse, landing)
    snap = datetime(2026, 11, 29, 6, tzinfo=UTC)
    assert query("SELECT * FROM staging.phone_number_snapshots ORDER BY snapshot_at, phone_number_id") == [
        (datetime(2026, 11, 1, tzinfo=UTC), "123", "1111", "+1 555-000-1111", "GREEN", "TIER_1K", "CONNECTED",
         None, None, None, "csv"),
        (snap, "123", "1111", "+1 555-000-1111", "YELLOW", "TIER_10K", "CONNECTED", "Acme", "APPROVED", "STANDARD",
         "graph_api"),
        (snap, "123", "2222", "+44 20 0000 2222", "GREEN", "TIER_250", "PENDING", None, None, None, "graph_api"),
    ]
    assert query("""SELECT snapshot_at, template_id, template_name, template_language, category, status, quality_score,
                           previous_category, sub_category, quality_score_at, components::VARCHAR, source
                    FROM staging.template_snapshots ORDER BY snapshot_at""") == [
        (datetime(2026, 11, 1, tzinfo=UTC), "9000", "promo", "en_US", "MARKETING", "APPROVED", "GREEN", None, None,
         None, None, "csv"),
        (snap, "9000", "promo", "en_US", "MARKETING", "PAUSED", "RED", "TRANSACTIONAL", "CUSTOM",
         datetime(2026, 11, 27, tzinfo=UTC), '[{"type":"BODY","text":"Hi {{1}}"}]', "graph_api"),
    ]


def test_malformed_saved_files_are_quarantined_and_every_file_is_accounted_for(landing, warehouse, query):
    good = write_saved(landing, "pricing_analytics", "2026-11-29T06:00:00Z",
                       {"pricing_analytics": {"data": [{"data_points": [point(D1, volume=1)]}]}})
    folder = good.parent
    (folder / "copy.json").write_bytes(good.read_bytes())
    (folder / "truncated.json").write_text('{"fetched_at": "2026-11-29T06:00:00Z", "kind": "pricing_ana')
    (folder / "array.json").write_text("[1, 2]")
    (folder / "latin1.json").write_bytes(b'{"kind": "caf\xe9"}')
    write_saved(landing, "insights", "2026-11-29T06:00:00Z", {}, name="unknown-kind.json")
    write_saved(landing, "pricing_analytics", "yesterday", {}, name="bad-time.json")
    load_all(warehouse, landing)
    audit = query("""SELECT regexp_extract(file_path, '[^/]+$'), status, rows_in, rows_loaded, rows_duplicate,
                            rows_quarantined FROM raw.load_audit WHERE source = 'graph_responses' ORDER BY 1""")
    assert audit == [
        ("20261129T060000Z-001-0123abcd.json", "loaded", 1, 1, 0, 0),
        ("array.json", "unreadable", 1, 0, 0, 1),
        ("bad-time.json", "unreadable", 1, 0, 0, 1),
        ("copy.json", "loaded", 1, 0, 1, 0),
        ("latin1.json", "unreadable", 1, 0, 0, 1),
        ("truncated.json", "unreadable", 1, 0, 0, 1),
        ("unknown-kind.json", "unreadable", 1, 0, 0, 1),
    ]
    assert query("SELECT regexp_extract(file_path, '[^/]+$'), line_no, reason, detail FROM raw.quarantine ORDER BY 1") == [
        ("array.json", 1, "not_graph_response", "not_graph_response: not a JSON object"),
        ("bad-time.json", 1, "bad_timestamp", "bad_timestamp: fetched_at=yesterday"),
        ("latin1.json", 1, "not_utf8", "not_utf8: the byte at offset 13 is not UTF-8"),
        ("truncated.json", 1, "invalid_json", "invalid_json: not valid JSON"),
        ("unknown-kind.json", 1, "not_graph_response",
         "not_graph_response: kind insights is not a saved Graph API kind"),
    ]
    assert query("SELECT count(*) FROM staging.pricing_analytics") == [(1,)]
    # Loading again changes nothing.
    totals = load_all(warehouse, landing)["graph_responses"]
    assert (totals["files_loaded"], totals["files_skipped"]) == (0, 7)


@pytest.fixture
def graph_env(fake, monkeypatch):
    for name, value in {"WABA_GRAPH_TOKEN": TOKEN, "WABA_GRAPH_WABA_IDS": WABA, "WABA_GRAPH_BASE_URL": fake.url,
                        "WABA_GRAPH_BACKOFF_BASE": "0.01", "WABA_GRAPH_MAX_WAIT": "0.05"}.items():
        monkeypatch.setenv(name, value)


PRICING_ROWS = [  # what graph_world.PRICING serves for 2026-11-27, as staging should hold it
    ("123", "BR", "15550001111", "free_customer_service", "service", None, 300, None),
    ("123", "BR", "15550001111", "regular", "marketing", "0:MAX", 120, Decimal("7.500000")),
    ("123", "IN", "15550001111", "regular", "utility", "0:100000", 40, Decimal("0.078400")),
]
PRICING_SQL = """SELECT waba_id, country, phone_number, pricing_type, pricing_category, tier, volume, cost
                 FROM staging.pricing_analytics WHERE period_start = to_timestamp(?) ORDER BY ALL"""


def test_waba_fetch_then_waba_run_puts_metas_pricing_into_staging(fake, graph_env, landing, tmp_path, query, warehouse):
    serve_world(fake)
    since = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    assert main(["fetch", "--landing", str(landing), "--since", since]) == 0
    assert main(["run", "--landing", str(landing), "--warehouse", str(warehouse), "--reports", str(tmp_path / "r"),
                 "--quiet"]) == 0
    assert query(PRICING_SQL, [DAY]) == PRICING_ROWS
    assert query("SELECT count(*), min(source) FROM staging.phone_number_snapshots") == [(2, "graph_api")]


def test_waba_run_fetch_is_the_one_command_for_todays_state_and_metas_analytics(fake, graph_env, landing, tmp_path,
                                                                                query, warehouse):
    serve_world(fake)
    assert main(["run", "--fetch", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--reports", str(tmp_path / "r"), "--quiet"]) == 0
    assert query(PRICING_SQL, [DAY]) == PRICING_ROWS
    assert query("SELECT count(*), min(source) FROM staging.phone_number_snapshots") == [(2, "graph_api")]


def test_the_main_job_leaves_the_fetch_out_and_the_daily_job_fetches_then_loads(fake, graph_env, landing, warehouse,
                                                                                 query):
    from pipelines.definitions import MAIN_JOB, defs

    definitions = defs()
    fetch_key = dg.AssetKey(["landing", "graph_api_responses"])
    assert fetch_key not in definitions.resolve_job_def(MAIN_JOB).asset_layer.executable_asset_keys
    schedule = definitions.resolve_schedule_def("business_manager_daily_schedule")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.job_name == "business_manager_daily"
    daily = definitions.resolve_job_def("business_manager_daily")
    assert fetch_key in daily.asset_layer.executable_asset_keys
    serve_world(fake)
    result = daily.execute_in_process(
        run_config={"resources": {"warehouse": {"config": {"warehouse_path": str(warehouse),
                                                           "landing_path": str(landing)}}}},
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert query(PRICING_SQL, [DAY]) == PRICING_ROWS
