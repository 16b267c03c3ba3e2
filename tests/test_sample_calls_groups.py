"""The sample world's calls, groups and BSUID rotations (pipelines/sample/calls_groups.py) staged exactly as its
ground truth (ground_truth_calls_groups.json) says, through the same Dagster run as the other sample-world tests.

The generator follows Meta's pages independently of the pipeline: "API and Webhook Reference" (Calling API, Jun 26,
2026) and "Calling API Pricing" (May 21, 2026: business-initiated calls charged per six-second pulse, a started
pulse counting whole; user-initiated calls free); "Webhooks for Groups API" (May 21, 2026); "Business-scoped user
IDs" (Jun 29, 2026: user_id_update previous -> current is one user; a BSUID-only contact has no wa_id)."""
import csv
import json
from pathlib import Path

import pytest

from conftest import fetch

pytestmark = pytest.mark.xdist_group("sample_world")
REFERENCE = Path(__file__).parent.parent / "models" / "reference"


@pytest.fixture(scope="module")
def truth(world):
    return json.loads((world / "ground_truth_calls_groups.json").read_text())


def test_the_world_has_calls_groups_and_rotations(truth):
    expected = truth["expected"]
    assert expected["staging.calls"] >= 8 and expected["staging.user_id_updates"] >= 2
    assert expected["staging.group_events"] == 4 and expected["staging.group_participants"] >= 5


def test_staging_counts_match_the_ground_truth(truth, loaded):
    for table in ("calls", "call_events", "group_events", "group_participants", "user_id_updates"):
        got = fetch(loaded, f"SELECT count(*) FROM staging.{table}")[0][0]
        assert got == truth["expected"][f"staging.{table}"], table


def test_every_call_is_staged_with_its_direction_duration_and_pulses(truth, loaded):
    rows = {r[0]: r[1:] for r in fetch(loaded, """SELECT call_id, direction, customer_id, customer_user_id,
               duration_seconds, final_status, billable_pulses FROM staging.calls""")}
    assert {c["call_id"]: (c["direction"], c["customer_id"], c["customer_user_id"], c["duration_seconds"],
                           c["final_status"], c["billable_pulses"]) for c in truth["calls"]} == rows


def test_rotations_are_staged_and_chain_one_person(truth, loaded):
    got = {(p, c) for p, c in fetch(loaded, "SELECT previous_user_id, current_user_id FROM staging.user_id_updates")}
    assert got == {(r["previous_user_id"], r["current_user_id"]) for r in truth["rotations"]}
    changes = {(p, n, w) for p, n, w in fetch(loaded, """SELECT previous_user_id, new_user_id, new_wa_id
                                                        FROM staging.identity_changes WHERE source = 'user_id_update'""")}
    assert changes == {(r["previous_user_id"], r["current_user_id"], r["wa_id"]) for r in truth["rotations"]}
    # Business-scoped user IDs: the number and every BSUID the caller had are one person in marts.customer_persons.
    persons = dict(fetch(loaded, "SELECT customer_id, person_id FROM marts.customer_persons WHERE tenure = 1"))
    for ids in truth["persons"]:
        assert len({persons[i] for i in ids}) == 1, ids
    assert len({persons[ids[0]] for ids in truth["persons"]}) == len(truth["persons"])


def test_the_group_and_who_left(truth, loaded):
    group = truth["group"]
    events = fetch(loaded, "SELECT event_type FROM staging.group_events WHERE group_id = ? ORDER BY event_at", [group["group_id"]])
    assert [e[0] for e in events] == ["group_create", "group_participants_add", "group_participants_remove", "group_suspend"]
    removed = fetch(loaded, "SELECT user_id FROM staging.group_participants WHERE group_id = ? AND change = 'removed'",
                    [group["group_id"]])
    assert removed == [(group["left"],)]


def test_nothing_documented_lands_as_unknown(world, loaded):
    # The world's only undocumented field is the one it invents on purpose (some_future_field); every field Meta's
    # webhook field list documents (models/reference/webhook_vocabulary.csv cites the page of each) stages elsewhere.
    with open(REFERENCE / "webhook_vocabulary.csv", newline="") as f:
        documented = {r["value"] for r in csv.DictReader(f) if r["vocabulary"] == "webhook_field"}
    assert {"calls", "user_id_update", "group_lifecycle_update", "group_participants_update"} <= documented
    unknown = {r[0] for r in fetch(loaded, "SELECT DISTINCT field FROM staging.unknown_field_events")}
    assert unknown == {"some_future_field"}
    expected = json.loads((world / "ground_truth.json").read_text())["expected"]["staging.unknown_field_events"]
    assert fetch(loaded, "SELECT count(*) FROM staging.unknown_field_events")[0][0] == expected
