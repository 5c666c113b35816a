"""The provenance pages and their JSON twins, on the hand-built fixture database."""

from __future__ import annotations

import re

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
    page,
    serve,
    started,
)

pytestmark = pytest.mark.asyncio


# Stories overview ---------------------------------------------------------------------


async def test_stories_overview_lists_origin_copies_and_counts(ds):
    response = await ds.client.get(page())
    assert response.status_code == 200
    html = response.text
    assert "Stories and their copies" in html
    assert f'href="{page("article", REUTERS)}"' in html
    assert "light edit" in html and "paraphrase" in html

    data = (await ds.client.get(page(format="json"))).json()
    assert data["ok"] is True and data["total"] == 2
    seed_story = data["stories"][0]  # most copies first
    assert seed_story["origin"]["id"] == REUTERS
    assert seed_story["origin"]["outlet"] == "Reuters"
    assert seed_story["labels"] == {"light_edit": 1, "paraphrase": 1}
    assert seed_story["uncredited_count"] == 2 and seed_story["photo_only_count"] == 1
    assert "1 credits only a photo" in html
    assert seed_story["independent_count"] == 2
    assert seed_story["origin"]["url"] == page("article", REUTERS)


async def test_stories_sort_and_pages(ds):
    by_title = (await ds.client.get(page(format="json") + "?_sort=title")).json()
    assert [story["title"] for story in by_title["stories"]][0] == "Bridge to reopen next week"
    first = (await ds.client.get(page(format="json") + "?_size=1")).json()
    assert len(first["stories"]) == 1 and first["next_url"] and first["previous_url"] is None
    second = (await ds.client.get(first["next_url"])).json()
    assert second["stories"][0]["id"] != first["stories"][0]["id"] and second["next_url"] is None
    beyond = (await ds.client.get(page(format="json") + "?_page=50")).json()
    assert beyond["stories"] == []


@pytest.mark.parametrize(
    "query", ["_sort=nonsense", "_size=abc", "_size=0", "_size=100000", "_page=-1"]
)
async def test_stories_bad_query_strings_are_friendly_400s(ds, query):
    html = await ds.client.get(page() + "?" + query)
    assert html.status_code == 400
    assert "<h1>" in html.text and "Traceback" not in html.text
    data = await ds.client.get(page(format="json") + "?" + query)
    assert data.status_code == 400 and data.json()["ok"] is False


# Lineage of one article ---------------------------------------------------------------


async def test_lineage_of_the_origin_shows_copies_and_independent_coverage(ds):
    data = (await ds.client.get(page("article", REUTERS, format="json"))).json()
    (segment,) = data["segments"]
    assert segment["role"] == "origin"
    assert {copy["article"]["id"] for copy in segment["copies"]} == {COPY, PARAPHRASE}
    assert {other["article"]["id"] for other in segment["same_story"]} == {NYT, FRENCH}
    copies = {copy["article"]["id"]: copy for copy in segment["copies"]}
    assert copies[COPY]["label"] == "light_edit" and copies[COPY]["credit"] == "uncredited"
    assert copies[PARAPHRASE]["credit"] == "photo_only"
    assert copies[PARAPHRASE]["match"]["credit"] == "photo_only"
    assert copies[COPY]["match"]["compare_url"] == page("compare", REUTERS, COPY)
    (cluster,) = data["clusters"]
    assert len(cluster["graph"]["nodes"]) == 5 and len(cluster["graph"]["edges"]) == 2

    html = (await ds.client.get(page("article", REUTERS))).text
    start = html.index('<svg class="pv-graph"')
    svg = html[start : html.index("</svg>", start)]
    assert svg.count('<g class="pv-node') == 5
    assert svg.count('<g class="pv-edge') == 2
    assert f'href="{page("compare", REUTERS, COPY)}"' in svg  # edges link to compare pages
    assert f'href="{page("article", NYT)}"' in svg  # nodes link to article pages
    assert "Only style edits: “U.S.” became “US”" in html  # evidence in plain words
    assert "Independent coverage" in html and "uncredited" in html
    assert "credits only the photo" in html  # 001's badge
    assert "2 articles reuse its text, 2 without crediting it." in html


async def test_lineage_of_a_copy_walks_back_to_the_origin(ds):
    data = (await ds.client.get(page("article", COPY, format="json"))).json()
    first, second = data["segments"]
    assert first["role"] == "copy" and first["label"] == "light_edit"
    assert [step["article"]["id"] for step in first["derived_from"]] == [REUTERS]
    assert first["derived_from"][0]["match"]["credited"] is False
    assert second["role"] == "unclustered"  # the appended Canada story
    assert [c["id"] for c in data["clusters"]] == [first["cluster_id"]]

    html = (await ds.client.get(page("article", COPY))).text
    assert html.count('<svg class="pv-graph"') == 1
    assert "This text derives from" in html and "No shared text was found" in html
    assert 'class="pv-node pv-role-copy pv-current"' in html


