"""The audit's manifest, and re-checking an exported audit against the warehouse.

`waba audit` writes `<name>.manifest.json` beside `<name>.csv`: the window and filter, the settings the statuses
were decided under (consent scope, the chat keyword list's hash, the pricing regimes), the row count of each
status, the SHA-256 of the CSV and of every source file the audit rests on (as raw.load_audit recorded them when
they were loaded). `waba audit --verify <name>.csv` recomputes all of it from the warehouse and says what changed:
the CSV itself, a setting, a source file, or audit rows (by message id).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from pipelines.errors import UserError
from pipelines.dbt_project import REFERENCE_DIR
from pipelines.sources.landing import file_sha256, sql_literal_path

MANIFEST_FORMAT = "waba-insights audit manifest 1"
# Landing sources the statuses rest on: the consent records themselves, and the sends and time zones they judge.
CONSENT_SOURCES = ("optin_events", "chat_keywords")
SEND_SOURCES = ("message_logs", "accounts")
SHOWN_DIFFERENCES = 20


def manifest_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + ".manifest.json")


def _table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                             [schema, table]).fetchone()[0])


def audit_settings(conn: duckdb.DuckDBPyConnection) -> dict:
    """The settings the warehouse's audit was decided under."""
    scopes = [r[0] for r in conn.execute("SELECT DISTINCT consent_scope FROM marts.optin_audit ORDER BY 1").fetchall()]
    keywords = conn.execute("SELECT normalised, action, list_source FROM intermediate.chat_keywords_in_force "
                            "ORDER BY normalised, action").fetchall()
    listed = "".join(f"{word}\t{action}\n" for word, action, _ in keywords)
    bundled = REFERENCE_DIR / "bundled_chat_keywords.csv"
    regimes = []
    if _table_exists(conn, "marts", "pricing_regimes"):
        regimes = [{"regime": r, "effective_from": str(d), "enabled": bool(e)} for r, d, e in conn.execute(
            "SELECT regime, effective_from, enabled FROM marts.pricing_regimes ORDER BY effective_from, regime").fetchall()]
    return {
        "consent_scope": scopes[0] if len(scopes) == 1 else (scopes or None),
        "chat_keywords": {
            "list": keywords[0][2] if keywords else "none",
            "keywords": len(keywords),
            "sha256": hashlib.sha256(listed.encode()).hexdigest(),
            "bundled_file_sha256": file_sha256(bundled) if keywords and keywords[0][2] == "bundled" else None,
        },
        "pricing_regimes": regimes,
    }


