"""One person across every mart: a hand-built landing folder run through the real pipeline (Dagster assets, a DuckDB
file on disk), read back from the finance, growth and compliance marts.

Sources of the expected values:
- Meta, "Business-scoped user IDs" (M-BSUID, updated Jun 29, 2026): a BSUID identifies one user to one business
  portfolio; webhooks name it beside the phone number (contacts[].user_id, statuses[].recipient_user_id) and alone
  when the user shows only a username; a user_id_update announces that a user's BSUID changed (previous -> current),
  so both BSUIDs are the same user; a new BSUID is generated when the user changes phone number.
- Meta, System messages webhook reference (May 21, 2026): user_changed_number is sent when the user moved to a new
  number; the old number can then be another person's (domain notes section 11: a number passing to a new owner is a
  new person and ends consent).
- Meta, "Messaging Limits" (M-LIM, May 21, 2026): the limit counts unique users a message was delivered to outside a
  customer-service window in a moving 24 h; one person seen by number and by BSUID is one user (domain notes, [I]).
- Meta, "Pricing on the WhatsApp Business Platform" (Jul 1, 2026): a customer-service window lasts 24 hours from the
  user's last message.

The life (2026, portfolio BIZ_1, every template delivered):
  Sat 05-30 09:00  Ana writes from her number ANA_N; the contact carries her BSUID A1 (M-BSUID: both are named).
  Mon 06-01 07:00  the business records Ana's opt-in under her phone number.
  Mon 06-01 20:00  m1 -> ANA_N (by number; her window closed Sun 09:00).
  Tue 06-02 12:00  m2 -> A1, BSUID-only (no number anywhere in log or status).
  Tue 06-02 13:00  user_id_update A1 -> A2.
  Tue 06-02 18:00  m3 -> A2, BSUID-only.
  Wed 06-03 09:00  Ana announces user_changed_number ANA_N -> ANA_NEW: ANA_N passes on.
  Thu 06-04 10:00  m4 -> ANA_N: its status names the new holder Bo's BSUID B1.
  Thu 06-04 11:00  m5 -> B1, BSUID-only.
Expected by hand: m1-m3 are Ana (one person: ANA_N, A1, A2, ANA_NEW), m4-m5 are Bo (ANA_N's second tenure, B1).
"""
import csv
from datetime import datetime, timezone

import pytest

from conftest import envelope, fetch, messages_value, write_lines
from pipelines.run import run_pipeline

ANA_N, ANA_NEW, A1, A2 = "5511988880001", "5511988880002", "BR.A1000000001", "BR.A2000000002"
B1 = "BR.B1000000001"
WABA, PN, SECRET = "WABA_P", "PN_P", "one-person-secret"
SENDS = {  # message id: (sent_at, recipient as the send log has it, whether the status also names the number)
    "m1": ("2026-06-01T20:00:00Z", ANA_N, A1),
    "m2": ("2026-06-02T12:00:00Z", A1, None),
    "m3": ("2026-06-02T18:00:00Z", A2, None),
    "m4": ("2026-06-04T10:00:00Z", ANA_N, B1),
    "m5": ("2026-06-04T11:00:00Z", B1, None),
}


def ts(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def delivered(mid: str, at: str, recipient: str, user_id: str | None) -> dict:
    status = {"id": mid, "status": "delivered", "timestamp": str(ts(at) + 5),
              "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}}
    if recipient.startswith("BR."):  # M-BSUID: a message sent to a BSUID reports only the BSUID
        status["recipient_user_id"] = recipient
    else:
        status["recipient_id"] = recipient
        if user_id:
            status["recipient_user_id"] = user_id
    return envelope(WABA, "messages", messages_value(statuses=[status], phone_number_id=PN))


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    root = tmp_path_factory.mktemp("one_person")
    landing = root / "landing"
    write_lines(landing / "webhooks" / "life.jsonl", [
        envelope(WABA, "messages", messages_value(
            contacts=[{"profile": {"name": "Ana"}, "wa_id": ANA_N, "user_id": A1}], phone_number_id=PN,
            messages=[{"from": ANA_N, "from_user_id": A1, "id": "in1", "timestamp": str(ts("2026-05-30T09:00:00Z")),
                       "type": "text", "text": {"body": "Hello"}}])),
        envelope(WABA, "user_id_update", {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PN},
                                          "user_id_update": [{"detail": "User id has been updated.",
                                                              "user_id": {"previous": A1, "current": A2},
                                                              "timestamp": str(ts("2026-06-02T13:00:00Z"))}]}),
        envelope(WABA, "messages", messages_value(phone_number_id=PN, messages=[
            {"from": ANA_N, "id": "sys1", "timestamp": str(ts("2026-06-03T09:00:00Z")), "type": "system",
             "system": {"body": f"User Ana changed from {ANA_N} to {ANA_NEW}", "wa_id": ANA_NEW,
                        "type": "user_changed_number"}}])),
        *[delivered(mid, at, recipient, user_id) for mid, (at, recipient, user_id) in SENDS.items()],
    ])
    (landing / "message_logs").mkdir()
    with open(landing / "message_logs" / "sends.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("message_id", "sent_at", "waba_id", "phone_number_id", "recipient_id", "message_type",
                    "template_name", "template_language", "template_category", "campaign", "agent"))
        for mid, (at, recipient, _) in SENDS.items():
            w.writerow((mid, at, WABA, PN, recipient, "template", "promo", "pt_BR", "MARKETING", "", ""))
    (landing / "optins").mkdir()
    (landing / "optins" / "consents.csv").write_text(
        "customer_id,event,event_at,source,scope,evidence_ref,waba_id,wording,business_name\n"
        f"{ANA_N},opt_in,2026-06-01T07:00:00Z,website_form,all,ev-ana,,Yes to WhatsApp offers from Acme,Acme Ltd\n")
    (landing / "business_manager").mkdir()
    (landing / "business_manager" / "accounts.csv").write_text(f"waba_id,business_portfolio_id,timezone\n{WABA},BIZ_1,UTC\n")
    warehouse = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WABA_APP_SECRET", SECRET)
        patch.delenv("WABA_CONSENT_SCOPE", raising=False)
        run_pipeline(landing, warehouse, root / "reports", verbose=False)
    return warehouse


