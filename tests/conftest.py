import gzip
import hashlib
import hmac
import json
import os
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

# Tests never touch the user's var/: every default path (landing, warehouse, reports) points into a temp
# folder, for this process and the `waba` processes tests start; pytest_sessionfinish fails the session if
# var/ changed anyway.
USER_VAR = Path(__file__).resolve().parent.parent / "var"
os.environ["WABA_HOME"] = tempfile.mkdtemp(prefix="waba-test-home-")
for _name in ("WABA_LANDING", "WABA_WAREHOUSE", "WABA_REPORTS", "DAGSTER_HOME"):  # the Dagster instance: $WABA_HOME/dagster
    os.environ.pop(_name, None)


def var_state() -> dict[str, tuple[int, int]]:
    state = {}
    for folder, _, files in os.walk(USER_VAR):
        for name in files:
            path = Path(folder) / name
            stat = path.lstat()
            state[path.relative_to(USER_VAR).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return state


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, once for the whole (xdist) session
        session.config.var_before = var_state()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "var_before", None)
    if before is None:
        return
    after = var_state()
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if changed:
        print(f"\nthe test suite changed the user's var/ folder: {', '.join(changed[:10])}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

from pipelines.sources.graph_responses import load_graph_responses
from pipelines.staging_build import build_in_process as build_staging
from pipelines.sources.tabular import SOURCES, load_tabular
from pipelines.sources.webhooks import load_webhooks
from pipelines.warehouse import open_warehouse

SECRET = "test-secret"


def envelope(waba_id: str, field: str, value: dict, time: int | None = None) -> dict:
    entry = {"id": waba_id, "changes": [{"field": field, "value": value}]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_value(*, statuses=None, messages=None, contacts=None, phone_number_id="PN1") -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id}}
    if statuses is not None:
        value["statuses"] = statuses
    if messages is not None:
        value["messages"] = messages
    if contacts is not None:
        value["contacts"] = contacts
    return value


def capture(body: str, secret: str | None = SECRET, received_at: str = "2025-07-01T12:00:00Z") -> dict:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return {"received_at": received_at, "headers": headers, "body": body}


def write_lines(path: Path, items: list, compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)
    if compress:
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text)
    return path


def load_all(warehouse: Path, landing: Path, secret: str | None = SECRET) -> dict:
    """Raw + staging for a landing folder, without Dagster (the unit-level path: dbt in this process)."""
    with open_warehouse(warehouse) as conn:
        totals = {"webhooks": load_webhooks(conn, landing, app_secret=secret)}
        for source in SOURCES:
            totals[source.name] = load_tabular(conn, landing, source)
        totals["graph_responses"] = load_graph_responses(conn, landing)
    build_staging(warehouse)
    return totals


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def query(warehouse: Path):

    def run(sql: str, params=None):
        conn = duckdb.connect(str(warehouse), read_only=True)
        try:
            return conn.execute(sql, params or []).fetchall()
        finally:
            conn.close()

    return run


SAMPLE_SECRET = "sample-app-secret"


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    """A small generated sample world (80 customers over the whole default period)."""
    from pipelines.sample import generate_world

    landing = tmp_path_factory.mktemp("world") / "landing"
    generate_world(landing, seed=11, customers=80, start=date(2025, 6, 1), end=date(2026, 11, 30), app_secret=SAMPLE_SECRET)
    return landing


@pytest.fixture(scope="session")
def loaded(world, tmp_path_factory) -> Path:
    """The world run through every Dagster asset; the report site is in the warehouse's folder, under reports/."""
    from pipelines.run import run_pipeline

    warehouse = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WABA_APP_SECRET", SAMPLE_SECRET)
        summary = run_pipeline(world, warehouse, warehouse.parent / "reports", verbose=False)
    # A clean world passes every check, warnings included.
    assert summary.failed_checks == [] and summary.warned_checks == []
    return warehouse


def fetch(warehouse: Path, sql: str, params=None):
    """Rows of one query on a warehouse file, opened read-only and closed again."""
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()
