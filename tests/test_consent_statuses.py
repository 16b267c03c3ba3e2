"""Consent statuses on hand-built timelines, one per status and per consent_scope setting: landing files through the
real loaders, staging, finance and compliance into a temp DuckDB file.

Sources of the expected values (section 11 of the shared domain notes, audit of 2026-12-01):
- WhatsApp Business Messaging Policy (business.whatsapp.com/policy, seen 2026-12-01): a business honours requests, on
  or off WhatsApp, to stop its communications -> an opt-out reaches every WABA of the business (portfolio scope).
- Meta, marketing messages stop/resume page (M-MKT, seen 2026-12-01): a stop is on marketing from the business,
  enforced with error 131050 -> a 131050 failure proves a stop; only marketing is blocked.
- Meta, "Identity Change" (M-ID, seen 2026-12-01): a security signal, re-verify; consent does not end.
- Meta, "Get opt-in for WhatsApp" (M-OPTIN, seen 2026-12-01): the opt-in names the business.
- Meta, Pricing on the WhatsApp Business Platform (updated Jul 1, 2026): a customer-service window opens when the
  user messages the business and lasts 24 hours; a template inside it answers the user.
"""
import csv
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import envelope, fetch, load_all, messages_value, write_lines
from pipelines.dbt_project import build as build_models
from pipelines.masking import install_masking

W1, W2, W3 = "WABA_1", "WABA_2", "WABA_3"  # W1 and W2: one business portfolio; W3: another business
N1A, N1B, N2, N3 = "PN_1A", "PN_1B", "PN_2", "PN_3"
WABA_OF = {N1A: W1, N1B: W1, N2: W2, N3: W3}
JAN1, JAN10, FEB1, FEB10, FEB12, MAR1, MAR10 = (
    "2026-01-01T09:00:00Z", "2026-01-10T12:00:00Z", "2026-02-01T12:00:00Z", "2026-02-10T12:00:00Z",
    "2026-02-12T12:00:00Z", "2026-03-01T12:00:00Z", "2026-03-10T12:00:00Z")

OPTED_OUT_ON_W1, STOPPED_ON_N1A, STOP_BY_131050, WINDOW = "447700900001", "447700900002", "447700900003", "447700900004"
CHAT = {"fr": ("447700900011", "Arrêt !"), "es": ("447700900012", "baja"), "pt": ("447700900013", "PARAR"),
        "hi": ("447700900014", "band   karo"), "en": ("447700900015", "Stop."), "de": ("447700900016", "Abmelden"),
        "it": ("447700900017", "basta")}
NOT_A_KEYWORD = "447700900018"  # wrote "please stop the delivery": a sentence, not a keyword
UNNAMED = "447700900019"  # opted in, but the register does not say which business the opt-in named

OPTINS = [  # customer_id, event, event_at, source, scope, evidence_ref, waba_id, wording, business_name
    (OPTED_OUT_ON_W1, "opt_in", JAN1, "website_form", "all", "ev-1", "", "Yes, send me WhatsApp messages from Acme",
     "Acme Ltd"),
    (OPTED_OUT_ON_W1, "opt_out", FEB1, "call_centre", "all", "ev-2", W1, "", ""),
    (STOPPED_ON_N1A, "opt_in", JAN1, "website_form", "all", "ev-3", "", "", "Acme Ltd"),
    (STOP_BY_131050, "opt_in", JAN1, "website_form", "all", "ev-4", "", "", "Acme Ltd"),
    (NOT_A_KEYWORD, "opt_in", JAN1, "website_form", "all", "ev-6", "", "", "Acme Ltd"),
    (UNNAMED, "opt_in", JAN1, "website_form", "all", "ev-7", "", "", ""),
] + [(customer, "opt_in", JAN1, "checkout", "all", f"ev-chat-{lang}", "", "", "Acme Ltd")
     for lang, (customer, _) in CHAT.items()]

