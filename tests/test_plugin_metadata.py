"""What the plugin tells Datasette with no metadata file: every table and column described,
canned queries that run, the index tables hidden (see also test_plugin_zero_config.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasette_provenance import store
from datasette_provenance.web import site
from datasette_provenance.web.canned import CANNED_QUERIES
from tests.plugin_support import COPY, DB, HOSTILE_ID, PARAPHRASE, REUTERS, serve

TABLES = json.loads(
    (Path(site.__file__).parent / "tables.json").read_text(encoding="utf-8")
)["tables"]


def test_every_table_and_column_is_described(tmp_path):
    db = store.connect(str(tmp_path / "schema.db"))
    for table in store.PROVENANCE_TABLES:
        assert TABLES[table]["description"], table
        columns = {column.name for column in db[table].columns}
        undocumented = columns - set(TABLES[table]["columns"]) - {"id"}
        assert not undocumented, f"{table}: {undocumented}"


def test_the_hidden_tables_are_provenance_tables():
    assert set(site.INTERNAL_TABLES) <= set(store.PROVENANCE_TABLES)


def test_every_canned_query_has_a_title_and_a_description():
    for name, query in CANNED_QUERIES.items():
        assert query["title"] and query["description"] and query["sql"].strip(), name


@pytest.mark.asyncio
async def test_canned_queries_run_on_both_datasette_versions(provenance_db_path):
    ds = await serve(provenance_db_path)
    results = {}
    for name, query in CANNED_QUERIES.items():
        params = (
            f"?article_id={REUTERS}&_shape=objects"
            if ":article_id" in query["sql"]
            else "?_shape=objects"
        )
        response = await ds.client.get(f"/{DB}/{name}.json{params}")
        assert response.status_code == 200, (name, response.text[:500])
        results[name] = response.json()["rows"]
    uncredited = {row["copy_id"]: row for row in results["uncredited_copies"]}
    assert set(uncredited) == {COPY, PARAPHRASE, HOSTILE_ID}  # the siblings' match is not a row
    assert uncredited[PARAPHRASE]["credit"] == "photo only"
    assert uncredited[COPY]["credit"] == "none" and uncredited[COPY]["origin_id"] == REUTERS
    assert uncredited[HOSTILE_ID]["origin_outlet"] == "AP"
    assert results["most_copied_originals"][0]["origin_id"] == REUTERS
    assert results["most_copied_originals"][0]["copies"] == 2
    assert results["most_copied_originals"][0]["uncredited_copies"] == 2
    by_pair = {(row["outlet"], row["reuses"]): row for row in results["outlets_reusing_agencies"]}
    assert len(by_pair) == 3
    assert by_pair[("Vygr Media", "Reuters")]["uncredited"] == 1
    assert by_pair[("Vygr Media", "Reuters")]["photo_credit_only"] == 1
    assert by_pair[("(outlet not known)", "Reuters")]["uncredited"] == 1
    assert [row["hours_after_original"] for row in results["copies_per_hour"]] == [1, 5]
    assert len(results["matches_for_article"]) == 4


@pytest.mark.asyncio
async def test_descriptions_show_on_table_and_database_pages(provenance_db_path):
    ds = await serve(provenance_db_path)
    matches = (await ds.client.get(f"/{DB}/matches")).text
    assert TABLES["matches"]["description"] in matches
    assert TABLES["matches"]["columns"]["label"] in matches
    database = (await ds.client.get(f"/{DB}")).text
    assert "Articles, the stories they belong to" in database
