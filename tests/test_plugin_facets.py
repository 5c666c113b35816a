"""Provenance facets and filters on the articles table (both Datasette versions)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.plugin_support import (
    COPY,
    DB,
    FRENCH,
    HOSTILE_ID,
    NYT,
    PARAPHRASE,
    REUTERS,
    WIRE_ID,
)

pytestmark = pytest.mark.asyncio


async def articles_json(ds, **args) -> dict:
    """The articles table as JSON with facet results, in one shape for 0.65 and 1.0."""
    query = urlencode({**args, "_shape": "objects", "_extra": "facet_results", "_col": "title"})
    data = (await ds.client.get(f"/{DB}/articles.json?{query}")).json()
    facets = data.get("facet_results", {})
    facets = facets.get("results", facets) if isinstance(facets, dict) else {}
    counts = {
        name: {v["value"]: v["count"] for v in facet["results"]} for name, facet in facets.items()
    }
    return {"ids": {row["id"] for row in data["rows"]}, "facets": counts, "raw": facets}


async def test_derivation_origin_and_credit_facets_count_articles(ds):
    result = await articles_json(
        ds,
        _facet_provenance_label="id",
        _facet_provenance_origin="id",
        _facet_provenance_credit="id",
    )
    assert result["facets"]["derivation"] == {
        "origin": 2,
        "independent": 2,
        "light_edit": 1,
        "paraphrase": 1,
        "verbatim": 1,
    }
    assert result["facets"]["origin outlet"] == {"Reuters": 2, "AP": 1}
    assert result["facets"]["credit"] == {"uncredited": 2, "photo_only": 1}
    labels = {v["value"]: v["label"] for v in result["raw"]["credit"]["results"]}
    assert labels["photo_only"] == "credits only a photo"


@pytest.mark.parametrize(
    "args, expected",
    [
        ({"_provenance_credit": "uncredited"}, {COPY, HOSTILE_ID}),
        ({"_provenance_label": "independent"}, {NYT, FRENCH}),
        ({"_provenance_label": "origin"}, {REUTERS, WIRE_ID}),
        ({"_provenance_origin": "Reuters"}, {COPY, PARAPHRASE}),
        ({"_provenance_origin": "Reuters", "_provenance_credit": "photo_only"}, {PARAPHRASE}),
        ({"_provenance_credit": "credited"}, set()),
        ({"_provenance_label": "independent", "outlet": "France 24"}, {FRENCH}),
        ({"_provenance_label": "no such label"}, set()),
    ],
)
async def test_facet_filters_combine_with_other_filters(ds, args, expected):
    assert (await articles_json(ds, **args))["ids"] == expected


async def test_a_filter_given_twice_is_either_value(ds):
    query = urlencode(
        [("_provenance_credit", "uncredited"), ("_provenance_credit", "photo_only")]
    )
    data = (await ds.client.get(f"/{DB}/articles.json?{query}&_shape=objects")).json()
    assert {row["id"] for row in data["rows"]} == {COPY, HOSTILE_ID, PARAPHRASE}


async def test_selecting_a_facet_value_narrows_the_other_facets(ds):
    result = await articles_json(
        ds,
        _facet_provenance_credit="id",
        _facet_provenance_label="id",
        _provenance_credit="uncredited",
    )
    assert result["facets"]["derivation"] == {"light_edit": 1, "verbatim": 1}
    selected = [v for v in result["raw"]["credit"]["results"] if v["selected"]]
    assert [v["value"] for v in selected] == ["uncredited"]
    assert (
        "_provenance_credit=uncredited" not in selected[0]["toggle_url"]
    )  # clicking again removes it


async def test_facets_render_on_the_table_page_and_are_suggested(ds):
    html = (await ds.client.get(f"/{DB}/articles?_facet_provenance_credit=id")).text
    assert "credit (provenance_credit)" in html and "_provenance_credit=uncredited" in html
    plain = (
        await ds.client.get(f"/{DB}/articles.json?_extra=suggested_facets&_shape=objects")
    ).json()
    suggested = {facet["name"] for facet in plain.get("suggested_facets", [])}
    assert {"derivation", "origin outlet", "credit"} <= suggested


async def test_facets_stay_off_other_tables(ds):
    response = await ds.client.get(
        f"/{DB}/matches.json?_facet_provenance_label=id&_provenance_label=origin"
        "&_extra=facet_results&_shape=objects"
    )
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 6  # the filter is not applied outside articles
