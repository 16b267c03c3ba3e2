"""The report site as its readers meet it: every page opened in headless Chromium (Debian's `chromium`) at a
laptop and a phone width, with no network, charts drawn with data, no console errors; and data-quality findings
shown in it. Screenshots go to each test's tmp folder."""
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from browser import Browser, browser  # noqa: F401 (browser is a fixture)
from conftest import SAMPLE_SECRET
from pipelines.cli import main
from pipelines.reports.site import INDEX, PAGES

# One worker runs every test on the sample world, so the world is generated and loaded once (`make test` runs
# pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("sample_world")

WIDTHS = {"laptop": (1400, 900, False), "phone": (390, 844, True)}
# Pages with a period selector and filters (the others show a current state: checks, the dictionary).
PERIOD_PAGES = {"index", "finance", "compliance", "templates", "limits"}

# Every table box and table, and on a phone every card (a row), against the width it is given.
CLIPPED_JS = """(() => {
  const out = [];
  const title = el => (el.closest('section') || document.body).querySelector('h2')?.innerText;
  document.querySelectorAll('.table-wrap').forEach(wrap => {
    const table = wrap.querySelector('table');
    if (!table || !table.offsetParent) return;
    if (wrap.scrollWidth > wrap.clientWidth + 1 || table.scrollWidth > wrap.clientWidth + 1)
      out.push([title(wrap), 'table', table.scrollWidth, wrap.clientWidth]);
    table.querySelectorAll('tbody tr').forEach(row => {
      if (getComputedStyle(row).display === 'block' && row.scrollWidth > row.clientWidth + 1)
        out.push([title(wrap), 'card', row.scrollWidth, row.clientWidth]);
      row.querySelectorAll('td').forEach(cell => {
        if (cell.scrollWidth > cell.clientWidth + 1) out.push([title(wrap), 'cell ' + cell.dataset.label, cell.scrollWidth, cell.clientWidth]);
      });
    });
  });
  return out;
})()"""
MAX_PAGE_BYTES = 10 * 1024 * 1024

# Resolves once every chart is drawn (plotly's .main-svg) and sized to its card; then describes each chart.
CHARTS_JS = """new Promise(resolve => {
  const started = Date.now();
  const divs = () => [...document.querySelectorAll('.plotly-graph-div')];
  const ready = d => d.querySelector('.main-svg') && d._fullLayout && Math.abs(d._fullLayout.width - d.clientWidth) <= 2;
  (function poll() {
    if (divs().every(ready) || Date.now() - started > 15000) {
      resolve(divs().map(d => ({id: d.id, drawn: !!d.querySelector('.main-svg'), sized: ready(d),
        points: (d.data || []).reduce((n, t) => n + ((t.x || t.z || t.values || []).length), 0)})));
    } else { setTimeout(poll, 50); }
  })();
})"""


@pytest.fixture(scope="module")
def site(loaded) -> Path:
    return loaded.parent / "reports"


def open_page(browser: Browser, page: Path, width: str = "laptop") -> list[dict]:
    browser.open(page.as_uri(), *WIDTHS[width])
    return browser.evaluate(CHARTS_JS)


def test_every_page_opens_offline_and_draws_its_charts_with_data_on_a_laptop_and_a_phone(site, browser, tmp_path):
    for page in [INDEX] + PAGES:
        for width in WIDTHS:
            # Loaded at laptop width, then turned into a phone: the layout and the charts must follow.
            if width == "laptop":
                charts = open_page(browser, site / page.file)
            else:
                browser.resize(*WIDTHS[width])
                charts = browser.evaluate(CHARTS_JS)
            shot = browser.screenshot(tmp_path / f"{page.slug}-{width}.png")
            assert browser.errors() == [], page.file
            # Only the site's own files (and images plotly draws as data: URLs): nothing from the network.
            assert [u for u in browser.requested_urls() if not u.startswith(("file:", "data:"))] == [], page.file
            assert all(c["drawn"] and c["sized"] and c["points"] > 0 for c in charts), (page.file, width, charts)
            assert bool(charts) == page.charts, page.file
            # Responsive: nothing wider than the screen (wide tables scroll inside their own box).
            assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (page.file, width)
            # No table hides a column: at 1,400 px every table fits its card; on a phone each row is a card that fits.
            assert browser.evaluate(CLIPPED_JS) == [], (page.file, width)
            if width == "phone":
                assert browser.evaluate("[...document.querySelectorAll('.table-wrap thead')].every(h => !h.offsetParent)")
            text = browser.evaluate("document.body.innerText")
            assert "Data covers" in text and "as of" in text, page.file
            assert ("Period: " in text) == (page.slug in PERIOD_PAGES), page.file
            assert not re.search(r"\b(undefined|NaN|null)\b", text), (page.file, re.search(r"\b(undefined|NaN|null)\b", text))
            assert shot.stat().st_size > 10_000