SCOPES = ("portfolio", "waba", "number")
# message_id, sent_at, phone, recipient, category, {scope: expected status}
SENDS = [
    # opt-out recorded on WABA 1 only (no number): policy makes it the business's, so WABA 2 must honour it
    ("out_w2", FEB10, N2, OPTED_OUT_ON_W1, "UTILITY", {"portfolio": "opted_out", "waba": "covered", "number": "covered"}),
    ("out_w1", FEB10, N1B, OPTED_OUT_ON_W1, "UTILITY", dict.fromkeys(SCOPES, "opted_out")),
    ("out_w3", FEB10, N3, OPTED_OUT_ON_W1, "UTILITY", dict.fromkeys(SCOPES, "covered")),  # another business
    # marketing stop set on number 1A
    ("stop_1b", FEB10, N1B, STOPPED_ON_N1A, "MARKETING",
     {"portfolio": "marketing_stopped", "waba": "marketing_stopped", "number": "covered"}),
    ("stop_w2", FEB10, N2, STOPPED_ON_N1A, "MARKETING",
     {"portfolio": "marketing_stopped", "waba": "covered", "number": "covered"}),
    ("stop_utility", FEB10, N1A, STOPPED_ON_N1A, "UTILITY", dict.fromkeys(SCOPES, "covered")),  # only marketing stops
    # no user_preferences webhook: the 131050 failure is the only evidence of the stop
    ("f131050", JAN10, N2, STOP_BY_131050, "MARKETING", dict.fromkeys(SCOPES, "marketing_stopped")),
    ("after_131050", FEB10, N1A, STOP_BY_131050, "MARKETING",
     {"portfolio": "marketing_stopped", "waba": "covered", "number": "covered"}),
    ("after_resume", MAR10, N2, STOP_BY_131050, "MARKETING", dict.fromkeys(SCOPES, "covered")),
    # no opt-in, but the customer wrote to number 1A at 09:00
    ("window_reply", FEB10, N1A, WINDOW, "UTILITY", dict.fromkeys(SCOPES, "user_initiated_window")),
    ("window_other_number", FEB10, N1B, WINDOW, "UTILITY", dict.fromkeys(SCOPES, "missing")),
    ("window_closed", FEB12, N1A, WINDOW, "UTILITY", dict.fromkeys(SCOPES, "missing")),
    ("sentence", FEB10, N1A, NOT_A_KEYWORD, "UTILITY", dict.fromkeys(SCOPES, "covered")),
    ("unnamed", FEB10, N1A, UNNAMED, "UTILITY", dict.fromkeys(SCOPES, "covered")),
] + [(f"chat_{lang}", FEB10, N1A, customer, "UTILITY", dict.fromkeys(SCOPES, "opted_out"))
     for lang, (customer, _) in CHAT.items()]


def _ts(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _text(message_id: str, customer: str, at: str, body: str, phone: str) -> dict:
    message = {"from": customer, "id": message_id, "timestamp": str(_ts(at)), "type": "text", "text": {"body": body}}
    return envelope(WABA_OF[phone], "messages", messages_value(
        messages=[message], contacts=[{"wa_id": customer, "profile": {"name": "C"}}], phone_number_id=phone))


def _preference(customer: str, value: str, at: str, phone: str) -> dict:
    value_obj = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "4420000000", "phone_number_id": phone},
                 "contacts": [{"wa_id": customer, "profile": {"name": "C"}}],
                 "user_preferences": [{"wa_id": customer, "detail": f"User requested to {value} marketing messages",
                                       "category": "marketing_messages", "value": value, "timestamp": _ts(at)}]}
    return envelope(WABA_OF[phone], "user_preferences", value_obj)


def _failed(message_id: str, customer: str, at: str, code: int, phone: str) -> dict:
    status = {"id": message_id, "status": "failed", "timestamp": str(_ts(at) + 2), "recipient_id": customer,
              "errors": [{"code": code, "title": "Message failed to send because the user stopped marketing messages"}]}
    return envelope(WABA_OF[phone], "messages", messages_value(statuses=[status], phone_number_id=phone))


def write_landing(landing: Path, optins=OPTINS, keywords: list[tuple] | None = None, chats=None) -> None:
    (landing / "optins").mkdir(parents=True, exist_ok=True)
    with open(landing / "optins" / "consents.csv", "w", newline="") as f:
        csv.writer(f).writerows([("customer_id", "event", "event_at", "source", "scope", "evidence_ref", "waba_id",
                                  "wording", "business_name"), *optins])
    if keywords is not None:
        with open(landing / "optins" / "chat_keywords.csv", "w", newline="") as f:
            csv.writer(f).writerows([("language", "keyword", "match_rule", "action"), *keywords])
    (landing / "message_logs").mkdir(exist_ok=True)
    with open(landing / "message_logs" / "2026.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("message_id", "sent_at", "waba_id", "phone_number_id", "recipient_id", "message_type",
                    "template_name", "template_language", "template_category", "campaign", "agent"))
        for mid, at, phone, recipient, category, _ in SENDS:
            w.writerow((mid, at, WABA_OF[phone], phone, recipient, "template", f"{category.lower()}_tpl", "en",
                        category, "", ""))
    (landing / "business_manager").mkdir(exist_ok=True)
    (landing / "business_manager" / "accounts.csv").write_text(
        f"waba_id,business_portfolio_id,timezone\n{W1},BIZ_1,UTC\n{W2},BIZ_1,UTC\n{W3},BIZ_2,UTC\n")
    chats = chats if chats is not None else [(f"in_{lang}", customer, FEB1, body) for lang, (customer, body) in CHAT.items()]
    write_lines(landing / "webhooks" / "events.jsonl", [
        _preference(STOPPED_ON_N1A, "stop", FEB1, N1A),
        _failed("f131050", STOP_BY_131050, JAN10, 131050, N2),
        _preference(STOP_BY_131050, "resume", MAR1, N2),
        _text("in_window", WINDOW, "2026-02-10T09:00:00Z", "Hi, is my order on the way?", N1A),
        _text("in_sentence", NOT_A_KEYWORD, FEB1, "please stop the delivery", N1A),
        *[_text(mid, customer, at, body, N1A) for mid, customer, at, body in chats],
    ])


