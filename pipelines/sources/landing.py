"""Finding landing files and deciding, by content hash, which of them still need loading.

A file whose path, size and modification time equal those of its last load is taken to hold the
same content without hashing it again: years of daily archives are not re-read on every run.
"""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import duckdb

from pipelines.warehouse import MODELS_DIR

WEBHOOK_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")


@dataclass(frozen=True)
class LandingFile:
    path: Path          # absolute
    rel_path: str       # relative to the landing folder; what the audit and quarantine name
    size: int
    mtime_ns: int

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.path)


def sql_literal_path(path: Path) -> str:
    """The path as a SQL string literal DuckDB reads as exactly that file.

    DuckDB's readers expand glob characters, so a file named `[ab].jsonl` would read a.jsonl and
    b.jsonl instead: such a file is read through a symlink with a plain name.
    """
    if any(ch in str(path) for ch in "*?[{"):
        link = Path(tempfile.mkdtemp(prefix="waba-")) / ("file" + "".join(path.suffixes[-2:]))
        link.symlink_to(path.resolve())
        path = link
    return "'" + str(path).replace("'", "''") + "'"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_files(landing: Path, folder: str, suffixes: tuple[str, ...], prefix: str = "") -> list[LandingFile]:
    root = landing / folder
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        name = path.name.lower()
        if path.is_file() and name.startswith(prefix) and name.endswith(suffixes) and not name.startswith("."):
            stat = path.stat()
            found.append(LandingFile(path, path.relative_to(landing).as_posix(), stat.st_size, stat.st_mtime_ns))
    return found


def files_to_load(conn: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile],
                  loaded_table: str) -> tuple[list[LandingFile], list[LandingFile]]:
    """Split into (files to load, files skipped because that content was already loaded).

    A changed file retires the rows its earlier version loaded. Rows other files hold only as
    duplicates of those would then be lost, so those files are reloaded with it.
    """
    active = conn.execute("SELECT file_path, file_bytes, file_mtime_ns, file_sha256 FROM raw.load_audit "
                          "WHERE source = ? AND status <> 'replaced'", [source]).fetchall()
    loaded = {sha for *_, sha in active}
    unchanged = {(path, size, mtime) for path, size, mtime, _ in active}
    todo = [f for f in files if (f.rel_path, f.size, f.mtime_ns) not in unchanged and f.sha256 not in loaded]
    changed = [f.rel_path for f in todo]
    dependents = {r[0] for r in conn.execute(f"""
        SELECT DISTINCT later.file_path
        FROM raw.load_audit earlier
        JOIN {loaded_table} kept ON kept.load_id = earlier.load_id
        JOIN raw.duplicates dup ON dup.content_md5 = kept.content_md5 AND dup.source = earlier.source
        JOIN raw.load_audit later ON later.load_id = dup.load_id AND later.status <> 'replaced'
        WHERE earlier.source = ? AND earlier.status <> 'replaced' AND earlier.file_path IN (SELECT unnest(?::VARCHAR[]))
    """, [source, changed]).fetchall()} if changed else set()
    todo = [f for f in files if f in todo or f.rel_path in dependents]
    return todo, [f for f in files if f not in todo]


def retire_previous_versions(conn: duckdb.DuckDBPyConnection, source: str, rel_paths: list[str], tables: list[str]) -> None:
    """A changed file replaces its earlier version: drop the rows that version loaded."""
    old = [r[0] for r in conn.execute(
        "SELECT load_id FROM raw.load_audit WHERE source = ? AND status <> 'replaced' AND file_path IN (SELECT unnest(?))",
        [source, rel_paths],
    ).fetchall()]
    if not old:
        return
    for table in tables + ["raw.quarantine", "raw.duplicates"]:
        conn.execute(f"DELETE FROM {table} WHERE load_id IN (SELECT unnest(?))", [old])
    conn.execute("UPDATE raw.load_audit SET status = 'replaced' WHERE load_id IN (SELECT unnest(?))", [old])


def reserve_load_ids(conn: duckdb.DuckDBPyConnection, n: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT nextval('raw.load_id_seq') FROM range(?)", [n]).fetchall()]


def record_loads(conn: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile], counts: list[dict]) -> None:
    """One audit row per file; `counts` carries load_id, status, message and the four row counts."""
    conn.executemany(
        "INSERT INTO raw.load_audit (load_id, source, file_path, file_sha256, file_bytes, file_mtime_ns, loaded_at, "
        "status, rows_in, rows_loaded, rows_duplicate, rows_quarantined, message) "
        "VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?)",
        [[c["load_id"], source, f.rel_path, f.sha256, f.size, f.mtime_ns, c["status"], c["rows_in"], c["rows_loaded"],
          c["rows_duplicate"], c["rows_quarantined"], c.get("message")] for f, c in zip(files, counts)],
    )


def load_counts(conn: duckdb.DuckDBPyConnection, load_id: int, rows_in_sql: str, loaded_table: str) -> dict:
    """Rows in (counted from the file) and where each went (counted from the tables it went to)."""
    rows_in, loaded, duplicate, quarantined = conn.execute(f"""
        SELECT ({rows_in_sql}),
               (SELECT count(*) FROM {loaded_table} WHERE load_id = $1),
               (SELECT count(*) FROM raw.duplicates WHERE load_id = $1),
               (SELECT count(*) FROM raw.quarantine WHERE load_id = $1 AND line_no IS NOT NULL)
    """, [load_id]).fetchone()
    return {"rows_in": rows_in, "rows_loaded": loaded, "rows_duplicate": duplicate, "rows_quarantined": quarantined}


COUNT_KEYS = ("rows_in", "rows_loaded", "rows_duplicate", "rows_quarantined")


@dataclass
class LoadTotals:
    """What one source's load did, file by file, for progress lines and asset metadata."""

    source: str
    files: int
    files_skipped: int
    progress: Callable[[str], None]
    files_loaded: int = 0
    load_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))

    def add(self, f: LandingFile, counts: dict, position: str = "") -> None:
        self.files_loaded += 1
        self.load_ids.append(counts["load_id"])
        for key in COUNT_KEYS:
            self.counts[key] += counts[key]
        self.progress(f"{self.source} {position}{f.rel_path}: {counts['rows_loaded']} loaded, "
                      f"{counts['rows_duplicate']} duplicate, {counts['rows_quarantined']} quarantined")

    def as_dict(self) -> dict:
        return {"files": self.files, "files_loaded": self.files_loaded, "files_skipped": self.files_skipped,
                **self.counts, "load_ids": self.load_ids}


REPEATS_SQL = (MODELS_DIR / "raw" / "repeats.sql").read_text()


def find_repeats(conn: duckdb.DuckDBPyConnection, candidates: str, position: str, history: str) -> None:
    """Fill temp table `_repeats` with the positions of `candidates` whose content was already loaded."""
    conn.execute(REPEATS_SQL.format(candidates=candidates, position=position, history=history))
