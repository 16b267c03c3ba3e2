"""Meta's documented webhook examples, end to end: every payload of tests/fixtures/webhooks/ (one file
per field and message type; index.csv names the Meta page and its "Updated" date for each) lands in the
staging tables the index names, nothing documented is flagged undocumented, and one payload per table is
checked column by column. Expected values are read off the fixture payloads, which follow the pages'
documented shapes; they are not computed by the code under test."""
import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import load_all, write_lines
from pipelines import dbt_project

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
INDEX = list(csv.DictReader(open(FIXTURES / "index.csv")))
T = 1780000000  # the fixtures' base timestamp, 2026-05-28 20:26:40 UTC


def webhook_models() -> set[str]:
    """The staging models built incrementally from webhook deliveries (tag webhook, in schema staging)."""
    return {n["name"] for n in dbt_project.manifest()["nodes"].values()
            if "webhook" in n.get("tags", []) and n.get("schema") == "staging"}


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(T + offset, timezone.utc)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    import duckdb
    root = tmp_path_factory.mktemp("corpus")
    for row in INDEX:  # one landing file per fixture, so every staged row names its fixture by load
        body = json.loads((FIXTURES / row["file"]).read_text())
        write_lines(root / "landing" / "webhooks" / (row["file"].removesuffix(".json") + ".jsonl"), [body])
    load_all(root / "w.duckdb", root / "landing", secret=None)
    conn = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    yield lambda sql, params=None: conn.execute(sql, params or []).fetchall()
    conn.close()


def test_every_fixture_names_its_page_and_date():
    assert len(INDEX) >= 60
    for row in INDEX:
        assert (FIXTURES / row["file"]).exists(), row["file"]
        assert row["page"] and row["page_updated"] and row["staged_into"], row


def test_every_webhook_field_meta_documents_has_a_fixture():
    vocabulary = list(csv.DictReader(open(Path(__file__).parents[1] / "models" / "reference" / "webhook_vocabulary.csv")))
    documented = {r["value"] for r in vocabulary if r["vocabulary"] == "webhook_field"}
    # Fields Meta lists without a payload reference, and the old singular spelling, have no example to copy.
    no_example = {"business_username_update", "account_settings_update", "consumer_profile", "messaging_handovers", "message_echoes"}
    assert documented - no_example <= {r["field"] for r in INDEX}


@pytest.mark.parametrize("row", INDEX, ids=[r["file"] for r in INDEX])
def test_each_payload_lands_where_the_index_says(corpus, row):
    load_id = corpus("SELECT load_id FROM raw.load_audit WHERE file_path LIKE ?", ["%/" + row["file"].removesuffix(".json") + ".jsonl"])[0][0]
    for table in row["staged_into"].split():
        if table in webhook_models():
            assert corpus(f"SELECT count(*) FROM staging.{table} WHERE _load_id = ?", [load_id])[0][0] > 0, (row["file"], table)
    assert corpus("SELECT count(*) FROM staging.unknown_field_events WHERE _load_id = ?", [load_id]) == [(0,)]
    assert corpus("SELECT count(*) FROM staging.unparsed_deliveries WHERE _load_id = ?", [load_id]) == [(0,)]


def test_nothing_documented_is_flagged_undocumented(corpus):
    assert corpus("SELECT * FROM staging.unknown_field_events") == []
    assert corpus("SELECT * FROM staging.unknown_values") == []
    # Kept whole, but known: the reference file lists each with the reason it is not modelled yet.
    assert corpus("SELECT field FROM staging.other_webhook_events WHERE NOT is_documented_field") == []


