"""Rendering the report site: one connection to the warehouse, one jinja2 page per subject, plotly.js shipped
once beside the pages (no CDN: the site must open with no network)."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

import jinja2
import plotly

from pipelines.errors import UserError
from pipelines.reports import compliance, context, dictionary, finance, limits, quality, summary, templates
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse import connect, published_path

TEMPLATES_DIR = PROJECT_ROOT / "reports"
STATIC_FILES = [TEMPLATES_DIR / "static" / "site.css", TEMPLATES_DIR / "static" / "site.js",
                Path(plotly.__file__).parent / "package_data" / "plotly.min.js"]


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    question: str
    audience: str
    content: Callable | None = None   # (connection) -> the template's variables; None for the index
    charts: bool = False              # loads plotly.js (4.7 MB to parse) only when it draws something

    @property
    def file(self) -> str:
        return f"{self.slug}.html"


PAGES = [
    Page(slug, module.TITLE, module.QUESTION, audience, module.content, charts)
    for slug, module, audience, charts in [
        ("finance", finance, "the finance lead", True), ("compliance", compliance, "the compliance officer", True),
        ("templates", templates, "the growth lead", True), ("limits", limits, "the growth lead", True),
        ("quality", quality, "everyone", False), ("dictionary", dictionary, "analysts", False)]
]
INDEX = Page("index", "WhatsApp Business report", "One page per question: open the one that is yours.", "everyone")


def report_source(warehouse: Path) -> Path:
    """The published copy when there is one (a run may be writing the warehouse), else the warehouse itself."""
    source = published_path(warehouse)
    if not source.exists():
        source = Path(warehouse)
    if not source.exists():
        raise UserError(f"{warehouse}: no warehouse here; run `waba run` first (or pass --warehouse)")
    return source


def _json_value(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON: {value!r}")


def page_data(slug: str, data: dict, shared: dict) -> str:
    """The JSON a page embeds for assets/site.js (see pipelines/reports/spec.py), safe inside a <script> element."""
    payload = {"page": slug, "filters": True, "empty_page": "No messages yet: `waba run --landing DIR` loads your "
               "data (docs/landing.md); `make run` loads the sample world.", "empty": {}, "kpis": {}, "tables": {},
               "charts": {}, "notes": {}, **shared, **data}
    text = json.dumps(payload, default=_json_value, separators=(",", ":"), sort_keys=True)
    return text.replace("</", "<\\/")


def render_site(source: Path, out: Path) -> list[Path]:
    """Render every page from the warehouse file `source` (opened read-only) into `out`; return the pages written."""
    conn = connect(source, read_only=True)
    try:
        if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                            "AND table_name = 'message_ledger'").fetchone()[0]:
            raise UserError(f"{source}: has no marts yet; run `waba run` to build them")
        context.prepare(conn)
        common = context.period_and_freshness(conn)
        shared = {"coverage": context.coverage(conn), "labels": context.labels(conn)}
        contents = {page.slug: page.content(conn) for page in PAGES}
    finally:
        conn.close()
    common |= {"rendered_at": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "pages": PAGES,
               "source": source.name}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    for path in STATIC_FILES:
        shutil.copyfile(path, out / "assets" / path.name)
    contents[INDEX.slug] = summary.content(PAGES, contents)
    written = []
    for page in [INDEX] + PAGES:
        variables = dict(contents[page.slug])
        data = variables.pop("data", None)
        variables["page_data"] = page_data(page.slug, data, shared) if data else None
        html = env.get_template(f"{page.slug}.html.j2").render(page=page, **common, **variables)
        target = out / page.file
        target.write_text(html)
        written.append(target)
    return written

