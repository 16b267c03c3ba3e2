"""The overview page: every page's KPIs for the same period and filters, from those pages' facts reduced to the
columns the KPIs read (the index stays small however many dimensions the pages' tables have)."""
from __future__ import annotations

import polars as pl

KEYS = ("day", "waba_id", "phone_number_id")
AGGREGATIONS = {"sum": "sum", "max": "max", "min": "min"}


def _reduce(fact: dict, kpis: list[dict]) -> dict:
    """`fact` grouped by the time, WABA, number and split / where columns, its measures summed (or max / min)."""
    keys = [c for c in fact["columns"] if c in KEYS or any(c == k.get("split") or c in (k.get("where") or {})
                                                            for k in kpis)]
    aggregations = {}
    for k in kpis:
        m = k["measure"]
        if m["agg"] == "distinct":
            keys += [c for c in m["num"] + ([m["den"]] if m["den"] else []) if c not in keys]
            continue
        for column in [m["num"], m["den"]]:
            if column and column not in keys:
                aggregations[column] = AGGREGATIONS[m["agg"]]
    if not fact["rows"]:
        return {**fact, "columns": keys + list(aggregations), "rows": []}
    frame = pl.DataFrame(fact["rows"], schema=fact["columns"], orient="row", infer_schema_length=None)
    reduced = (frame.group_by(keys, maintain_order=True)
               .agg([getattr(pl.col(c), how)() for c, how in aggregations.items()]).sort(keys, nulls_last=True))
    return {"grain": fact["grain"], "columns": reduced.columns, "rows": reduced.rows()}


def content(pages: list, contents: dict) -> dict:
    facts, kpis, summaries = {}, {}, []
    for page in pages:
        data = contents[page.slug].get("data")
        if not data:
            summaries.append((page, None, contents[page.slug].get("kpis", [])))
            continue
        main = data["kpis"]["main"]
        kpis[page.slug] = []
        for name in dict.fromkeys(k["fact"] for k in main if "fact" in k):
            facts[f"{page.slug}.{name}"] = _reduce(data["facts"][name], [k for k in main if k.get("fact") == name])
        kpis[page.slug] = [k if "fact" not in k else {**k, "fact": f"{page.slug}.{k['fact']}"} for k in main]
        summaries.append((page, page.slug, []))
    return {"summaries": summaries, "data": {"facts": facts, "kpis": kpis}}