def test_calls_fold_into_one_row_per_call(corpus):
    # API and Webhook Reference (Calling API), Updated Jun 26, 2026: connect, status (RINGING / ACCEPTED),
    # terminate with start_time, end_time and duration, call_recording_available.
    # Calling API Pricing, Updated May 21, 2026: user-initiated calls are free; business-initiated calls are
    # charged in six-second pulses, a fraction counting as one (121 s -> 21 pulses); the service window opens
    # when a user calls, and when a user accepts the business's call.
    rows = corpus("""SELECT call_id, direction, customer_id, customer_user_id, connected_at, ringing_at, accepted_at, terminated_at,
                            final_status, started_at, ended_at, duration_seconds, is_billable, billable_pulses,
                            service_window_opened_at, recording_media_id, biz_opaque_callback_data, events
                     FROM staging.calls ORDER BY first_event_at""")
    assert rows == [
        ("wacid.HBgLMTY1MDUwNTEyMzQVAgASGCBVU0VSSU5JVElBVEVE", "USER_INITIATED", "16505551234", "US.13491208655302741918",
         at(50), None, None, at(200), "COMPLETED", at(55), at(200), 145, False, 0, at(50), None, None, 2),
        ("wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh", "BUSINESS_INITIATED", "16505551234", "US.13491208655302741918",
         at(300), at(302), at(310), at(431), "COMPLETED", at(310), at(431), 121, True, 21, at(310), "1002764438271669",
         "callback-7", 5),
    ]
    assert corpus("SELECT event, call_status, contact_name, contact_username FROM staging.call_events "
                  "WHERE call_id = 'wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh' ORDER BY event_at") == [
        ("connect", None, "Sheena Nelson", "sheena.n"), ("status", "RINGING", None, None), ("status", "ACCEPTED", None, None),
        ("terminate", "COMPLETED", "Sheena Nelson", "sheena.n"), ("call_recording_available", None, None, None)]


def test_call_permission_reply_is_typed(corpus):
    # Calling API reference, "User calling permission request webhook" (Jun 26, 2026).
    assert corpus("""SELECT interactive_type, call_permission_response, call_permission_is_permanent, call_permission_expires_at,
                            call_permission_source, context_message_id
                     FROM staging.inbound_messages WHERE interactive_type = 'call_permission_reply'""") == [
        ("call_permission_reply", "accept", False, at(7 * 86400), "user_action", "wamid.sH0kFlaCGg0xcvZbgmg90lHrg2dL")]


def test_group_webhooks_are_staged(corpus):
    # Webhooks for Groups API, Updated May 21, 2026.
    group = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
    assert corpus("""SELECT field, event_type, event_at, request_id, subject, invite_link, join_approval_mode, initiated_by,
                            is_success, error_code, error_title, error_details
                     FROM staging.group_events WHERE group_id = ? ORDER BY event_at""", [group]) == [
        ("group_lifecycle_update", "group_create", at(60), "6b1f5d3e-req-1", "Spring launch VIPs", "https://chat.whatsapp.com/LINK_ID",
         "auto_approve", None, True, None, None, None),
        ("group_lifecycle_update", "group_delete", at(61), "6b1f5d3e-req-2", None, None, None, None, False, "131215",
         "Group not found", "The group could not be found"),
        ("group_participants_update", "group_participants_add", at(62), None, None, None, None, None, True, None, None, None),
        ("group_participants_update", "group_participants_remove", at(63), None, None, None, None, "participant", True, None, None, None),
        ("group_participants_update", "group_join_request_created", at(64), None, None, None, None, None, True, None, None, None),
        ("group_settings_update", "group_settings_update", at(65), "6b1f5d3e-req-3", "Spring launch VIPs (2026)", None, None, None,
         True, None, None, None),
        ("group_status_update", "group_suspend", at(66), None, None, None, None, None, True, None, None, None),
    ]
    assert corpus("SELECT subject_update_successful, description_update_successful, picture_update_successful "
                  "FROM staging.group_events WHERE event_type = 'group_settings_update'") == [(True, False, True)]
    assert corpus("""SELECT change, participant_key, wa_id, user_id, username, reason, initiated_by, join_request_id
                     FROM staging.group_participants ORDER BY event_at""") == [
        ("added", "16505551234", "16505551234", "US.13491208655302741918", "sheena.n", "invite_link", None, None),
        ("removed", "16505550000", "16505550000", "US.55512000000000000001", None, None, "participant", None),
        ("join_requested", "AR.8411257903361299813", None, "AR.8411257903361299813", "pablo.morales", "invite_link", None, "MTIzNDU2Nzg5"),
    ]


