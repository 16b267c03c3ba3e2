"""Staging: every webhook field and message type lands typed, with UTC timestamps from strings or integers."""
from datetime import datetime, timezone

from conftest import envelope, load_all, messages_value, write_lines

T = 1751371200  # 2025-07-01 12:00:00 UTC
AT = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)


def inbound(message_id: str, type_: str, body: dict, sender: str = "5511999990000", ts=str(T), **extra) -> dict:
    return {"from": sender, "id": message_id, "timestamp": ts, "type": type_, **({type_: body} if body else {}), **extra}


def test_statuses_keep_conversation_pricing_and_errors(landing, warehouse, query):
    statuses = [
        {"id": "m1", "status": "sent", "timestamp": str(T), "recipient_id": "5511999990000",
         "conversation": {"id": "c1", "expiration_timestamp": str(T + 86400), "origin": {"type": "marketing"}},
         "pricing": {"billable": True, "pricing_model": "CBP", "category": "marketing"}},
        {"id": "m2", "status": "delivered", "timestamp": T, "recipient_id": "5511999990000",
         "pricing": {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}},
        {"id": "m3", "status": "failed", "timestamp": str(T), "recipient_id": "5511999990000",
         "errors": [{"code": 131050, "title": "Unable to deliver", "message": "stopped",
                     "error_data": {"details": "User stopped marketing messages"}}]},
        {"id": "m4", "status": "read", "timestamp": str(T), "recipient_user_id": "BR.123456",
         "pricing": {"billable": True, "pricing_model": "PMP", "pricing_type": "regular", "category": "authentication-international"}},
    ]
    write_lines(landing / "webhooks" / "s.jsonl", [envelope("W1", "messages", messages_value(statuses=statuses))])
    load_all(warehouse, landing)
    rows = query("""SELECT message_id, status, status_at, waba_id, phone_number_id, customer_id, conversation_id,
                           conversation_expires_at, conversation_category, pricing_billable, pricing_model, pricing_type,
                           pricing_category, error_code, error_details
                    FROM staging.message_statuses ORDER BY message_id""")
    assert rows == [
        ("m1", "sent", AT, "W1", "PN1", "5511999990000", "c1", datetime(2025, 7, 2, 12, tzinfo=timezone.utc), "marketing",
         True, "CBP", None, "marketing", None, None),
        ("m2", "delivered", AT, "W1", "PN1", "5511999990000", None, None, None, False, "PMP", "free_customer_service",
         "service", None, None),
        ("m3", "failed", AT, "W1", "PN1", "5511999990000", None, None, None, None, None, None, None, 131050,
         "User stopped marketing messages"),
        ("m4", "read", AT, "W1", "PN1", "BR.123456", None, None, None, True, "PMP", "regular",
         "authentication_international", None, None),
    ]