def audit_sources(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every loaded file the audit rests on: consent records, the webhook files holding a consent event, the sends."""
    rows = conn.execute(f"""
        WITH webhook_files AS (
            SELECT DISTINCT regexp_replace(recorded_in, ':[0-9]+$', '') AS file_path
            FROM marts.consent_timeline WHERE recorded_in IS NOT NULL
        )
        SELECT a.file_path, a.source, a.file_sha256, a.file_bytes,
               CASE WHEN a.source IN {CONSENT_SOURCES} OR w.file_path IS NOT NULL THEN 'consent' ELSE 'sends' END
        FROM raw.load_audit a LEFT JOIN webhook_files w USING (file_path)
        WHERE a.status = 'loaded' AND (a.source IN {CONSENT_SOURCES + SEND_SOURCES} OR w.file_path IS NOT NULL)
        ORDER BY a.file_path""").fetchall()
    return [{"file": path, "source": source, "sha256": sha, "bytes": size, "role": role}
            for path, source, sha, size, role in rows]


def write_manifest(conn: duckdb.DuckDBPyConnection, warehouse: Path, csv_path: Path, start: date, end: date,
                   statuses: list[str], unmasked: bool, counts: dict[str, int]) -> Path:
    manifest = {
        "format": MANIFEST_FORMAT,
        "exported_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "warehouse": str(Path(warehouse).resolve()),
        "window": {"from": start.isoformat(), "to": end.isoformat(), "days": "local days of the sending WABA"},
        "statuses_filter": list(statuses),
        "masked": not unmasked,
        "csv": {"file": csv_path.name, "sha256": file_sha256(csv_path), "rows": sum(counts.values()),
                "bytes": csv_path.stat().st_size},
        "rows_by_status": dict(sorted(counts.items())),
        "settings": audit_settings(conn),
        "sources": audit_sources(conn),
    }
    path = manifest_path(csv_path)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def read_manifest(csv_path: Path) -> dict:
    path = manifest_path(csv_path)
    if not csv_path.is_file():
        raise UserError(f"{csv_path}: no such audit CSV")
    if not path.is_file():
        raise UserError(f"{csv_path}: no manifest beside it (expected {path.name}, written by `waba audit`)")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise UserError(f"{path}: not a waba audit manifest (format {manifest.get('format') if isinstance(manifest, dict) else None!r})")
    return manifest


def verify_audit(csv_path: Path, warehouse: Path | None = None) -> tuple[bool, list[str]]:
    """Re-check an exported audit CSV against its manifest and the warehouse; return (verified, findings)."""
    from pipelines.compliance import audit_source, open_audit_source, write_export

    csv_path = Path(csv_path)
    manifest = read_manifest(csv_path)
    source = audit_source(Path(warehouse or manifest["warehouse"]))
    findings: list[str] = []
    sha = file_sha256(csv_path)
    if sha != manifest["csv"]["sha256"]:
        findings.append(f"{csv_path.name}: changed since it was exported (sha256 {sha[:12]}..., "
                        f"the manifest says {manifest['csv']['sha256'][:12]}...)")
    conn = open_audit_source(source)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / csv_path.name
            start, end = date.fromisoformat(manifest["window"]["from"]), date.fromisoformat(manifest["window"]["to"])
            counts = write_export(conn, start, end, manifest["statuses_filter"], fresh, not manifest["masked"])
            findings += _compare_settings(manifest["settings"], audit_settings(conn))
            findings += _compare_sources(manifest["sources"], audit_sources(conn))
            if dict(sorted(counts.items())) != manifest["rows_by_status"]:
                findings.append(f"rows by status: the manifest says {_counts(manifest['rows_by_status'])}; "
                                f"the warehouse now gives {_counts(counts)}")
            if file_sha256(fresh) != sha:
                findings += _compare_rows(csv_path, fresh)
    finally:
        conn.close()
    return not findings, findings


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no rows"


def _compare_settings(recorded: dict, now: dict) -> list[str]:
    out = []
    if recorded.get("consent_scope") != now["consent_scope"]:
        out.append(f"setting consent_scope: {recorded.get('consent_scope')} at export, {now['consent_scope']} now")
    before, after = recorded.get("chat_keywords", {}), now["chat_keywords"]
    if before.get("sha256") != after["sha256"]:
        out.append(f"chat keyword list: {before.get('list')} list of {before.get('keywords')} keywords at export, "
                   f"{after['list']} list of {after['keywords']} now (sha256 {after['sha256'][:12]}...)")
    if recorded.get("pricing_regimes") != now["pricing_regimes"]:
        out.append("pricing regimes differ from the export's (see marts.pricing_regimes)")
    return out


def _compare_sources(recorded: list[dict], now: list[dict]) -> list[str]:
    before = {s["file"]: s for s in recorded}
    after = {s["file"]: s for s in now}
    out = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            out.append(f"source {path}: in the manifest, no longer loaded in the warehouse")
        elif path not in before:
            out.append(f"source {path}: loaded since the export ({after[path]['source']}, sha256 {after[path]['sha256'][:12]}...)")
        elif before[path]["sha256"] != after[path]["sha256"]:
            out.append(f"source {path}: changed (sha256 {before[path]['sha256'][:12]}... at export, "
                       f"{after[path]['sha256'][:12]}... now)")
    return out


def _compare_rows(given: Path, fresh: Path) -> list[str]:
    """Rows of the given CSV that the warehouse now gives differently, by message id, column by column."""
    conn = duckdb.connect()
    try:
        read = "read_csv({}, header = true, all_varchar = true, auto_detect = true)"
        conn.execute(f"CREATE TEMP TABLE given AS SELECT * FROM {read.format(sql_literal_path(given))}")
        conn.execute(f"CREATE TEMP TABLE fresh AS SELECT * FROM {read.format(sql_literal_path(fresh))}")
        columns = [r[0] for r in conn.execute("DESCRIBE fresh").fetchall()]
        if [r[0] for r in conn.execute("DESCRIBE given").fetchall()] != columns:
            return [f"{given.name}: its columns differ from the export's ({', '.join(columns)})"]
        changed = " || ".join(
            f"CASE WHEN g.{c} IS DISTINCT FROM f.{c} THEN '; {c} ' || coalesce(g.{c}, '(empty)') || ' -> ' "
            f"|| coalesce(f.{c}, '(empty)') ELSE '' END" for c in columns if c != "message_id")
        rows = conn.execute(f"""
            SELECT coalesce(g.message_id, f.message_id),
                   CASE WHEN f.message_id IS NULL THEN 'in the CSV, not in the warehouse'
                        WHEN g.message_id IS NULL THEN 'in the warehouse, not in the CSV'
                        ELSE ltrim({changed}, '; ') END AS change
            FROM given g FULL OUTER JOIN fresh f ON g.message_id = f.message_id
            WHERE g.message_id IS NULL OR f.message_id IS NULL OR {changed} <> ''
            ORDER BY 1""").fetchall()
    finally:
        conn.close()
    out = [f"row {message_id}: {change}" for message_id, change in rows[:SHOWN_DIFFERENCES]]
    if len(rows) > SHOWN_DIFFERENCES:
        out.append(f"... and {len(rows) - SHOWN_DIFFERENCES} more rows differ")
    return out
