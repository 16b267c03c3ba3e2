"""End to end on the sample world: the finance scenarios of issue 12 (an INR-billed WABA priced from Meta-layout
rate-card files, Trinidad and Tobago +1 numbers, Polish numbers that move market on 2026-07-01, delivered messages
with a late failed status, conversation-era replies inside open conversations), against the generator's ground
truth. The generator follows Meta's pages (pipelines/sample/finance_world.py), not the pipeline."""
import pytest

from conftest import fetch

pytestmark = pytest.mark.xdist_group("sample_world")


def test_ledger_equals_ground_truth_per_currency_and_never_mixes_them(world, loaded):
    truth = world / "ground_truth_messages.parquet"
    accounts = world / "business_manager" / "accounts.csv"
    rows = fetch(loaded, f"""
        WITH truth AS (
            SELECT a.currency, sum(g.charge_micros) AS micros FROM '{truth}' g JOIN '{accounts}' a USING (waba_id) GROUP BY 1
        ), ours AS (
            SELECT currency, sum(charge * 1000000)::BIGINT AS micros FROM marts.message_ledger GROUP BY 1
        )
        SELECT currency, t.micros, o.micros FROM truth t FULL JOIN ours o USING (currency) ORDER BY 1""")
    assert [r[0] for r in rows] == ["INR", "USD"]
    assert all(t == o and t > 0 for _, t, o in rows)
    # every WABA's rows are in its accounts.csv currency, and every billable row is priced
    assert fetch(loaded, f"""SELECT count(*) FROM marts.message_ledger l JOIN '{accounts}' a USING (waba_id)
                             WHERE l.currency <> a.currency""") == [(0,)]
    assert fetch(loaded, "SELECT count(*) FROM marts.message_ledger WHERE billable AND charge IS NULL") == [(0,)]
    # every mart that holds an amount names its currency
    money = fetch(loaded, """
        SELECT table_name FROM duckdb_columns() WHERE schema_name = 'marts'
        GROUP BY table_name
        HAVING bool_or(data_type LIKE 'DECIMAL%' AND (column_name = 'rate' OR regexp_matches(column_name, '(charge|cost|amount|difference)$')))
           AND NOT bool_or(column_name = 'currency')""")
    assert money == []


def test_the_inr_waba_is_priced_from_metas_own_inr_files(world, loaded):
    sources = fetch(loaded, """SELECT DISTINCT rate_source FROM marts.message_ledger
                               WHERE currency = 'INR' AND charge > 0 ORDER BY 1""")
    assert sources and all(s.startswith("landing: rate_cards/meta_") and "_INR_" in s for (s,) in sources)
    assert fetch(loaded, "SELECT count(DISTINCT effective_from) FROM marts.rate_card WHERE currency = 'INR'")[0][0] >= 3


def test_caribbean_plus_one_numbers_are_other_and_poland_moves_on_2026_07_01(world, loaded):
    truth = world / "ground_truth_messages.parquet"
    markets = dict(fetch(loaded, """SELECT market, count(*) FROM marts.message_ledger
                                    WHERE customer_id LIKE '1868%' GROUP BY 1"""))
    assert set(markets) == {"Other"} and markets["Other"] > 0
    polish = fetch(loaded, """SELECT market, min(sent_at)::DATE::VARCHAR, max(sent_at)::DATE::VARCHAR FROM marts.message_ledger
                              WHERE customer_id LIKE '48%' GROUP BY 1 ORDER BY 1""")
    assert [m for m, *_ in polish] == ["Poland", "Rest of Central & Eastern Europe"]
    assert polish[0][1] >= "2026-07-01" and polish[1][2] < "2026-07-01"  # WABA timezone is UTC
    # the ledger's market is the generator's for every message
    assert fetch(loaded, f"""SELECT count(*) FROM marts.message_ledger l JOIN '{truth}' g USING (message_id)
                             WHERE l.market <> g.market""") == [(0,)]


def test_delivered_messages_with_a_late_failed_status_are_charged(world, loaded):
    truth = world / "ground_truth_messages.parquet"
    rows = fetch(loaded, f"""SELECT count(*), count(*) FILTER (l.charge = g.charge_micros / 1e6), sum(l.charge)
                             FROM marts.message_ledger l JOIN '{truth}' g USING (message_id)
                             WHERE l.failed_at IS NOT NULL AND coalesce(l.delivered_at, l.read_at) IS NOT NULL""")[0]
    assert rows[0] > 0 and rows[1] == rows[0] and rows[2] > 0


def test_conversation_era_replies_inside_an_open_template_conversation_open_nothing(loaded):
    rows = fetch(loaded, """
        SELECT count(*), count(*) FILTER (NOT r.charged_unit AND r.charge = 0)
        FROM marts.message_ledger r JOIN marts.message_ledger o
          ON o.conversation_id = r.conversation_id AND o.message_id <> r.message_id AND o.charged_unit
        WHERE r.pricing_model = 'CBP' AND r.message_type <> 'template' AND o.message_type = 'template'
          AND o.category IN ('marketing', 'utility', 'authentication')""")[0]
    assert rows[0] > 0 and rows[1] == rows[0]
