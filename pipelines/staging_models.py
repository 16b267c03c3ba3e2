"""The staging models as the dbt project declares them (models/staging/: SQL with ref()/source(), YAML docs and
config), for the Python runner in pipelines/staging.py until Dagster runs them through dbt.

The graph comes from the models' own ref() and source() calls and their YAML config (materialized, unique_key,
event_order): no Python list or header line decides what depends on what. Rendering covers the small Jinja subset
the table and webhook models use (ref, source, reference_csv); a model needing more is an error, not a guess.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path

import yaml

from pipelines.warehouse import MODELS_DIR

STAGING_DIR = MODELS_DIR / "staging"
INTERMEDIATE_DIR = STAGING_DIR / "intermediate"
REFERENCE_DIR = MODELS_DIR / "reference"
INCREMENTAL = "earliest_wins"  # the materialization of the webhook models (models/dbt_macros/earliest_wins.sql)

_REF = re.compile(r"\{\{\s*ref\('(\w+)'\)\s*\}\}")
_SOURCE = re.compile(r"\{\{\s*source\('(\w+)',\s*'(\w+)'\)\s*\}\}")
_REFERENCE = re.compile(r"\{\{\s*reference_csv\('([\w.-]+)'\)\s*\}\}")
_COMMENT = re.compile(r"\{#.*?#\}", re.S)


@dataclass(frozen=True)
class Model:
    name: str
    template: str  # the model's SQL as dbt reads it
    materialized: str
    key: tuple[str, ...]
    order: str | None
    description: str
    columns: dict[str, str]
    tiebreak: str | None = None  # orders rows of one delivery line that tie on everything else
    intermediate: bool = False

    @property
    def table(self) -> str:
        return f"staging.{self.name}"

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_REF.findall(self.template)))

    @property
    def sources(self) -> tuple[tuple[str, str], ...]:
        return tuple(dict.fromkeys(_SOURCE.findall(self.template)))

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_REFERENCE.findall(self.template)))

    @property
    def sql(self) -> str:
        """The SQL with refs resolved for the Python runner: staging tables, and the batch's working tables as TEMP
        tables `_<name>` (the runner creates `_webhook_batch` itself)."""
        def ref(match: re.Match) -> str:
            target = models()[match.group(1)]
            return f"_{target.name}" if target.intermediate else target.table
        text = _COMMENT.sub("", self.template)
        text = _REF.sub(ref, text)
        text = _SOURCE.sub(lambda m: f"{m.group(1)}.{m.group(2)}", text)
        text = _REFERENCE.sub(lambda m: str(REFERENCE_DIR / m.group(1)), text)
        if "{{" in text or "{%" in text:
            raise ValueError(f"models/staging/{self.name}.sql: Jinja beyond ref/source/reference_csv; "
                             "build it with dbt (tests/test_dbt_staging.py shows how)")
        return text

    @property
    def fingerprint(self) -> str:
        """The model's SQL, config and the reference files it reads: a change to any means a rebuild."""
        digest = hashlib.md5(f"{self.template}|{self.materialized}|{self.key}|{self.order}|{self.tiebreak}".encode())
        for name in self.references:
            digest.update((REFERENCE_DIR / name).read_bytes())
        return digest.hexdigest()


@cache
def models() -> dict[str, Model]:
    """Every staging model (intermediate ones included), by name."""
    found: dict[str, Model] = {}
    for folder in (STAGING_DIR, INTERMEDIATE_DIR):
        for doc in sorted(folder.glob("_*.yml")):
            for entry in (yaml.safe_load(doc.read_text()) or {}).get("models", []):
                config = entry.get("config", {})
                key = config.get("unique_key") or ()
                found[entry["name"]] = Model(
                    entry["name"], (folder / f"{entry['name']}.sql").read_text(),
                    config.get("materialized", "table"), tuple([key] if isinstance(key, str) else key),
                    config.get("event_order"), entry.get("description", ""),
                    {c["name"]: c.get("description", "") for c in entry.get("columns", [])},
                    tiebreak=config.get("tiebreak"), intermediate=folder == INTERMEDIATE_DIR)
    return found


def _in_build_order(names: list[str]) -> list[str]:
    graph = {n: [r for r in models()[n].refs if r in names] for n in names}
    return list(TopologicalSorter(graph).static_order())


def incremental_models() -> list[str]:
    return [n for n, m in models().items() if m.materialized == INCREMENTAL]


def table_models() -> list[str]:
    """The table models (exports, and tables derived from the webhook models), each after the models it refs."""
    return _in_build_order([n for n, m in models().items() if m.materialized == "table" and not m.intermediate])


def parse_steps() -> list[str]:
    """The working tables of a webhook batch the webhook models read, in build order (the batch itself excluded)."""
    needed = {r for n in incremental_models() for r in models()[n].refs}
    steps = {n for n in needed if models()[n].intermediate}
    for name in list(steps):
        steps |= {r for r in models()[name].refs if models()[r].intermediate}
    return [n for n in _in_build_order(sorted(steps)) if n != "webhook_batch"]


@cache
def landing_sources() -> dict[str, str]:
    """raw table -> the landing source (raw.load_audit.source) whose loads fill it (models/staging/_sources.yml)."""
    doc = yaml.safe_load((STAGING_DIR / "_sources.yml").read_text())
    raw = next(s for s in doc["sources"] if s["name"] == "raw")
    return {t["name"]: t["meta"]["landing_source"] for t in raw["tables"] if t.get("meta", {}).get("landing_source")}


def inputs(name: str) -> tuple[str, ...]:
    """The landing sources a model reads, directly or through the models it refs."""
    seen: set[str] = set()
    found: set[str] = set()
    pending = [name]
    while pending:
        model = models()[pending.pop()]
        if model.name in seen:
            continue
        seen.add(model.name)
        found |= {landing_sources()[t] for s, t in model.sources if s == "raw" and t in landing_sources()}
        pending += model.refs
    return tuple(sorted(found))


def incremental_code_version() -> str:
    """A hash of everything the webhook models' rows depend on (their SQL and config, the parse step, the macros, the
    reference files): changing any means a full rebuild."""
    names = ["webhook_batch", *parse_steps(), *incremental_models()]
    text = "".join(models()[n].fingerprint for n in names)
    for path in [MODELS_DIR / "macros.sql", *sorted((MODELS_DIR / "dbt_macros").glob("*.sql"))]:
        text += path.read_text()
    return hashlib.md5(text.encode()).hexdigest()
