"""End to end on the sample world: its group message (pipelines/sample/group_messages.py, written from Meta's
"Groups API Pricing", Oct 22, 2025) is one ledger row whose charge is the sum of its delivered participants',
each at its own market, against the generator's ground truth."""
import pytest

from conftest import fetch

pytestmark = pytest.mark.xdist_group("sample_world")


def test_the_group_message_is_priced_per_delivered_participant_as_the_generator_says(world, loaded):
    truth = world / "ground_truth_group_deliveries.parquet"
    expected = fetch(loaded, f"""SELECT participant_id, market, pricing_type: billed_type, charge_micros FROM '{truth}'
                                 WHERE delivered ORDER BY participant_id""")
    assert len(expected) == 3 and len({m for _, m, *_ in expected}) == 3   # three markets received it, one did not
    got = fetch(loaded, """SELECT participant_id, market, pricing_type, (charge * 1000000)::BIGINT
                           FROM marts.group_message_deliveries ORDER BY participant_id""")
    assert got == expected
    (message_id, total), = fetch(loaded, f"SELECT message_id, sum(charge_micros) FROM '{truth}' GROUP BY 1")
    assert fetch(loaded, f"""SELECT group_id IS NOT NULL, delivered_participants, market, (charge * 1000000)::BIGINT,
                                    in_service_window
                             FROM marts.message_ledger WHERE message_id = '{message_id}'""") == [(True, 3, "Multiple", total, True)]
