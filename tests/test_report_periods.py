"""The period selector and the filters of the report site, in headless Chromium, on a small hand-built
warehouse: a copy of the sample world's whose finance spend (marts.spend_daily, every KPI of the finance page)
is replaced by a few rows written here. Every expected value is hand computation from those rows.

The rows (day, WABA, number, currency: messages, delivered, billable units, charge):
  2026-09-10  A  A1  USD  10   8   8  0.40
  2026-10-05  A  A1  USD  20  16  16  1.00
  2026-10-20  A  A1  USD   5   4   4  0.25
  2026-10-15  B  B1  BRL   4   4   4  2.50
  2026-11-03  B  B1  BRL   6   6   6  0.30
The data covers 2026-09-10 to 2026-11-03, so September and November are partial and October is the last
complete month: the default period.
"""
import csv
import re
import io
import shutil
import urllib.parse
from pathlib import Path

import duckdb
import pytest

from browser import Browser, browser  # noqa: F401 (browser is a fixture)
from conftest import fetch
from pipelines.cli import main

pytestmark = pytest.mark.xdist_group("sample_world")

ROWS = [("2026-09-10", "A", "USD", 10, 8, 8, 0.40), ("2026-10-05", "A", "USD", 20, 16, 16, 1.00),
        ("2026-10-20", "A", "USD", 5, 4, 4, 0.25), ("2026-10-15", "B", "BRL", 4, 4, 4, 2.50),
        ("2026-11-03", "B", "BRL", 6, 6, 6, 0.30)]

KPIS_JS = """[...document.querySelectorAll('[data-kpis="GROUP"] .kpi')].map(k => [
    k.querySelector('.label').innerText, k.querySelector('.value').innerText, (k.querySelector('.change') || {}).innerText || ''])"""


def choose(browser: Browser, select: str, value: str) -> None:
    browser.evaluate(f"""(() => {{ const s = document.getElementById({select!r}); s.value = {value!r};
                         s.dispatchEvent(new Event('change')); }})()""")


def kpis(browser: Browser, group: str = "main") -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for label, value, change in browser.evaluate(KPIS_JS.replace("GROUP", group)):
        out.setdefault(label, []).append((value, change))
    return out


@pytest.fixture(scope="module")
def hand_built(loaded, tmp_path_factory) -> tuple[Path, dict]:
    """The site rendered from the hand-built warehouse, and the real ids behind A, A1, B, B1."""
    folder = tmp_path_factory.mktemp("hand_built")
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(loaded, warehouse)
    conn = duckdb.connect(str(warehouse))
    # Two WABAs of the sample world and one number of each, so the filters list them under their labels.
    (a, a1), (b, b1) = conn.execute("""
        SELECT waba_id, min(phone_number_id) FROM marts.phone_number_health_daily GROUP BY ALL ORDER BY 1 LIMIT 2""").fetchall()
    ids = {"A": a, "A1": a1, "B": b, "B1": b1}
    conn.execute("DELETE FROM marts.spend_daily")
    for day, waba, currency, messages, delivered, units, charge in ROWS:
        conn.execute("""INSERT INTO marts.spend_daily (day, waba_id, phone_number_id, market, category, pricing_model,
                            pricing_type, messages, delivered, billable_units, unpriced_units, charge, currency)
                        VALUES (?, ?, ?, 'United Kingdom', 'marketing', 'PMP', 'regular', ?, ?, ?, 0, ?, ?)""",
                     [day, ids[waba], ids[waba + "1"], messages, delivered, units, charge, currency])
    conn.close()
    site = folder / "site"
    assert main(["report", "--warehouse", str(warehouse), "--out", str(site)]) == 0
    return site, ids


