"""No side doors: with ``articles`` private, nothing made from their text is public.

The fixture database gains the full-text index and two views (one counting labels, one only
counting outlet names; the shipped ``segment_texts`` slices the articles' clean texts); the
user adds two canned queries (one reading titles, one not). An anonymous visitor is refused
every table, view and canned query that shows article text (the shipped ones too) and custom
SQL; what holds no text stays public; the allowed actor sees everything; with ``articles``
public nothing is hidden. Before, on 0.65 the full-text table served every text, and on both
versions ``segments``, ``clusters``, credit and boilerplate lines, the shipped canned queries
and ``?sql=`` showed titles and texts.
"""

from __future__ import annotations

import shutil
from contextlib import closing

import pytest
from datasette.app import Datasette
from datasette_test import actor_cookie

from datasette_provenance import store
from tests.plugin_support import DB, SEED_ARTICLES, serve

pytestmark = pytest.mark.asyncio

EDITOR = {"id": "editor"}
# matches and lineage too: their evidence sentences name articles by their titles.
TEXT_TABLES = ["segments", "boilerplate_spans", "article_credits", "passages", "clusters",
               "matches", "lineage", "label_counts", "articles_fts", "segment_texts"]  # fmt: skip
# The full-text index's shadow tables: hidden here; 1.0a hides them from everyone anyway.
SHADOW_TABLES = ["articles_fts_data", "articles_fts_docsize"]
NO_TEXT_TABLES = ["outlet_names", "outlet_name_counts"]
SHIPPED_QUERIES = ["uncredited_copies", "most_copied_originals"]
OWN_QUERIES = {
    "own_titles": {"sql": "select title from articles"},
    "own_view": {"sql": "select * from segment_texts"},
    "own_outlet_names": {
        "sql": "select kind, count(*) as n from outlet_names where kind != :skip group by kind"
    },
}
TEXT_QUERIES = [*SHIPPED_QUERIES, "own_titles", "own_view"]
SQL = "select raw_text from articles"
TITLE = next(info["title"] for info in SEED_ARTICLES.values())


@pytest.fixture(scope="module")
def db_path(provenance_db_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("privacy") / provenance_db_path.name
    shutil.copy(provenance_db_path, path)
    db = store.connect(str(path))
    with closing(db.conn):
        store.enable_search(db)
        db.conn.execute(
            "create view label_counts as select label, count(*) as n from matches group by label"
        )
        db.conn.execute(
            "create view outlet_name_counts as "
            "select outlet, count(*) as n from outlet_names group by outlet"
        )
        db.conn.execute("pragma wal_checkpoint(truncate)")
    return path


async def served(path, articles_private: bool) -> Datasette:
    tables = {"articles": {"allow": EDITOR}} if articles_private else {}
    database = {"tables": tables, "queries": OWN_QUERIES}
    if hasattr(Datasette, "add_query"):  # 1.0a reads queries from datasette.yaml only
        config = {"databases": {DB: {"queries": database.pop("queries")}}}
        return await serve(path, metadata={"databases": {DB: database}}, config=config)
    return await serve(path, metadata={"databases": {DB: database}})


def sql_url(sql: str) -> str:
    if hasattr(Datasette, "add_query"):
        return f"/{DB}/-/query.json?sql={sql}"
    return f"/{DB}.json?sql={sql}"


def side_doors() -> list[str]:
    """What shows article text, the allowed actor's way in (an anonymous visitor's: below)."""
    return [
        *(f"/{DB}/{table}.json" for table in TEXT_TABLES),
        *(f"/{DB}/{query}.json" for query in TEXT_QUERIES),
        sql_url(SQL),
        sql_url("select provenance_clean(raw_text) from articles"),
    ]


def closed_doors() -> list[str]:
    return [
        *side_doors(),
        *(f"/{DB}/{table}.json" for table in SHADOW_TABLES),
        f"/{DB}/outlet_names.json?_where=exists(select 1 from articles where raw_text like 'a%25')",
    ]


async def test_anonymous_visitors_find_no_side_door(db_path):
    ds = await served(db_path, articles_private=True)
    for url in closed_doors():
        response = await ds.client.get(url)
        assert response.status_code in (400, 403), f"{url}: {response.status_code}"
        assert TITLE not in response.text, url


async def test_what_holds_no_text_stays_public(db_path):
    ds = await served(db_path, articles_private=True)
    for table in NO_TEXT_TABLES:
        assert (await ds.client.get(f"/{DB}/{table}.json")).status_code == 200, table
    assert (await ds.client.get(f"/{DB}/own_outlet_names.json?skip=x")).status_code == 200
    listed = (await ds.client.get(f"/{DB}.json")).json()
    names = {table["name"] for table in listed["tables"]}
    names |= {view["name"] for view in listed.get("views", [])}
    assert not names & {*TEXT_TABLES, *SHADOW_TABLES}, names
    assert {query["name"] for query in listed["queries"]} & set(TEXT_QUERIES) == set()


async def test_the_allowed_actor_sees_every_text(db_path):
    ds = await served(db_path, articles_private=True)
    cookies = {"ds_actor": actor_cookie(ds, EDITOR)}
    for url in side_doors():
        response = await ds.client.get(url, cookies=cookies)
        assert response.status_code == 200, f"{url}: {response.status_code}"


async def test_public_articles_hide_nothing(db_path):
    ds = await served(db_path, articles_private=False)
    for url in side_doors():
        assert (await ds.client.get(url)).status_code == 200, url