def test_group_statuses_keep_the_group_and_participant_under_both_spellings(corpus):
    # Webhooks for Groups API (May 21, 2026) uses recipient_participant_id in one example and
    # participant_recipient_id in another.
    assert corpus("""SELECT status, group_id, recipient_participant_id, status_at FROM staging.message_statuses
                     WHERE recipient_type = 'group' ORDER BY status, recipient_participant_id""") == [
        ("delivered", "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD", "16505551234", at(31)),
        ("read", "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD", "16505550000", at(33)),
        ("read", "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD", "16505551234", at(32)),
    ]
    assert corpus("SELECT group_id FROM staging.inbound_messages WHERE message_id LIKE '%GROUP_TEXT'") == [
        ("Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD",)]


def test_referral_media_errors_and_profile_names_get_columns(corpus):
    # Text messages webhook reference (May 21, 2026): referral body, media_type, image_url, thumbnail_url, welcome_message.
    assert corpus("""SELECT referral_source_type, referral_source_id, referral_body, referral_media_type, referral_image_url,
                            referral_video_url, referral_thumbnail_url, referral_welcome_text, contact_name
                     FROM staging.inbound_messages WHERE message_type = 'text' AND referral_source_id IS NOT NULL""") == [
        ("ad", "120226305854810726", "Summer sale: 20% off", "image", "https://scontent.xx.fbcdn.net/v/t45.1600-4/sale.jpg", None,
         "https://scontent.xx.fbcdn.net/thumb.jpg", "Hi! How can we help?", "Sheena Nelson")]
    # Image messages webhook reference (Jun 17, 2026): id, mime_type, url, caption.
    assert corpus("SELECT media_id, media_mime_type, media_url, media_caption FROM staging.inbound_messages WHERE message_type = 'image'") == [
        ("1003383421387256", "image/jpeg", "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256", "Pink scarf")]
    # Unsupported messages webhook reference (Jun 26, 2026): errors on the message itself.
    assert corpus("SELECT error_code, error_title, error_message, error_details FROM staging.inbound_messages WHERE message_type = 'unsupported'") == [
        (131051, "Message type unknown", "Message type unknown", "Message type is currently not supported.")]
    # Errors messages webhooks reference (Jun 17, 2026): errors on the value, with href.
    assert corpus("SELECT field, error_code, error_title, error_message, error_details, error_href FROM staging.webhook_errors WHERE waba_id IS NOT NULL") == [
        ("messages", 130429, "Rate limit hit", "(#130429) Rate limit hit", "Cloud API message throughput has been reached.",
         "/documentation/business-messaging/whatsapp/support/error-codes")]
    # Status messages webhook reference (May 21, 2026): sent/delivered/read carry a contacts array since 2026.
    assert corpus("SELECT contact_name, biz_opaque_callback_data, pricing_type, pricing_category FROM staging.message_statuses WHERE status = 'sent'") == [
        ("Sheena Nelson", "campaign-42", "regular", "marketing")]
    assert corpus("SELECT contact_name, contact_username FROM staging.user_preferences") == [("Sheena Nelson", "sheena.n")]


