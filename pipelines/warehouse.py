"""Opening the DuckDB warehouse, creating its schemas, and publishing a read-only copy."""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from pipelines.errors import UserError
from pipelines.run_lock import check_not_held_elsewhere
from pipelines.testing_hooks import halt_point

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


MEMORY_LIMIT_ENV = "WABA_DUCKDB_MEMORY_LIMIT"
MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
# DuckDB's words for a file another process has open for writing ("block" must not count).
LOCK_MESSAGES = ("could not set lock on file", "conflicting lock")


def memory_limit() -> str:
    value = os.environ.get(MEMORY_LIMIT_ENV, "2GB").strip()
    if not MEMORY_LIMIT.fullmatch(value):
        raise UserError(f"{MEMORY_LIMIT_ENV}={value!r}: expected a size such as 2GB, 512MB or 1.5GiB")
    return value


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a lock held by another process, a damaged file or a bad path becomes a one-line error."""
    path = Path(path)
    limit = memory_limit()
    if path.is_dir():
        raise UserError(f"{path}: is a folder; --warehouse must name a DuckDB file (e.g. {path / 'warehouse.duckdb'})")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise UserError(f"{path}: cannot create the warehouse there: a parent of it is a file, not a folder") from None
        except PermissionError:
            raise UserError(f"{path}: cannot create the warehouse there: permission denied") from None
        check_not_held_elsewhere(path)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if any(words in text.lower() for words in LOCK_MESSAGES):
            pid = re.search(r"PID (\d+)", text)
            raise UserError(f"{path}: the warehouse is locked by another process{f' (pid {pid.group(1)})' if pid else ''}; "
                            "stop it, or read the published copy") from None
        if "not a valid duckdb database file" in text.lower() or "corrupt" in text.lower() or "checksum" in text.lower():
            raise UserError(f"{path}: the warehouse file is damaged ({text}); move it aside and run `waba run` to "
                            f"rebuild it from the landing folder, or copy {published_path(path).name} over it") from None
        raise UserError(f"{path}: cannot open the warehouse ({text})") from None
    conn.execute("SET TimeZone = 'UTC'")
    # DuckDB would otherwise take 80% of RAM; past this it spills to disk instead.
    conn.execute(f"SET memory_limit = '{limit}'")
    install_macros(conn)
    return conn


def install_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """The SQL macros every model may use (models/macros.sql), as TEMP macros of this connection; dbt's
    connections get them from pipelines/dbt_plugin.py."""
    conn.execute((MODELS_DIR / "macros.sql").read_text())


@contextmanager
def open_warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(path)
    try:
        ensure_raw_schema(conn)
        yield conn
    finally:
        conn.close()


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    from pipelines.sources.tabular import SOURCES, ensure_table  # the tabular specs define their tables

    from pipelines.masking import ensure_masking_key

    conn.execute((MODELS_DIR / "raw" / "tables.sql").read_text())
    for source in SOURCES:
        ensure_table(conn, source)
    ensure_masking_key(conn)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All-or-nothing: a crash or error inside leaves the warehouse as it was."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def published_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.stem + ".published" + warehouse.suffix)


def publish(warehouse: Path) -> Path:
    """Copy the checkpointed warehouse beside itself, then swap it in atomically.

    Analysts open the published file while the next run writes the working file: DuckDB
    allows one writer or many readers per file, never both.
    """
    target = published_path(warehouse)
    staging_copy = publish_temp_path(warehouse)
    try:
        shutil.copyfile(warehouse, staging_copy)
        halt_point("publish:copied")
        staging_copy.replace(target)
    finally:
        # An error (disk full) must not leave a warehouse-sized copy behind; a kill -9 can, and the next
        # run removes it (remove_stale_publish_copy).
        staging_copy.unlink(missing_ok=True)
    return target


def publish_temp_path(warehouse: Path) -> Path:
    target = published_path(warehouse)
    return target.with_name(target.name + ".tmp")


def remove_stale_publish_copy(warehouse: Path) -> None:
    """A publish killed midway leaves its copy; the writer holding the lock is the only one who publishes."""
    publish_temp_path(warehouse).unlink(missing_ok=True)
