"""Building the staging layer from raw: typed, deduplicated, in event-time order.

Webhook models are incremental: each run parses only the deliveries of loads not yet staged, and
inserts rows whose key is not already present (an earlier-by-event-time report replaces a staged
one). A replaced landing file, or changed model SQL, triggers a full rebuild instead. Table models
(the business's own exports, and tables derived from the incremental ones) are rebuilt whole, and
only when a landing source they read loaded something or their SQL changed.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

import duckdb

from pipelines.batching import batches_by_size
from pipelines.marts import REFERENCE_DIR, comment_on, parse_header
from pipelines.warehouse import MODELS_DIR, transaction

STAGING_DIR = MODELS_DIR / "staging"
# Parsing steps that feed the incremental models, in order.
PARSE_STEPS = ["webhook_changes"]
INCREMENTAL_MODELS = [
    "message_statuses", "inbound_messages", "webhook_contacts", "webhook_errors", "user_preferences",
    "template_status_events", "template_quality_events", "template_category_events",
    "phone_number_quality_events", "business_capability_events", "account_update_events", "other_webhook_events",
    "unparsed_deliveries", "call_events", "group_events", "group_participants", "user_id_updates",
]
TABLE_MODELS = [
    "identity_changes", "customer_identities", "calls", "unknown_field_events", "message_log", "phone_number_snapshots",
    "template_snapshots", "accounts", "optin_events", "chat_keywords", "rate_cards", "invoice_lines", "unknown_values",
    "pricing_analytics", "conversation_analytics", "template_analytics",
]
# Deliveries parsed per batch: bounds memory on a 10M-envelope first load.
BATCH_ROWS = 200_000


@dataclass(frozen=True)
class Model:
    name: str
    sql: str
    key: tuple[str, ...]
    order: str | None
    description: str
    inputs: tuple[str, ...]  # landing sources a table model is rebuilt from
    columns: dict[str, str]  # documented columns (`-- column <name>: <text>` header lines)
    references: tuple[str, ...] = ()  # reference CSVs the model reads (@reference/<file>)

    @property
    def table(self) -> str:
        return f"staging.{self.name}"

    @property
    def fingerprint(self) -> str:
        """The model's SQL and the reference files it reads: a change to either means a rebuild."""
        digest = hashlib.md5(self.sql.encode())
        for name in self.references:
            digest.update((REFERENCE_DIR / name).read_bytes())
        return digest.hexdigest()


_DIRECTIVE = re.compile(r"(key|order|materialize|inputs):")
_REFERENCE = re.compile(r"@reference/([\w.-]+)")


def load_model(name: str) -> Model:
    text = (STAGING_DIR / f"{name}.sql").read_text()
    header = []
    for line in text.splitlines():  # the header is the leading comment block
        if not line.startswith("--"):
            break
        header.append(re.sub(r"^-- ?", "", line).strip())
    key = next((h.split(":", 1)[1] for h in header if h.startswith("key:")), "")
    order = next((h.split(":", 1)[1].strip() for h in header if h.startswith("order:")), None)
    inputs = next((h.split(":", 1)[1] for h in header if h.startswith("inputs:")), "")
    description, columns = parse_header(header, skip=_DIRECTIVE)
    description = re.sub(r"^staging\.\w+: ", "", description)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    references = tuple(dict.fromkeys(_REFERENCE.findall(body)))
    body = body.replace("@reference/", str(REFERENCE_DIR) + "/")
    return Model(name, body, tuple(k.strip() for k in key.split(",") if k.strip()), order, description,
                 tuple(i.strip() for i in inputs.split(",") if i.strip()), columns, references)


def _incremental_code_version() -> str:
    """A hash of every SQL file the incremental models depend on: changing any means a full rebuild."""
    names = PARSE_STEPS + INCREMENTAL_MODELS
    text = "".join((STAGING_DIR / f"{n}.sql").read_text() for n in names) + (MODELS_DIR / "macros.sql").read_text()
    text += "".join(load_model(n).fingerprint for n in INCREMENTAL_MODELS)
    return hashlib.md5(text.encode()).hexdigest()


def _needs_full_rebuild(conn, code_version: str) -> bool:
    """True when staged rows may no longer match raw: a landing file was replaced, or the model SQL changed."""
    built = conn.execute("SELECT incremental_sql_md5 FROM staging.code_version").fetchone() if (
        "staging.code_version" in _staging_tables(conn)) else None
    if built is None or built[0] != code_version:
        return True
    return conn.execute("""
        SELECT count(*) FROM staging.staged_loads s JOIN raw.load_audit a USING (load_id) WHERE a.status = 'replaced'
    """).fetchone()[0] > 0


def _pending_batches(conn) -> list[list[int]]:
    rows = conn.execute("""
        SELECT a.load_id, a.rows_loaded FROM raw.load_audit a
        WHERE a.source = 'webhooks' AND a.status IN ('loaded', 'truncated')  -- a cut gzip's readable lines count
          AND a.load_id NOT IN (SELECT load_id FROM staging.staged_loads)
        ORDER BY a.load_id
    """).fetchall()
    return [[load_id for load_id, _ in batch] for batch in batches_by_size(rows, lambda row: row[1], BATCH_ROWS)]


