"""Issue 18, item 1 ("reference CSVs become seeds"): every CSV under models/reference that a mart reads is a dbt seed
in its own schema, `reference`, typed and documented; no mart reads a CSV by path any more (the reference_csv macro
is left to staging, whose Python runner reads webhook_vocabulary.csv); and the seeds are Dagster assets of the same
dbt build, upstream of the marts built from them.

Expected values come from the files themselves (their names and header lines, their data rows counted with the csv
module) and from dbt's manifest of the project (`dbt parse`), never from the code under test.
"""
import csv

import dagster as dg
import pytest

from conftest import fetch
from pipelines.dbt_project import REFERENCE_DIR, manifest

pytestmark = pytest.mark.xdist_group("sample_world")

STAGING_ONLY = "webhook_vocabulary.csv"  # read by the staging models (reference_csv), not seeded


def seed_files() -> dict[str, list[str]]:
    """Each CSV a mart reads, by seed name, with its header."""
    files = {}
    for path in sorted(REFERENCE_DIR.glob("*.csv")):
        if path.name != STAGING_ONLY:
            with path.open(newline="") as handle:
                files[path.stem] = next(csv.reader(handle))
    return files


def seeds(parsed: dict) -> dict[str, dict]:
    return {node["name"]: node for node in parsed["nodes"].values() if node["resource_type"] == "seed"}


def mart_models(parsed: dict) -> list[dict]:
    return [node for node in parsed["nodes"].values()
            if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")]


def test_every_reference_csv_but_staging_vocabulary_is_a_typed_documented_seed_in_schema_reference():
    parsed = manifest()
    files = seed_files()
    # the nine files the marts read (brief 18s: calling codes, chat keywords, limit ladders, eras and spellings,
    # allowance, category and regime rules, the bundled rates)
    assert len(files) == 9
    found = seeds(parsed)
    assert set(found) == set(files)
    for name, header in files.items():
        node = found[name]
        assert node["schema"] == "reference", name
        assert node["description"], name
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, name
        # every column typed (the types the marts cast them to) and documented
        assert list(node["config"]["column_types"]) == header, name
        assert set(node["columns"]) == set(header) and all(c["description"] for c in node["columns"].values()), name
    # a seed named as a model would make dbt refuse the project; the renames keep them apart
    assert not set(found) & {node["name"] for node in parsed["nodes"].values() if node["resource_type"] == "model"}


def test_no_mart_reads_a_csv_by_path_and_the_pricing_marts_ref_their_seeds():
    parsed = manifest()
    readers = [node["name"] for node in mart_models(parsed) if "reference_csv" in node["raw_code"]
               or "read_csv" in node["raw_code"]]
    assert readers == []
    reads = {node["name"]: set(node["depends_on"]["nodes"]) for node in mart_models(parsed)}
    assert "seed.waba_insights.regime_rules" in reads["pricing_regimes"]
    assert "seed.waba_insights.bundled_rates" in reads["rate_card"]
    assert {"seed.waba_insights.messaging_limit_eras", "seed.waba_insights.messaging_limit_ladders"} <= reads["messaging_limit_rules"]
    # every seed is read by some mart (a seed nothing reads would be a CSV loaded for nothing)
    read = set().union(*reads.values())
    assert {f"seed.waba_insights.{name}" for name in seeds(parsed)} <= read


def test_the_seeds_are_assets_of_the_dbt_build_upstream_of_the_marts():
    from pipelines.definitions import defs
    from pipelines.defs.models.assets import warehouse_models

    seed_keys = {dg.AssetKey(["reference", name]) for name in seed_files()}
    assert seed_keys <= set(warehouse_models.keys)  # one dbt build loads them with the marts
    graph = defs().resolve_asset_graph()
    assert dg.AssetKey(["reference", "regime_rules"]) in graph.get(dg.AssetKey(["marts", "pricing_regimes"])).parent_keys
    assert dg.AssetKey(["reference", "bundled_rates"]) in graph.get(dg.AssetKey(["marts", "rate_card"])).parent_keys
    assert dg.AssetKey(["reference", "bundled_chat_keywords"]) in graph.get(dg.AssetKey(["intermediate", "chat_keywords_in_force"])).parent_keys


def test_the_run_loaded_every_seed_whole_and_documented(loaded):
    for name in seed_files():
        with (REFERENCE_DIR / f"{name}.csv").open(newline="") as handle:
            rows = sum(1 for _ in csv.DictReader(handle))
        assert fetch(loaded, f"SELECT count(*) FROM reference.{name}") == [(rows,)], name
        comment = fetch(loaded, "SELECT comment FROM duckdb_tables() WHERE schema_name = 'reference' AND table_name = ?", [name])
        assert comment and comment[0][0], name
    # one pricing regime per row of the rules, in the mart built from them
    with (REFERENCE_DIR / "regime_rules.csv").open(newline="") as handle:
        regimes = sorted(row["regime"] for row in csv.DictReader(handle))
    assert sorted(r for (r,) in fetch(loaded, "SELECT regime FROM marts.pricing_regimes")) == regimes