def build(landing: Path, warehouse: Path, scope: str = "portfolio") -> Path:
    load_all(warehouse, landing)
    build_models(warehouse, select="group:finance group:compliance", consent_scope=scope)
    return warehouse


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("consent_statuses")
    write_landing(root / "landing")
    return build(root / "landing", root / "portfolio.duckdb")



@pytest.mark.parametrize("scope", SCOPES)
def test_every_send_gets_the_status_the_policy_gives_under_each_scope(loaded, tmp_path, scope):
    warehouse = tmp_path / f"{scope}.duckdb"
    shutil.copyfile(loaded, warehouse)
    build_models(warehouse, select="group:compliance", consent_scope=scope)
    got = dict(fetch(warehouse, "SELECT message_id, consent_status FROM marts.optin_audit"))
    assert got == {mid: expected[scope] for mid, *_, expected in SENDS}
    assert fetch(warehouse, "SELECT DISTINCT consent_scope FROM marts.optin_audit") == [(scope,)]


def test_the_evidence_of_each_block_is_named(loaded):
    rows = {r[0]: r[1:] for r in fetch(loaded, """
        SELECT message_id, blocking_event, strftime(blocking_event_at, '%Y-%m-%d'), blocking_evidence_ref
        FROM marts.optin_audit WHERE blocking_event IS NOT NULL""")}
    assert rows["out_w2"] == ("opt_out", "2026-02-01", "ev-2")
    assert rows["stop_w2"] == ("marketing_stop", "2026-02-01", "webhooks/events.jsonl:1")
    # the failed message proves the stop from its own send time
    assert rows["f131050"] == ("error_131050", "2026-01-10", "f131050")
    assert rows["after_131050"] == ("error_131050", "2026-01-10", "f131050")
    assert rows["chat_fr"] == ("opt_out", "2026-02-01", "in_fr")
    timeline = fetch(loaded, "SELECT event_type, effect, source, evidence_ref, detail FROM marts.consent_timeline "
                             "WHERE customer_id = ? AND source = 'chat_keyword'", [CHAT["fr"][0]])
    assert timeline == [("opt_out", "revoke", "chat_keyword", "in_fr", "Arrêt !")]


def test_coverage_counts_permitted_statuses_and_each_apart(loaded):
    row = fetch(loaded, """SELECT sum(messages), sum(permitted), sum(covered), sum(user_initiated_window),
                                  sum(opted_out), sum(marketing_stopped), sum(missing)
                           FROM marts.optin_coverage_daily""")[0]
    expected = [s["portfolio"] for *_, s in SENDS]
    permitted = sum(s in ("covered", "covered_identity_changed", "user_initiated_window") for s in expected)
    assert row == (len(expected), permitted, expected.count("covered"), expected.count("user_initiated_window"),
                   expected.count("opted_out"), expected.count("marketing_stopped"), expected.count("missing"))


def test_wording_and_business_name_reach_the_audit_and_a_check_counts_unnamed_opt_ins(loaded):
    from pipelines.quality.catalogue import compliance_checks

    assert fetch(loaded, "SELECT optin_wording, optin_business_name FROM marts.optin_audit WHERE message_id = 'out_w3'") == [
        ("Yes, send me WhatsApp messages from Acme", "Acme Ltd")]
    check = next(c for c in compliance_checks() if c.name == "covering_optins_name_the_business")
    conn = duckdb.connect(str(loaded), read_only=True)
    try:
        outcome = check.evaluate(conn)
    finally:
        conn.close()
    assert check.level == "warn"
    assert (outcome.passed, outcome.observed) == (False, "1 found; e.g. ev-7")  # UNNAMED covers "unnamed" unnamed


