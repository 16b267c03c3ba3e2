"""The identity map on a hand-built life of one customer, following Meta's Business-scoped user IDs page
(Updated Jun 29, 2026) and the System messages webhook reference (May 21, 2026):

  day 1  Ana writes from her number W1; the contact carries her BSUID A1 (pair W1-A1).
  day 2  Ana, now with a username, writes BSUID-only: no `from`, no `wa_id` (user_id A1, username ana.s).
  day 3  user_id_update: A1 -> A2, without her number.
  day 4  Ana changes number W1 -> W2 (user_changed_number), and Meta announces her new BSUID A3 with the new
         number (user_changed_user_id, body "changed from A2 to A3").
  day 5  W1 now belongs to someone else, Bo, whose BSUID is B1.

Expected by hand: Ana is one person across W1, A1, A2, W2, A3; Bo shares only the recycled number, and
the W1-A1 pair ends before Bo's W1-B1 pair begins (a number that moves to a new owner is never merged)."""
from datetime import datetime, timezone

import pytest

from conftest import envelope, load_all, messages_value, write_lines
from pipelines.dbt_project import build as build_models
from pipelines.warehouse import open_warehouse

W1, W2, A1, A2, A3, B1 = "5511988880001", "5511988880002", "BR.A1000000001", "BR.A2000000002", "BR.A3000000003", "BR.B1000000001"
DAY = 86400
T0 = 1780000000  # 2026-05-28 20:26:40 UTC


def at(day: int) -> datetime:
    return datetime.fromtimestamp(T0 + day * DAY, timezone.utc)


def text(mid: str, day: int, contact: dict, **sender) -> dict:
    return envelope("W1", "messages", messages_value(contacts=[contact], messages=[
        {**sender, "id": mid, "timestamp": str(T0 + day * DAY), "type": "text", "text": {"body": "hi"}}]))


def system(mid: str, day: int, sender: str, body: str, **fields) -> dict:
    return envelope("W1", "messages", messages_value(messages=[
        {"from": sender, "id": mid, "timestamp": str(T0 + day * DAY), "type": "system", "system": {"body": body, **fields}}]))


@pytest.fixture(scope="module")
def life(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    write_lines(root / "landing" / "webhooks" / "life.jsonl", [
        text("m1", 1, {"profile": {"name": "Ana"}, "wa_id": W1, "user_id": A1}, **{"from": W1, "from_user_id": A1}),
        text("m2", 2, {"profile": {"name": "Ana", "username": "ana.s"}, "user_id": A1}, from_user_id=A1),
        envelope("W1", "user_id_update", {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "PN1"},
                                          "user_id_update": [{"detail": "User id for Ana has been updated.",
                                                              "user_id": {"previous": A1, "current": A2},
                                                              "timestamp": str(T0 + 3 * DAY)}]}),
        system("s1", 4, W1, f"User Ana changed from {W1} to {W2}", wa_id=W2, type="user_changed_number"),
        system("s2", 4, W2, f"User Ana changed from {A2} to {A3}", wa_id=W2, user_id=A3, type="user_changed_user_id"),
        text("m3", 5, {"profile": {"name": "Bo"}, "wa_id": W1, "user_id": B1}, **{"from": W1, "from_user_id": B1}),
    ])
    load_all(root / "w.duckdb", root / "landing")
    build_models(root / "w.duckdb", select="group:finance customer_aliases")
    with open_warehouse(root / "w.duckdb") as conn:
        aliases = conn.execute("SELECT customer_id, alias_id, relation, valid_until FROM intermediate.customer_aliases").fetchall()
        windows = conn.execute("SELECT customer_id, alias_id, valid_from, valid_until FROM intermediate.customer_aliases").fetchall()
        identities = conn.execute("SELECT wa_id, user_id, username, valid_from, valid_to FROM staging.customer_identities "
                                  "ORDER BY valid_from, wa_id").fetchall()
        changes = conn.execute("SELECT change_type, previous_wa_id, previous_user_id, new_wa_id, new_user_id, changed_at "
                               "FROM staging.identity_changes ORDER BY changed_at, change_type").fetchall()
    return {"aliases": aliases, "windows": windows, "identities": identities, "changes": changes}


def test_pairs_carry_their_validity_and_the_username_seen_bsuid_only(life):
    assert life["identities"] == [
        (W1, A1, "ana.s", at(1), at(3)),   # ends when A1 is rotated away (day 3), before W1 moves (day 4)
        (W2, A3, None, at(4), None),
        (W1, B1, None, at(5), None),       # the number's new owner: a pair of its own, starting after Ana's ended
    ]


def test_every_change_names_both_sides(life):
    assert life["changes"] == [
        ("user_id_update", None, A1, None, A2, at(3)),
        ("user_changed_number", W1, None, W2, None, at(4)),
        ("user_changed_user_id", W2, A2, W2, A3, at(4)),
    ]


def test_ana_is_one_alias_chain(life):
    # Read through the compliance layer's aliases (models/marts/intermediate/customer_aliases.sql), which read
    # marts.customer_persons. From her current BSUID every earlier id of hers is reached, the BSUID-only days (A1)
    # and the rotated A2 included; a BSUID is never handed to anyone else, so it speaks for her without end, while
    # her old number W1 speaks for her only up to the day she left it.
    ana = {alias: until for customer, alias, _, until in life["aliases"] if customer == A3}
    assert set(ana) == {W1, W2, A1, A2, A3}
    assert ana[W1] == at(4) and ana[A1] == ana[A2] == ana[W2] == ana[A3] == datetime.max
    relations = {alias: relation for customer, alias, relation, _ in life["aliases"] if customer == A3}
    assert relations == {A3: "self", W1: "earlier_id", A1: "earlier_id", A2: "earlier_id", W2: "same_person"}
    by_number = {alias for customer, alias, _, until in life["aliases"] if customer == W1 and until == at(4)}
    assert A1 in by_number  # what Ana did BSUID-only counts for the number she had then


def test_the_recycled_numbers_new_owner_inherits_nothing_of_ana(life):
    # Meta's Business-scoped user IDs page (Jun 29, 2026): a number that passes to a new owner is a new person.
    # Bo (B1) reaches none of Ana's ids, and the recycled number W1 only for what was recorded under it from the
    # day it passed on (day 4), never before.
    bo = {alias: (since, until) for customer, alias, since, until in life["windows"] if customer == B1}
    assert bo == {B1: (datetime.min, datetime.max), W1: (at(4), datetime.max)}