def test_pages_are_small_ship_plotly_once_and_mask_phone_numbers(site, loaded):
    assert (site / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    conn = duckdb.connect(str(loaded), read_only=True)
    numbers = [r[0] for r in conn.execute(
        "SELECT DISTINCT display_phone_number FROM marts.phone_number_health_daily WHERE display_phone_number IS NOT NULL").fetchall()]
    customers = [r[0] for r in conn.execute("SELECT DISTINCT customer_id FROM marts.message_ledger LIMIT 200").fetchall()]
    conn.close()
    assert numbers and customers
    for page in [INDEX] + PAGES:
        html = (site / page.file).read_text()
        assert (site / page.file).stat().st_size < MAX_PAGE_BYTES
        assert html.count('<script src="assets/plotly.min.js"></script>') == int(page.charts) and "cdn" not in html.lower()
        leaked = [n for n in numbers + customers if n in html]
        assert leaked == [], (page.file, leaked[:3])


def test_tables_sort_by_value_when_a_heading_is_clicked(site, browser):
    open_page(browser, site / "finance.html", "laptop")
    charges = browser.evaluate("""(() => {
        const table = [...document.querySelectorAll('table.sortable')].find(t => t.tHead.innerText.includes('Phone number'));
        const column = [...table.tHead.rows[0].cells].findIndex(c => c.innerText.trim() === 'Charge');
        table.tHead.rows[0].cells[column].click();
        return [...table.tBodies[0].rows].map(r => parseFloat(r.cells[column].dataset.sort));
    })()""")
    assert len(charges) > 1 and charges == sorted(charges)


def test_data_dictionary_comes_from_the_warehouse_comments(site, loaded):
    conn = duckdb.connect(str(loaded), read_only=True)
    comment = conn.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts' "
                           "AND table_name = 'message_ledger' AND column_name = 'charge'").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts'").fetchone()[0]
    conn.close()
    html = (site / "dictionary.html").read_text()
    assert comment.replace("'", "&#39;") in html
    assert html.count('<section class="card" id="') == tables


def _copy_warehouse(loaded: Path, tmp_path: Path) -> Path:
    """A copy of the loaded warehouse to corrupt; re-running it on the (unchanged) world loads nothing new."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(loaded, warehouse)
    return warehouse


def test_a_failing_warn_check_is_shown_in_the_report_and_the_run_still_succeeds(
        world, loaded, browser, tmp_path, monkeypatch, capsys):
    warehouse = _copy_warehouse(loaded, tmp_path)
    # One send of a template no Business Manager snapshot and no template webhook ever mentioned. Written into the
    # ledger of the copy directly: the files are unchanged, so the re-run rebuilds nothing and only checks.
    conn = duckdb.connect(str(warehouse))
    conn.execute("""UPDATE marts.message_ledger SET template_name = 'mystery_template', template_language = 'en_US'
                    WHERE message_id = (SELECT min(message_id) FROM marts.message_ledger WHERE template_name IS NOT NULL)""")
    conn.close()
    monkeypatch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
    reports = tmp_path / "reports"
    assert main(["run", "--quiet", "--landing", str(world), "--warehouse", str(warehouse), "--reports", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "check warning: marts/message_ledger templates_known" in out and "check failed" not in out

    open_page(browser, reports / "quality.html", "laptop")
    browser.screenshot(tmp_path / "quality-with-a-failure.png")
    failed = browser.evaluate("""[...document.querySelectorAll('tr.failed')].map(r => [...r.cells].map(c => c.innerText))""")
    assert [(r[0], r[1], r[2], r[3]) for r in failed] == [("failed", "warn", "marts/message_ledger", "templates_known")]
    assert "mystery_template/en_US" in failed[0][5]
    assert browser.errors() == []


def test_a_failing_critical_check_blocks_everything_downstream_and_exits_2(world, loaded, tmp_path, monkeypatch, capsys):
    warehouse = _copy_warehouse(loaded, tmp_path)
    conn = duckdb.connect(str(warehouse))
    conn.execute("INSERT INTO staging.inbound_messages SELECT * FROM staging.inbound_messages LIMIT 1")
    conn.close()
    monkeypatch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
    reports = tmp_path / "reports"
    code = main(["run", "--quiet", "--landing", str(world), "--warehouse", str(warehouse), "--reports", str(reports)])
    err = capsys.readouterr().err
    assert code == 2
    assert "critical data-quality check failed" in err and "staging/inbound_messages ids_unique_not_null" in err
    # Blocked: nothing was published or rendered from the bad data; the result is recorded all the same.
    assert not warehouse.with_name("warehouse.published.duckdb").exists() and not reports.exists()
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert conn.execute("""SELECT passed FROM marts.data_quality_results WHERE asset = 'staging/inbound_messages'
                           ORDER BY checked_at DESC LIMIT 1""").fetchone() == (False,)
    conn.close()


def test_waba_report_renders_the_site_from_the_published_copy(loaded, tmp_path, capsys):
    site = tmp_path / "site"
    assert main(["report", "--warehouse", str(loaded), "--out", str(site)]) == 0
    assert f"wrote {len(PAGES) + 1} pages to {site}" in capsys.readouterr().out
    assert (site / "index.html").exists() and (site / "assets" / "plotly.min.js").exists()
    missing = tmp_path / "none.duckdb"
    assert main(["report", "--warehouse", str(missing), "--out", str(site)]) == 2
    assert capsys.readouterr().err.strip() == f"waba: error: {missing}: no warehouse here; run `waba run` first (or pass --warehouse)"
