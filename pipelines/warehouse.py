"""Opening the DuckDB warehouse, creating its schemas, and publishing a read-only copy."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from pipelines.errors import UserError

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a lock held by another process becomes a one-line error."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(
                f"{path}: the warehouse is locked by another process; stop it, or read the published copy"
            ) from None
        raise UserError(f"{path}: cannot open the warehouse ({exc})") from None
    conn.execute("SET TimeZone = 'UTC'")
    # DuckDB would otherwise take 80% of RAM; past this it spills to disk instead.
    conn.execute(f"SET memory_limit = '{os.environ.get('WABA_DUCKDB_MEMORY_LIMIT', '2GB')}'")
    conn.execute((MODELS_DIR / "macros.sql").read_text())
    return conn


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

    conn.execute((MODELS_DIR / "raw" / "tables.sql").read_text())
    for source in SOURCES:
        ensure_table(conn, source)


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
    staging_copy = target.with_name(target.name + ".tmp")
    shutil.copyfile(warehouse, staging_copy)
    staging_copy.replace(target)
    return target
