"""Finding landing files and deciding, by content hash, which of them still need loading.

A file whose path, size and modification time equal those of its last load is taken to hold the
same content without hashing it again: years of daily archives are not re-read on every run.
"""
from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import Callable

import duckdb

from pipelines.testing_hooks import halt_point
from pipelines.warehouse import MODELS_DIR, transaction

WEBHOOK_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")


@dataclass(frozen=True)
class LandingFile:
    path: Path          # absolute
    rel_path: str       # relative to the landing folder; what the audit and quarantine name
    size: int
    mtime_ns: int
    problem: str | None = None   # "reason: detail" when the file cannot be read at all (dangling link, EACCES)

    @cached_property
    def sha256(self) -> str:
        if self.problem:
            # Stands in for the content hash of something that has none; never matches a real file's.
            return "problem:" + hashlib.sha256(self.problem.encode()).hexdigest()
        return file_sha256(self.path)

    @property
    def retried_always(self) -> bool:
        """A file that could not be read is tried again every run (fixing permissions changes no mtime); a
        broken symlink is recorded with the link's own mtime and skipped until the link changes."""
        return bool(self.problem) and self.problem.startswith("unreadable_file")

    def with_problem(self, reason: str, detail: str) -> "LandingFile":
        return LandingFile(self.path, self.rel_path, self.size, self.mtime_ns, f"{reason}: {detail}")


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


def _wanted(name: str, prefix: str, suffixes: tuple[str, ...]) -> bool:
    return name.startswith(prefix) and name.endswith(suffixes) and not name.startswith(".")


def find_files(landing: Path, folder: str, suffixes: tuple[str, ...], prefix: str = "") -> list[LandingFile]:
    """Every landing file of one source, in path order, following symlinked folders.

    A symlink whose target is missing, or that leads back into a folder it is inside of (a loop), comes
    back as a file with a problem, so that it is recorded and quarantined instead of skipped: when its
    name is one the source would load, or, having no dot, it may have been a folder.
    """
    root = landing / folder
    if not root.is_dir():
        return []
    found: list[LandingFile] = []

    def problem(path: Path, reason: str, detail: str) -> None:
        name = path.name.lower()
        if _wanted(name, prefix, suffixes) or (name.startswith(prefix) and "." not in name):
            stat = path.lstat()
            found.append(LandingFile(path, path.relative_to(landing).as_posix(), stat.st_size, stat.st_mtime_ns,
                                     f"{reason}: {detail}"))

    def walk(folder_path: Path, ancestors: frozenset) -> None:
        with os.scandir(folder_path) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            path = folder_path / name
            try:
                stat = path.stat()
            except FileNotFoundError:
                if path.is_symlink():
                    problem(path, "dangling_symlink", f"the symlink points to {os.readlink(path)}, which does not exist")
                continue
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    problem(path, "symlink_loop", f"the symlink never reaches a file ({exc.strerror})")
                else:
                    problem(path, "unreadable_file", exc.strerror or type(exc).__name__)
                continue
            if S_ISDIR(stat.st_mode):
                key = (stat.st_dev, stat.st_ino)
                if key in ancestors:
                    problem(path, "symlink_loop", f"the symlink leads back to {os.readlink(path) if path.is_symlink() else name}, "
                                                  "a folder it is inside of")
                else:
                    walk(path, ancestors | {key})
            elif S_ISREG(stat.st_mode) and _wanted(name.lower(), prefix, suffixes):
                found.append(LandingFile(path, path.relative_to(landing).as_posix(), stat.st_size, stat.st_mtime_ns))

    top = root.stat()
    walk(root, frozenset({(top.st_dev, top.st_ino)}))
    return sorted(found, key=lambda f: f.rel_path)


def _readable(f: LandingFile) -> LandingFile:
    """The file, or the same file with a problem when it cannot be read (EACCES, EIO) to hash it."""
    if f.problem:
        return f
    try:
        f.sha256
    except OSError as exc:
        return f.with_problem("unreadable_file", f"cannot be read ({exc.strerror or type(exc).__name__})")
    return f


def files_to_load(conn: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile],
                  loaded_table: str) -> tuple[list[LandingFile], list[LandingFile]]:
    """Split into (files to load, files skipped because that content was already loaded).

    A changed file retires the rows its earlier version loaded. Rows other files hold only as
    duplicates of those would then be lost, so those files are reloaded with it; the retirement marks
    them `reload_pending` in the same commit, so a run that stops before reloading them leaves them to
    the next run. A file that cannot be read is always tried again (its load records no mtime).
    """
    active = conn.execute("SELECT file_path, file_bytes, file_mtime_ns, file_sha256, status FROM raw.load_audit "
                          "WHERE source = ? AND status <> 'replaced'", [source]).fetchall()
    loaded = {sha for _, _, _, sha, status in active if status != "reload_pending"}
    unchanged = {(path, size, mtime) for path, size, mtime, _, status in active if status != "reload_pending"}
    candidates = [_readable(f) if (f.rel_path, f.size, f.mtime_ns) not in unchanged else f for f in files]
    todo = [f for f in candidates
            if f.retried_always or ((f.rel_path, f.size, f.mtime_ns) not in unchanged and f.sha256 not in loaded)]
    _record_touched(conn, source, [f for f in candidates if f not in todo and (f.rel_path, f.size, f.mtime_ns) not in unchanged])
    changed = [f.rel_path for f in todo]
    dependents = _dependents(conn, source, changed, loaded_table) if changed else set()
    pending = {path for path, *_, status in active if status == "reload_pending"}
    todo = [f for f in candidates if f in todo or f.rel_path in dependents or f.rel_path in pending]
    return todo, [f for f in candidates if f not in todo]


