"""A user's own database, served with no metadata file: `datasette serve news.db`.

The database is the seeds ingested under another name (news.db), as a user would make
it; everything here comes from the plugin's hooks and settings, on Datasette 0.65 and 1.0a.
"""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from contextlib import closing

import pytest
from datasette.app import Datasette
from markupsafe import escape

from tests.conftest import SEED_IDS

pytestmark = pytest.mark.asyncio

INTERNAL = {"lsh_index", "lsh_pending", "lsh_recent", "provenance_meta", "signatures", "story_terms",
            "story_candidates"}  # fmt: skip
QUERIES = {
    "uncredited_copies",
    "most_copied_originals",
    "outlets_reusing_agencies",
    "copies_per_hour",
    "matches_for_article",
}


@pytest.fixture(scope="module")
def news_db(seeds_db_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("news") / "news.db"
    shutil.copy(seeds_db_path, path)
    return path


async def served(news_db, *others, **kwargs) -> Datasette:
    datasette = Datasette(immutables=[str(news_db), *map(str, others)], **kwargs)
    await datasette.invoke_startup()
    return datasette


def settings(**values) -> dict:
    """Plugin settings where both versions read them (1.0a moves metadata plugins to config)."""
    return {"metadata": {"plugins": {"datasette-provenance": values}}}


async def database_json(datasette, name="news") -> dict:
    response = await datasette.client.get(f"/{name}.json")
    assert response.status_code == 200
    return response.json()


async def test_canned_queries_with_descriptions_that_run(news_db):
    datasette = await served(news_db)
    queries = {q["name"]: q for q in (await database_json(datasette))["queries"]}
    assert set(queries) == QUERIES
    assert all(q["title"] and q["description"] for q in queries.values())
    copies = await datasette.client.get("/news/uncredited_copies.json?_shape=array")
    assert copies.status_code == 200
    # Read from the lineage: 003 once (not also as a copy of its sibling 001), and 001,
    # which credits Reuters only for the photo, marked so.
    credits = [(row["copy_id"], row["credit"]) for row in copies.json()]
    assert sorted(credits) == [(SEED_IDS["paraphrase"], "photo only"), (SEED_IDS["copy"], "none")]
    # 001 and 003 both copy Reuters: siblings, and no credit is asked of either.
    shared = await datasette.client.get(
        f"/news/matches_for_article.json?_shape=array&article_id={SEED_IDS['copy']}"
    )
    siblings = [row for row in shared.json() if row["relation"] == "siblings"]
    assert [(row["shared_source_article_id"], row["credit"]) for row in siblings] == [
        (SEED_IDS["reuters"], None)
    ]
    page = (await datasette.client.get("/news/uncredited_copies")).text
    assert str(escape(queries["uncredited_copies"]["description"])) in page


async def test_internal_tables_are_hidden_and_described_tables_are_not(news_db):
    tables = {t["name"]: t for t in (await database_json(await served(news_db)))["tables"]}
    assert {name for name, table in tables.items() if table["hidden"]} == INTERNAL
    assert not tables["articles"]["hidden"]


async def test_main_menu_and_database_page_link_the_stories_page(news_db):
    datasette = await served(news_db)
    for path in ("/", "/news", "/news/articles"):
        html = (await datasette.client.get(path)).text
        menu = html.split('class="nav-menu', 1)[1].split("</details>", 1)[0]
        assert 'href="/news/-/provenance"' in menu, path
    database_page = (await datasette.client.get("/news")).text
    visible = database_page.split('class="page-header', 1)[1].split("<h2", 1)[0]
    assert 'class="provenance-stories-link"' in visible


async def test_what_the_user_configured_wins(news_db):
    own_query = {"sql": "select 1 as mine", "title": "Mine"}
    news = {
        "description": "My own words",
        "queries": {"uncredited_copies": own_query},
        "tables": {"signatures": {"hidden": False}},
    }
    if hasattr(Datasette, "add_query"):  # 1.0a reads queries from datasette.yaml only
        config = {"databases": {"news": {"queries": news.pop("queries")}}}
        datasette = await served(news_db, metadata={"databases": {"news": news}}, config=config)
    else:
        datasette = await served(news_db, metadata={"databases": {"news": news}})
    page = await database_json(datasette)
    assert {q["name"]: q["title"] for q in page["queries"]}["uncredited_copies"] == "Mine"
    assert "signatures" not in {t["name"] for t in page["tables"] if t["hidden"]}
    assert "My own words" in (await datasette.client.get("/news")).text


async def test_settings_choose_databases_tables_queries(news_db, tmp_path):
    other = tmp_path / "other.db"
    shutil.copy(news_db, other)
    datasette = await served(
        news_db, other, **settings(databases=["other"], hidden_tables=[], queries=False)
    )
    assert {q["name"] for q in (await database_json(datasette))["queries"]} == set()
    assert not any(t["hidden"] for t in (await database_json(datasette))["tables"])
    assert (await database_json(datasette, "other"))["queries"] == []
    menu = (await datasette.client.get("/")).text
    assert 'href="/other/-/provenance"' in menu and 'href="/news/-/provenance"' not in menu
    # A database the setting leaves out gets no action links, id links or lineage links.
    for path in ("/news", "/news/articles", "/news/matches"):
        page = (await datasette.client.get(path)).text
        assert "/news/-/provenance" not in page and "(lineage)" not in page, path
    assert "/other/-/provenance/article/" in (await datasette.client.get("/other/articles")).text


async def test_page_size_setting_and_bad_settings(news_db, provenance_db_path):
    datasette = await served(provenance_db_path, **settings(page_size=1))  # two stories
    stories = (await datasette.client.get("/provenance/-/provenance.json")).json()
    assert len(stories["stories"]) == 1
    stories = (await datasette.client.get("/provenance/-/provenance.json?_size=5")).json()
    assert len(stories["stories"]) == 2
    with pytest.raises(Exception, match="datasette-provenance: page_size must be a whole number"):
        await served(news_db, **settings(page_size="ten"))


async def test_plugin_pages_show_the_licence_and_source_footer(news_db):
    metadata = {
        "license": "CC BY 4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
        "databases": {"news": {"source": "Newsroom archive", "source_url": "https://example.org/"}},
    }
    datasette = await served(news_db, metadata=metadata)
    for path in ("/news/-/provenance", f"/news/-/provenance/article/{SEED_IDS['copy']}"):
        footer = (await datasette.client.get(path)).text.split('<footer class="ft">', 1)[1]
        assert 'Data license:' in footer and "CC BY 4.0" in footer, path
        assert "Newsroom archive" in footer and 'href="https://example.org/"' in footer, path


async def test_long_texts_are_shortened_on_table_pages_only(news_db):
    datasette = await served(news_db)
    table = (await datasette.client.get("/news/articles")).text
    previews = re.findall(r'class="provenance-preview">([^<]*)</span>', table)
    assert len(previews) == 10  # raw and clean text of five articles
    assert all(len(html.unescape(preview)) <= 201 for preview in previews)
    assert f'href="/news/-/provenance/article/{SEED_IDS["reuters"]}"' in table
    row = (await datasette.client.get(f"/news/articles/{SEED_IDS['reuters']}")).text
    assert "provenance-preview" not in row
    assert "the war in Ukraine, and possible Russian help" in row  # deep in the text
    rows = (await datasette.client.get("/news/articles.json?_shape=array")).json()
    assert all("provenance-preview" not in r["raw_text"] for r in rows)


async def test_story_texts_are_shortened_and_link_to_their_whole_text(news_db):
    datasette = await served(news_db)
    table = (await datasette.client.get("/news/segment_texts")).text
    assert len(re.findall(r'class="provenance-preview">', table)) == 6  # 003 holds two stories
    canada = f"{SEED_IDS['copy']}#2"
    whole = re.search(rf'href="([^"]+id={re.escape(canada.replace("#", "%23"))}[^"]*)"', table)
    assert whole, table
    rows = (await datasette.client.get(html.unescape(whole.group(1)))).json()
    assert [row["id"] for row in rows] == [canada]
    assert rows[0]["clean_text"].startswith("Canada Liberals Vote to Replace Trudeau as PM")


async def test_provenance_facets_are_suggested_on_articles(news_db):
    datasette = await served(news_db)
    page = (await datasette.client.get("/news/articles.json?_extra=suggested_facets")).json()
    suggested = {facet["toggle_url"].split("&_facet_")[-1] for facet in page["suggested_facets"]}
    assert {"provenance_label=id", "provenance_origin=id", "provenance_credit=id"} <= suggested


async def test_database_settings_add_to_the_top_level_ones(news_db):
    """Even where the database has configuration of its own (1.0a41's plugin_config then
    forgets the top level)."""
    plugin = "datasette-provenance"
    metadata = {
        "plugins": {plugin: {"text_preview": 100}},
        "databases": {
            "news": {"plugins": {plugin: {"queries": False}}, "tables": {"articles": {"size": 5}}}
        },
    }
    datasette = await served(news_db, metadata=metadata)
    assert (await database_json(datasette))["queries"] == []
    table = (await datasette.client.get("/news/articles")).text
    previews = re.findall(r'class="provenance-preview">([^<]*)</span>', table)
    assert previews and all(len(html.unescape(preview)) <= 101 for preview in previews)


async def test_story_titles_and_uncredited_counts_are_links(news_db):
    datasette = await served(news_db)
    stories = (await datasette.client.get("/news/-/provenance")).text
    title = re.search(r'class="pv-story-title"><a href="([^"]+)"', stories)
    assert title and title.group(1) == f"/news/-/provenance/article/{SEED_IDS['reuters']}"
    uncredited = re.search(r'class="pv-number pv-alert"><a href="([^"]+)"', stories)
    assert uncredited, stories
    url = html.unescape(uncredited.group(1))
    assert url.startswith("/news/articles?")
    rows = (await datasette.client.get(url.replace("/news/articles?", "/news/articles.json?_shape=array&"))).json()
    # The count includes 001, which credits Reuters only for the photo: the list does too.
    assert {row["id"] for row in rows} == {SEED_IDS["copy"], SEED_IDS["paraphrase"]}
    count = re.search(r'class="pv-number pv-alert"><a [^>]+>(\d+)</a>', stories).group(1)
    assert int(count) == len(rows)


async def test_the_users_metadata_leaves_the_plugins_descriptions_alone(news_db):
    """The user's column descriptions win on their site and stay there: the next
    Datasette in the same process shows the plugin's own again."""
    mine = "The headline, as I describe it"
    described = {"columns": {"title": mine, "extra": "A column of mine"}}
    first = await served(news_db, metadata={"databases": {"news": {"tables": {"articles": described}}}})
    assert mine in (await first.client.get("/news/articles")).text
    second = await served(news_db)
    page = (await second.client.get("/news/articles")).text
    assert mine not in page and "A column of mine" not in page


async def test_a_database_lacking_a_column_a_canned_query_reads_is_still_served(news_db, tmp_path):
    """An older database (no matches.evidence column): the query that reads it is listed
    and fails when run, as any broken query does; everything else works."""
    older = tmp_path / "older.db"
    shutil.copy(news_db, older)
    with closing(sqlite3.connect(older)) as conn:
        conn.execute("alter table matches drop column evidence")
        conn.commit()
    datasette = await served(older)
    queries = {q["name"] for q in (await database_json(datasette, "older"))["queries"]}
    assert queries == QUERIES
    copies = await datasette.client.get("/older/uncredited_copies.json?_shape=array")
    assert copies.status_code == 200 and copies.json()
