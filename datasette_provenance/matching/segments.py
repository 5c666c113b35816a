"""Segments as the matcher sees them: raw text, the ranges cleaning kept, and the facts
about their article that direction and credit are decided from.

``segment_data`` builds one from stored rows (pure, so the Spark engine builds the
same from rows it holds); ``SegmentStore`` loads them from the database with a
bounded cache (a segment meets many candidates in one run).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

import numpy as np
import sqlite_utils

from ..readers import outlet_domain
from . import align, lineage, stories
from .tokens import shingle_hashes, token_hashes, words_in_ranges

# Prepared segments kept in memory: a segment meets many candidates in one run.
PREPARED_CACHE_SIZE = 500


@dataclass
class SegmentData:
    """A segment as the matcher sees it: its text, what cleaning kept, facts about its article."""

    segment_id: str
    article_id: str
    raw_text: str
    kept_ranges: list[tuple[int, int]]
    facts: lineage.ArticleFacts
    _prepared: align.PreparedText | None = None
    _norms: list[str] | None = None
    _phrases: np.ndarray | None = None
    _story_profile: dict[str, float] | None = None

    @property
    def prepared(self) -> align.PreparedText:
        if self._prepared is None:
            self._prepared = align.prepare(self.raw_text, self.kept_ranges)
        return self._prepared

    @property
    def norms(self) -> list[str]:
        """Normalised tokens (without the spans and structure alignment needs: 4-5x cheaper)."""
        if self._prepared is not None:
            return self._prepared.norms
        if self._norms is None:
            self._norms = words_in_ranges(self.raw_text, self.kept_ranges)
        return self._norms

    @property
    def phrases(self) -> np.ndarray:
        """Hashes of the segment's distinct word 3-grams (sorted): a cheap look at shared wording."""
        if self._phrases is None:
            hashes = shingle_hashes(token_hashes(self.norms), align.PHRASING_SIZE)
            self._phrases = np.unique(hashes)
        return self._phrases

    def story_profile(self, rarity: stories.Rarity) -> dict[str, float]:
        """Content terms weighted by corpus-wide rarity (computed once per segment and run)."""
        if self._story_profile is None:
            self._story_profile = rarity.profile(stories.story_terms(self.norms))
        return self._story_profile


