"""The provenance pages in a real browser: a `datasette` server and Debian's Chromium.

Run on their own:  pytest tests/browser
Screenshots of every page, desktop and phone width, go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from datasette.utils import tilde_encode
from datasette_test import wait_until_responds

from tests.conftest import SEED_IDS, searchable_copy
from tests.plugin_support import (
    HOSTILE_ID,
    HOSTILE_INGEST,
    HOSTILE_LINE,
    WIRE_ID,
    build_fixture_db,
    build_hostile_ingested_db,
    seed_text,
)

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("PROVENANCE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
REUTERS, PARAPHRASE, NYT, COPY, FRENCH = (
    SEED_IDS[k] for k in ("reuters", "paraphrase", "nyt", "copy", "french")
)


def seeds_page(*parts: str) -> str:
    return "/seeds/-/provenance" + "".join(
        "/" + (tilde_encode(p) if i else p) for i, p in enumerate(parts)
    )


@pytest.fixture(scope="module")
def server(seeds_db_path, tmp_path_factory):
    """`datasette -i seeds.db -i provenance.db -i hostile.db` on a free loopback port."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("browser")
    seeds = searchable_copy(seeds_db_path, folder)  # a quote is found by full-text search
    hostile = build_fixture_db(folder / "provenance.db")
    ingested = build_hostile_ingested_db(folder / "hostile.db")
    port = _free_port()
    datasette = Path(sys.executable).parent / "datasette"
    process = subprocess.Popen(
        [
            str(datasette),
            "serve",
            "-i",
            str(seeds),
            "-i",
            str(hostile),
            "-i",
            str(ingested),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_responds(f"http://127.0.0.1:{port}/-/versions.json", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, viewport) -> a page that fails the test on JavaScript errors or dialogs."""
    contexts, problems = [], []

    def opener(url, viewport=DESKTOP, javascript=True):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on(
            "dialog",
            lambda dialog: (problems.append(f"dialog opened: {dialog.message}"), dialog.dismiss()),
        )
        page.goto(url)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert problems == []


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_fits_width(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the viewport"


def test_reuters_lineage_lists_copies_independents_and_draws_the_graph(server, open_page):
    page = open_page(server + seeds_page("article", REUTERS))
    copies = page.locator("h3:has-text('Copies of this text') + ul .pv-relation-title")
    assert sorted(copies.evaluate_all("links => links.map(a => a.href)")) == sorted(
        server + seeds_page("article", article_id) for article_id in (PARAPHRASE, COPY)
    )
    others = page.locator("h3:has-text('Other coverage of the same story') + ul .pv-relation-title")
    assert sorted(others.evaluate_all("links => links.map(a => a.href)")) == sorted(
        server + seeds_page("article", article_id) for article_id in (NYT, FRENCH)
    )
    graph = page.locator("svg.pv-graph")
    assert graph.locator("g.pv-node").count() == 5
    assert graph.locator("g.pv-edge").count() == 2
    boxes = [node.bounding_box() for node in graph.locator("g.pv-node rect").all()]
    assert all(box["width"] > 150 and box["height"] > 25 for box in boxes)
    assert (
        len({round(box["y"]) for box in boxes}) == 5
    )  # one row each, nothing drawn on top of another
    shoot(page, "lineage-000-desktop")

    graph.locator(f"g.pv-edge[data-target='{COPY}'] rect").click()  # the label pill
    page.wait_for_url(f"**{seeds_page('compare', REUTERS, COPY)}")

    phone = open_page(server + seeds_page("article", REUTERS), viewport=PHONE)
    assert_fits_width(phone)
    shoot(phone, "lineage-000-phone")
    phone.locator("figure.pv-graph-figure").screenshot(
        path=str(ARTIFACTS / "lineage-000-graph-phone.png")
    )


def test_lineage_graph_needs_no_javascript(server, open_page):
    page = open_page(server + seeds_page("article", COPY), javascript=False)
    assert page.locator("svg.pv-graph g.pv-node").count() == 5
    assert page.locator("svg.pv-graph g.pv-node.pv-current").count() == 1


def test_compare_highlights_passages_and_the_us_edits(server, open_page):
    page = open_page(server + seeds_page("compare", REUTERS, COPY))
    source = page.locator("#pv-source-text")
    derived = page.locator("#pv-derived-text")
    assert source.locator(".pv-passage").count() >= 10
    assert "U.S." in source.locator(".pv-edit-old").all_inner_texts()
    assert "US" in derived.locator(".pv-edit-new").all_inner_texts()
    assert "metre" in source.locator(".pv-edit-old").all_inner_texts()
    highlighted = source.locator(".pv-kind-verbatim").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent")

    # Selecting a passage brings its twin into view in the other column and flashes it.
    last = source.locator(".pv-passage").last
    twin_id = last.get_attribute("href")[1:]
    last.scroll_into_view_if_needed()
    last.click()
    twin = page.locator(f"[id='{twin_id}']")
    twin.wait_for(state="visible")
    page.wait_for_function(
        "id => document.getElementById(id).classList.contains('pv-flash')", arg=twin_id
    )
    page.wait_for_timeout(700)  # smooth scrolling
    assert _in_view(page, twin_id)
    page.wait_for_timeout(1200)  # let the flash fade before the screenshot
    shoot(page, "compare-000-003-desktop")

    phone = open_page(server + seeds_page("compare", REUTERS, COPY), viewport=PHONE)
    assert_fits_width(phone)
    source_box = phone.locator("#pv-source-text").bounding_box()
    derived_box = phone.locator("#pv-derived-text").bounding_box()
    assert derived_box["y"] >= source_box["y"] + source_box["height"]  # stacked, not squeezed
    phone.screenshot(
        path=str(ARTIFACTS / "compare-000-003-phone.png")
    )  # the top of a very long page


def check_text(server, open_page, text: str):
    """The check page after pasting ``text`` and pressing Find sources."""
    page = open_page(server + seeds_page("check"))
    page.fill("#pv-check-text", text)
    page.click("button:has-text('Find sources')")
    return page


def copy_paragraph() -> str:
    """A paragraph of the verbatim copy (003) that the Reuters origin also has."""
    return next(
        p for p in seed_text(COPY).split("\n\n") if p.startswith("US and South Korean")
    )


def test_check_form_finds_reuters_from_a_paragraph_of_the_copy(server, open_page):
    page = check_text(server, open_page, copy_paragraph())
    result = page.locator(f".pv-check-result[data-article-id='{REUTERS}']")
    result.wait_for()
    shoot(page, "check-results-desktop")
    result.locator("button:has-text('Compare side by side')").click()
    page.wait_for_selector("text=Your pasted text")
    assert page.locator("#pv-derived-text .pv-passage").count() >= 1
    shoot(page, "check-compare-desktop")

    phone = open_page(server + seeds_page("check"), viewport=PHONE)
    assert_fits_width(phone)
    shoot(phone, "check-form-phone")


def test_evidence_is_in_plain_words_and_a_photo_credit_is_its_own_state(server, open_page):
    page = open_page(server + seeds_page("article", PARAPHRASE))
    summary = page.locator(".pv-summary")
    assert summary.locator(".pv-badge:has-text('credits only the photo')").is_visible()
    assert "It names its source only in a photo credit" in summary.inner_text()
    evidence = page.locator(".pv-evidence li").all_inner_texts()
    assert (
        "Vygr Media’s article reuses about a third of the Reuters text, reworded; 10 of its "
        "sentences follow the Reuters sentences in order." in evidence
    )
    assert (
        "Vygr Media’s article credits Reuters only for the photo (“(Photo: Reuters)”), not for "
        "the text." in evidence
    )
    assert not [line for line in evidence if "_" in line or "0." in line]  # no ids, no scores
    scores = page.locator("details.pv-scores").first
    assert not scores.locator("dl").is_visible()  # raw scores wait behind "All scores"
    scores.locator("summary").click()
    assert scores.locator("dt:has-text('sentence alignment')").is_visible()
    shoot(page, "lineage-001-evidence-desktop")


def test_pairs_that_are_not_copies_get_no_arrow(server, open_page):
    page = open_page(server + seeds_page("compare", REUTERS, NYT))
    assert page.locator(".pv-arrow").count() == 0
    assert page.locator(".pv-compare-heads .pv-and").is_visible()
    assert page.locator(".pv-side-role").all_inner_texts() == ["ARTICLE", "ARTICLE"] or (
        page.locator(".pv-side-role").all_inner_texts() == ["Article", "Article"]
    )
    assert page.locator(".pv-badge:has-text('credited')").count() == 0
    shoot(page, "compare-000-002-shared-quotes-desktop")
    siblings = open_page(server + seeds_page("compare", PARAPHRASE, COPY))
    assert siblings.locator(".pv-arrow").count() == 0
    assert "neither took text only the other has" in siblings.locator(".pv-evidence").inner_text()
    shoot(siblings, "compare-001-003-siblings-desktop")


def test_check_results_come_in_lineage_order(server, open_page):
    page = check_text(server, open_page, copy_paragraph())
    results = page.locator(".pv-check-result")
    results.first.wait_for()
    assert results.evaluate_all("items => items.map(i => i.dataset.articleId)")[:2] == [
        REUTERS, COPY
    ]
    first = results.first
    assert first.locator(".pv-badge:has-text('earliest version in the corpus')").is_visible()
    second_box, first_box = results.nth(1).bounding_box(), first.bounding_box()
    assert second_box["x"] > first_box["x"]  # the copy is indented under its origin
    shoot(page, "check-lineage-order-desktop")

    quote = (
        '"The Russian army and people will certainly win a great victory in the sacred '
        'struggle for the punishment of a great evil that claims hegemony and feeds an '
        'expansionist illusion," Kim added, raising his glass.'
    )
    page = check_text(server, open_page, quote)
    results = page.locator(".pv-check-result")
    results.first.wait_for()
    badges = results.locator(".pv-badge").all_inner_texts()
    assert "same quotation" in badges and "paraphrased" not in badges
    assert "0%" not in page.locator(".pv-check-results").inner_text()
    assert results.first.locator("blockquote.pv-quote").is_visible()
    shoot(page, "check-quotation-desktop")


def test_stories_overview(server, open_page):
    page = open_page(server + seeds_page())
    assert page.locator("table.pv-stories tbody tr").count() == 1
    shoot(page, "stories-desktop")
    phone = open_page(server + "/provenance/-/provenance", viewport=PHONE)
    assert_fits_width(phone)
    shoot(phone, "stories-phone")


def test_hostile_text_never_runs(server, open_page):
    hostile = "/provenance/-/provenance"
    urls = [
        hostile,
        f"{hostile}/article/{tilde_encode(HOSTILE_ID)}",
        f"{hostile}/article/{tilde_encode(WIRE_ID)}",
        f"{hostile}/compare/{tilde_encode(WIRE_ID)}/{tilde_encode(HOSTILE_ID)}",
        "/provenance/articles?_facet_provenance_label=id&_facet_provenance_origin=id",
        "/provenance/matches",
    ]
    for url in urls:
        page = open_page(server + url)  # the fixture fails the test if a dialog opens
        assert page.locator("img[src='x']").count() == 0, url
        assert page.locator("a[href^='javascript:']").count() == 0, url
    page = open_page(server + urls[1])
    assert '<script>alert("title")</script>' in page.locator("h1").inner_text()
    shoot(page, "hostile-article-desktop")


def test_hostile_ingested_articles_never_run_anywhere(server, open_page):
    """Markup in ids, titles, outlets, URLs and text, through the real ingest and matcher."""
    wire, copy = (tilde_encode(HOSTILE_INGEST[kind]["id"]) for kind in ("wire", "copy"))
    base = "/hostile/-/provenance"
    facets = "_facet_provenance_label=id&_facet_provenance_origin=id&_facet_provenance_credit=id"
    urls = [
        base, f"{base}/article/{wire}", f"{base}/article/{copy}", f"{base}/compare/{wire}/{copy}",
        f"{base}/article/{tilde_encode('<img src=x onerror=alert(30)>')}",  # a 404 naming it
        f"/hostile/articles?{facets}", "/hostile/matches", f"/hostile/articles/{copy}",
    ]  # fmt: skip
    for url in urls:
        page = open_page(server + url)  # the fixture fails the test if a dialog opens
        assert_no_injected_content(page, url)
    lineage = open_page(server + urls[2])
    nodes = lineage.locator("svg.pv-graph g.pv-node")
    assert nodes.count() == 2
    assert HOSTILE_INGEST["copy"]["outlet"] in nodes.last.text_content()  # drawn as text

    # The check page with hostile text pasted, its results and the side-by-side view.
    page = open_page(server + f"{base}/check")
    story = "\n\n".join(seed_text(REUTERS).split("\n\n")[2:7])
    page.fill("#pv-check-text", f"{HOSTILE_LINE}\n\n{story}")
    page.click("button:has-text('Find sources')")
    page.locator(".pv-check-result").first.wait_for()
    assert page.locator(".pv-check-result").count() == 2
    assert_no_injected_content(page, "check results")
    page.locator("button:has-text('Compare side by side')").first.click()
    page.wait_for_selector("text=Your pasted text")
    assert_no_injected_content(page, "check compare")
    assert HOSTILE_LINE in page.locator("#pv-derived-text").inner_text()
    shoot(page, "hostile-check-compare-desktop")


def assert_no_injected_content(page, where: str) -> None:
    assert page.locator("img[src='x'], b, iframe").count() == 0, where
    assert page.locator("[href^='javascript:' i], [src^='javascript:' i]").count() == 0, where
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
            .filter(a => a.name.startsWith('on') && a.value.includes('alert'))
            .map(a => e.tagName + ' ' + a.name))"""
    )
    assert handlers == [], where


def _in_view(page, element_id: str) -> bool:
    """The element is visible inside its scrolling column and the window."""
    return page.evaluate(
        """id => {
            const box = document.getElementById(id).getBoundingClientRect();
            const column = document.getElementById(id).closest('.pv-text').getBoundingClientRect();
            const top = Math.max(0, column.top);
            const bottom = Math.min(window.innerHeight, column.bottom);
            return box.bottom > top && box.top < bottom;
        }""",
        element_id,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_articles_table_page_is_readable_and_links_the_stories(server, open_page):
    """`datasette serve` on a database ingest made, no metadata: the articles table of the
    five seeds fits in under 3,000 pixels at 1280 wide (full texts made it 22,628)."""
    page = open_page(server + "/seeds/articles")
    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, "articles-table-desktop")
    assert height < 3000, f"the articles table page is {height}px tall"
    assert page.locator(".provenance-preview").count() == 10
    lineage = page.locator(".provenance-more a", has_text="lineage").first
    assert lineage.get_attribute("href") == seeds_page("article", REUTERS)
    page.locator("details.nav-menu summary").click()
    stories = page.locator("details.nav-menu a", has_text="Provenance stories")
    assert stories.count() >= 1
    database = open_page(server + "/seeds")
    assert database.locator(".provenance-stories-link a").get_attribute("href") == seeds_page()
    shoot(database, "database-page-desktop")
