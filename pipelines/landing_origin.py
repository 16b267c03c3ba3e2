"""Which landing folder a warehouse is loaded from, so that one warehouse never mixes two of them.

The first run records the folder (absolute path, and its device and inode as a fingerprint that survives
a rename or another path to the same folder). A later run from another folder is refused unless
`--force` (which records the new folder). A folder that has none of the known source folders, or no file
in them, is refused as well: it is almost always the wrong folder (e.g. `landing/webhooks`).
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipelines.errors import UserError

SOURCE_FOLDERS = ("webhooks", "message_logs", "business_manager", "optins", "rate_cards", "invoices")
TABLE = "raw.landing_origin"


def check_landing_folder(landing: Path) -> None:
    present = [name for name in SOURCE_FOLDERS if (landing / name).is_dir()]
    expected = ", ".join(f"{name}/" for name in SOURCE_FOLDERS)
    if not present:
        raise UserError(f"{landing}: not a landing folder: it holds none of {expected} "
                        "(pass the folder that contains them, e.g. var/landing, not var/landing/webhooks)")
    for name in present:
        for _, _, files in os.walk(landing / name, followlinks=True):
            if any(not f.startswith(".") for f in files):
                return
    raise UserError(f"{landing}: the landing folder holds no files in {', '.join(f'{n}/' for n in present)}; "
                    "put the exports and webhook archives there (see docs/landing.md)")


def recorded_landing(conn: duckdb.DuckDBPyConnection) -> tuple | None:
    if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'landing_origin'"
                        ).fetchone()[0]:
        return None
    return conn.execute(f"SELECT landing_path, device, inode FROM {TABLE} ORDER BY recorded_at DESC LIMIT 1").fetchone()


def refusal(warehouse: Path, recorded: str, folder: Path) -> UserError:
    return UserError(f"{warehouse}: holds the landing folder {recorded}, not {folder}; pass --landing {recorded}, "
                     f"use another --warehouse, or add --force to load {folder} into it too")


def check_before_sample(warehouse: Path, landing: Path, force: bool) -> None:
    """Before a bare `waba run` generates the sample world: refuse at once if the warehouse holds another folder."""
    from pipelines.warehouse import connect

    if force or not Path(warehouse).is_file():
        return
    conn = connect(warehouse, read_only=True)
    try:
        recorded = recorded_landing(conn)
    finally:
        conn.close()
    if recorded is not None and recorded[0] != str(landing.resolve()):
        raise refusal(warehouse, recorded[0], landing.resolve())


def check_landing_origin(conn: duckdb.DuckDBPyConnection, landing: Path, warehouse: Path, force: bool) -> None:
    """Record the landing folder of a new warehouse; refuse another folder for an existing one unless forced."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (landing_path VARCHAR NOT NULL, device BIGINT NOT NULL, "
                 "inode BIGINT NOT NULL, recorded_at TIMESTAMPTZ NOT NULL)")
    folder = landing.resolve()
    stat = folder.stat()
    recorded = recorded_landing(conn)
    if recorded is not None:
        same = recorded[0] == str(folder) or (recorded[1], recorded[2]) == (stat.st_dev, stat.st_ino)
        if same and recorded[0] == str(folder):
            return
        if not same and not force:
            raise refusal(warehouse, recorded[0], folder)
    # A new warehouse, a moved folder (same inode), or --force: this folder is the one it holds from now on.
    conn.execute(f"DELETE FROM {TABLE}")
    conn.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, now())", [str(folder), stat.st_dev, stat.st_ino])
