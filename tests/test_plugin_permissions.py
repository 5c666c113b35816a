"""Private databases and tables never leak through the provenance pages, JSON, facets or forms.

Each configuration hides something with a Datasette ``allow`` block. An anonymous
visitor must get 403 (or nothing) everywhere the hidden data could show, and no
article title in any response body; the allowed actor must see everything.
Runs on Datasette 0.65 and 1.0a (the suite runs once per version).
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlencode

import pytest
from datasette_test import actor_cookie
from markupsafe import escape

from datasette_provenance.web.canned import CANNED_QUERIES, tables_read
from tests.plugin_support import (
    COPY,
    DB,
    HOSTILE_TITLE,
    REUTERS,
    SEED_ARTICLES,
    page,
    seed_text,
    serve,
)

pytestmark = pytest.mark.asyncio

EDITOR = {"id": "editor"}
ONLY_EDITOR = {"id": "editor"}  # an allow block


def hidden_table(table: str) -> dict:
    return {"databases": {DB: {"tables": {table: {"allow": ONLY_EDITOR}}}}}


PRIVATE_CONFIGS = {
    "instance": {"allow": ONLY_EDITOR},
    "database": {"databases": {DB: {"allow": ONLY_EDITOR}}},
    "articles table": hidden_table("articles"),
    "passages table": hidden_table("passages"),
    "lineage table": hidden_table("lineage"),
    "matches table": hidden_table("matches"),
    "lsh_bands table": hidden_table("lsh_bands"),
}
# Configurations where the articles table itself stays public.
ARTICLES_PUBLIC = ("passages table", "lineage table", "matches table", "lsh_bands table")
# The facet tables: hiding one of them must hide the provenance facets and filters.
FACET_TABLES_HIDDEN = ("lineage table", "matches table")

PLUGIN_PAGES = [page(), page("article", REUTERS), page("compare", REUTERS, COPY), page("check")]
FACETS = "_facet_provenance_label=id&_facet_provenance_origin=id&_facet_provenance_credit=id"
FACET_PAGES = [f"/{DB}/articles?{FACETS}", f"/{DB}/articles.json?{FACETS}&_extra=facet_results"]
TITLES = [info["title"] for info in SEED_ARTICLES.values()] + [HOSTILE_TITLE]
PASTED = next(p for p in seed_text(COPY).split("\n\n") if p.startswith("Putin showed Kim around"))


def assert_reveals_no_title(response, where: str) -> None:
    for title in TITLES:
        for form in (title, str(escape(title))):
            assert form not in response.text, f"{where} shows “{title}”"


def assert_refused(response, where: str) -> None:
    assert response.status_code == 403, f"{where}: {response.status_code}"
    assert_reveals_no_title(response, where)


def plugin_pages_for(config_name: str) -> list[str]:
    """The plugin pages and JSON twins the configuration hides (check reads lsh_bands too)."""
    pages = PLUGIN_PAGES if config_name != "lsh_bands table" else [page("check")]
    return [target for path in pages for target in (path, path + ".json")]


@pytest.mark.parametrize("private", PRIVATE_CONFIGS, ids=list(PRIVATE_CONFIGS))
async def test_anonymous_visitors_are_refused_everywhere(provenance_db_path, private):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS[private])
    for target in plugin_pages_for(private):
        response = await ds.client.get(target)
        assert_refused(response, target)
        if target.endswith(".json"):  # a JSON twin refuses in JSON (0.65 sent its HTML page)
            assert response.headers["content-type"].startswith("application/json"), target
    form = await ds.client.post(page("check"), data={"text": PASTED})
    assert_refused(form, "check form POST")
    posted = await ds.client.post(page("check", format="json"), json={"text": PASTED})
    assert_refused(posted, "check JSON POST")
    if private not in ARTICLES_PUBLIC:
        for target in FACET_PAGES:
            assert_refused(await ds.client.get(target), target)


async def test_no_link_to_a_check_page_the_visitor_may_not_open(provenance_db_path):
    """The similarity index hidden: stories stay browsable, the check page is not offered."""
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS["lsh_bands table"])
    database_page = (await ds.client.get(f"/{DB}")).text
    assert "Provenance: stories and their copies" in database_page
    assert "Provenance: check pasted text" not in database_page
    assert "Check a pasted text" not in (await ds.client.get(page())).text
    public = await serve(provenance_db_path)
    assert "Provenance: check pasted text" in (await public.client.get(f"/{DB}")).text
    assert "Check a pasted text" in (await public.client.get(page())).text


@pytest.mark.parametrize("private", FACET_TABLES_HIDDEN)
async def test_hidden_lineage_tables_hide_the_facets_and_filters(provenance_db_path, private):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS[private])
    anonymous = await facet_counts(ds)
    assert anonymous["facets"] == {} and anonymous["suggested"] & FACET_NAMES == set()
    everyone = anonymous["ids"]
    assert (await facet_counts(ds, _provenance_label="origin"))["ids"] == everyone  # no filter
    html = await ds.client.get(FACET_PAGES[0])
    assert html.status_code == 200
    for heading in ("(provenance_label)", "(provenance_origin)", "(provenance_credit)"):
        assert heading not in html.text  # how Datasette titles a facet's box

    editor = await facet_counts(ds, cookies={"ds_actor": actor_cookie(ds, EDITOR)})
    assert editor["facets"]["derivation"]["origin"] == 2
    assert editor["facets"]["credit"] == {"uncredited": 2, "photo_only": 1}


FACET_NAMES = {"derivation", "origin outlet", "credit"}


async def facet_counts(ds, cookies=None, **filters) -> dict:
    """Facet results, suggested facets and row ids of the articles table, as JSON."""
    query = urlencode({**filters, "_shape": "objects", "_extra": "facet_results,suggested_facets"})
    response = await ds.client.get(
        f"/{DB}/articles.json?{FACETS}&{query}", cookies=cookies or {}
    )
    assert response.status_code == 200
    data = response.json()
    facets = data.get("facet_results", {})
    facets = facets.get("results", facets) if isinstance(facets, dict) else {}
    return {
        "ids": {row["id"] for row in data["rows"]},
        "facets": {
            name: {v["value"]: v["count"] for v in facet["results"]}
            for name, facet in facets.items()
        },
        "suggested": {facet["name"] for facet in data.get("suggested_facets", [])},
    }


@pytest.mark.parametrize("private", PRIVATE_CONFIGS, ids=list(PRIVATE_CONFIGS))
async def test_the_allowed_actor_sees_private_pages_uncached(provenance_db_path, private):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS[private])
    cookies = {"ds_actor": actor_cookie(ds, EDITOR)}
    for target in plugin_pages_for(private):
        response = await ds.client.get(target, cookies=cookies)
        expected = 400 if target == page("check", format="json") else 200  # it needs text
        assert response.status_code == expected, target
        assert response.headers["cache-control"].startswith(("private", "no-store")), target
    for target in FACET_PAGES:
        assert (await ds.client.get(target, cookies=cookies)).status_code == 200, target
    article = await ds.client.get(page("article", REUTERS), cookies=cookies)
    if private != "lsh_bands table":  # the check page alone reads the index
        title = str(escape(SEED_ARTICLES[REUTERS]["title"]))
        assert title in article.text and "🔒" in article.text


async def test_the_allowed_actor_can_post_the_check_form_with_its_csrf_token(provenance_db_path):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS["database"])
    cookies = {"ds_actor": actor_cookie(ds, EDITOR)}
    form = await ds.client.get(page("check"), cookies=cookies)
    token = re.search(r'name="csrftoken" value="([^"]*)"', form.text).group(1)
    response = await ds.client.post(
        page("check"),
        data={"csrftoken": token, "text": PASTED},
        cookies={**cookies, **dict(form.cookies)},
    )
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    # With a cookie-signed actor, a script sends the token as a header (0.65 insists on it).
    posted = await ds.client.post(
        page("check", format="json"),
        json={"text": PASTED},
        cookies={**cookies, **dict(form.cookies)},
        headers={"x-csrftoken": token},
    )
    assert posted.status_code == 200 and posted.json()["ok"] is True


async def test_private_tables_hide_the_links_to_the_provenance_pages(provenance_db_path):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS["passages table"])
    anonymous = await ds.client.get(f"/{DB}")
    assert anonymous.status_code == 200 and page() not in anonymous.text
    editor = await ds.client.get(f"/{DB}", cookies={"ds_actor": actor_cookie(ds, EDITOR)})
    assert f'href="{page()}"' in editor.text


async def test_canned_queries_reading_a_private_table_are_offered_only_to_those_who_may_view_it(
    provenance_db_path,
):
    """Canned queries run as trusted SQL: offered to an anonymous visitor, a query over a
    private ``articles`` table would show its rows. Each query is judged by the tables it
    reads; every shipped one reads article text (titles in the evidence of ``matches`` and
    ``lineage`` too), so none is offered (a query over tables without text stays public:
    test_reliability_privacy.py)."""
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS["articles table"])
    editor = {"ds_actor": actor_cookie(ds, EDITOR)}
    for cookies, expected in ((None, set()), (editor, set(CANNED_QUERIES))):
        listed = (await ds.client.get(f"/{DB}.json", cookies=cookies)).json()["queries"]
        assert {query["name"] for query in listed} == expected
    for name in CANNED_QUERIES:
        for target in (f"/{DB}/{name}", f"/{DB}/{name}.json"):
            response = await ds.client.get(target)
            assert response.status_code in (403, 404), target
            assert_reveals_no_title(response, target)
        allowed = await ds.client.get(f"/{DB}/{name}.json", cookies=editor)
        assert allowed.status_code == 200, name


async def test_the_tables_a_canned_query_reads_come_from_its_sql(provenance_db_path):
    conn = sqlite3.connect(provenance_db_path)
    try:
        read = {name: tables_read(conn, q["sql"]) for name, q in CANNED_QUERIES.items()}
        assert read["uncredited_copies"] == {"lineage", "matches", "articles", "article_credits"}
        assert read["matches_for_article"] == {"matches"}
        assert conn.execute("select 1").fetchone() == (1,)  # the authorizer is gone
    finally:
        conn.close()


async def test_table_and_row_pages_link_the_lineage_pages_only_for_who_may_open_them(
    provenance_db_path,
):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS["passages table"])
    lineage = f"/{DB}/-/provenance/article/"
    for target in (f"/{DB}/articles", f"/{DB}/matches", f"/{DB}/articles/{REUTERS}"):
        response = await ds.client.get(target)
        assert response.status_code == 200, target
        assert lineage not in response.text and "/-/provenance/compare/" not in response.text
    editor = await ds.client.get(f"/{DB}/articles", cookies={"ds_actor": actor_cookie(ds, EDITOR)})
    if hasattr(ds, "allowed"):  # Datasette 1.0 tells render_cell who is asking
        assert lineage in editor.text
    # 0.65 does not: there the links appear only where anyone may open the pages.
    public = await serve(provenance_db_path)
    assert lineage in (await public.client.get(f"/{DB}/articles")).text