def test_the_ledger_gives_ana_one_person_and_the_numbers_next_holder_another(marts):
    persons = dict(fetch(marts, "SELECT message_id, person_id FROM marts.message_ledger"))
    assert sorted(persons) == sorted(SENDS)
    # M-BSUID: number and BSUID named together, then the rotated BSUID: one user. The documented person_id is the id
    # first seen (Sat 09:00: ANA_N and A1 together; the smaller string, the number, wins the tie).
    assert persons["m1"] == persons["m2"] == persons["m3"] == ANA_N
    # The number's new holder (after user_changed_number) is a second person: ANA_N's second tenure, joined by B1.
    assert persons["m4"] == persons["m5"] == ANA_N + "#2"


def test_customer_persons_records_the_number_tenures_and_who_each_id_is(marts):
    rows = fetch(marts, "SELECT customer_id, tenure, valid_from, valid_to, person_id FROM marts.customer_persons "
                        "ORDER BY customer_id, tenure")
    moved = datetime(2026, 6, 3, 9, tzinfo=timezone.utc)
    assert [r for r in rows if r[0] == ANA_N] == [(ANA_N, 1, None, moved, ANA_N), (ANA_N, 2, moved, None, ANA_N + "#2")]
    by_id = {r[0]: r[4] for r in rows if r[0] != ANA_N}
    assert by_id == {A1: ANA_N, A2: ANA_N, ANA_NEW: ANA_N, B1: ANA_N + "#2"}


def test_growth_reach_counts_one_user_per_person(marts):
    # M-LIM: unique users in a moving 24 h. Tuesday's windows hold m1 (Mon 20:00), m2 and m3: all Ana -> 1, where
    # counting ids would give 3 (and a wa_id-only mapping 2: A2 was never seen beside a number).
    # Thursday's 7-day windows hold Ana (m1-m3) and Bo (m4, m5): 2, where merging the number's holders would give 1.
    rows = dict(((str(day), window), peak) for day, window, peak in fetch(marts, """
        SELECT day, 24, peak_unique_customers_24h FROM marts.messaging_limit_daily WHERE scope_id = 'BIZ_1'
        UNION ALL SELECT day, 168, peak_unique_customers_7d FROM marts.messaging_limit_daily WHERE scope_id = 'BIZ_1'"""))
    assert rows[("2026-06-02", 24)] == 1
    assert rows[("2026-06-04", 24)] == 1
    assert rows[("2026-06-04", 168)] == 2


def test_consent_by_phone_covers_the_bsuid_only_sends_and_never_the_new_holder(marts):
    audit = {r[0]: r[1:] for r in fetch(marts, """
        SELECT message_id, consent_status, permitted, optin_recorded_under, person_id FROM marts.optin_audit""")}
    # M-BSUID: the BSUID-only sends reach the same user who opted in by phone: covered by that opt-in.
    for mid in ("m1", "m2", "m3"):
        status, permitted, under, person = audit[mid]
        assert permitted and under == ANA_N and person == ANA_N, (mid, audit[mid])
    assert audit["m2"][0] == "covered"
    # The number passed on (user_changed_number): Ana's opt-in does not speak for its next holder (domain notes s. 11).
    assert audit["m4"][:2] == ("number_reassigned", False)
    # Bo, reached by BSUID only, never opted in; Ana's opt-in under the number she left is not his.
    assert audit["m5"][1] is False and audit["m5"][3] == ANA_N + "#2", audit["m5"]