def test_each_inbound_message_type_is_typed(landing, warehouse, query):
    messages = [
        inbound("t1", "text", {"body": "hi"}, referral={"source_type": "ad", "source_id": "AD1", "ctwa_clid": "CLID1",
                                                       "source_url": "https://fb.me/x", "headline": "Sale"}),
        inbound("i1", "interactive", {"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}}),
        inbound("i2", "interactive", {"type": "list_reply", "list_reply": {"id": "l1", "title": "Option"}}),
        inbound("i3", "interactive", {"type": "nfm_reply", "nfm_reply": {"name": "flow", "response_json": "{\"a\": 1}"}}),
        inbound("b1", "button", {"payload": "STOP", "text": "Stop promotions"}),
        inbound("r1", "reaction", {"message_id": "wamid.X", "emoji": "\u2764"}),
        inbound("r2", "reaction", {"message_id": "wamid.X", "emoji": ""}),
        inbound("im", "image", {"id": "media1", "mime_type": "image/jpeg"}),
        inbound("lo", "location", {"latitude": -23.5, "longitude": -46.6}),
        inbound("un", "unsupported", {}, errors=[{"code": 131051, "title": "Message type unknown"}]),
        inbound("sy", "system", {"body": "changed", "type": "user_changed_number", "wa_id": "5511999991111"}),
        inbound("ts", "text", {"body": "int ts"}, ts=T),
    ]
    contacts = [{"profile": {"name": "Ana"}, "wa_id": "5511999990000", "user_id": "BR.777"}]
    write_lines(landing / "webhooks" / "m.jsonl", [envelope("W1", "messages", messages_value(messages=messages, contacts=contacts))])
    load_all(warehouse, landing)
    rows = {r[0]: r[1:] for r in query("""
        SELECT message_id, message_type, sent_at, text_body, referral_ctwa_clid, interactive_type, reply_id, reply_title,
               flow_response_json, reaction_emoji, media_id, location_latitude, error_code, system_type, system_new_wa_id,
               from_user_id, contact_name
        FROM staging.inbound_messages""")}
    assert rows["t1"][:4] == ("text", AT, "hi", "CLID1")
    assert rows["i1"][4:7] == ("button_reply", "b1", "Yes")
    assert rows["i2"][4:7] == ("list_reply", "l1", "Option")
    assert rows["i3"][7] == '{"a": 1}'
    assert rows["b1"][5:7] == ("STOP", "Stop promotions")
    assert rows["r1"][8] == "\u2764" and rows["r2"][8] is None
    assert rows["im"][9] == "media1"
    assert rows["lo"][10] == -23.5
    assert rows["un"][11] == 131051
    assert rows["sy"][12:14] == ("user_changed_number", "5511999991111")
    assert rows["ts"][1] == AT
    assert rows["t1"][14:] == ("BR.777", "Ana")
    assert query("SELECT change_type, new_wa_id FROM staging.identity_changes") == [("user_changed_number", "5511999991111")]
    assert query("SELECT wa_id, user_id FROM staging.customer_identities") == [("5511999990000", "BR.777")]


def test_bsuid_only_customer_gets_user_id_as_customer_id(landing, warehouse, query):
    msg = {"from_user_id": "US.13491208655302741918", "id": "u1", "timestamp": str(T), "type": "text", "text": {"body": "x"}}
    contacts = [{"profile": {"name": "Bo"}, "user_id": "US.13491208655302741918"}]
    write_lines(landing / "webhooks" / "m.jsonl", [envelope("W1", "messages", messages_value(messages=[msg], contacts=contacts))])
    load_all(warehouse, landing)
    assert query("SELECT customer_id, from_wa_id FROM staging.inbound_messages") == [("US.13491208655302741918", None)]


def test_management_fields_land_in_their_tables(landing, warehouse, query):
    lines = [
        envelope("W1", "message_template_status_update", {
            "event": "PAUSED", "message_template_id": 1234567, "message_template_name": "promo",
            "message_template_language": "en-US", "reason": "NONE", "message_template_category": "MARKETING",
            "other_info": {"title": "FIRST_PAUSE", "description": "paused 3h"}}, time=T),
        envelope("W1", "message_template_quality_update", {
            "previous_quality_score": "GREEN", "new_quality_score": "YELLOW", "message_template_id": 1234567,
            "message_template_name": "promo", "message_template_language": "en_US"}, time=T + 1),
        envelope("W1", "template_category_update", {
            "message_template_id": 1234567, "message_template_name": "promo", "message_template_language": "en_US",
            "previous_category": "UTILITY", "new_category": "MARKETING"}, time=T + 2),
        envelope("W1", "phone_number_quality_update", {
            "display_phone_number": "15550001111", "event": "UPGRADE", "current_limit": "TIER_1K", "old_limit": "TIER_250"}, time=T + 3),
        envelope("W1", "business_capability_update", {"max_daily_conversations_per_business": 2000,
                                                      "max_phone_numbers_per_business": 2}, time=T + 4),
        envelope("W1", "account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": "1751500000"}]}, time=T + 5),
        envelope("W1", "user_preferences", {**messages_value(), "user_preferences": [
            {"wa_id": "5511999990000", "detail": "User requested to stop marketing messages",
             "category": "marketing_messages", "value": "stop", "timestamp": T + 6}]}, time=T + 6),
        envelope("W1", "some_future_field", {"anything": [1, 2]}, time=T + 7),
        envelope("W1", "security", {"display_phone_number": "15550001111", "event": "PIN_CHANGED"}, time=T + 8),
    ]
    write_lines(landing / "webhooks" / "mgmt.jsonl", lines)
    load_all(warehouse, landing)
    assert query("SELECT template_id, template_language, event, other_info_title, event_at FROM staging.template_status_events") == [
        ("1234567", "en_US", "PAUSED", "FIRST_PAUSE", AT)]
    assert query("SELECT previous_quality_score, new_quality_score FROM staging.template_quality_events") == [("GREEN", "YELLOW")]
    assert query("SELECT notice, previous_category, new_category FROM staging.template_category_events") == [
        ("completed", "UTILITY", "MARKETING")]
    assert query("SELECT event, current_limit, old_limit FROM staging.phone_number_quality_events") == [("UPGRADE", "TIER_1K", "TIER_250")]
    assert query("SELECT max_daily_conversations_per_business, max_phone_numbers_per_business FROM staging.business_capability_events") == [
        ("2000", "2")]
    assert query("SELECT event, restriction_info->>'$[0].restriction_type' FROM staging.account_update_events") == [
        ("ACCOUNT_RESTRICTION", "RESTRICTED_BIZ_INITIATED_MESSAGING")]
    assert query("SELECT customer_id, value, changed_at FROM staging.user_preferences") == [
        ("5511999990000", "stop", datetime(2025, 7, 1, 12, 0, 6, tzinfo=timezone.utc))]
    assert query("SELECT field FROM staging.unknown_field_events") == [("some_future_field",)]
    assert query("SELECT field, is_documented_field FROM staging.other_webhook_events ORDER BY field") == [
        ("security", True), ("some_future_field", False)]
    assert ("other_webhook_events.field", "some_future_field", 1) in query("SELECT * FROM staging.unknown_values")