async def test_lineage_of_a_copy_beyond_the_shown_members_still_walks_back(ds, monkeypatch):
    """A story with more copies than a page shows: the article's own lineage is never cut."""
    from datasette_provenance.web import queries

    monkeypatch.setattr(queries, "MAX_CLUSTER_MEMBERS", 1)  # only the origin is listed
    data = (await ds.client.get(page("article", COPY, format="json"))).json()
    first = data["segments"][0]
    assert first["role"] == "copy" and first["label"] == "light_edit"
    assert [step["article"]["id"] for step in first["derived_from"]] == [REUTERS]
    assert data["clusters"][0]["members_truncated"] is True
    html = (await ds.client.get(page("article", COPY))).text
    assert "This text derives from" in html and 'pv-role-copy pv-current' in html


# Compare ------------------------------------------------------------------------------------


async def test_compare_highlights_passages_edits_boilerplate_and_credits(ds):
    response = await ds.client.get(page("compare", REUTERS, COPY))
    assert response.status_code == 200
    html = response.text
    assert 'class="pv-passage pv-kind-verbatim"' in html
    assert 'class="pv-passage pv-kind-edited"' in html
    assert re.search(r'class="pv-edit pv-edit-old"[^>]*>U\.S\.</span>', html)
    assert re.search(r'class="pv-edit pv-edit-new"[^>]*>US</span>', html)
    assert re.search(r'class="pv-edit pv-edit-old"[^>]*>42\.7-metre</span>', html)
    assert 'data-label="advertisement"' in html and 'data-label="repeated caption"' in html
    assert 'class="pv-credit"' in html
    # Every passage links to its twin, and the twin exists.
    for side, passage_id, twin in re.findall(r'id="pv-([sd])-(\d+)" href="#pv-([sd])-\2"', html):
        assert side != twin and f'id="pv-{twin}-{passage_id}"' in html
    assert "The copy reuses nearly all of the Reuters text with light edits" in html
    assert 'class="pv-arrow"' in html  # a copy: the source -> derived arrow

    data = (await ds.client.get(page("compare", REUTERS, COPY, format="json"))).json()
    (match,) = data["matches"]
    assert match["label"] == "light_edit" and match["credited"] is False
    assert match["kind"] == "copy" and match["credit"] == "uncredited"
    edits = [edit for passage in match["passages"] for edit in passage["edits"]]
    assert ["U.S.", "US"] in edits and ["42.7-metre", "42.7-meter"] in edits
    edited = next(p for p in match["passages"] if ["U.S.", "US"] in p["edits"])
    assert "U.S. and South Korean officials" in edited["source_text"]
    assert "US and South Korean officials" in edited["derived_text"]


async def test_compare_in_the_wrong_direction_points_the_right_way(ds):
    html = (await ds.client.get(page("compare", COPY, REUTERS))).text
    assert "No shared passages" in html
    assert f'href="{page("compare", REUTERS, COPY)}"' in html


async def test_compare_of_unmatched_articles_still_shows_both_texts(ds):
    response = await ds.client.get(page("compare", NYT, FRENCH))
    assert response.status_code == 200
    assert "No shared passages" in response.text and "pv-passage" not in response.text


# Errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        page("article", "no such article"),
        page("compare", REUTERS, "nope"),
        page("compare", "nope", REUTERS),
        "/nodb/-/provenance",
        "/nodb/-/provenance/article/x",
    ],
)
async def test_unknown_ids_are_friendly_404s(ds, path):
    html = await ds.client.get(path)
    assert html.status_code == 404
    assert "pv-error-page" in html.text and "Traceback" not in html.text
    data = await ds.client.get(path + ".json")
    assert data.status_code == 404 and data.json()["ok"] is False


@pytest.mark.parametrize(
    "path",
    [
        f"/{DB}/-/provenance/article/",
        f"/{DB}/-/provenance/article/a/b",
        f"/{DB}/-/provenance/compare/{REUTERS}",
        f"/{DB}/-/provenance/nothing-here",
        f"/{DB}/-/provenance/article/%ZZ",
        f"/{DB}/-/provenance/article/~ZZ~",
        f"/{DB}/-/provenance/article/{REUTERS}?_sort=%00&x=%ff",
    ],
)
async def test_odd_paths_never_error(ds, path):
    response = await ds.client.get(path)
    assert response.status_code in (200, 302, 404), response.text[-500:]


async def test_database_without_provenance_tables_gets_a_friendly_message():
    ds = await started(memory=True)
    response = await ds.client.get("/_memory/-/provenance")
    assert response.status_code == 404
    assert "No provenance data in this database" in response.text
    assert "datasette-provenance ingest" in response.text


# Escaping and awkward ids -----------------------------------------------------------------


async def test_hostile_text_ids_and_urls_are_escaped(ds):
    paths = [
        page(),
        page("article", HOSTILE_ID),
        page("article", WIRE_ID),
        page("compare", WIRE_ID, HOSTILE_ID),
    ]
    for path in paths:
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert "<script>alert(" not in html, path
        assert "<img src=x" not in html, path
        assert 'href="javascript:' not in html.lower(), path
    html = (await ds.client.get(page("article", HOSTILE_ID))).text
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    assert "original page" not in html  # its javascript: URL is never linked


