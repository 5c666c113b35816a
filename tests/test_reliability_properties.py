"""Arbitrary Unicode never breaks tokenising, signing, preparing, checking or highlighting.

Property-based (hypothesis): for any text, with any title and any character
ranges, nothing raises and every span points inside its text. test_clean.py and
test_align.py cover cleaning and alignment the same way; these cover the stages
around them: the tokenizer and shingles, signatures, ``ingest.prepare_article``
(everything ingest computes for one article), ``search.find_sources`` (the check
page, on the real seeds index) and the compare page's HTML highlighter, whose
output must read as exactly the input text once tags are removed.
"""

from __future__ import annotations

import html
import re
import sqlite3

import numpy as np
import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasette_provenance import ingest, parameters
from datasette_provenance.matching import search, signatures
from datasette_provenance.web import highlight
from datasette_provenance.matching.tokens import (
    shingle_hashes,
    token_hashes,
    tokenize,
    tokenize_ranges,
    words_in_ranges,
)
from datasette_provenance.readers import ArticleRecord

from .conftest import seed_paths

# Pieces news text is made of, in several scripts, with the characters that trip
# tokenizers: combining marks, RTL marks, zero-width joiners, surrogate-free emoji.
PIECES = st.sampled_from(
    ["Putin", "Kim's", "U.S.", "(Reuters)", "—", "“", "”", "«", "»", "\n", "\n\n", " ", ",", ".",
     "北京", "说", "。", "حرب", "ال", "؟", "война", "e\u0301", "\u200f", "\u200d", "🙂", "\t",
     "ADVERTISEMENT", "Leave a Reply", "Photo: AFP", "2023-09-13", "\r\n", "\u2028", "\x0b"]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",))),
    st.lists(PIECES, max_size=80).map("".join),
    st.lists(PIECES, max_size=80).map(" ".join),
)
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def ranges_in(text: str, data) -> list[tuple[int, int]]:
    """Any ranges, including empty, reversed and out-of-bounds ones."""
    bound = st.integers(-5, len(text) + 5)
    return data.draw(st.lists(st.tuples(bound, bound), max_size=4))


def test_a_dot_between_unspaced_characters_is_no_token():
    """Found by the property below: "北京.说" gave the dot a token with an empty norm."""
    for text in ("北京.说", "㐀.㐀"):
        assert [token.norm for token in tokenize(text)] == [c for c in text if c != "."]
        assert words_in_ranges(text, [(0, len(text))]) == [c for c in text if c != "."]


@PROPERTIES
@given(TEXTS, st.data())
def test_tokens_lie_inside_the_text_and_the_ranges(text, data):
    for token in tokenize(text):
        assert 0 <= token.start < token.end <= len(text) and token.norm
    ranges = ranges_in(text, data)
    tokens = tokenize_ranges(text, ranges)
    for token in tokens:
        assert any(max(0, s) <= token.start and token.end <= min(len(text), e) for s, e in ranges)
    # The fast path ingest signs from gives the very same words.
    assert words_in_ranges(text, ranges) == [token.norm for token in tokens]


@PROPERTIES
@given(TEXTS, st.integers(1, 8))  # 8: the longest shingle shingles.py allows
def test_shingles_and_signatures_of_any_words(text, size):
    norms = [token.norm for token in tokenize(text)]
    hashes = token_hashes(norms)
    assert len(hashes) == len(norms) and hashes.dtype == np.uint64
    shingles = shingle_hashes(hashes, size)
    assert len(shingles) <= max(1, len(norms))
    signatures.sign_tokens(norms, parameters.DEFAULT_PARAMS)  # must not raise


@PROPERTIES
@given(TEXTS, st.one_of(st.none(), TEXTS))
def test_prepare_article_on_any_text(text, title):
    """Everything ingest computes for one article: segments inside the text, in order."""
    record = ArticleRecord(id="any", text=text, title=title)
    prepared = ingest.prepare_article(record)
    assert prepared.content_hash == ingest.content_hash(text)
    previous_end = 0
    for number, (segment, span) in enumerate(
        zip(prepared.segments, prepared.cleaned.segments, strict=True), start=1
    ):
        assert segment.number == number and segment.segment_id == f"any#{number}"
        assert previous_end <= segment.start <= segment.end <= len(text)
        previous_end = segment.end
        # Counted as the signatures were made: the words of what cleaning kept.
        kept_words = words_in_ranges(text, prepared.cleaned.kept_ranges(span))
        assert segment.word_count == len(kept_words)
        assert segment.signatures.token_count == len(kept_words)
    for segment in prepared.cleaned.segments:
        for start, end in prepared.cleaned.kept_ranges(segment):
            assert segment.start <= start <= end <= segment.end
    for span in prepared.cleaned.removed + prepared.cleaned.credits:
        assert 0 <= span.start <= span.end <= len(text)


@pytest.fixture(scope="module", params=["similarity index", "full-text search too"])
def seeds_index(request, seeds_db_path):
    """The seeds database opened as the web tests serve it (immutable, never written), and
    a copy with full-text search, which short pasted texts also query."""
    path = seeds_db_path
    if request.param == "full-text search too":
        path = request.getfixturevalue("searchable_seeds_db_path")
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    yield sqlite_utils.Database(conn)
    conn.close()


@pytest.fixture(scope="module")
def seed_texts(seeds_index) -> dict[str, str]:
    return dict(seeds_index.execute("select id, raw_text from articles").fetchall())


@pytest.fixture(scope="module")
def seed_paragraphs() -> list[str]:
    return [p for path in seed_paths() for p in open(path, encoding="utf-8").read().split("\n\n")]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXTS, st.data())
def test_find_sources_on_any_text(seeds_index, seed_texts, seed_paragraphs, text, data):
    """The check page's matcher: pasted text alone, or mixed into real seed paragraphs."""
    mixed = " ".join(data.draw(st.lists(st.sampled_from(seed_paragraphs), max_size=3)) + [text])
    for pasted in (text, mixed):
        for result in search.find_sources(seeds_index, pasted, limit=5):
            source = seed_texts[result.article_id]
            assert 0.0 <= result.derived_containment <= 1.0
            for passage in result.passages:
                assert 0 <= passage.source_start <= passage.source_end <= len(source)
                assert 0 <= passage.derived_start <= passage.derived_end <= len(pasted)


MARK_CLASSES = ["pv-passage", "pv-boilerplate", "pv-credit", 'pv-edit"><script>x</script>']


@PROPERTIES
@given(TEXTS, st.data())
def test_highlighted_text_reads_as_the_text_whatever_the_marks(text, data):
    """Any marks (overlapping, out of range, with hostile attributes) on any text."""
    bound = st.integers(-3, len(text) + 3)
    marks = [
        highlight.Mark(start, end, layer, css_class, {"title": title, "data-x": title})
        for start, end, layer, css_class, title in data.draw(
            st.lists(
                st.tuples(bound, bound, st.integers(0, 3), st.sampled_from(MARK_CLASSES), TEXTS),
                max_size=6,
            )
        )
    ]
    rendered = str(highlight.highlight(text, marks))
    assert html.unescape(re.sub(r"<[^>]*>", "", rendered)) == text
    assert "<script" not in rendered  # text and attribute values are escaped