def test_unknown_status_value_is_kept_and_counted(landing, warehouse, query):
    statuses = [{"id": "m1", "status": "teleported", "timestamp": str(T), "recipient_id": "1"}]
    write_lines(landing / "webhooks" / "s.jsonl", [envelope("W1", "messages", messages_value(statuses=statuses))])
    load_all(warehouse, landing)
    assert query("SELECT status FROM staging.message_statuses") == [("teleported",)]
    assert query("SELECT column_name, value, occurrences FROM staging.unknown_values") == [
        ("message_statuses.status", "teleported", 1)]


def test_the_earliest_report_by_event_time_wins_whatever_the_arrival_order(landing, warehouse, query):
    def delivered(ts):
        contacts = [{"profile": {"name": "Ana"}, "wa_id": "551111", "user_id": "BR.111"}]
        return envelope("W1", "messages", messages_value(contacts=contacts, statuses=[
            {"id": "m1", "status": "delivered", "timestamp": str(ts), "recipient_id": "551111"}]))
    write_lines(landing / "webhooks" / "a-arrived-first.jsonl", [delivered(T + 60)])
    load_all(warehouse, landing)
    write_lines(landing / "webhooks" / "b-arrived-later.jsonl", [delivered(T)])
    load_all(warehouse, landing)
    assert query("SELECT status_at FROM staging.message_statuses") == [(AT,)]
    assert query("SELECT first_seen_at FROM staging.customer_identities") == [(AT,)]