def test_the_default_period_is_the_last_complete_month_with_its_change(hand_built, browser):
    site, _ = hand_built
    browser.open((site / "finance.html").as_uri(), 1400, 900)
    assert browser.evaluate("document.getElementById('period').value") == "month:2026-10"
    line = browser.evaluate("document.getElementById('period-line').innerText")
    assert line.startswith("Period: October 2026 (1 Oct 2026 to 31 Oct 2026)") and "compared with September 2026" in line
    k = kpis(browser)
    # October: USD 1.00 + 0.25 = 1.25 (September 0.40: +212.5%); BRL 2.50 (nothing in September). Never one sum.
    assert k["Charge"] == [("2.50 BRL", "nothing in September 2026"), ("1.25 USD", "▲ +212.5% vs September 2026")]
    # Messages 20 + 5 + 4 = 29 against 10: +190.0%.
    assert k["Messages sent"] == [("29", "▲ +190.0% vs September 2026")]
    # Per delivered: USD 1.25 / 20 = 0.0625 (September 0.40 / 8 = 0.05: +25.0%); BRL 2.50 / 4 = 0.625.
    assert k["Cost per delivered message"] == [("0.6250 BRL", "nothing in September 2026"),
                                               ("0.0625 USD", "▲ +25.0% vs September 2026")]
    assert browser.errors() == [] and [u for u in browser.requested_urls() if not u.startswith(("file:", "data:"))] == []


def test_choosing_a_period_re_renders_the_kpis_and_marks_a_partial_one(hand_built, browser):
    site, _ = hand_built
    browser.open((site / "finance.html").as_uri(), 1400, 900)
    choose(browser, "period", "month:2026-11")
    line = browser.evaluate("document.getElementById('period-line').innerText")
    assert "partial: data from 1 Nov 2026 to 3 Nov 2026" in line
    assert "November 2026 (partial)" in browser.evaluate("[...document.getElementById('period').options].map(o => o.text)")
    k = kpis(browser)
    # November: 6 messages against October's 29: (6 - 29) / 29 = -79.3%; BRL 0.30 against 2.50: -88.0%.
    assert k["Messages sent"] == [("6", "▼ -79.3% vs October 2026")]
    assert k["Charge"] == [("0.30 BRL", "▼ -88.0% vs October 2026"), ("none", "")]
    choose(browser, "period", "quarter:2026-10")
    # Q4 2026: 29 + 6 = 35 against Q3's 10: +250.0%.
    assert kpis(browser)["Messages sent"] == [("35", "▲ +250.0% vs Q3 2026")]
    choose(browser, "period", "last30")
    # 2026-10-05 to 2026-11-03: 20 + 5 + 4 + 6 = 35; the 30 days before (09-05 to 10-04): 10.
    assert kpis(browser)["Messages sent"] == [("35", "▲ +250.0% vs the 30 days before")]
    choose(browser, "period", "all")
    # All time: 45 messages, no previous period.
    assert kpis(browser)["Messages sent"] == [("45", "")]
    assert browser.evaluate("location.hash") == "#period=all"
    assert browser.errors() == []


def test_the_waba_and_number_filters_narrow_every_kpi_and_table(hand_built, browser):
    site, ids = hand_built
    browser.open((site / "finance.html").as_uri(), 1400, 900)
    choose(browser, "waba", ids["B"])
    k = kpis(browser)
    assert k["Messages sent"] == [("4", "nothing in September 2026")] and k["Charge"] == [("2.50 BRL", "nothing in September 2026")]
    choose(browser, "waba", "")
    choose(browser, "number", ids["A1"])
    assert kpis(browser)["Messages sent"] == [("25", "▲ +150.0% vs September 2026")]  # 20 + 5 against 10
    # The phone-number table shows only that number, and its CSV (a data: URI) holds what the table shows.
    table = browser.evaluate("""(() => {
        const box = document.querySelector('[data-table="by_phone_number"]');
        return {rows: [...box.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.innerText)),
                csv: box.querySelector('a.csv').getAttribute('href'), name: box.querySelector('a.csv').getAttribute('download')};
    })()""")
    assert len(table["rows"]) == 1 and table["rows"][0][2:5] == ["25", "20", "1.25 USD"]
    assert table["csv"].startswith("data:text/csv;charset=utf-8,") and table["name"] == "finance-by_phone_number-month-2026-10.csv"
    rows = list(csv.reader(io.StringIO(urllib.parse.unquote(table["csv"].split(",", 1)[1]))))
    assert rows[0] == ["Phone number", "WABA", "Messages", "Billable units", "Charge", "Per delivered", "Currency"]
    assert rows[1][:2] == table["rows"][0][:2] and "*" in rows[1][0]  # masked as on the page
    assert rows[1][2:] == ["25", "20", "1.25", "0.0625", "USD"] and len(rows) == 2
    assert browser.errors() == []


