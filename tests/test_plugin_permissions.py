"""Private databases and tables never leak through the provenance pages or their JSON."""

from __future__ import annotations

import pytest
from datasette_test import actor_cookie
from markupsafe import escape

from tests.plugin_support import (  # noqa: F401  (provenance_db_path is a fixture)
    COPY,
    DB,
    REUTERS,
    SEED_ARTICLES,
    page,
    provenance_db_path,
    serve,
)

pytestmark = pytest.mark.asyncio

EDITOR = {"id": "editor"}
ONLY_EDITOR = {"id": "editor"}  # an allow block
PRIVATE_CONFIGS = {
    "instance": {"allow": ONLY_EDITOR},
    "database": {"databases": {DB: {"allow": ONLY_EDITOR}}},
    "articles table": {"databases": {DB: {"tables": {"articles": {"allow": ONLY_EDITOR}}}}},
    "passages table": {"databases": {DB: {"tables": {"passages": {"allow": ONLY_EDITOR}}}}},
}
PLUGIN_PAGES = [page(), page("article", REUTERS), page("compare", REUTERS, COPY), page("check")]
REUTERS_TITLE = str(escape(SEED_ARTICLES[REUTERS]["title"]))


@pytest.mark.parametrize("private", PRIVATE_CONFIGS, ids=list(PRIVATE_CONFIGS))
async def test_anonymous_visitors_are_refused_everywhere(provenance_db_path, private):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS[private])
    for path in PLUGIN_PAGES:
        for target in (path, path + ".json"):
            response = await ds.client.get(target)
            assert response.status_code == 403, target
            assert "Kim Jong Un" not in response.text, target
    posted = await ds.client.post(
        page("check", format="json"), json={"text": "Kim Jong Un met Putin"}
    )
    assert posted.status_code == 403


@pytest.mark.parametrize("private", PRIVATE_CONFIGS, ids=list(PRIVATE_CONFIGS))
async def test_the_allowed_actor_sees_private_pages_uncached(provenance_db_path, private):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS[private])
    cookies = {"ds_actor": actor_cookie(ds, EDITOR)}
    for path in PLUGIN_PAGES[:3]:
        response = await ds.client.get(path, cookies=cookies)
        assert response.status_code == 200, path
        assert response.headers["cache-control"].startswith("private"), path
    article = await ds.client.get(page("article", REUTERS), cookies=cookies)
    assert REUTERS_TITLE in article.text and "🔒" in article.text


async def test_private_tables_hide_the_links_to_the_provenance_pages(provenance_db_path):
    ds = await serve(provenance_db_path, metadata=PRIVATE_CONFIGS["passages table"])
    anonymous = await ds.client.get(f"/{DB}")
    assert anonymous.status_code == 200 and page() not in anonymous.text
    editor = await ds.client.get(f"/{DB}", cookies={"ds_actor": actor_cookie(ds, EDITOR)})
    assert f'href="{page()}"' in editor.text