class SegmentStore:
    """Loads segments (text, kept ranges, article facts) from the database, with a bounded cache."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        # segments.seq of each segment as loaded: a segment stored again meanwhile (its article
        # re-ingested by another process) has a new seq, so what was computed from the old
        # text is recognised and not written (matching.update).
        self.seqs: dict[str, int] = {}
        self.cache: OrderedDict[str, SegmentData] = OrderedDict()
        self.names: dict[str, tuple[str, ...]] = {}

    def get(self, segment_id: str) -> SegmentData:
        if segment_id in self.cache:
            self.cache.move_to_end(segment_id)
            return self.cache[segment_id]
        data = self._load(segment_id)
        self.cache[segment_id] = data
        if len(self.cache) > PREPARED_CACHE_SIZE:
            self.cache.popitem(last=False)
        return data

    def article_segment_ids(self, article_id: str) -> list[str]:
        return [
            row[0]
            for row in self.db.execute("SELECT id FROM segments WHERE article_id = ?", [article_id])
        ]

    def _load(self, segment_id: str) -> SegmentData:
        row = self.db.execute(
            "SELECT s.article_id, s.start_char, s.end_char, s.word_count, s.title, a.raw_text, "
            "a.outlet, a.published, a.inferred_fields, a.title, a.word_count, a.url, s.seq "
            "FROM segments s JOIN articles a ON a.id = s.article_id WHERE s.id = ?",
            [segment_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no segment {segment_id!r}")
        fields = SegmentFields(*row[:-1])
        self.seqs[segment_id] = row[-1]
        removed = self.db.execute(
            "SELECT start_char, end_char FROM boilerplate_spans WHERE article_id = ? "
            "ORDER BY start_char",
            [fields.article_id],
        ).fetchall()
        segment_spans = self.db.execute(
            "SELECT start_char, end_char FROM segments WHERE article_id = ?", [fields.article_id]
        ).fetchall()
        credits = self.db.execute(
            "SELECT kind, agency, matched_text, start_char, end_char, form FROM article_credits "
            "WHERE article_id = ?",
            [fields.article_id],
        ).fetchall()
        return segment_data(
            segment_id, fields, removed, segment_spans, credits, self.outlet_names(fields.outlet)
        )

    def outlet_names(self, outlet: str | None) -> tuple[str, ...]:
        """Other names of an outlet (``outlet_names``: from the manifest and URLs), cached."""
        if not outlet:
            return ()
        if outlet not in self.names:
            self.names[outlet] = tuple(
                row[0]
                for row in self.db.execute(
                    "SELECT name FROM outlet_names WHERE outlet = ? ORDER BY kind, name", [outlet]
                )
            )
        return self.names[outlet]


class SegmentFields(NamedTuple):
    """A segment's row joined with its article's, in the order ``SegmentStore`` selects them."""

    article_id: str
    start: int
    end: int
    segment_words: int
    segment_title: str | None
    raw_text: str
    outlet: str | None
    published: str | None
    inferred_fields: str | None  # JSON list, as stored
    article_title: str | None
    article_words: int
    url: str | None = None


def segment_data(
    segment_id: str,
    fields: SegmentFields,
    removed: Iterable[tuple[int, int]],
    segment_spans: Sequence[tuple[int, int]],
    credits: Iterable[tuple],
    outlet_names: Sequence[str] = (),
) -> SegmentData:
    """A segment as the matcher sees it, from its article's stored rows.

    Pure, so the Spark engine builds the same thing from rows it holds in memory:
    ``removed`` are boilerplate spans, ``segment_spans`` every segment of the
    article, ``credits`` (kind, agency, matched text, start, end[, form]),
    ``outlet_names`` the other names of its outlet (``outlet_names`` rows).
    """
    span = (fields.start, fields.end)
    inferred = set(json.loads(fields.inferred_fields or "[]"))
    kept = kept_ranges(span, removed)
    facts = lineage.ArticleFacts(
        article_id=fields.article_id,
        segment_id=segment_id,
        outlet=fields.outlet,
        published=fields.published,
        published_inferred="published" in inferred,
        outlet_inferred="outlet" in inferred,
        title=fields.article_title or fields.segment_title,
        credits=[
            lineage.CreditFact(kind, agency, text, form or "")
            for kind, agency, text, credit_start, credit_end, form in (
                (*credit, None)[:6] for credit in credits
            )
            if _applies_to_segment(credit_start, credit_end, span, segment_spans)
        ],
        outlet_names=_names_with_url(outlet_names, fields.outlet, fields.url),
        text=_segment_scope_text(fields.raw_text, span, segment_spans),
        segment_words=fields.segment_words,
        article_words=fields.article_words,
        segment_count=len(segment_spans),
        opening=opening(fields.raw_text, kept),
    )
    return SegmentData(segment_id, fields.article_id, fields.raw_text, kept, facts)


# Words of a text's opening that name an article without a title in evidence sentences.
OPENING_WORDS = 8


def opening(raw_text: str, ranges: Sequence[tuple[int, int]]) -> str | None:
    """The first words of a text's kept ranges ("North Korean leader Kim Jong Un and …")."""
    words: list[str] = []
    for start, end in ranges:
        words += raw_text[start:end].split()
        if len(words) > OPENING_WORDS:
            return " ".join(words[:OPENING_WORDS]) + " …"
    return " ".join(words) or None


def _names_with_url(names: Sequence[str], outlet: str | None, url: str | None) -> tuple[str, ...]:
    """An outlet's other names plus the domain of the article's own URL."""
    domain = outlet_domain(url)
    found = list(names)
    if domain and domain != (outlet or "").casefold():
        found.append(domain)
    return tuple(dict.fromkeys(found))


def kept_ranges(
    segment: tuple[int, int], removed: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The parts of a segment's raw-text span not covered by removed spans."""
    start, end = segment
    ranges = []
    position = start
    for removed_start, removed_end in sorted(removed):
        if removed_end <= position or removed_start >= end:
            continue
        if removed_start > position:
            ranges.append((position, removed_start))
        position = max(position, removed_end)
    if position < end:
        ranges.append((position, end))
    return ranges


def _applies_to_segment(start: int, end: int, segment: tuple[int, int], all_segments) -> bool:
    """A credit belongs to the segment it lies in; one outside every segment (page furniture)
    belongs to all of them."""
    if segment[0] <= start < segment[1]:
        return True
    return not any(s <= start < e for s, e in all_segments)


def _segment_scope_text(raw_text: str, segment: tuple[int, int], all_segments) -> str:
    """The segment's text plus page text outside every segment (where credit lines often sit)."""
    outside = kept_ranges((0, len(raw_text)), all_segments)
    pieces = [raw_text[segment[0] : segment[1]]] + [raw_text[s:e] for s, e in outside]
    return "\n".join(pieces)
