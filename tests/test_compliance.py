"""Consent audit rules on hand-built timelines: landing files through the real loaders, staging, finance and
compliance into a temp DuckDB file. Every expected status below is written by hand from the documented rules."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import envelope, fetch, load_all, messages_value, write_lines
from pipelines.dbt_project import build as build_models

WA, WB = "WABA_A", "WABA_B"  # WABA_A keeps Sao Paulo time, WABA_B UTC
PA, PB = "PN_A", "PN_B"
JAN1, JAN10, JAN15, JAN20, JAN25 = ("2026-01-01T09:00:00Z", "2026-01-10T12:00:00Z", "2026-01-15T12:00:00Z",
                                     "2026-01-20T12:00:00Z", "2026-01-25T12:00:00Z")
FEB1, FEB10, MAR1, MAR10 = "2026-02-01T12:00:00Z", "2026-02-10T12:00:00Z", "2026-03-01T12:00:00Z", "2026-03-10T12:00:00Z"

# customer ids: phone numbers (wa_id) and one business-scoped user id
STOPPER, OUT_AND_BACK, SCOPED = "5511900000001", "5511900000002", "5511900000003"
MOVER_OLD, MOVER_NEW = "5511900000004", "5511900000005"
BY_PHONE, BY_USER_ID = "5511900000006", "BR.1234567890123456"
NOBODY, LATE, NEW_KEY, MOVER_OPTED_OUT, MOVER_OPTED_OUT_NEW = (
    "5511900000007", "5511900000008", "5511900000009", "5511900000010", "5511900000011")
OTHER_WABA = "447700900012"

OPTINS = [  # customer_id, event, event_at, source, scope, evidence_ref, waba_id
    (STOPPER, "opt_in", JAN1, "website_form", "all", "ev-stopper", ""),
    (OUT_AND_BACK, "opt_in", JAN1, "checkout", "all", "ev-oab-1", ""),
    (OUT_AND_BACK, "opt_out", FEB1, "whatsapp_keyword", "all", "ev-oab-2", ""),
    (OUT_AND_BACK, "opt_in", MAR1, "website_form", "marketing", "ev-oab-3", ""),
    (SCOPED, "opt_in", JAN1, "in_store", "utility", "ev-scoped", WA),
    (MOVER_OLD, "opt_in", JAN1, "website_form", "all", "ev-mover-1", ""),
    (MOVER_NEW, "opt_in", MAR1, "website_form", "all", "ev-mover-2", ""),
    (BY_PHONE, "opt_in", JAN1, "ctwa_ad", "all", "ev-by-phone", ""),
    (LATE, "opt_in", JAN20, "website_form", "all", "ev-late", ""),
    (NEW_KEY, "opt_in", JAN1, "website_form", "all", "ev-new-key", ""),
    (MOVER_OPTED_OUT, "opt_in", JAN1, "website_form", "all", "ev-moo-1", ""),
    (MOVER_OPTED_OUT, "opt_out", JAN15, "whatsapp_keyword", "all", "ev-moo-2", ""),
    (OTHER_WABA, "opt_in", JAN1, "website_form", "all", "ev-other-waba", WA),
]

# message_id, sent_at, waba, phone, recipient, category, expected status
SENDS = [
    ("m_stop_mkt", FEB10, WA, PA, STOPPER, "MARKETING", "marketing_stopped"),  # stop in force
    ("m_stop_utl", FEB10, WA, PA, STOPPER, "UTILITY", "covered"),           # a stop only blocks marketing
    ("m_resume_mkt", MAR10, WA, PA, STOPPER, "MARKETING", "covered"),       # resumed
    ("m_other_number", FEB10, WA, PB, STOPPER, "MARKETING", "marketing_stopped"),  # a stop is on the business (M-MKT)
    ("m_oab_before", JAN10, WA, PA, OUT_AND_BACK, "UTILITY", "covered"),
    ("m_oab_out", FEB10, WA, PA, OUT_AND_BACK, "UTILITY", "opted_out"),
    ("m_oab_back_mkt", MAR10, WA, PA, OUT_AND_BACK, "MARKETING", "covered"),  # re-opted in for marketing
    ("m_oab_back_utl", MAR10, WA, PA, OUT_AND_BACK, "UTILITY", "opted_out"),  # ... but not for utility
    ("m_scope_mkt", JAN10, WA, PA, SCOPED, "MARKETING", "out_of_scope"),
    ("m_scope_utl", JAN10, WA, PA, SCOPED, "UTILITY", "covered"),
    ("m_scope_other_waba", JAN10, WB, PB, SCOPED, "UTILITY", "missing"),  # opted in with WABA_A only
    ("m_mover_before", JAN10, WA, PA, MOVER_OLD, "UTILITY", "covered"),
    ("m_mover_new", FEB10, WA, PA, MOVER_NEW, "UTILITY", "covered_identity_changed"),  # same person, new number: review
    ("m_mover_old", FEB10, WA, PA, MOVER_OLD, "UTILITY", "number_reassigned"),  # the old number's next holder
    ("m_mover_new_again", MAR10, WA, PA, MOVER_NEW, "UTILITY", "covered"),     # opted in again on the new number
    ("m_mover_old_later", MAR10, WA, PA, MOVER_OLD, "UTILITY", "number_reassigned"),  # that opt-in stays with the person
    ("m_user_id", MAR10, WA, PA, BY_USER_ID, "MARKETING", "covered"),  # consent recorded under the phone number
    ("m_nobody", JAN10, WA, PA, NOBODY, "AUTHENTICATION", "missing"),
    ("m_late_before", JAN10, WB, PB, LATE, "UTILITY", "after_send"),
    ("m_late_after", JAN25, WB, PB, LATE, "UTILITY", "covered"),
    ("m_new_key", FEB10, WB, PB, NEW_KEY, "UTILITY", "covered_identity_changed"),  # security code changed (M-ID)
    ("m_moo", FEB10, WA, PA, MOVER_OPTED_OUT_NEW, "UTILITY", "opted_out"),  # a 'no' follows the person
    ("m_other_waba", JAN10, WB, PB, OTHER_WABA, "MARKETING", "missing"),
    ("m_sao_paulo_evening", "2026-01-11T01:30:00Z", WA, PA, STOPPER, "UTILITY", "covered"),  # 2026-01-10 local
]


def _ts(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _preference(customer: str, value: str, at: str, phone: str) -> dict:
    value_obj = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "5511300000", "phone_number_id": phone},
                 "contacts": [{"wa_id": customer, "profile": {"name": "C"}}],
                 "user_preferences": [{"wa_id": customer, "detail": f"User requested to {value} marketing messages",
                                       "category": "marketing_messages", "value": value, "timestamp": _ts(at)}]}
    return envelope(WA, "user_preferences", value_obj)


def _system(message_id: str, sender: str, at: str, kind: str, new_wa_id: str | None = None) -> dict:
    system = {"body": f"{kind} notice", "type": kind}
    if new_wa_id:
        system["wa_id"] = new_wa_id
    message = {"from": sender, "id": message_id, "timestamp": str(_ts(at)), "type": "system", "system": system}
    return envelope(WA, "messages", messages_value(messages=[message], phone_number_id=PA))


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("consent")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    (landing / "optins").mkdir(parents=True)
    with open(landing / "optins" / "optins.csv", "w", newline="") as f:
        csv.writer(f).writerows([("customer_id", "event", "event_at", "source", "scope", "evidence_ref", "waba_id"), *OPTINS])
    (landing / "message_logs").mkdir()
    with open(landing / "message_logs" / "2026.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("message_id", "sent_at", "waba_id", "phone_number_id", "recipient_id", "message_type",
                    "template_name", "template_language", "template_category", "campaign", "agent"))
        for mid, at, waba, phone, recipient, category, _ in SENDS:
            w.writerow((mid, at, waba, phone, recipient, "template", f"{category.lower()}_tpl", "en", category,
                        "spring_promo" if category == "MARKETING" else "", ""))
    (landing / "business_manager").mkdir()
    (landing / "business_manager" / "accounts.csv").write_text(
        f"waba_id,timezone\n{WA},America/Sao_Paulo\n{WB},UTC\n")
    link = messages_value(messages=[{"from": BY_PHONE, "from_user_id": BY_USER_ID, "id": "in_link",
                                     "timestamp": str(_ts(FEB1)), "type": "text", "text": {"body": "hi"}}],
                          contacts=[{"wa_id": BY_PHONE, "user_id": BY_USER_ID, "profile": {"name": "P"}}], phone_number_id=PA)
    write_lines(landing / "webhooks" / "events.jsonl", [
        _preference(STOPPER, "stop", FEB1, PA),
        _preference(STOPPER, "resume", MAR1, PA),
        _system("sys_mover", MOVER_OLD, FEB1, "user_changed_number", MOVER_NEW),
        _system("sys_key", NEW_KEY, FEB1, "customer_identity_changed"),
        _system("sys_moo", MOVER_OPTED_OUT, FEB1, "customer_changed_number", MOVER_OPTED_OUT_NEW),
        envelope(WA, "messages", link),
    ])
    load_all(warehouse, landing)
    build_models(warehouse, select="group:finance group:compliance")
    return warehouse



def test_every_send_gets_the_status_the_rules_give(audited):
    got = dict(fetch(audited, "SELECT message_id, consent_status FROM marts.optin_audit"))
    assert got == {mid: status for mid, *_, status in SENDS}


def test_the_audit_names_the_opt_in_or_what_overrode_it(audited):
    rows = {r[0]: r[1:] for r in fetch(audited, """
        SELECT message_id, strftime(optin_at, '%Y-%m-%d'), optin_source, optin_scope, evidence_ref, optin_recorded_under,
               blocking_event, strftime(blocking_event_at, '%Y-%m-%d'), blocking_evidence_ref
        FROM marts.optin_audit""")}
    assert rows["m_user_id"] == ("2026-01-01", "ctwa_ad", "all", "ev-by-phone", BY_PHONE, None, None, None)
    assert rows["m_oab_back_utl"] == ("2026-01-01", "checkout", "all", "ev-oab-1", OUT_AND_BACK,
                                      "opt_out", "2026-02-01", "ev-oab-2")
    assert rows["m_stop_mkt"][5:7] == ("marketing_stop", "2026-02-01")
    assert rows["m_stop_mkt"][7] == "webhooks/events.jsonl:1"
    # the mover keeps their consent (flagged for review); the number they left passed on, with the old opt-in
    assert rows["m_mover_new"] == ("2026-01-01", "website_form", "all", "ev-mover-1", MOVER_OLD, None, None, None)
    assert rows["m_mover_old"] == ("2026-01-01", "website_form", "all", "ev-mover-1", MOVER_OLD,
                                   "user_changed_number", "2026-02-01", "sys_mover")
    review = fetch(audited, "SELECT review_event, strftime(review_event_at, '%Y-%m-%d'), review_evidence_ref "
                            "FROM marts.optin_audit WHERE message_id IN ('m_mover_new', 'm_new_key') ORDER BY message_id")
    assert review == [("user_changed_number", "2026-02-01", "sys_mover"),
                      ("customer_identity_changed", "2026-02-01", "sys_key")]
    assert rows["m_scope_mkt"][:4] == ("2026-01-01", "in_store", "utility", "ev-scoped")
    assert rows["m_late_before"][:4] == ("2026-01-20", "website_form", "all", "ev-late")
    assert rows["m_nobody"] == (None,) * 8


def test_every_row_says_why(audited):
    reasons = dict(fetch(audited, "SELECT message_id, reason FROM marts.optin_audit"))
    assert all(reasons.values())
    assert reasons["m_stop_mkt"] == ("the customer stopped marketing messages on number PN_A on 2026-02-01 12:00:00 UTC "
                                     "and had not resumed")
    assert reasons["m_scope_mkt"] == "opted in for utility only (recorded 2026-01-01 09:00:00 UTC); no opt-in covers marketing"
    assert reasons["m_nobody"] == "no opt-in covering authentication recorded for this customer or any id linked to them"


def test_timeline_follows_the_person_not_the_number(audited):
    def events(customer):
        return fetch(audited, "SELECT event_type, recorded_under, relation FROM marts.consent_timeline "
                              "WHERE customer_id = ? ORDER BY event_at, event_type", [customer])
    # the new number sees its holder's earlier opt-in, the change, and the new opt-in
    assert events(MOVER_NEW) == [("opt_in", MOVER_OLD, "earlier_id"), ("user_changed_number", MOVER_NEW, "self"),
                                 ("opt_in", MOVER_NEW, "self")]
    # the old number keeps its history, but nothing recorded for the person after they left it
    assert events(MOVER_OLD) == [("opt_in", MOVER_OLD, "self"), ("user_changed_number", MOVER_OLD, "self")]
    assert events(BY_USER_ID) == [("opt_in", BY_PHONE, "same_person"), ("id_link", BY_USER_ID, "self")]


def test_daily_coverage_counts_by_local_day(audited):
    rows = fetch(audited, """SELECT day::VARCHAR, category, messages, covered, coverage_rate::VARCHAR, missing, out_of_scope
                             FROM marts.optin_coverage_daily WHERE waba_id = ? AND day BETWEEN '2026-01-09' AND '2026-01-10'
                             ORDER BY day, category""", [WA])
    # WABA_A on 01-10: utility to the out-and-back, scoped, mover and stopper customers (the stopper's at 01:30 UTC
    # on 01-11, still 01-10 in Sao Paulo), marketing to the scoped customer, authentication to nobody's number
    assert rows == [("2026-01-10", "authentication", 1, 0, "0.0000", 1, 0),
                    ("2026-01-10", "marketing", 1, 0, "0.0000", 0, 1),
                    ("2026-01-10", "utility", 4, 4, "1.0000", 0, 0)]


COMPLIANCE_TABLES = ["consent_timeline", "optin_audit", "optin_coverage_daily"]  # docs/compliance.md


def test_every_compliance_table_and_column_is_documented(audited):
    undocumented = fetch(audited, """SELECT table_name, column_name FROM duckdb_columns()
                                     WHERE schema_name = 'marts' AND table_name IN ? AND comment IS NULL""",
                         [COMPLIANCE_TABLES])
    assert undocumented == []
    assert len(fetch(audited, "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name IN ? "
                              "AND comment IS NOT NULL", [COMPLIANCE_TABLES])) == 3


def waba(*args):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def _masked_with_ids(audited, out, *args) -> list[dict]:
    """The masked export's rows, each given its real message id from the unmasked export (same row order)."""
    plain = out.with_name("plain.csv")
    assert waba("audit", *args, "--warehouse", audited, "--out", plain, "--unmasked").returncode == 0
    masked = list(csv.DictReader(out.open()))
    ids = [r["message_id"] for r in csv.DictReader(plain.open())]
    assert len(ids) == len(masked) and not any(r["message_id"] in ids for r in masked)  # message ids are hashed
    return [{**row, "message_id": message_id} for row, message_id in zip(masked, ids)]


