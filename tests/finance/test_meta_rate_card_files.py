"""Meta's own rate-card downloads dropped into landing/rate_cards/: a list-rate file and a volume-tier file,
written here by hand from the layout documented by OJoshuaCG/meta-whatsapp-pricing `loaders/` (base_loader.py,
tier_loader.py): note lines, a header row (with a line break inside a quoted cell), one row per market; the tier
file has three side-by-side groups of From / To / Rate type / Rate / vs. List rate."""
import duckdb
import pytest

from finance.scenario import Scenario
from pipelines.sources import meta_rate_cards

INDIA = "919812345678"
BRAZIL = "5511999990000"

LIST_FILE = '''WhatsApp Business Platform rates
Rates in INR
Effective July 1, 2026
Rates are per delivered message
,
Market,Currency,Marketing,Utility,Authentication,"Authentication-
International",Service
India,\u20b9,0.86,0.115,0.115,n/a,n/a
Brazil,\u20b9,"5.20",0.57,0.57,n/a,n/a
North America,\u20b9,2.08,0.28,0.28,n/a,n/a
'''

TIER_FILE = '''WhatsApp volume tier rates (INR)
See the pricing page
,,Utility,,,,,Authentication,,,,,Authentication-International,,,,
,,Messages per month,,What we charge,,,Messages per month,,What we charge,,,Messages per month,,What we charge,,
"Market
(per rate card)",Currency,From,To,Rate type,Rate,vs. List rate,From,To,Rate type,Rate,vs. List rate,From,To,Rate type,Rate,vs. List rate
India,\u20b9,0,2,List rate,0.115,0%,0,2,List rate,0.115,0%,0,"1,000",List rate,"2.30",0%
,\u20b9,3,--,Tier 1,0.1035,-10%,3,--,Tier 1,0.1000,-13%,"1,001",--,Tier 1,"2.10",-9%
'''


@pytest.fixture
def s(landing, warehouse) -> Scenario:
    s = Scenario(landing, warehouse)
    s.accounts = [("W1", "P1", "Asia/Kolkata", "INR")]
    return s


def _drop(landing, name: str, text: str) -> None:
    folder = landing / "rate_cards"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_meta_list_and_tier_files_price_an_inr_waba(s, landing):
    _drop(landing, "WhatsApp_rates_INR.csv", LIST_FILE)                # date from the note line (July 1, 2026)
    _drop(landing, "Tier_rates_INR_2026-07-01.csv", TIER_FILE)         # date from the file name
    for i, at in enumerate(("2026-07-06T04:00:00", "2026-07-06T05:00:00", "2026-07-06T06:00:00")):
        s.send(f"u{i + 1}", at, to=INDIA, template="order", category="UTILITY")
    s.send("mk", "2026-07-06T07:00:00", to=BRAZIL)
    s.build()
    # hand-computed: utility units 1 and 2 at the list rate 0.115, unit 3 in band 3+ at 0.1035; Brazil marketing 5.20
    assert s.ledger("message_id, currency, volume_band_from, charge") == [
        ("mk", "INR", 0, 5.2), ("u1", "INR", 0, 0.115), ("u2", "INR", 0, 0.115), ("u3", "INR", 3, 0.1035)]
    card = s.rows("""SELECT effective_from::VARCHAR, market, category, currency, rate::VARCHAR, volume_from, volume_to, verification
                     FROM marts.rate_card WHERE market = 'India' AND currency = 'INR' ORDER BY category, volume_from, source""")
    assert ("2026-07-01", "India", "authentication_international", "INR", "2.100000", 1001, None, "landing") in card
    assert ("2026-07-01", "India", "utility", "INR", "0.103500", 3, None, "landing") in card
    assert all(r[2] != "service" for r in card)  # n/a cells are no rate, not zero
    # the bundled USD card still serves USD WABAs: only the INR currency was replaced
    assert s.rows("SELECT count(*) > 0 FROM marts.rate_card WHERE currency = 'USD' AND verification <> 'landing'") == [(True,)]


def test_a_meta_file_missing_a_column_is_quarantined_with_one_line_naming_file_and_column(s, landing):
    _drop(landing, "rates_INR_2026-07-01.csv", LIST_FILE.replace(",Utility,", ",Utilities,"))
    s.build()
    rows = s.rows("SELECT file_path, reason, detail FROM raw.quarantine")
    assert len(rows) == 1
    path, reason, detail = rows[0]
    assert path == "rate_cards/rates_INR_2026-07-01.csv" and reason == "unreadable_file"
    assert "'Utility'" in detail and "\n" not in detail


def test_a_meta_file_without_a_date_says_how_to_name_it(s, landing):
    _drop(landing, "rates_INR.csv", LIST_FILE.replace("Effective July 1, 2026\n", "\n"))
    s.build()
    (detail,) = s.rows("SELECT detail FROM raw.quarantine")[0]
    assert "file name" in detail and "rates_INR_2026-07-01.csv" in detail


def test_a_bad_figure_quarantines_that_row_naming_the_column_and_keeps_the_rest(s, landing):
    _drop(landing, "rates_INR_2026-07-01.csv", LIST_FILE.replace("0.86,", "abc,"))
    s.build()
    assert s.rows("SELECT line_no, detail FROM raw.quarantine") == [(8, "bad_number: column 'Marketing'='abc'")]
    assert s.rows("SELECT count(*) FROM staging.rate_cards") == [(8,)]  # 3 + 3 + 3 rates in three rows (n/a is no rate), less one


def test_the_generic_layout_is_not_taken_for_a_meta_file(tmp_path):
    generic = tmp_path / "card.csv"
    generic.write_text("effective_from,market,category,currency,rate\n2026-01-01,India,marketing,USD,0.0118\n")
    meta = tmp_path / "m_2026-07-01.csv"
    meta.write_text(LIST_FILE, encoding="utf-8")
    assert not meta_rate_cards.is_meta_layout(generic) and meta_rate_cards.is_meta_layout(meta)
    parsed = meta_rate_cards.parse(meta)
    assert parsed.layout == "meta_list_rates" and parsed.rejects == []
    assert ("2026-07-01", "Brazil", "marketing", "INR", "5.20", "0", "") in [v for _, v in parsed.rows]
