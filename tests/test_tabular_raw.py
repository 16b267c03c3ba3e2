"""The business's own exports: typed rows, quarantined bad rows, whole-file rejections with a reason."""
from datetime import date, datetime, timezone
from decimal import Decimal

import duckdb

from conftest import load_all

LOG_HEADER = "message_id,sent_at,waba_id,phone_number_id,recipient_id,message_type,template_name,template_category,campaign\n"


def test_message_log_types_timestamps_and_quarantines_bad_rows(landing, warehouse, query):
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "2025-07.csv").write_text(
        LOG_HEADER
        + "w1,2025-07-01T14:00:00+02:00,W1,PN1,5511999990000,template,promo,MARKETING,july\n"
        + "w2,1751371200,W1,PN1,5511999990000,text,,,\n"
        + "w3,next tuesday,W1,PN1,5511999990000,text,,,\n"
        + ",2025-07-01T12:00:00Z,W1,PN1,5511999990000,text,,,\n"
        + "w1,2025-07-01T14:00:00+02:00,W1,PN1,5511999990000,template,promo,MARKETING,july\n")
    load_all(warehouse, landing)
    assert query("SELECT message_id, sent_at, template_category FROM staging.message_log ORDER BY message_id") == [
        ("w1", datetime(2025, 7, 1, 12, tzinfo=timezone.utc), "marketing"),
        ("w2", datetime(2025, 7, 1, 12, tzinfo=timezone.utc), None)]
    assert query("SELECT line_no, reason, detail FROM raw.quarantine ORDER BY line_no") == [
        (4, "bad_timestamp", "bad_timestamp: sent_at=next tuesday"), (5, "missing_value", "missing_value: message_id")]
    assert query("SELECT rows_in, rows_loaded, rows_duplicate, rows_quarantined FROM raw.load_audit") == [(5, 2, 1, 2)]


def test_message_log_reads_parquet(landing, warehouse, query, tmp_path):
    (landing / "message_logs").mkdir()
    conn = duckdb.connect()
    conn.execute(f"""COPY (SELECT 'p1' AS message_id, TIMESTAMPTZ '2025-08-01 10:00:00+00' AS sent_at, 'W1' AS waba_id,
                     'PN1' AS phone_number_id, '447700900000' AS recipient_id, 'template' AS message_type)
                     TO '{landing / "message_logs" / "2025-08.parquet"}' (FORMAT parquet)""")
    load_all(warehouse, landing)
    assert query("SELECT message_id, sent_at, recipient_id FROM staging.message_log") == [
        ("p1", datetime(2025, 8, 1, 10, tzinfo=timezone.utc), "447700900000")]


def test_missing_columns_reject_the_file_with_the_column_names(landing, warehouse, query):
    (landing / "optins").mkdir()
    (landing / "optins" / "consents.csv").write_text("customer_id,event\n5511999990000,opt_in\n")
    load_all(warehouse, landing)
    status, message = query("SELECT status, message FROM raw.load_audit")[0]
    assert status == "unreadable"
    assert message.startswith("missing required column(s) event_at, source, scope, evidence_ref")
    assert query("SELECT reason, original_text FROM raw.quarantine") == [("unreadable_file", "customer_id,event\n5511999990000,opt_in\n")]


def test_empty_csv_is_rejected_as_empty(landing, warehouse, query):
    (landing / "rate_cards").mkdir()
    (landing / "rate_cards" / "card.csv").write_text("")
    load_all(warehouse, landing)
    assert query("SELECT status, message FROM raw.load_audit") == [("unreadable", "the file is empty (expected a header row)")]


