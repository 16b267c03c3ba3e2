"""Building the marts: the documented tables analysts and reports read.

The mart models are a dbt project (dbt_project.yml; models under models/marts/, docs and tests in
models/marts/_marts.yml, working tables under models/marts/intermediate/). Until dagster-dbt runs them
(the next slice, docs/architecture.md), this builder runs the same files: it renders their `ref()`,
`source()`, `waba_var()` and `reference_csv()` calls to the tables, session variables and paths it uses
(an intermediate is a TEMP table `_<name>`), and turns the YAML docs into COMMENT ON, refusing a table
with an undocumented column. Marts built in Python keep their documentation as a header in
models/marts/<name>.sql (`-- column <name>: <text>`), which dbt ignores (.dbtignore).

A domain rebuilds its marts whole, and only when something it could read changed: a new load, any
model SQL or reference file, or the domain's parameters.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import jinja2
import yaml

from pipelines.warehouse import MODELS_DIR, transaction

MARTS_DIR = MODELS_DIR / "marts"
INTERMEDIATE_DIR = MARTS_DIR / "intermediate"
REFERENCE_DIR = MODELS_DIR / "reference"
_COLUMN = re.compile(r"^column (\w+): (.*)$")


@dataclass(frozen=True)
class Mart:
    name: str
    sql: str               # empty for a mart built in Python, whose file only documents it
    description: str
    columns: dict[str, str]

    @property
    def table(self) -> str:
        return f"marts.{self.name}"


def _read(path: Path) -> tuple[list[str], str]:
    """A model file's header lines and its SQL as this builder runs it."""
    text = path.read_text()
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].strip())
    body = "\n".join(line for line in render(text).splitlines() if not line.lstrip().startswith("--"))
    return header, body.strip().rstrip(";")


def _ref(name: str) -> str:
    return f"_{name}" if (INTERMEDIATE_DIR / f"{name}.sql").exists() else f"marts.{name}"


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_CONTEXT = {"ref": _ref, "source": lambda schema, name: f"{schema}.{name}",
            "waba_var": lambda name: f"getvariable('{name}')",
            "reference_csv": lambda file: str(REFERENCE_DIR / file),
            "config": lambda **_: ""}


def render(text: str) -> str:
    """A dbt model's SQL with its Jinja calls resolved the way this builder names things."""
    return _JINJA.from_string(text).render(_CONTEXT)