def test_the_overview_shows_every_pages_kpis_for_the_same_period(hand_built, browser):
    site, _ = hand_built
    browser.open((site / "index.html").as_uri(), 1400, 900)
    assert kpis(browser, "finance")["Messages sent"] == [("29", "▲ +190.0% vs September 2026")]
    assert kpis(browser, "finance")["Charge"] == [("2.50 BRL", "nothing in September 2026"), ("1.25 USD", "▲ +212.5% vs September 2026")]
    # The period follows the links: the finance page opens on the period chosen on the overview.
    choose(browser, "period", "quarter:2026-10")
    href = browser.evaluate("document.querySelector('nav a[href^=\"finance.html\"]').getAttribute('href')")
    assert href == "finance.html#period=quarter%3A2026-10"
    browser.open((site / href.split("#")[0]).as_uri() + "#" + href.split("#")[1], 1400, 900)
    assert kpis(browser)["Messages sent"] == [("35", "▲ +250.0% vs Q3 2026")]


def test_long_tables_show_recent_rows_first_and_page(loaded, browser):
    site = loaded.parent / "reports"
    browser.open((site / "finance.html").as_uri(), 1400, 900)
    choose(browser, "period", "all")
    # One row per month and currency (the sample world bills one WABA in INR): newest month first, 12 a page.
    expected = [month.strftime("%B %Y") for month, _ in fetch(loaded, """
        SELECT DISTINCT month, currency FROM marts.cost_reconciliation ORDER BY month DESC, currency""")]
    assert expected[0] == "November 2026" and len(expected) > 12  # the world runs 2025-06 to 2026-11
    months = browser.evaluate("""[...document.querySelectorAll('[data-table="reconciliation"] tbody tr')].map(r => r.cells[0].innerText)""")
    assert months == expected[:12]
    count = browser.evaluate("""document.querySelector('[data-table="reconciliation"] .count').innerText""")
    assert count == f"rows 1–12 of {len(expected)}"
    browser.evaluate("""document.querySelector('[data-table="reconciliation"] button.next').click()""")
    months = browser.evaluate("""[...document.querySelectorAll('[data-table="reconciliation"] tbody tr')].map(r => r.cells[0].innerText)""")
    assert months == expected[12:24]
    assert browser.errors() == []


def test_with_no_data_every_page_says_what_is_missing_and_which_command_fills_it(loaded, browser, tmp_path):
    warehouse = tmp_path / "empty.duckdb"
    shutil.copyfile(loaded, warehouse)
    conn = duckdb.connect(str(warehouse))
    for schema, table in conn.execute("""SELECT schema_name, table_name FROM duckdb_tables()
                                         WHERE schema_name IN ('raw', 'staging', 'marts')
                                         AND table_name <> 'masking_key'  -- the warehouse's secret, not data""").fetchall():
        conn.execute(f"DELETE FROM {schema}.{table}")
    conn.close()
    site = tmp_path / "site"
    assert main(["report", "--warehouse", str(warehouse), "--out", str(site)]) == 0
    for page in ("index", "finance", "compliance", "templates", "limits"):
        browser.open((site / f"{page}.html").as_uri(), 1400, 900)
        text = browser.evaluate("document.body.innerText")
        assert "No messages loaded yet (`waba run --landing DIR` loads them)" in text, page
        assert "`waba run --landing DIR`" in browser.evaluate("document.querySelector('main').innerText"), page
        assert not re.search(r"\b(undefined|NaN|null|None)\b", text) and "no messages yet to" not in text, page
        assert browser.evaluate("document.querySelectorAll('.plotly-graph-div').length") == 0, page  # no bare axes
        assert browser.errors() == [], page
