"""metadata.json and datasette.yaml: every table and column described, canned queries that run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from datasette.version import __version__ as datasette_version

from datasette_provenance import store
from tests.plugin_support import (
    COPY,
    DB,
    HOSTILE_ID,
    REUTERS,
    serve,
)  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
METADATA = json.loads((ROOT / "metadata.json").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((ROOT / "datasette.yaml").read_text(encoding="utf-8"))
QUERIES = METADATA["databases"][DB]["queries"]
IS_DATASETTE_1 = not datasette_version.startswith("0.")


def test_every_table_and_column_is_described(tmp_path):
    db = store.connect(str(tmp_path / "schema.db"))
    tables = METADATA["databases"][DB]["tables"]
    for table in store.PROVENANCE_TABLES:
        assert tables[table]["description"], table
        columns = {column.name for column in db[table].columns}
        undocumented = columns - set(tables[table]["columns"]) - {"id"}
        assert not undocumented, f"{table}: {undocumented}"


def test_datasette_yaml_has_the_same_canned_queries():
    assert CONFIG["databases"][DB]["queries"] == QUERIES


async def serve_with_metadata(path):
    if IS_DATASETTE_1:  # 1.0 reads canned queries from configuration only
        return await serve(path, metadata=json.loads(json.dumps(METADATA)), config=CONFIG)
    return await serve(path, metadata=json.loads(json.dumps(METADATA)))


@pytest.mark.asyncio
async def test_canned_queries_run_on_both_datasette_versions(provenance_db_path):
    ds = await serve_with_metadata(provenance_db_path)
    results = {}
    for name in QUERIES:
        params = (
            f"?article_id={REUTERS}&_shape=objects"
            if ":article_id" in QUERIES[name]["sql"]
            else "?_shape=objects"
        )
        response = await ds.client.get(f"/{DB}/{name}.json{params}")
        assert response.status_code == 200, (name, response.text[:500])
        results[name] = response.json()["rows"]
    assert {row["copy_id"] for row in results["uncredited_copies"]} == {COPY, HOSTILE_ID}
    assert results["most_copied_originals"][0]["origin_id"] == REUTERS
    assert results["most_copied_originals"][0]["copies"] == 2
    by_pair = {(row["outlet"], row["reuses"]): row for row in results["outlets_reusing_agencies"]}
    assert by_pair[("Vygr Media", "Reuters")]["uncredited"] == 0
    assert by_pair[("(outlet not known)", "Reuters")]["uncredited"] == 1
    assert [row["hours_after_original"] for row in results["copies_per_hour"]] == [1, 5]
    assert len(results["matches_for_article"]) == 4


@pytest.mark.asyncio
async def test_descriptions_show_on_table_pages(provenance_db_path):
    ds = await serve_with_metadata(provenance_db_path)
    html = (await ds.client.get(f"/{DB}/matches")).text
    assert "Verified pairs of stories that share text" in html
    home = (await ds.client.get("/")).text
    assert "News provenance" in home