def model_reads(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """The models a dbt model file `ref()`s and the (schema, table) sources it reads, from its own Jinja calls."""
    refs: set[str] = set()
    sources: set[tuple[str, str]] = set()

    def ref(name: str) -> str:
        refs.add(name)
        return _ref(name)

    def source(schema: str, name: str) -> str:
        sources.add((schema, name))
        return f"{schema}.{name}"

    _JINJA.from_string(path.read_text()).render(_CONTEXT | {"ref": ref, "source": source})
    return refs, sources


@functools.lru_cache(maxsize=None)
def mart_upstream(name: str) -> frozenset[tuple[str, str]]:
    """(schema, table) of every table a SQL mart reads: the marts it refs and the sources it reads, looking
    through the intermediates (working tables, not assets) it refs to what they read."""
    upstream: set[tuple[str, str]] = set()
    pending, seen = [MARTS_DIR / f"{name}.sql"], set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        refs, sources = model_reads(path)
        upstream |= sources
        for ref in refs:
            if (INTERMEDIATE_DIR / f"{ref}.sql").exists():
                pending.append(INTERMEDIATE_DIR / f"{ref}.sql")
            else:
                upstream.add(("marts", ref))
    return frozenset(upstream)


def is_sql_model(name: str) -> bool:
    """A mart built by SQL (a dbt model), as opposed to one built in Python whose file only documents it."""
    return name in model_docs(MARTS_DIR)


def model_docs(folder: Path) -> dict[str, dict]:
    """name -> the model's entry (description, columns) in the folder's dbt YAML files."""
    docs = {}
    for path in sorted(folder.glob("_*.yml")):
        docs |= _yaml_models(path, path.stat().st_mtime_ns)
    return docs


@functools.lru_cache(maxsize=8)
def _yaml_models(path: Path, mtime_ns: int) -> dict[str, dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: a definitions load reads this often
    return {model["name"]: model for model in (yaml.load(path.read_text(), Loader=loader) or {}).get("models", [])}


def load_mart(name: str) -> Mart:
    header, body = _read(MARTS_DIR / f"{name}.sql")
    docs = model_docs(MARTS_DIR).get(name)
    if docs is None:  # built in Python: documented by its header
        description, columns = parse_header(header)
        return Mart(name, body, re.sub(r"^marts\.\w+: ", "", description), columns)
    return Mart(name, body, docs["description"], {c["name"]: c["description"] for c in docs.get("columns", [])})


def parse_header(header: list[str], skip: re.Pattern | None = None) -> tuple[str, dict[str, str]]:
    """A model header's description and its `column <name>: <text>` lines (a text may continue on
    the next lines); lines matching `skip` (builder directives) belong to neither."""
    columns: dict[str, str] = {}
    description: list[str] = []
    for line in header:
        if skip is not None and skip.match(line):
            continue
        match = _COLUMN.match(line)
        if match:
            columns[match.group(1)] = match.group(2).strip()
        elif columns and line and not line.startswith("column"):
            last = next(reversed(columns))  # a column's text continues on the next header line
            columns[last] += " " + line
        elif line:
            description.append(line)
    return " ".join(description), columns


def intermediate_sql(name: str) -> str:
    return _read(INTERMEDIATE_DIR / f"{name}.sql")[1]


def build_intermediate(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _{name} AS {intermediate_sql(name)}")


def build_mart(conn: duckdb.DuckDBPyConnection, name: str) -> int:
    mart = load_mart(name)
    conn.execute(f"CREATE OR REPLACE TABLE {mart.table} AS {mart.sql}")
    document(conn, mart)
    return conn.execute(f"SELECT count(*) FROM {mart.table}").fetchone()[0]


def document(conn: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    """COMMENT ON the table and each column from the model's header; every column must be documented."""
    comment_on(conn, "marts", mart.name, mart.description, mart.columns,
               f"models/marts/{mart.name}.sql (documented in models/marts/_marts.yml)")


def comment_on(conn: duckdb.DuckDBPyConnection, schema: str, name: str, description: str,
               columns: dict[str, str], source: str, strict: bool = True) -> list[str]:
    """COMMENT ON a table and its columns; return the columns the header does not document.

    Strict, a header out of step with the table is an error; otherwise undocumented columns are
    returned (and left without a comment) and documented-but-absent ones ignored.
    """
    actual = [r[0] for r in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name]).fetchall()]
    undocumented = [c for c in actual if c not in columns]
    stale = [c for c in columns if c not in actual]
    if strict and (undocumented or stale):
        raise ValueError(f"{source}: header out of step with the table "
                         f"(undocumented: {undocumented}, documented but absent: {stale})")
    conn.execute(f"COMMENT ON TABLE {schema}.{name} IS {_quote(description)}")
    for column in actual:
        if column in columns:
            conn.execute(f'COMMENT ON COLUMN {schema}.{name}."{column}" IS {_quote(columns[column])}')
    return undocumented


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def marts_fingerprint(conn: duckdb.DuckDBPyConnection, params: dict) -> str:
    """Everything a mart could depend on: the last load, every model and reference file, the parameters."""
    last_load = conn.execute("SELECT coalesce(max(load_id), 0) FROM raw.load_audit").fetchone()[0]
    digest = hashlib.md5(f"{last_load}|{json.dumps(params, sort_keys=True, default=str)}".encode())
    for path in sorted(MODELS_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def build_domain(conn: duckdb.DuckDBPyConnection, domain: str, steps: list[tuple[str, Callable]],
                 params: dict, progress: Callable[[str], None] = lambda _: None, force: bool = False,
                 prepare: list[tuple[str, Callable]] = ()) -> dict[str, int]:
    """Run a domain's build steps in one transaction, unless nothing they read has changed.

    `prepare` steps run first, outside the transaction: reference tables rebuilt from files and TEMP
    working tables, whose rows would otherwise all be held as one uncommitted transaction (at 10M
    envelopes that exceeded DuckDB's memory limit). Returns the row count of each mart table the domain
    owns (also when skipped).
    """
    state_key = f"marts:{domain}"
    fingerprint = marts_fingerprint(conn, params)
    conn.execute("CREATE TABLE IF NOT EXISTS staging.model_state "
                 "(model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")
    built = conn.execute("SELECT sql_md5 FROM staging.model_state WHERE model = ?", [state_key]).fetchone()
    names = [name for name, _ in list(prepare) + steps if not name.startswith("_")]
    existing = {r[0] for r in conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
    if force or built is None or built[0] != fingerprint or not set(names) <= existing:
        # Every mart states its order with ORDER BY; not keeping insertion order elsewhere lets DuckDB spill
        # the big joins to disk instead of running out of memory (measured at 10M envelopes).
        conn.execute("SET preserve_insertion_order = false")
        try:
            for name, step in prepare:
                progress(f"{domain}: building {name}")
                step(conn)
            with transaction(conn):
                for name, step in steps:
                    progress(f"{domain}: building {name}")
                    step(conn)
                conn.execute("INSERT OR REPLACE INTO staging.model_state VALUES (?, NULL, ?)", [state_key, fingerprint])
        finally:
            conn.execute("RESET preserve_insertion_order")
    else:
        progress(f"{domain}: unchanged since the last run")
    return {name: conn.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0] for name in names}


def mart_descriptions(names: list[str]) -> dict[str, str]:
    return {name: load_mart(name).description for name in names}