def test_a_business_keyword_list_replaces_the_bundled_one_and_can_resume(tmp_path):
    chats = [("in_stop", CHAT["en"][0], FEB1, "STOP"),            # bundled keyword, not in the business's list
             ("in_alto", CHAT["es"][0], FEB1, "¡Alto!"),           # the business's opt-out keyword
             ("in_alto2", CHAT["pt"][0], FEB1, "alto"),
             ("in_volver", CHAT["pt"][0], "2026-02-05T12:00:00Z", "Volver")]  # ... taken back by its resume keyword
    write_landing(tmp_path / "landing", keywords=[("es", "ALTO", "whole_message", "opt_out"),
                                                  ("es", "VOLVER", "whole_message", "resume")], chats=chats)
    warehouse = build(tmp_path / "landing", tmp_path / "w.duckdb")
    got = dict(fetch(warehouse, "SELECT message_id, consent_status FROM marts.optin_audit WHERE message_id IN "
                                "('chat_en', 'chat_es', 'chat_pt')"))
    assert got == {"chat_en": "covered", "chat_es": "opted_out", "chat_pt": "covered"}


def waba(*args):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_an_auditor_can_verify_the_export_and_sees_what_changed(tmp_path):
    import json

    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    write_landing(landing)
    build(landing, warehouse)
    out = tmp_path / "audit.csv"
    result = waba("audit", "--from", "2026-01-01", "--to", "2026-03-31", "--warehouse", warehouse, "--out", out)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "audit.manifest.json").read_text())
    import hashlib

    assert manifest["csv"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["rows_by_status"]["opted_out"] == sum(s["portfolio"] == "opted_out" for *_, s in SENDS)
    assert manifest["settings"]["consent_scope"] == "portfolio"
    assert manifest["settings"]["chat_keywords"]["list"] == "bundled"
    sources = {s["file"]: s["sha256"] for s in manifest["sources"]}
    assert sources["optins/consents.csv"] == hashlib.sha256((landing / "optins" / "consents.csv").read_bytes()).hexdigest()
    assert "webhooks/events.jsonl" in sources and "message_logs/2026.csv" in sources

    verified = waba("audit", "--verify", out, "--warehouse", warehouse)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip().endswith("and the warehouse agree")

    # one consent row changes: the opt-out recorded on WABA 1 is dropped from the register, and the run reloads it
    write_landing(landing, optins=[row for row in OPTINS if row[5] != "ev-2"])
    build(landing, warehouse)
    changed = waba("audit", "--verify", out, "--warehouse", warehouse)
    assert changed.returncode == 1
    lines = [line.strip() for line in changed.stdout.splitlines()]
    assert any(line.startswith("source optins/consents.csv: changed (sha256") for line in lines), lines
    assert any(line.startswith("rows by status: the manifest says") for line in lines), lines
    # the masked export names rows by the keyed hash of their message id (pipelines/masking.py)
    conn = duckdb.connect(str(warehouse), read_only=True)
    install_masking(conn)
    (masked_out_w1,) = conn.execute("SELECT masked_id('out_w1')").fetchone()
    conn.close()
    assert f"row {masked_out_w1}: consent_status opted_out -> covered" in "\n".join(lines)
    assert lines[-1].startswith(f"NOT verified {out}")

    # the CSV itself edited by hand
    out.write_text(out.read_text().replace("opted_out", "covered", 1))
    tampered = waba("audit", "--verify", out, "--warehouse", warehouse)
    assert tampered.returncode == 1
    assert "audit.csv: changed since it was exported" in tampered.stdout


def test_verify_errors_are_one_line(tmp_path):
    lone = tmp_path / "lone.csv"
    lone.write_text("message_id\n")
    result = waba("audit", "--verify", lone)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"waba: error: {lone}: no manifest beside it (expected lone.manifest.json, written by `waba audit`)"]
    result = waba("audit", "--verify", lone, "--from", "2026-01-01")
    assert result.stderr.strip().splitlines() == [
        "waba: error: --verify takes the window and filter from the manifest; drop --from"]


def test_a_bad_consent_scope_setting_is_one_line(tmp_path):
    (tmp_path / "landing").mkdir()
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--landing", tmp_path / "landing",
                             "--warehouse", tmp_path / "w.duckdb", "--quiet"], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "WABA_CONSENT_SCOPE": "galaxy"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "waba: error: WABA_CONSENT_SCOPE='galaxy' is not a consent scope; choose one of portfolio, waba, number"]
    assert not (tmp_path / "w.duckdb").exists()


def test_reasons_never_repeat_a_message_id(loaded):
    # A wamid encodes the recipient's number (domain notes section 11 / DESIGN: masked output hashes it), so the
    # message ids behind a block stay in blocking_evidence_ref and never leak through the reason text.
    reasons = dict(fetch(loaded, "SELECT message_id, reason FROM marts.optin_audit"))
    message_ids = {"f131050", "in_window", "in_sentence"} | {f"in_{lang}" for lang in CHAT}
    assert [(mid, r) for mid, r in reasons.items() if any(m in r for m in message_ids)] == []
    assert reasons["after_131050"] == ("Meta failed a marketing message to this customer with 131050 (user stopped "
                                       "marketing) sent 2026-01-10 12:00:00 UTC from number PN_2 (message in "
                                       "blocking_evidence_ref) and no resume since")