def test_audit_export_masks_numbers_unless_asked(audited, tmp_path):
    out = tmp_path / "audit.csv"
    args = ("--from", "2026-02-01", "--to", "2026-02-28", "--status", "opted_out", "number_reassigned",
            "covered_identity_changed")
    result = waba("audit", *args, "--warehouse", audited, "--out", out)
    assert result.returncode == 0, result.stderr
    rows = _masked_with_ids(audited, out, *args)
    assert sorted(r["message_id"] for r in rows) == ["m_moo", "m_mover_new", "m_mover_old", "m_new_key", "m_oab_out"]
    by_id = {r["message_id"]: r for r in rows}
    assert by_id["m_mover_new"]["customer"] == "+55*********05"
    assert by_id["m_mover_new"]["optin_recorded_under"] == "+55*********04"
    assert by_id["m_mover_new"]["evidence_ref"] == "ev-mover-1"
    assert result.stdout.strip() == (f"wrote {out} and audit.manifest.json: 5 business-initiated messages: "
                                     "covered_identity_changed 2, opted_out 2, number_reassigned 1")
    waba("audit", "--from", "2026-03-10", "--to", "2026-03-10", "--warehouse", audited, "--out", out, "--unmasked")
    customers = {r["message_id"]: r["customer"] for r in csv.DictReader(out.open())}
    assert customers["m_user_id"] == BY_USER_ID and customers["m_mover_new_again"] == MOVER_NEW
    waba("audit", "--from", "2026-03-10", "--to", "2026-03-10", "--warehouse", audited, "--out", out)
    customers = {r["message_id"]: r["customer"] for r in _masked_with_ids(audited, out, "--from", "2026-03-10", "--to", "2026-03-10")}
    assert customers["m_user_id"] == "BR.**************56"


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-02-30", "--to", "2026-03-01"], "waba: error: --from expects a date like 2026-01-31, got '2026-02-30'"),
    (["--from", "2026-03-01", "--to", "2026-02-01"], "waba: error: --to 2026-02-01 is before --from 2026-03-01"),
    (["--from", "2026-01-01", "--to", "2026-02-01", "--status", "consented"],
     "waba: error: unknown consent status consented; choose from opted_out, marketing_stopped, number_reassigned, "
     "covered_identity_changed, covered, user_initiated_window, out_of_scope, after_send, missing"),
])
def test_audit_export_errors_are_one_line(audited, tmp_path, args, message):
    result = waba("audit", *args, "--warehouse", audited, "--out", tmp_path / "a.csv")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message]


def test_audit_export_without_a_warehouse_is_one_line(tmp_path):
    result = waba("audit", "--from", "2026-01-01", "--to", "2026-01-31", "--warehouse", tmp_path / "none.duckdb",
                  "--out", tmp_path / "a.csv")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"waba: error: {tmp_path / 'none.duckdb'}: no warehouse here; run `waba run` first (or pass --warehouse)"]
    assert not (tmp_path / "none.duckdb").exists()
