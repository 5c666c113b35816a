"""The text being cleaned: its non-blank lines, and the spans and credits found so far.

Every rule (boilerplate, credits, datelines, segments) reads the lines and what
earlier rules marked on them, and records what it finds through ``Page``.
"""

from __future__ import annotations

import bisect

from ..vocabulary import PHOTO_CREDIT
from .agencies import Hit, scan
from .cleaned import Credit, Span

# Punctuation the rules share: dashes of every width, and parentheses (ASCII and full width).
DASHES = "-‐‑‒–—―−"
DASH = f"[{DASHES}]"
OPEN = "[(（]"
CLOSE = "[)）]"
# A line naming more agencies than this is a list, not credits: the first ones are read as
# credits, the rest as text (each credit costs microseconds; a crafted line holds thousands).
MAX_AGENCY_HITS_PER_LINE = 64
# Video words: a video credit, like a photo credit, credits the picture, not the text.
VIDEO_WORDS = r"videos?|footage|видео|فيديو|ویڈیو|वीडियो|视频|視頻|動画|영상"
# Invisible format characters (zero-width space/joiners, direction marks and
# embeddings, BOM) that surround lines like whitespace does.
_FORMAT_CHARS = (
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space and joiners, direction marks
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"  # embeddings, BOM
)
# What Python's \s matches (str.isspace; nothing above U+3000 is a space).
UNICODE_SPACES = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
_STRIP = UNICODE_SPACES + _FORMAT_CHARS


class Line:
    """One non-blank line of raw text and what is known about it."""

    __slots__ = (
        "index",
        "start",
        "end",
        "cstart",
        "cend",
        "text",
        "blank_before",
        "removed",
        "caption",
        "title_like",
        "body",
        "key",
        "hits",
        "signature",
        "header_mark",
        "copyright_cue",
        "hit_starts",
    )

    def __init__(
        self, index: int, start: int, end: int, cstart: int, cend: int, text: str, blank_before: int
    ):
        self.index = index  # position among the non-blank lines
        self.start, self.end = start, end  # the line, without its line break
        self.cstart, self.cend = cstart, cend  # the line without surrounding spaces
        self.text = text
        self.blank_before = blank_before  # blank lines right before this one
        self.removed: str | None = None  # span kind when the whole line goes
        self.caption = False
        self.title_like = False
        self.body = False
        self.key = ""  # for repeat detection ("" = too short)
        self.hits: list[Hit] = []
        self.signature = False
        self.header_mark = False  # byline, dateline or wire-marker line
        self.copyright_cue = False  # a copyright cue word is on the line
        self.hit_starts: list[int] | None = None  # the hits' starts, for hits_within

    def hits_within(self, start: int, end: int) -> list[Hit]:
        """The line's agency hits starting in ``[start, end)``, by bisection: a line may
        hold thousands, and a rule asking for a range must not read them all."""
        if self.hit_starts is None:
            self.hit_starts = [hit.start for hit in self.hits]  # hits come sorted
        low = bisect.bisect_left(self.hit_starts, start)
        return self.hits[low : bisect.bisect_left(self.hit_starts, end, low)]



_LINE_BREAK_CHARS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def split_lines(text: str) -> list[Line]:
    """The non-blank lines of ``text`` (every Unicode line break counts)."""
    lines: list[Line] = []
    position = 0
    blanks = 0
    for piece in text.splitlines(keepends=True):
        body = piece.rstrip(_LINE_BREAK_CHARS)
        content = body.strip()  # plain strip() is fast; format characters are rare
        if content and (content[0] in _FORMAT_CHARS or content[-1] in _FORMAT_CHARS):
            content = content.strip(_STRIP)
        if content:
            # content[0] is no strip character, so its first occurrence ends the indent
            cstart = position + body.index(content[0])
            lines.append(
                Line(
                    len(lines),
                    position,
                    position + len(body),
                    cstart,
                    cstart + len(content),
                    content,
                    blanks,
                )
            )
            blanks = 0
        else:
            blanks += 1
        position += len(piece)
    return lines


class Page:
    """One text being cleaned; ``cleaner.clean_article`` runs the rules over it."""

    def __init__(self, text: str, title: str | None):
        self.text = text
        self.given_title = " ".join(title.split()) if title and title.strip() else None
        self.lines = split_lines(text)
        self.spans: list[Span] = []
        self.credits: list[tuple[int, Credit]] = []  # (line index, credit)
        self.photo_credited: set[int] = set()  # indexes of lines holding a photo credit
        self.seen_body = False  # a prose line was classified: marker lines now sign off

    def span(self, kind: str, start: int, end: int) -> None:
        if end > start:
            self.spans.append(Span(kind, start, end, self.text[start:end]))

    def credit(
        self, line: Line, kind: str, form: str, agency: str | None, start: int, end: int
    ) -> None:
        credit = Credit(kind, agency, self.text[start:end], start, end, form)
        self.credits.append((line.index, credit))
        if kind == PHOTO_CREDIT:
            self.photo_credited.add(line.index)

    def remove_line(self, line: Line, kind: str) -> None:
        line.removed = kind
        self.span(kind, line.start, line.end)

    def attach_agency_hits(self) -> None:
        hits, cues = scan(self.text)
        if not hits and not cues:
            return
        starts = [line.start for line in self.lines]
        for hit in hits:
            line = self.lines[bisect.bisect_right(starts, hit.start) - 1]
            if len(line.hits) < MAX_AGENCY_HITS_PER_LINE:
                line.hits.append(hit)
        for position in cues:
            self.lines[bisect.bisect_right(starts, position) - 1].copyright_cue = True

    def credit_line_agencies(
        self,
        line: Line,
        kind: str,
        form: str,
        start: int | None = None,
        end: int | None = None,
        other_kind: str | None = None,
    ) -> None:
        """One credit per agency named on the line (one with no agency if none is, of
        ``other_kind`` when given: a byline naming no agency credits no source)."""
        start = line.cstart if start is None else start
        end = line.cend if end is None else end
        agencies = []
        for hit in line.hits_within(start, end):
            hit.used = True
            if hit.agency not in agencies:
                agencies.append(hit.agency)
        if not agencies and other_kind:
            kind = other_kind
        for agency in agencies or [None]:
            self.credit(line, kind, form, agency, start, end)

    def mark_hits(self, line: Line, start: int, end: int) -> None:
        for hit in line.hits_within(start, end):
            hit.used = True


def space_before(text: str, position: int, floor: int) -> int:
    """Move ``position`` left over the spaces before it (not past ``floor``)."""
    while position > floor and text[position - 1] in " \t\u00a0\u3000":
        position -= 1
    return position