def _dependents(conn: duckdb.DuckDBPyConnection, source: str, rel_paths: list[str], loaded_table: str) -> set[str]:
    """Files that hold, only as duplicates, rows the loads of `rel_paths` hold."""
    return {r[0] for r in conn.execute(f"""
        SELECT DISTINCT later.file_path
        FROM raw.load_audit earlier
        JOIN {loaded_table} kept ON kept.load_id = earlier.load_id
        JOIN raw.duplicates dup ON dup.content_md5 = kept.content_md5 AND dup.source = earlier.source
        JOIN raw.load_audit later ON later.load_id = dup.load_id AND later.status <> 'replaced'
        WHERE earlier.source = ? AND earlier.status <> 'replaced' AND earlier.file_path IN (SELECT unnest(?::VARCHAR[]))
    """, [source, rel_paths]).fetchall()}


def _record_touched(conn: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile]) -> None:
    """A file touched without a change of content is hashed once: its new mtime is remembered."""
    if files:
        conn.executemany("UPDATE raw.load_audit SET file_mtime_ns = ?, file_bytes = ? WHERE source = ? AND file_path = ? "
                         "AND file_sha256 = ? AND status NOT IN ('replaced', 'reload_pending')",
                         [[f.mtime_ns, f.size, source, f.rel_path, f.sha256] for f in files])


def retire_previous_versions(conn: duckdb.DuckDBPyConnection, source: str, rel_paths: list[str], tables: list[str]) -> None:
    """A changed file replaces its earlier version: drop the rows that version loaded.

    Files that held those rows only as duplicates must be reloaded; they are marked `reload_pending`
    in the same transaction, so no crash can separate the two (files_to_load picks them up).
    """
    old = [r[0] for r in conn.execute(
        "SELECT load_id FROM raw.load_audit WHERE source = ? AND status <> 'replaced' AND file_path IN (SELECT unnest(?))",
        [source, rel_paths],
    ).fetchall()]
    if not old:
        return
    dependents = _dependents(conn, source, rel_paths, tables[0]) - set(rel_paths)
    if dependents:
        conn.execute("UPDATE raw.load_audit SET status = 'reload_pending' WHERE source = ? AND status <> 'replaced' "
                     "AND file_path IN (SELECT unnest(?::VARCHAR[]))", [source, sorted(dependents)])
    for table in tables + ["raw.quarantine", "raw.duplicates"]:
        conn.execute(f"DELETE FROM {table} WHERE load_id IN (SELECT unnest(?))", [old])
    conn.execute("UPDATE raw.load_audit SET status = 'replaced' WHERE load_id IN (SELECT unnest(?))", [old])


def record_problem_files(conn: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile], tables: list[str],
                         progress: Callable[[str], None]) -> list[dict]:
    """Files that cannot be read at all: each gets an `unreadable` load and one quarantine row naming why."""
    if not files:
        return []
    with transaction(conn):
        retire_previous_versions(conn, source, [f.rel_path for f in files], tables)
        load_ids = reserve_load_ids(conn, len(files))
        rows = [[load_id, source, f.rel_path, *f.problem.split(": ", 1)] for load_id, f in zip(load_ids, files)]
        conn.executemany("INSERT INTO raw.quarantine VALUES (?, ?, ?, NULL, ?, ?, '')", rows)
        counts = [{"load_id": load_id, "status": "unreadable", "message": f.problem, **dict.fromkeys(COUNT_KEYS, 0)}
                  for load_id, f in zip(load_ids, files)]
        record_loads(conn, source, files, counts)
    for f in files:
        progress(f"{source} {f.rel_path}: unreadable ({f.problem})")
        halt_point(f"commit:{f.rel_path}")
    return counts


def reserve_load_ids(conn: duckdb.DuckDBPyConnection, n: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT nextval('raw.load_id_seq') FROM range(?)", [n]).fetchall()]


def record_loads(conn: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile], counts: list[dict]) -> None:
    """One audit row per file; `counts` carries load_id, status, message and the four row counts."""
    conn.executemany(
        "INSERT INTO raw.load_audit (load_id, source, file_path, file_sha256, file_bytes, file_mtime_ns, loaded_at, "
        "status, rows_in, rows_loaded, rows_duplicate, rows_quarantined, message) "
        "VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?)",
        [[c["load_id"], source, f.rel_path, f.sha256, f.size, None if f.retried_always else f.mtime_ns, c["status"], c["rows_in"], c["rows_loaded"],
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
