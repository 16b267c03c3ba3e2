"""Template history: pauses by kind, quality changes, re-categorisation, daily send outcomes and the early warning."""
from datetime import date, datetime, timezone

from growth_helpers import build, management, send_log, template_snapshot

TID = 1234567890


def tpl(at: str, field: str, **value) -> tuple:
    base = {"message_template_id": TID, "message_template_name": "promo", "message_template_language": "en-US"}
    return ("W1", at, field, {**base, **value})


def test_a_templates_quality_story_and_its_early_warning(landing, warehouse, query):
    template_snapshot(landing, "2026-01-01 00:00", [("W1", str(TID), "promo", "en_US", "UTILITY", "APPROVED", "GREEN")])
    template_snapshot(landing, "2026-02-01 00:00", [("W1", str(TID), "promo", "en_US", "MARKETING", "APPROVED", "RED")])
    management(landing, "templates", [
        tpl("2026-01-05 03:00", "message_template_quality_update", previous_quality_score="GREEN", new_quality_score="YELLOW"),
        tpl("2026-01-10 03:00", "message_template_quality_update", previous_quality_score="YELLOW", new_quality_score="RED"),
        tpl("2026-01-10 03:00", "message_template_status_update", event="PAUSED", reason="NONE",
            other_info={"title": "FIRST_PAUSE", "description": "paused for 3 hours"}),
        tpl("2026-01-10 06:00", "message_template_status_update", event="REINSTATED", reason="NONE", other_info={"title": "UNPAUSE"}),
        tpl("2026-01-14 03:00", "template_category_update", new_category="UTILITY", correct_category="MARKETING",
            category_update_timestamp=1768446000),   # 2026-01-15 03:00
        tpl("2026-01-15 03:00", "template_category_update", previous_category="UTILITY", new_category="MARKETING"),
        tpl("2026-01-20 03:00", "message_template_status_update", event="PAUSED", reason="NONE"),  # no other_info: the second
        tpl("2026-01-20 09:00", "message_template_status_update", event="REINSTATED", reason="NONE"),
    ])
    send_log(landing, [(f"m{i}", "2026-01-10 12:00", "W1", "PN1", f"c{i}", "promo") for i in range(4)])
    # Two of the four fail, one with each error code; one is read.
    from conftest import envelope, messages_value, write_lines
    at = str(int(datetime(2026, 1, 10, 12, 1, tzinfo=timezone.utc).timestamp()))
    statuses = [{"id": "m0", "status": "failed", "timestamp": at, "recipient_id": "c0", "errors": [{"code": 131049}]},
                {"id": "m1", "status": "failed", "timestamp": at, "recipient_id": "c1", "errors": [{"code": 131026}]},
                {"id": "m2", "status": "delivered", "timestamp": at, "recipient_id": "c2"},
                {"id": "m2", "status": "read", "timestamp": at, "recipient_id": "c2"},
                {"id": "m3", "status": "delivered", "timestamp": at, "recipient_id": "c3"}]
    write_lines(landing / "webhooks" / "statuses.jsonl", [envelope("W1", "messages", messages_value(statuses=statuses))])
    build(warehouse, landing)

    events = query("SELECT event_at::DATE, kind, value_from, value_to, pause_kind, source FROM marts.template_events ORDER BY event_at, kind")
    assert events == [
        (date(2026, 1, 5), "quality", "GREEN", "YELLOW", None, "webhook"),
        (date(2026, 1, 10), "quality", "YELLOW", "RED", None, "webhook"),
        (date(2026, 1, 10), "status", "APPROVED", "PAUSED", "FIRST_PAUSE", "webhook"),
        (date(2026, 1, 10), "status", "PAUSED", "REINSTATED", "UNPAUSE", "webhook"),
        (date(2026, 1, 14), "category_notice", "UTILITY", "MARKETING", None, "webhook"),
        (date(2026, 1, 15), "category", "UTILITY", "MARKETING", None, "webhook"),
        (date(2026, 1, 20), "status", "REINSTATED", "PAUSED", "SECOND_PAUSE", "webhook"),   # inferred from the count
        (date(2026, 1, 20), "status", "PAUSED", "REINSTATED", None, "webhook"),
        (date(2026, 2, 1), "status", "REINSTATED", "APPROVED", None, "snapshot"),           # only the snapshot says so
    ]
    day = query("""SELECT status, quality_score, category, status_changes, quality_change, sent, delivered, read, failed,
                          failed_by_error_code, read_rate, failure_rate
                   FROM marts.template_health_daily WHERE day = '2026-01-10'""")
    assert day == [("REINSTATED", "RED", "UTILITY", ["PAUSED (FIRST_PAUSE)", "REINSTATED (UNPAUSE)"], "YELLOW -> RED",
                    4, 2, 1, 2, {131026: 1, 131049: 1}, 0.5, 0.5)]
    assert query("SELECT category, recategorised FROM marts.template_health_daily WHERE day = '2026-01-15'") == [("MARKETING", "UTILITY -> MARKETING")]

    # As of 2026-02-01 (the last day of data): RED, paused on 01-20 (within 30 days), moved to the dearer marketing
    # category on 01-15 (within 30 days), two quality pauses already (a third would disable it).
    health = query("""SELECT as_of, status, quality_score, pauses, first_pause_at::DATE, second_pause_at::DATE, recategorised_from,
                             risk_reasons, at_risk FROM marts.template_health""")
    assert health == [(date(2026, 2, 1), "APPROVED", "RED", 2, date(2026, 1, 10), date(2026, 1, 20), "UTILITY",
                       ["quality_red", "paused_last_30d", "recategorised_dearer", "approaching_disable"], True)]
