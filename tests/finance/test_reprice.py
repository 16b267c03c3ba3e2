"""`waba reprice`: a period re-priced under another regime or rate card, checked against hand-computed totals."""
import pytest

from finance.scenario import Scenario
from pipelines.cli import main


@pytest.fixture
def built(landing, warehouse) -> Scenario:
    s = Scenario(landing, warehouse)
    s.rate("North America", "utility", "0.0040").rate("North America", "marketing", "0.0250")
    s.customer_says("in1", "2025-08-04T10:00:00")
    s.send("reply", "2025-08-04T10:05:00", template=None, category=None)   # free service reply
    s.send("u1", "2025-08-04T11:00:00", category="UTILITY")                 # free: utility inside the window
    s.send("mk", "2025-08-20T11:00:00")                                     # 0.025 under any per-message regime
    s.build()
    return s


def test_reported_2026_10_rules_charge_the_reply_and_the_utility_in_window(built, warehouse, capsys):
    assert main(["reprice", "--regime", "pmp_2026_10", "--from", "2025-08-01", "--to", "2025-08-31",
                 "--rates-as-of", "send-date", "--warehouse", str(warehouse)]) == 0
    assert "2025-08    USD" in capsys.readouterr().out
    # actual: 0.025 (marketing); scenario: + 0.004 utility in window; the reply is the number's first service
    # message of the month, free under the reported 1,000-message allowance that starts with pmp_2026_10
    assert built.rows("""SELECT sum(actual_charge)::VARCHAR, sum(scenario_charge)::VARCHAR, sum(difference)::VARCHAR,
                                sum(actual_units), sum(scenario_units)
                         FROM marts.reprice_scenarios""") == [("0.025000", "0.029000", "0.004000", 1, 2)]


def test_another_rate_card_and_a_rerun_replaces_the_scenario(built, warehouse, tmp_path):
    card = tmp_path / "card.csv"
    card.write_text("effective_from,market,category,currency,rate\n2020-01-01,North America,marketing,USD,0.1\n")
    for _ in range(2):
        assert main(["reprice", "--regime", "pmp_2025_07", "--from", "2025-08-01", "--to", "2025-08-31",
                     "--rate-card", str(card), "--name", "dearer", "--warehouse", str(warehouse)]) == 0
    assert built.rows("SELECT scenario, sum(scenario_charge)::VARCHAR, count(*) FROM marts.reprice_scenarios GROUP BY 1") == [
        ("dearer", "0.100000", 3)]  # marketing, utility and service rows; a rerun did not double them
    # the swapped card was only for the scenario
    assert built.rows("SELECT count(*) FROM marts.rate_card WHERE source = 'file'") == [(0,)]


def test_mistakes_are_one_line_errors(built, warehouse, tmp_path, capsys):
    assert main(["reprice", "--regime", "pmp_2099", "--from", "2025-08-01", "--to", "2025-08-31",
                 "--warehouse", str(warehouse)]) == 2
    assert "unknown pricing regime pmp_2099" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("effective_from,market,category,currency,rate\nsoon,North America,marketing,USD,cheap\n")
    assert main(["reprice", "--regime", "pmp_2025_07", "--from", "2025-08-01", "--to", "2025-08-31",
                 "--rate-card", str(bad), "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.csv" in err and "1 rows do not have a date" in err
    assert main(["reprice", "--regime", "pmp_2025_07", "--from", "2025-08-31", "--to", "2025-08-01",
                 "--warehouse", str(warehouse)]) == 2
    assert "before --from" in capsys.readouterr().err


def test_waba_run_disable_regime_prices_without_the_reported_rules(landing, warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("WABA_DISABLED_REGIMES", "")  # restored after the test: the run sets it
    s = Scenario(landing, warehouse)
    s.rate("North America", "utility", "0.0030", effective="2026-01-01")
    s.customer_says("in1", "2026-10-05T10:00:00")
    s.send("t1", "2026-10-05T10:01:00", template=None, category=None)
    s.build()  # writes the landing folder; the run below prices it again through Dagster
    assert main(["run", "--landing", str(landing), "--warehouse", str(warehouse), "--reports", str(tmp_path / "r"),
                 "--quiet", "--disable-regime", "pmp_2026_10"]) == 0
    assert s.ledger("message_id, regime, pricing_type, charge") == [("t1", "pmp_2025_07", "free_customer_service", 0.0)]
