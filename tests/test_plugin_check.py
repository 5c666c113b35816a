"""The check page: paste a text, see which corpus articles it derives from.

The matcher (``search.find_sources``) is replaced by a small stand-in that keeps
its contract, so these tests pin down the page itself; test_plugin_seeds.py runs
the real matcher on the real seeds database. The stand-in runs where checks run, in a
worker process (``matching.isolated``), so it notes its calls in a file.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import pytest
import sqlite_utils
from datasette_test import actor_cookie

from datasette_provenance import store
from datasette_provenance.matching import search
from datasette_provenance.web import views
from tests.conftest import searchable_copy
from tests.plugin_support import (
    COPY,
    DB,
    REUTERS,
    page,
    seed_text,
    serve,
)

pytestmark = pytest.mark.asyncio

# A paragraph of 003 copied word for word from 000.
PASTED = next(p for p in seed_text(COPY).split("\n\n") if p.startswith("Putin showed Kim around"))


@dataclass
class StubPassage:
    kind: str
    source_start: int
    source_end: int
    derived_start: int
    derived_end: int
    similarity: float = 1.0
    edits: list = field(default_factory=list)


@dataclass
class StubResult:
    article_id: str
    segment_id: str
    label: str
    source_containment: float
    derived_containment: float
    passages: list
    evidence: list = field(default_factory=list)


class StubMatcher:
    """Finds the pasted text verbatim in the corpus, as find_sources would report it."""

    def __init__(self, log):
        self.log = log  # a file: the stand-in is pickled into the check's worker process

    def calls_made(self) -> list[tuple[str, int, bool]]:
        if not self.log.exists():
            return []
        return [tuple(json.loads(line)) for line in self.log.read_text().splitlines()]

    @property
    def calls(self) -> list[tuple[str, int]]:
        return [(text, limit) for text, limit, _ in self.calls_made()]

    @property
    def used_search(self) -> list[bool]:
        return [use_search for _, _, use_search in self.calls_made()]

    def find_sources(self, db, text, limit=20, *, use_search=True):
        assert isinstance(db, sqlite_utils.Database)
        with self.log.open("a") as log:
            log.write(json.dumps([text, limit, use_search]) + "\n")
        results = []
        for article_id, raw_text in db.execute("select id, raw_text from articles order by id"):
            start = raw_text.find(text.strip())
            if start >= 0:
                end = start + len(text.strip())
                passage = StubPassage("verbatim", start, end, 0, len(text.strip()))
                results.append(
                    StubResult(
                        article_id,
                        f"{article_id}#1",
                        "verbatim",
                        len(text) / len(raw_text),
                        1.0,
                        [passage],
                        ["All of the pasted text appears word for word"],
                    )
                )
        return results[:limit]


@pytest.fixture
def matcher(monkeypatch, tmp_path):
    stub = StubMatcher(tmp_path / "calls.jsonl")
    monkeypatch.setattr(search, "find_sources", stub.find_sources)
    return stub


async def test_get_shows_the_form_with_a_csrf_token(ds):
    response = await ds.client.get(page("check"))
    assert response.status_code == 200
    assert '<textarea id="pv-check-text" name="text"' in response.text
    assert re.search(r'<input type="hidden" name="csrftoken" value="[^"]*">', response.text)
    assert f'action="{page("check")}"' in response.text


async def test_posting_a_paragraph_of_the_copy_finds_the_reuters_original(ds, matcher):
    response = await ds.client.post(page("check"), data={"text": PASTED, "limit": "5"})
    assert response.status_code == 200
    assert matcher.calls == [(PASTED, 5)]
    html = response.text
    assert f'data-article-id="{REUTERS}"' in html and f'data-article-id="{COPY}"' in html
    assert f'href="{page("article", REUTERS)}"' in html
    assert f'name="compare" value="{REUTERS}"' in html
    assert "All of the pasted text appears word for word" in html
    assert "no-store" in response.headers["cache-control"]


async def test_a_short_text_is_checked_with_a_warning_that_it_may_be_missed(ds, matcher):
    quote = "Putin showed Kim around the Vostochny cosmodrome"
    short = await ds.client.post(page("check", format="json"), json={"text": quote})
    assert short.json()["words"] == 7
    assert "7 words" in short.json()["warning"] and "paragraph" in short.json()["warning"]
    html = (await ds.client.post(page("check"), data={"text": quote})).text
    assert 'class="pv-warning"' in html and "Excerpts shorter than 50 words" in html
    whole = seed_text(COPY)
    long = await ds.client.post(page("check", format="json"), json={"text": whole})
    assert long.json()["words"] > 50 and long.json()["warning"] is None
    assert 'class="pv-warning"' not in (await ds.client.post(page("check"), data={"text": whole})).text


async def test_with_full_text_search_a_quote_is_enough(provenance_db_path, tmp_path, matcher):
    searchable = await serve(searchable_copy(provenance_db_path, tmp_path))
    form = (await searchable.client.get(page("check"))).text
    assert "A single quote or sentence is enough" in form
    quote = "Putin showed Kim around the Vostochny cosmodrome"
    answer = await searchable.client.post(page("check", format="json"), json={"text": quote})
    assert answer.json()["warning"] is None
    # Datasette's own search box on the articles table uses the same index.
    table = await searchable.client.get(f"/{DB}/articles.json?_search=Vostochny&_shape=array")
    assert table.status_code == 200 and table.json()


async def test_a_short_phrase_is_shown_where_it_stands_word_for_word(provenance_db_path, tmp_path):
    """Real matcher: six words of the Reuters story are "same phrase" (with a caution that
    short wording can be common), never "paraphrased"; both sides of the comparison marked."""
    searchable = await serve(searchable_copy(provenance_db_path, tmp_path))
    phrase = "the secretive communist state's satellite program"
    answer = await searchable.client.post(page("check", format="json"), json={"text": phrase})
    kinds = {r["article_id"]: r["kind"] for r in answer.json()["results"]}
    assert kinds[REUTERS] == "phrase" and "paraphrase" not in kinds.values()
    html = (await searchable.client.post(page("check"), data={"text": phrase})).text
    assert 'class="pv-badge pv-label-phrase">same phrase<' in html
    assert "not who wrote it first" in html
    compared = await searchable.client.post(
        page("check"), data={"text": phrase, "compare": REUTERS}
    )
    assert compared.text.count('class="pv-passage pv-kind-verbatim"') == 2


async def test_a_hidden_full_text_index_is_not_used_for_those_who_may_not_see_it(
    provenance_db_path, tmp_path, matcher
):
    hidden = {"databases": {DB: {"tables": {store.SEARCH_TABLE: {"allow": {"id": "editor"}}}}}}
    ds = await serve(searchable_copy(provenance_db_path, tmp_path), metadata=hidden)
    url = page("check", format="json") + "?text=" + quote_plus(
        "Putin showed Kim around the Vostochny cosmodrome"
    )
    anonymous = await ds.client.get(url)
    assert anonymous.status_code == 200 and anonymous.json()["warning"]  # index alone
    editor = await ds.client.get(url, cookies={"ds_actor": actor_cookie(ds, {"id": "editor"})})
    assert editor.status_code == 200 and editor.json()["warning"] is None
    assert matcher.used_search == [False, True]


async def test_compare_button_shows_the_pasted_text_beside_the_article(ds, matcher):
    response = await ds.client.post(page("check"), data={"text": PASTED, "compare": REUTERS})
    assert response.status_code == 200
    html = response.text
    assert "Your pasted text" in html
    assert html.count('class="pv-passage pv-kind-verbatim"') == 2  # once on each side
    assert 'data-label="advertisement"' in html  # the corpus side keeps its boilerplate marks


async def test_json_twin_accepts_json_form_and_query_string(ds, matcher):
    by_json = await ds.client.post(page("check", format="json"), json={"text": PASTED})
    assert by_json.status_code == 200
    results = by_json.json()["results"]
    assert {r["article_id"] for r in results} == {REUTERS, COPY}
    reuters = next(r for r in results if r["article_id"] == REUTERS)
    assert reuters["label"] == "verbatim" and reuters["article"]["outlet"] == "Reuters"
    assert reuters["passages"][0]["source_end"] > reuters["passages"][0]["source_start"]
    by_form = await ds.client.post(page("check", format="json"), data={"text": PASTED})
    assert by_form.json()["results"] == results
    by_get = await ds.client.get(page("check", format="json"), params={"text": PASTED})
    assert by_get.json()["results"] == results


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"text": "   "}, 400, "Paste some text"),
        ({"text": "x" * (views.MAX_CHECK_CHARS + 1)}, 400, "paste at most"),
        ({"text": "x" * (views.MAX_CHECK_BODY_BYTES + 10)}, 413, "at most"),
        ({"text": PASTED, "limit": "lots"}, 400, "limit must be"),
    ],
)
async def test_bad_input_is_a_friendly_error(ds, matcher, data, status, message):
    response = await ds.client.post(page("check"), data=data)
    assert response.status_code == status
    assert message in response.text
    assert matcher.calls == []


async def test_json_twin_without_text_explains_itself(ds):
    response = await ds.client.get(page("check", format="json"))
    assert response.status_code == 400 and "POST text=" in response.json()["error"]
    bad_json = await ds.client.post(
        page("check", format="json"), content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400


async def test_the_matchers_own_refusal_is_explained_without_the_servers_path(
    provenance_db_path, tmp_path
):
    """A database whose recorded signature params this release cannot use: the real
    matcher refuses it, and the page says what to run (409), naming the database rather
    than the file on the server; never a server error."""
    path = tmp_path / f"{DB}.db"
    path.write_bytes(provenance_db_path.read_bytes())
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT OR REPLACE INTO provenance_meta (key, value) "
            "VALUES ('signature_params', '{\"bands_of_old\": 1}')"
        )
    ds = await serve(path)
    for target in (page("check"), page("check", format="json")):
        response = await ds.client.post(target, data={"text": PASTED})
        assert response.status_code == 409, target
        assert "--rebuild-index" in response.text and str(tmp_path) not in response.text


async def test_a_browser_style_post_with_the_csrf_token_is_accepted(ds, matcher):
    form = await ds.client.get(page("check"))
    token = re.search(r'name="csrftoken" value="([^"]*)"', form.text).group(1)
    response = await ds.client.post(
        page("check"),
        data={"csrftoken": token, "text": PASTED},
        cookies=dict(form.cookies),
        headers={"origin": "http://localhost", "sec-fetch-site": "same-origin"},
    )
    assert response.status_code == 200 and f'data-article-id="{REUTERS}"' in response.text


async def test_an_api_client_holding_the_csrf_cookie_may_post_json(ds, matcher):
    """The check page only reads, so its JSON twin is exempt from CSRF protection."""
    form = await ds.client.get(page("check"))
    response = await ds.client.post(
        page("check", format="json"), json={"text": PASTED}, cookies=dict(form.cookies)
    )
    assert response.status_code == 200 and response.json()["results"]


CHINESE_PARAGRAPH = "会晤结束后，两国领导人共进午餐，并互赠礼物。克里姆林宫发言人说，会谈富有成效。" * 15


async def test_chinese_text_is_counted_and_limited_in_characters_as_the_matcher_does(ds, matcher):
    """A CJK character is a word to the matcher; percent-encoded it takes 9 bytes of a form."""
    checked = await ds.client.post(page("check", format="json"), data={"text": CHINESE_PARAGRAPH})
    assert checked.status_code == 200
    assert checked.json()["words"] > 500 and checked.json()["warning"] is None
    long = "两国领导人" * 18_000  # 90,000 characters, 810,000 bytes as a form field
    assert len(long) < views.MAX_CHECK_CHARS
    response = await ds.client.post(page("check", format="json"), data={"text": long})
    assert response.status_code == 200, response.text[:200]


@pytest.mark.parametrize("stored", ['{"bogus": 1}', "not JSON"], ids=["unknown key", "not json"])
async def test_unusable_index_settings_are_explained_without_the_server_path(
    seeds_db_copy, tmp_path, stored
):
    """The real matcher on a database whose recorded signature params are unusable."""
    served = tmp_path / f"{DB}.db"
    served.write_bytes(seeds_db_copy.read_bytes())
    with closing(sqlite3.connect(served)) as conn:
        with conn:
            conn.execute(
                "UPDATE provenance_meta SET value = ? WHERE key = 'signature_params'", [stored]
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # served immutable: the WAL is not read
    ds = await serve(served)
    response = await ds.client.get(page("check", format="json"), params={"text": PASTED})
    assert response.status_code == 409 and "--rebuild-index" in response.text
    assert str(tmp_path) not in response.text and DB in response.text