async def test_ids_with_slashes_percent_spaces_and_quotes_round_trip(ds):
    data = (await ds.client.get(page("article", HOSTILE_ID, format="json"))).json()
    assert data["article"]["id"] == HOSTILE_ID
    (step,) = data["segments"][0]["derived_from"]
    assert step["article"]["id"] == WIRE_ID
    compare = await ds.client.get(step["match"]["compare_url"])
    assert compare.status_code == 200 and 'class="pv-passage pv-kind-verbatim"' in compare.text


# URLs, caching, links from Datasette's own pages -------------------------------------------


async def test_every_link_respects_base_url(provenance_db_path):
    ds = await serve(provenance_db_path, settings={"base_url": "/prefix/"})
    for path in [page(), page("article", REUTERS), page("compare", REUTERS, COPY), page("check")]:
        response = await ds.client.get(path)  # ds.client adds the /prefix/ itself
        assert response.status_code == 200, path
        links = re.findall(r'(?:href|action|src)="(/[^"]*)"', response.text)
        assert links and all(link.startswith("/prefix/") for link in links), path
    data = (await ds.client.get(page("article", REUTERS, format="json"))).json()
    assert data["segments"][0]["copies"][0]["article"]["url"].startswith("/prefix/")


async def test_cache_headers(ds):
    for path in [page(), page("article", REUTERS, format="json"), page("compare", REUTERS, COPY)]:
        assert (await ds.client.get(path)).headers["cache-control"] == "max-age=5"
    assert (await ds.client.get(page("article", "missing"))).headers["cache-control"] == "no-store"


async def test_database_page_links_to_the_stories_overview(ds):
    html = (await ds.client.get(f"/{DB}")).text
    assert f'href="{page()}"' in html
    assert f'href="{page("check")}"' in html


async def test_tables_and_rows_link_to_lineage_and_compare_pages(ds):
    articles = (await ds.client.get(f"/{DB}/articles")).text
    assert f'href="{page()}"' in articles  # table action
    matches = (await ds.client.get(f"/{DB}/matches")).text
    assert f'href="{page("compare", REUTERS, COPY)}"' in matches  # the label cell
    assert f'href="{page("article", COPY)}"' in matches  # article id cells
    row = (await ds.client.get(f"/{DB}/articles/{REUTERS}")).text
    assert f'href="{page("article", REUTERS)}"' in row  # render_cell (0.65) or row_actions (1.0)
    lineage_row = (await ds.client.get(f"/{DB}/lineage")).text
    assert f'href="{page("article", PARAPHRASE)}"' in lineage_row


async def test_pages_never_write_to_an_immutable_database(provenance_db_path, tmp_path):
    path = tmp_path / f"{DB}.db"
    path.write_bytes(provenance_db_path.read_bytes())
    before = path.read_bytes()
    ds = await serve(path)
    for target in [
        page(),
        page("article", REUTERS),
        page("article", COPY, format="json"),
        page("compare", REUTERS, COPY),
        page("check"),
        f"/{DB}/articles?_facet_provenance_label=id",
        # the query page (Datasette 1.0 redirects this URL to /-/query)
        f"/{DB}.json?sql=select+provenance_normalize(title)+from+articles",
    ]:
        response = await ds.client.get(target, follow_redirects=True)
        assert response.status_code == 200, target  # a page that failed wrote nothing either
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{DB}.db"]


async def test_pairs_that_are_not_copies_have_no_direction_arrow_or_credit(ds):
    html = (await ds.client.get(page("compare", REUTERS, NYT))).text
    assert 'class="pv-arrow"' not in html and "pv-undirected" in html
    assert "direction confidence" not in html and "Derived" not in html
    assert "pv-credited" not in html and "pv-uncredited" not in html
    assert "Both quote Putin" in html
    data = (await ds.client.get(page("compare", REUTERS, NYT, format="json"))).json()
    assert data["matches"][0]["kind"] == "not_derived"


async def test_siblings_are_shown_as_two_copies_of_one_source(ds):
    html = (await ds.client.get(page("compare", PARAPHRASE, COPY))).text
    assert 'class="pv-arrow"' not in html and "siblings" in html
    assert "both copy Reuters’ article: neither took text only the other has" in html
    assert "pv-uncredited" not in html  # no accusation between two copies of the wire
    lineage = (await ds.client.get(page("article", COPY, format="json"))).json()
    (others,) = [s for s in lineage["segments"] if s["role"] == "copy"]
    sibling = next(o for o in others["same_story"] if o["article"]["id"] == PARAPHRASE)
    assert sibling["match"]["kind"] == "siblings"


async def test_raw_scores_are_behind_all_scores(ds):
    html = (await ds.client.get(page("article", REUTERS))).text
    assert html.count("<summary>All scores</summary>") >= 2
    assert "time gap hours" in html  # a raw score, inside the details
    assert html.index("<summary>All scores</summary>") < html.index("time gap hours")
