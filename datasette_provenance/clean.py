"""Cleaning: find boilerplate, credits, datelines and story segments in raw text.

Pure functions over strings. The raw text is never changed: everything found is
reported as character spans into it, and the clean text is derived from the raw
text minus the removed spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A stretch of raw text left out of the clean text (an ad, a caption repeat ...)."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Credit:
    """A credit line, wire marker, dateline or byline."""

    kind: str  # wire_marker, photo_credit, reporting_credit, dateline, byline, signoff, copyright, attribution
    agency: str | None  # canonical outlet/agency name ("Reuters", "AFP") when one is named
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class SegmentSpan:
    """One story inside an article's raw text (1-based number)."""

    number: int
    start: int
    end: int
    title: str | None = None


@dataclass
class CleanedArticle:
    raw_text: str
    removed: list[Span] = field(default_factory=list)   # sorted, non-overlapping
    credits: list[Credit] = field(default_factory=list)
    segments: list[SegmentSpan] = field(default_factory=list)  # cover the kept text, in order

    # CONTRACT (implemented by the ingest work):
    # clean_text: str property  -- raw text minus removed spans, paragraphs kept
    # def kept_ranges(self, segment: SegmentSpan) -> list[tuple[int, int]]
    #     raw-text ranges of the segment that are not removed (used by alignment so
    #     passage offsets point into the raw text)
    # def segment_text(self, segment) -> str  -- clean text of one segment


# CONTRACT: def clean_article(raw_text: str, title: str | None = None) -> CleanedArticle