def test_on_premises_bodies(corpus):
    # On-Premises API reference (domain file section 11, confirmed on Meta's page): voice { id, mime_type };
    # statuses deleted and warning; error details at the top level; system type user_identity_changed.
    assert corpus("SELECT message_type, media_id, media_mime_type, payload_format FROM staging.inbound_messages WHERE message_type = 'voice'") == [
        ("voice", "463eb7ec-ff4e-4d9b-b110-1879cbd411b2", "audio/ogg; codecs=opus", "onprem")]
    assert corpus("SELECT status, error_code, error_title, error_details FROM staging.message_statuses WHERE payload_format = 'onprem' ORDER BY status") == [
        ("deleted", None, None, None),
        ("warning", 1016, "Catalog item unavailable", "The catalog item in the message is no longer available")]
    assert corpus("SELECT error_code, error_title, error_details FROM staging.webhook_errors WHERE waba_id IS NULL") == [
        (1014, "Internal error", "Upload failed on bad image")]
    assert corpus("SELECT error_code, error_details FROM staging.inbound_messages WHERE message_type = 'unknown'") == [
        (501, "Message type is not currently supported")]
    assert corpus("""SELECT change_type, previous_wa_id, identity_hash, new_wa_id, source FROM staging.identity_changes
                     WHERE change_type = 'user_identity_changed'""") == [
        ("user_identity_changed", "16315551234", "Tlpmb25lSTZUb0RZYkE=", None, "system_message")]


def test_bsuid_only_contact_keeps_its_username_and_parent(corpus):
    # Business-scoped user IDs (Jun 29, 2026): wa_id and from omitted; user_id, parent_user_id, profile.username sent.
    assert corpus("SELECT wa_id, user_id, parent_user_id, username, profile_name, seen_at FROM staging.webhook_contacts WHERE wa_id IS NULL") == [
        (None, "AR.8411257903361299813", "AR.ENT.1181579921288684483", "pablo.morales", "Pablo", at(20))]
    assert corpus("""SELECT from_wa_id, from_user_id, from_parent_user_id, customer_id, contact_username FROM staging.inbound_messages
                     WHERE message_id = 'wamid.HBgLNTQ5MTEVAgASGBQzBSUIDONLY'""") == [
        (None, "AR.8411257903361299813", "AR.ENT.1181579921288684483", "AR.8411257903361299813", "pablo.morales")]


def test_identity_changes_and_rotation_build_one_chain(corpus):
    # System messages webhook reference (May 21, 2026): user_changed_number names the new number in system.wa_id.
    # Business-scoped user IDs (Jun 29, 2026): user_changed_user_id's body reads "changed from <old BSUID> to <new BSUID>",
    # system.user_id is the new one; user_id_update carries user_id.previous / current.
    assert corpus("""SELECT change_type, previous_wa_id, previous_user_id, new_wa_id, new_user_id, changed_at, source
                     FROM staging.identity_changes WHERE waba_id IS NOT NULL ORDER BY changed_at""") == [
        ("user_changed_number", "16505551234", None, "12195555358", None, at(21), "system_message"),
        ("user_changed_user_id", "12195555358", "US.13491208655302741918", "12195555358", "US.88120033451190021234", at(22), "system_message"),
        ("user_id_update", None, "US.88120033451190021234", "12195555358", "US.99000011112222333344", at(70), "user_id_update"),
    ]
    assert corpus("SELECT wa_id, user_id, username, valid_from, valid_to, link_sources FROM staging.customer_identities ORDER BY valid_from") == [
        ("16505551234", "US.13491208655302741918", "sheena.n", at(1), at(21), ["contact", "message"]),
        ("12195555358", "US.88120033451190021234", None, at(22), at(70), ["system_message"]),
        ("12195555358", "US.99000011112222333344", None, at(70), None, ["user_id_update"]),
    ]


def test_the_vocabulary_says_where_each_value_goes_or_why_not():
    STAGING_DIR = Path(__file__).parents[1] / "models" / "staging"
    vocabulary = list(csv.DictReader(open(Path(__file__).parents[1] / "models" / "reference" / "webhook_vocabulary.csv")))
    assert len({(r["vocabulary"], r["value"]) for r in vocabulary}) == len(vocabulary)  # no value listed twice
    for r in vocabulary:
        assert r["status"] in ("staged", "documented"), r
        assert r["source"], r
        assert all((STAGING_DIR / f"{t}.sql").exists() for t in r["staged_into"].split()), r
        if r["status"] == "documented":  # kept whole, not modelled yet: it must say why
            assert r["staged_into"] == "other_webhook_events" and r["reason"], r
