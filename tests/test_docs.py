"""The docs a newcomer reads: the README is a short front page whose every link resolves, and docs/warehouse.md
lists every table and column of the warehouse with its COMMENT ON, generated from a built warehouse (the sample
world's), so nothing is missing and nothing stale remains (issue 16, item 5)."""
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.docs import BEGIN, END, NO_COMMENT, tables_section
from pipelines.settings import PROJECT_ROOT

pytestmark = pytest.mark.xdist_group("sample_world")

DOCS = PROJECT_ROOT / "docs"
README = PROJECT_ROOT / "README.md"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Tables a command creates on first use, which a freshly built warehouse does not have yet.
ON_DEMAND = {"marts.reprice_scenarios": "waba reprice"}


def _slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")}


def _broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(path.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # an outside address: not ours to check offline
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(target)
    return broken


def test_the_readme_is_a_short_front_page_whose_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) < 300
    links = LINK.findall(text)
    assert any(l.endswith(".png") for l in links), "the README shows a screenshot"
    assert "docs/architecture.md" in text and "docs/operations.md" in text
    assert _broken_links(README) == []


def test_every_docs_page_link_resolves():
    broken = {p.name: _broken_links(p) for p in sorted(DOCS.glob("*.md"))}
    assert {name: links for name, links in broken.items() if links} == {}


def _parse(section: str) -> dict[str, dict[str, str]]:
    """{schema.table: {column: meaning}} as the generated markdown states them."""
    tables, current = {}, None
    for line in section.splitlines():
        heading = re.match(r"^#### `([^`]+)`$", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        row = re.match(r"^\| `([^`]+)` \| ([^|]*) \| (.*) \|$", line)
        if row and current is not None:
            current[row.group(1)] = row.group(3)
    return tables


def _warehouse_columns(conn) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for schema, table, column in conn.execute("""
            SELECT c.schema_name, c.table_name, c.column_name FROM duckdb_columns() c
            JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
            WHERE NOT t.temporary AND NOT t.internal AND c.database_name = current_database()""").fetchall():
        out.setdefault(f"{schema}.{table}", set()).add(column)
    return out


def test_generated_tables_match_the_warehouse_column_for_column(loaded):
    conn = duckdb.connect(str(loaded), read_only=True)
    try:
        section = tables_section(conn)
        expected = _warehouse_columns(conn)
        comments = dict(((f"{s}.{t}", c) for s, t, c in conn.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE NOT temporary AND NOT internal").fetchall()))
    finally:
        conn.close()
    documented = _parse(section)
    assert {t: set(c) for t, c in documented.items()} == expected
    assert {"raw", "staging", "marts"} <= {t.split(".")[0] for t in documented}
    # Marts are documented in full today (their build refuses an undocumented column); staging may not be yet.
    undocumented = [f"{t}.{c}" for t, cols in documented.items() if t.startswith("marts.") for c, text in cols.items()
                    if not text.strip()]
    assert undocumented == []
    assert all(comments[t] for t in documented if t.startswith("marts."))
    # Every table's own comment follows its heading; a table without one is listed all the same and says so.
    for table, comment in comments.items():
        assert f"#### `{table}`\n\n{' '.join(comment.split()) if comment else NO_COMMENT}\n" in section, table


def test_the_committed_docs_are_the_generated_docs_and_name_no_table_that_does_not_exist(loaded):
    conn = duckdb.connect(str(loaded), read_only=True)
    try:
        section = tables_section(conn)
        existing = set(_warehouse_columns(conn))
    finally:
        conn.close()
    committed = (DOCS / "warehouse.md").read_text()
    generated = committed.split(BEGIN, 1)[1].split(END, 1)[0].lstrip("\n")
    assert generated == section, "docs/warehouse.md is stale: run `waba docs --warehouse <a warehouse built by `make run`>`"
    named = set(re.findall(r"`((?:raw|staging|marts)\.[a-z_0-9]+)`", committed))
    assert named - existing - set(ON_DEMAND) == set()


def test_waba_docs_rewrites_only_its_section(loaded, tmp_path, capsys):
    doc = tmp_path / "warehouse.md"
    doc.write_text(f"# Hand-written\n\nkept\n\n{BEGIN}\nold text\n{END}\n\nalso kept\n")
    assert main(["docs", "--warehouse", str(loaded), "--out", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Hand-written\n\nkept\n\n") and text.endswith(f"{END}\n\nalso kept\n") and "old text" not in text
    assert "#### `marts.message_ledger`" in text and "wrote the tables of" in capsys.readouterr().out
    missing = tmp_path / "none.duckdb"
    assert main(["docs", "--warehouse", str(missing), "--out", str(doc)]) == 2
    assert capsys.readouterr().err.strip() == f"waba: error: {missing}: no warehouse here; run `waba run` first (or pass --warehouse)"
