"""profiles.yml's targets as dbt-duckdb itself reads them: the local DuckDB file by default, and the MotherDuck and
DuckLake targets docs/scaling.md describes (defined, not run here: neither service nor the DuckLake extension can be
reached from this machine). Each expected form comes from the pages cited beside it, not from the profile."""
from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import duckdb
import pytest
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context

PROJECT = Path(__file__).resolve().parents[1]


def credentials(target: str | None, env: dict[str, str]):
    """The credentials dbt-duckdb builds from profiles.yml for `target` (None: the profile's default)."""
    set_from_args(Namespace(), None)
    set_invocation_context(env)
    profile = Profile.from_raw_profiles(read_profile(str(PROJECT)), "waba_insights", renderer=ProfileRenderer({}),
                                        target_override=target)
    return profile.target_name, profile.credentials


def test_the_default_target_is_the_local_warehouse_file(tmp_path):
    # The same path pipelines/settings.py uses: WABA_WAREHOUSE, else $WABA_HOME/warehouse.duckdb.
    name, creds = credentials(None, {"WABA_WAREHOUSE": str(tmp_path / "w.duckdb")})
    assert (name, creds.path, creds.is_motherduck, creds.attach) == ("local", str(tmp_path / "w.duckdb"), False, None)
    assert credentials(None, {"WABA_HOME": str(tmp_path)})[1].path == f"{tmp_path}/warehouse.duckdb"


def test_ducklake_target_attaches_a_postgres_catalog_with_data_on_object_storage():
    env = {"WABA_DUCKLAKE_CATALOG_DB": "lake_meta", "WABA_DUCKLAKE_CATALOG_HOST": "pg.internal",
           "WABA_DUCKLAKE_DATA_PATH": "s3://bsp-bucket/waba/"}
    name, creds = credentials("ducklake", env)
    # DuckLake, "Choosing a Catalog Database" (PostgreSQL) and "Connecting": ATTACH 'ducklake:postgres:<libpq string>'
    # AS <name> (DATA_PATH '<storage>'), with the ducklake and postgres extensions; DuckDB, "AWS Extension": s3:// is
    # httpfs's, the credential_chain provider (the AWS SDK's chain, IRSA on Kubernetes included) the aws extension's.
    assert [a.to_sql() for a in creds.attach] == [
        "ATTACH IF NOT EXISTS 'ducklake:postgres:dbname=lake_meta host=pg.internal' AS warehouse (DATA_PATH 's3://bsp-bucket/waba/')"]
    assert set(creds.extensions) == {"ducklake", "postgres", "httpfs", "aws"}
    # dbt builds into the attached lake, not the in-memory database the connection opens.
    assert (creds.path, creds.database, creds._ducklake_dbs) == (":memory:", "warehouse", {"warehouse"})
    # Object-storage credentials from the provider chain, none written in the profile.
    assert [" ".join(s.split()) for s in creds.secrets_sql()] == [
        "CREATE OR REPLACE SECRET _dbt_secret_1 ( type s3, provider credential_chain )"]
    # Statements DuckDB itself parses (only their execution needs the extensions this machine cannot download).
    for sql in [a.to_sql() for a in creds.attach] + creds.secrets_sql():
        assert len(duckdb.connect().extract_statements(sql)) == 1


def test_motherduck_target_names_a_database_and_no_token():
    name, creds = credentials("motherduck", {"WABA_MOTHERDUCK_DATABASE": "bsp_prod"})
    # dbt-duckdb: a path with an md: connection string is a MotherDuck database; MotherDuck, "Authenticating to
    # MotherDuck": the token may come from the motherduck_token environment variable. dbt-duckdb copies a profile
    # token into `settings`, which dbt prints among the connection keys, so the profile must not carry one.
    assert (creds.path, creds.database, creds.is_motherduck) == ("md:bsp_prod", "bsp_prod", True)
    assert "motherduck_token" not in creds.settings and creds.motherduck_token is None


@pytest.mark.parametrize("target", ["local", "motherduck", "ducklake"])
def test_every_target_runs_in_utc(target):
    # Marts compute local dates with AT TIME ZONE from UTC instants; a session in another zone would shift casts.
    assert credentials(target, {})[1].settings["TimeZone"] == "UTC"