def test_snapshots_accounts_optins_and_rate_cards_land(landing, warehouse, query):
    bm = landing / "business_manager"
    bm.mkdir()
    (bm / "accounts.csv").write_text("waba_id,business_portfolio_id,timezone,currency\nW1,BP1,America/Sao_Paulo,USD\n")
    (bm / "phone_numbers_2025-07-01.csv").write_text(
        "snapshot_at,waba_id,phone_number_id,display_phone_number,quality_rating,messaging_limit,status\n"
        "2025-07-01T00:00:00Z,W1,PN1,+55 11 5555-0000,green,TIER_1K,CONNECTED\n")
    (bm / "templates_2025-07-01.csv").write_text(
        "snapshot_at,waba_id,template_id,name,language,category,status,quality_score\n"
        "2025-07-01T00:00:00Z,W1,1234567,promo,en_US,MARKETING,APPROVED,GREEN\n")
    (landing / "optins").mkdir()
    (landing / "optins" / "optins.csv").write_text(
        "customer_id,event,event_at,source,scope,evidence_ref\n5511999990000,opt_in,2025-06-30T10:00:00Z,web_form,all,EV-1\n")
    (landing / "rate_cards").mkdir()
    (landing / "rate_cards" / "card.csv").write_text(
        "effective_from,market,category,currency,rate\n2025-07-01,Brazil,marketing,USD,0.0625\n")
    load_all(warehouse, landing)
    assert query("SELECT waba_id, business_portfolio_id, timezone, listed_in_accounts_csv FROM staging.accounts") == [
        ("W1", "BP1", "America/Sao_Paulo", True)]
    assert query("SELECT quality_rating, messaging_limit FROM staging.phone_number_snapshots") == [("GREEN", "TIER_1K")]
    assert query("SELECT template_id, category, quality_score FROM staging.template_snapshots") == [("1234567", "MARKETING", "GREEN")]
    assert query("SELECT event, scope, evidence_ref FROM staging.optin_events") == [("opt_in", "all", "EV-1")]
    assert query("SELECT effective_from, rate, volume_from FROM staging.rate_cards") == [(date(2025, 7, 1), Decimal("0.062500"), 0)]


def test_waba_without_accounts_row_is_its_own_portfolio_in_utc(landing, warehouse, query):
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "l.csv").write_text(LOG_HEADER + "w1,2025-07-01T12:00:00Z,W9,PN1,1,text,,,\n")
    load_all(warehouse, landing)
    assert query("SELECT waba_id, business_portfolio_id, timezone FROM staging.accounts") == [("W9", "W9", "UTC")]


def test_rows_differing_only_in_where_a_comma_sits_are_distinct(landing, warehouse, query):
    (landing / "message_logs").mkdir()
    (landing / "message_logs" / "l.csv").write_text(
        "message_id,sent_at,waba_id,phone_number_id,recipient_id,message_type,campaign,agent\n"
        'w1,1751371200,W1,PN1,1,text,"x,",y\n'
        'w1,1751371200,W1,PN1,1,text,x,",y"\n'
        "w2,99999999999999999999,W1,PN1,1,text,,\n")
    load_all(warehouse, landing)
    assert query("SELECT rows_in, rows_loaded, rows_duplicate, rows_quarantined FROM raw.load_audit") == [(3, 2, 0, 1)]


def test_a_ragged_row_is_quarantined_with_its_line_and_the_rest_loads(landing, warehouse, query):
    (landing / "optins").mkdir()
    (landing / "optins" / "o.csv").write_text(
        "customer_id,event,event_at,source,scope,evidence_ref\n"
        "1,opt_in,2025-06-01T00:00:00Z,web,all,E1\n"
        "2,opt_in,2025-06-01T00:00:00Z,web,all,E2,EXTRA\n"
        "3,opt_in,2025-06-01T00:00:00Z,web,all\n"
        "4,opt_out,2025-06-02T00:00:00Z,web,all,E4\n")
    load_all(warehouse, landing)
    assert query("SELECT customer_id, _line_no FROM staging.optin_events ORDER BY 1") == [("1", 2), ("4", 5)]
    assert query("SELECT line_no, reason, original_text FROM raw.quarantine ORDER BY line_no") == [
        (3, "malformed_row", "2,opt_in,2025-06-01T00:00:00Z,web,all,E2,EXTRA"),
        (4, "malformed_row", "3,opt_in,2025-06-01T00:00:00Z,web,all")]
    assert query("SELECT status, rows_in, rows_loaded, rows_quarantined FROM raw.load_audit") == [("loaded", 4, 2, 2)]
