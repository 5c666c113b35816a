"""The plugin on the seeds database built by the real ingest (tests/conftest.py: seeds_db_path)."""

from __future__ import annotations

import re

import click
import pytest
import pytest_asyncio
from click.testing import CliRunner
from datasette.utils import tilde_encode

import datasette_provenance.web
from tests.conftest import SEED_IDS
from tests.plugin_support import seed_text, started

REUTERS, PARAPHRASE, NYT, COPY, FRENCH = (
    SEED_IDS[k] for k in ("reuters", "paraphrase", "nyt", "copy", "french")
)


def url(*parts: str, format: str | None = None) -> str:
    path = "/seeds/-/provenance" + "".join(
        "/" + (tilde_encode(p) if i else p) for i, p in enumerate(parts)
    )
    return path + (f".{format}" if format else "")


@pytest_asyncio.fixture
async def ds(seeds_db_path):
    return await started(immutables=[str(seeds_db_path)])


@pytest.mark.asyncio
async def test_reuters_lineage_shows_the_copies_and_the_independent_coverage(ds):
    data = (await ds.client.get(url("article", REUTERS, format="json"))).json()
    (segment,) = data["segments"]
    assert segment["role"] == "origin"
    assert {c["article"]["id"] for c in segment["copies"]} == {COPY, PARAPHRASE}
    assert {o["article"]["id"] for o in segment["same_story"]} == {NYT, FRENCH}
    assert {o["role"] for o in segment["same_story"]} == {"independent"}
    copies = {c["article"]["id"]: c for c in segment["copies"]}
    assert copies[COPY]["credit"] == "uncredited"
    assert copies[PARAPHRASE]["credit"] == "photo_only"  # "credits Reuters only for the photo"
    html = (await ds.client.get(url("article", PARAPHRASE))).text
    assert "credits only the photo" in html
    assert "Vygr Media’s article credits Reuters only for the photo (“(Photo: Reuters)”), " \
        "not for the text." in html
    graph = data["clusters"][0]["graph"]
    assert len(graph["nodes"]) == 5 and len(graph["edges"]) == 2


@pytest.mark.asyncio
async def test_the_copy_derives_from_reuters_and_its_canada_story_stands_alone(ds):
    data = (await ds.client.get(url("article", COPY, format="json"))).json()
    roles = [segment["role"] for segment in data["segments"]]
    assert roles[0] == "copy" and set(roles[1:]) <= {"unclustered", "independent"}
    assert data["segments"][0]["derived_from"][0]["article"]["id"] == REUTERS


@pytest.mark.asyncio
async def test_compare_shows_the_style_edits(ds):
    html = (await ds.client.get(url("compare", REUTERS, COPY))).text
    assert re.search(r'pv-edit-old"[^>]*>U\.S\.</span>', html)
    assert re.search(r'pv-edit-new"[^>]*>US</span>', html)
    assert re.search(r'pv-edit-old"[^>]*>metre</span>', html)
    assert html.count('class="pv-passage') >= 10


@pytest.mark.asyncio
async def test_stories_overview_has_the_one_seed_story(ds):
    data = (await ds.client.get(url(format="json"))).json()
    (story,) = data["stories"]
    assert story["origin"]["id"] == REUTERS and story["uncredited_count"] == 2
    assert story["photo_only_count"] == 1


@pytest.mark.asyncio
async def test_check_finds_reuters_from_a_paragraph_of_the_copy(ds):
    paragraph = next(
        p for p in seed_text(COPY).split("\n\n") if p.startswith("US and South Korean")
    )
    data = (await ds.client.post(url("check", format="json"), data={"text": paragraph})).json()
    assert data["results"][0]["article_id"] == REUTERS  # the origin first, its copy below
    assert data["results"][0]["role"] == "origin"
    assert [r["role"] for r in data["results"][:2]] == ["origin", "copy"]
    html = (await ds.client.post(url("check"), data={"text": paragraph, "compare": REUTERS})).text
    assert "Your pasted text" in html and "pv-passage" in html


def test_datasette_provenance_command_is_attached():
    group = click.Group()
    datasette_provenance.web.register_commands(group)
    assert "provenance" in group.commands
    result = CliRunner().invoke(group, ["provenance", "--help"])
    assert result.exit_code == 0 and "Trace where news text comes from" in result.output


@pytest.mark.asyncio
async def test_check_orders_results_by_lineage_and_reports_a_quotation_as_one(
    searchable_seeds_db_path,
):
    ds = await started(immutables=[str(searchable_seeds_db_path)])
    wire_sentence = (
        "Putin showed Kim around Russia's most advanced space rocket launch site in Russia's Far "
        "East and discussed the possibility of sending a North Korean cosmonaut into space."
    )
    data = (await ds.client.post(url("check", format="json"), data={"text": wire_sentence})).json()
    order = [(r["article_id"], r["role"]) for r in data["results"]]
    assert order[:2] == [(REUTERS, "origin"), (COPY, "copy")]  # the wire first, its copy below
    html = (await ds.client.post(url("check"), data={"text": wire_sentence})).text
    assert html.index("earliest version in the corpus") < html.index(COPY)

    quote = (
        '"The Russian army and people will certainly win a great victory in the sacred struggle '
        'for the punishment of a great evil that claims hegemony and feeds an expansionist '
        'illusion," Kim added, raising his glass.'
    )
    data = (await ds.client.post(url("check", format="json"), data={"text": quote})).json()
    assert data["results"] and {r["kind"] for r in data["results"]} == {"quotation"}
    assert data["results"][0]["article_id"] == REUTERS
    html = (await ds.client.post(url("check"), data={"text": quote})).text
    assert "same quotation" in html and "paraphrase" not in html.split('id="pv-check-text"')[-1]
    assert "quoting the same speaker is not copying" in html