def _insert_deduplicated(conn, model: Model) -> tuple[int, int]:
    """Insert the model's new rows whose key is not yet present; return (candidates, inserted).

    Within the batch the earliest by event time wins. Repeated keys are few, so the window that
    picks the winner runs on those rows' keys alone, never on every candidate's full width.
    """
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _candidates AS {model.sql}")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {model.table} AS SELECT * FROM _candidates WITH NO DATA")
    keys = ", ".join(model.key)
    same_key = lambda a, b: " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in model.key)  # noqa: E731
    tiebreak = f"{model.order} NULLS LAST, " if model.order else ""
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _losers AS
        SELECT rid FROM (
            SELECT c.rowid AS rid, {", ".join(f"c.{k}" for k in model.key)}, {f"c.{model.order}, " if model.order else ""}c._load_id, c._line_no
            FROM _candidates c
            SEMI JOIN (SELECT {keys} FROM _candidates GROUP BY ALL HAVING count(*) > 1) r ON {same_key("c", "r")}
        )
        QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {tiebreak}_load_id, _line_no) > 1
    """)
    before = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
    if model.order:
        # A late-arriving earlier report replaces the one staged before it, so incremental and full
        # builds agree: the earliest by event time wins whatever the arrival order.
        conn.execute(f"""
            DELETE FROM {model.table} o USING (
                SELECT {keys}, {model.order} FROM _candidates WHERE rowid NOT IN (SELECT rid FROM _losers)) n
            WHERE {same_key("o", "n")} AND n.{model.order} < o.{model.order}
        """)
        before = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
    conn.execute(f"""
        INSERT INTO {model.table}
        SELECT * FROM _candidates n
        WHERE NOT EXISTS (SELECT 1 FROM {model.table} o WHERE {same_key("o", "n")})
          AND n.rowid NOT IN (SELECT rid FROM _losers)
    """)
    after = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
    candidates = conn.execute("SELECT count(*) FROM _candidates").fetchone()[0]
    return candidates, after - before


def build_staging(conn: duckdb.DuckDBPyConnection, progress: Callable[[str], None] = lambda _: None,
                  full: bool = False) -> dict:
    incremental = [load_model(n) for n in INCREMENTAL_MODELS]
    stats = {m.name: {"candidates": 0, "inserted": 0} for m in incremental}
    with transaction(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS staging.staged_loads (load_id BIGINT PRIMARY KEY, staged_at TIMESTAMPTZ)")
        code_version = _incremental_code_version()
        if full or _needs_full_rebuild(conn, code_version):
            progress("staging: full rebuild")
            for m in incremental:
                conn.execute(f"DROP TABLE IF EXISTS {m.table}")
            conn.execute("DELETE FROM staging.staged_loads")
            conn.execute("CREATE OR REPLACE TABLE staging.code_version AS SELECT ? AS incremental_sql_md5", [code_version])
        batches = _pending_batches(conn)
        for number, batch in enumerate(batches, start=1):
            conn.execute("CREATE OR REPLACE TEMP TABLE _batch AS SELECT unnest(?::BIGINT[]) AS load_id", [batch])
            for step in PARSE_STEPS:
                conn.execute((STAGING_DIR / f"{step}.sql").read_text())
            for m in incremental:
                candidates, inserted = _insert_deduplicated(conn, m)
                stats[m.name]["candidates"] += candidates
                stats[m.name]["inserted"] += inserted
            conn.execute("INSERT INTO staging.staged_loads SELECT load_id, now() FROM _batch")
            progress(f"staging: webhook batch {number}/{len(batches)} ({len(batch)} files)")
        existing = _staging_tables(conn)
        for m in incremental:  # a warehouse with no webhooks yet still gets every table
            if m.table not in existing:
                _create_empty(conn, m)
        _rebuild_table_models(conn, existing, rebuild_all=full)
        document_staging(conn)
        for table in ("_candidates", "_losers", "_batch", "_webhook_changes", "_management_values"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return stats


def _staging_tables(conn) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name = 'staging'").fetchall()}


def _rebuild_table_models(conn, existing: set[str], rebuild_all: bool) -> None:
    """Rebuild a table model only when its SQL changed or a landing source it reads loaded something since."""
    conn.execute("CREATE TABLE IF NOT EXISTS staging.model_state "
                 "(model VARCHAR PRIMARY KEY, built_through_load_id BIGINT, sql_md5 VARCHAR)")
    latest = dict(conn.execute("SELECT source, max(load_id) FROM raw.load_audit GROUP BY source").fetchall())
    built = {r[0]: r[1:] for r in conn.execute("SELECT model, built_through_load_id, sql_md5 FROM staging.model_state").fetchall()}
    for name in TABLE_MODELS:
        m = load_model(name)
        through = max((latest.get(source, 0) for source in m.inputs), default=0)
        state = (through, m.fingerprint)
        if rebuild_all or m.table not in existing or built.get(name) != state:
            conn.execute(f"CREATE OR REPLACE TABLE {m.table} AS {m.sql}")
            conn.execute("INSERT OR REPLACE INTO staging.model_state VALUES (?, ?, ?)", [name, *state])


def _create_empty(conn, model: Model) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE _batch (load_id BIGINT)")
    for step in PARSE_STEPS:
        conn.execute((STAGING_DIR / f"{step}.sql").read_text())
    conn.execute(f"CREATE TABLE {model.table} AS {model.sql} LIMIT 0")


def document_staging(conn) -> dict[str, list[str]]:
    """COMMENT ON every staging table and column from its model's header, as the marts do.

    Returns each model's undocumented columns. Not strict at build time, so a column added on another
    branch never stops a load; tests/test_staging_documentation.py holds every header complete.
    """
    missing = {}
    for name in INCREMENTAL_MODELS + TABLE_MODELS:
        m = load_model(name)
        missing[m.name] = comment_on(conn, "staging", m.name, m.description, m.columns,
                                     f"models/staging/{name}.sql", strict=False)
    return {name: cols for name, cols in missing.items() if cols}


def table_descriptions() -> dict[str, str]:
    return {f"staging.{n}": load_model(n).description for n in INCREMENTAL_MODELS + TABLE_MODELS}