def test_incremental_staging_equals_a_full_rebuild(landing, warehouse, query):
    from pipelines.staging_build import build_in_process

    days = [[{"id": f"m{i}", "status": s, "timestamp": str(T + 3600 * i + k), "recipient_id": "1"}
             for i in range(3) for k, s in enumerate(("sent", "delivered"))] for _ in range(2)]
    write_lines(landing / "webhooks" / "2.jsonl", [envelope("W1", "messages", messages_value(statuses=days[0][3:]))])
    load_all(warehouse, landing)
    write_lines(landing / "webhooks" / "1.jsonl", [envelope("W1", "messages", messages_value(statuses=days[1]))])
    load_all(warehouse, landing)
    snapshot = "SELECT * EXCLUDE (_load_id, _line_no, received_at) FROM staging.message_statuses ORDER BY ALL"
    incremental = query(snapshot)
    assert build_in_process(warehouse, full=True).full_refresh
    assert query(snapshot) == incremental
    assert len(incremental) == 6


def test_user_preferences_contacts_link_identities(landing, warehouse, query):
    value = {**messages_value(contacts=[{"profile": {"name": "Ana"}, "wa_id": "5511999990000", "user_id": "BR.42"}]),
             "user_preferences": [{"wa_id": "5511999990000", "user_id": "BR.42", "category": "marketing_messages",
                                   "value": "stop", "timestamp": T}]}
    write_lines(landing / "webhooks" / "p.jsonl", [envelope("W1", "user_preferences", value, time=T)])
    load_all(warehouse, landing)
    assert query("SELECT wa_id, user_id, first_seen_at FROM staging.customer_identities") == [("5511999990000", "BR.42", AT)]


def test_each_batched_message_gets_its_own_senders_contact(landing, warehouse, query):
    contacts = [{"profile": {"name": "Ana"}, "wa_id": "551111", "user_id": "BR.111"},
                {"profile": {"name": "Bo"}, "user_id": "BR.222"}]
    messages = [inbound("a", "text", {"body": "1"}, sender="551111"),
                {"from_user_id": "BR.222", "id": "b", "timestamp": str(T), "type": "text", "text": {"body": "2"}}]
    write_lines(landing / "webhooks" / "m.jsonl", [envelope("W1", "messages", messages_value(messages=messages, contacts=contacts))])
    load_all(warehouse, landing)
    assert query("SELECT message_id, customer_id, contact_name FROM staging.inbound_messages ORDER BY 1") == [
        ("a", "551111", "Ana"), ("b", "BR.222", "Bo")]


def test_group_statuses_keep_one_row_per_participant(landing, warehouse, query):
    statuses = [{"id": "g1", "status": "read", "timestamp": str(T), "recipient_id": "GROUP1", "recipient_type": "group",
                 "recipient_participant_id": p} for p in ("5511", "5522")]
    write_lines(landing / "webhooks" / "g.jsonl", [envelope("W1", "messages", messages_value(statuses=statuses))])
    load_all(warehouse, landing)
    assert query("SELECT recipient_participant_id FROM staging.message_statuses ORDER BY 1") == [("5511",), ("5522",)]


def test_out_of_range_timestamps_become_null_not_a_crash(landing, warehouse, query):
    statuses = [{"id": "m1", "status": "sent", "timestamp": "99999999999999999999", "recipient_id": "1"},
                {"id": "m2", "status": "sent", "timestamp": "1751371200000", "recipient_id": "1"}]
    write_lines(landing / "webhooks" / "s.jsonl", [envelope("W1", "messages", messages_value(statuses=statuses),
                                                            time=99999999999999999999)])
    load_all(warehouse, landing)
    assert query("SELECT message_id, status_at FROM staging.message_statuses ORDER BY 1") == [("m1", None), ("m2", None)]


def test_deliveries_with_an_unexpected_shape_are_counted_not_lost(landing, warehouse, query):
    write_lines(landing / "webhooks" / "odd.jsonl", [
        {"object": "whatsapp_business_account", "entry": {"id": "W1"}},
        envelope("W1", "messages", messages_value(statuses=[{"id": "m1", "status": "sent", "timestamp": str(T)}]))])
    load_all(warehouse, landing)
    assert query("SELECT _line_no FROM staging.unparsed_deliveries") == [(1,)]
    assert query("SELECT count(*) FROM staging.message_statuses") == [(1,)]
