"""What cleaning finds: spans left out of the clean text, credits, story segments.

All offsets point into the raw text, which is never changed; the clean text is
derived from it minus the removed spans.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Span:
    """A stretch of raw text left out of the clean text (an ad, a caption repeat ...)."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Credit:
    """A credit line, wire marker, attribution, photo credit, dateline or byline."""

    kind: str  # vocabulary.CREDIT_KINDS: wire_marker, text_credit, attribution, photo_credit, other
    agency: str | None  # canonical outlet/agency name ("Reuters", "AFP") when one is named
    text: str
    start: int
    end: int
    # How it was written: dateline, line, byline, slash, parenthesis (wire markers);
    # sign_off, with, reporting, copyright, source (text credits); sentence (attributions);
    # line, parenthesis, caption, photographer, video (photo credits); dateline, byline,
    # signoff (other).
    form: str = ""


@dataclass(frozen=True)
class SegmentSpan:
    """One story inside an article's raw text (1-based number)."""

    number: int
    start: int
    end: int
    title: str | None = None


@dataclass
class CleanedArticle:
    """Everything ``clean_article`` found; offsets point into ``raw_text``."""

    raw_text: str
    removed: list[Span] = field(default_factory=list)  # sorted, non-overlapping
    credits: list[Credit] = field(default_factory=list)
    segments: list[SegmentSpan] = field(default_factory=list)  # cover the kept text, in order
    title: str | None = None  # the given title, else the one found in the text
    # ends of ``removed``, for bisection (a text of many segments asks for each)
    _removed_ends: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def clean_text(self) -> str:
        """Raw text minus removed spans, one blank line between paragraphs."""
        return _tidy(self.raw_text, self._kept(0, len(self.raw_text)))

    def kept_ranges(self, segment: SegmentSpan) -> list[tuple[int, int]]:
        """Raw-text ranges of ``segment`` that are not removed (in order, non-empty)."""
        return self._kept(segment.start, segment.end)

    def segment_text(self, segment: SegmentSpan) -> str:
        """Clean text of one segment."""
        return _tidy(self.raw_text, self.kept_ranges(segment))

    def credited_agencies(self, segment: SegmentSpan | None = None) -> set[str]:
        """Agencies credited in the article (or one segment), any credit kind."""
        return {
            credit.agency
            for credit in self.credits
            if credit.agency and (segment is None or segment.start <= credit.start < segment.end)
        }

    def _kept(self, start: int, end: int) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        position = start
        if self._removed_ends is None or len(self._removed_ends) != len(self.removed):
            self._removed_ends = [span.end for span in self.removed]
        first = bisect.bisect_left(self._removed_ends, start + 1)
        for span in self.removed[first:]:
            if span.start >= end:
                break
            if span.start > position:
                ranges.append((position, span.start))
            position = max(position, span.end)
        if position < end:
            ranges.append((position, end))
        return ranges


def _tidy(raw_text: str, ranges: Iterable[tuple[int, int]]) -> str:
    """Join kept ranges; normalise line breaks, drop trailing spaces, and keep at
    most one blank line between paragraphs (removed lines leave blank runs)."""
    text = "".join(raw_text[start:end] for start, end in ranges)
    lines: list[str] = []
    pending_blank = False
    for line in text.splitlines():  # splits on every Unicode line break, in C
        line = line.rstrip()
        if not line:
            pending_blank = bool(lines)
            continue
        if pending_blank:
            lines.append("")
            pending_blank = False
        lines.append(line)
    return "\n".join(lines).strip()
