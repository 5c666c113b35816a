"""Credits: wire markers, photo and reporting credits, and agencies named in the text.

* ``wire_marker`` - "(Reuters)", "WASHINGTON (AP) -" (with its dateline, see
  ``datelines``), "— AFP", "/ТАСС/", "新华社北京9月13日电", "(with inputs from PTI)";
* ``photo_credit`` - "(Photo: Reuters)", "(Photo by X / AFP)", "REUTERS/Name", an
  agency named in a caption;
* ``reporting_credit`` - "(Reporting by ...; editing by ...)", possibly wrapped over
  several lines, and "X contributed reporting."; one that names no agency inherits
  the one wire agency of its story, so Reuters' "(Reporting by ...)" block is
  credited to Reuters;
* ``attribution`` - a sentence naming an agency ("AFP reported", "told Reuters").

Credit lines and markers leave the clean text (span kind ``credit_line``);
attributions are sentences and stay. Distinctive agency names count wherever they
appear; short codes that are also ordinary acronyms ("AP", "UPI", "EPA") count only
in a credit position or next to a reporting word.
"""

from __future__ import annotations

import bisect
import re

from ..vocabulary import script_of
from .agencies import AGENCY_LIST, AGENCY_PATTERN, Hit
from .cleaned import Credit
from .datelines import (
    BARE_DATELINE_PREFIX_MAX_CHARS,
    CJK_WIRE_TAIL,
    DATELINE_PREFIX_MAX_CHARS,
    dateline_prefix,
)
from .page import CLOSE, DASH, DASHES, OPEN, Line, Page, space_before
from .segments import segment_bounds

# A reporting credit in parentheses may wrap over a few lines.
REPORTING_CREDIT_MAX_LINES = 6
REPORTING_CREDIT_MAX_CHARS = 800
# Characters either side of a short agency code searched for a reporting word.
CONTEXT_WINDOW_CHARS = 40
# Characters before an agency name searched for a "with" credit ("with additional reporting
# from" is 31): the checks read next to the name, never the whole line before it.
WITH_CREDIT_WINDOW_CHARS = 200

# "(Reporting by ...", "Additional reporting by ...", "Editing by ...", "Reporting from ...";
# the name after "by"/"from" must start with a capital (checked in code), so prose
# such as "Written by hand, ..." stays.
_REPORTING_CREDIT = re.compile(
    rf"{DASH}*\s*(?P<paren>{OPEN})?\s*(?:(?:additional|further)\s+)?"
    r"(?:(?:reporting|writing|editing|compiled|research|written|edited|translated|graphics"
    r"|fact[- ]?checking|produced)(?:\s+and\s+\w+)?\s+by|(?:additional\s+)?reporting\s+from)"
    r"\s+(?:the\s+)?",
    re.IGNORECASE,
)
# "Alina Lobzina and Valeriya Safronova contributed reporting." - the whole sentence.
_CONTRIBUTED_REPORTING = re.compile(
    r"[^.!?\n]{2,200}?\s(?:contributed|contributing)\s+"
    r"(?:reporting|research|to\s+this\s+(?:report|article|story))"
    r"(?:\s+(?:from|in)\s+[^.!?\n]{1,80})?\.?",
    re.IGNORECASE,
)
_PHOTO_WORD = r"(?:photo(?:graph)?s?|pictures?|images?|foto|фото)(?:\s+credit)?"
# A short line that is only a photo credit: "Photo: Reuters", "Image by John Smith".
PHOTO_LINE_STARTS = ("photo", "picture", "image", "foto", "фото")
PHOTO_LINE = re.compile(rf"{_PHOTO_WORD}\s*(?::|by)\s*\S.{{0,80}}", re.IGNORECASE)
# The inside of a photo-credit parenthesis: "(Photo: Reuters)", "(Photo by X / AFP)".
_PHOTO_PAREN = re.compile(
    r"\s*(?:photo(?:graph)?s?|pics?|pictures?|images?|file\s+photo|foto|credit|фото|صورة|تصوير"
    r"|照片|图片|写真|사진)\b",
    re.IGNORECASE,
)
# A photo credit closing a caption: "... in Moscow. Photo: Reuters".
_PHOTO_TAIL = re.compile(rf"(?:^|\s){_PHOTO_WORD}\s*(?::|by)\s+[^\n]{{2,80}}$", re.IGNORECASE)
_PAREN = re.compile(rf"{OPEN}([^()（）]{{1,200}}){CLOSE}")
# "With AFP", "with inputs from PTI", "with additional reporting by Reuters".
_WITH_CREDIT = (
    r"(?i:with\s+(?:(?:additional\s+)?(?:inputs?|reporting|information)\s+(?:from|by)\s+)?)"
)
# The inside of a parenthesis naming only agencies: "(Reuters)", "(AFP/Reuters)".
_PAREN_AGENCIES = re.compile(rf"\s*{_WITH_CREDIT}?{AGENCY_LIST}\s*(?:\.\s*)?")
# A line that is only a wire marker: "(Reuters)", "— AFP", "Reuters", "With AFP".
MARKER_LINE = re.compile(
    rf"[{DASHES}•*\s]*(?:{OPEN}\s*)?{_WITH_CREDIT}?{AGENCY_LIST}(?:\s*{CLOSE})?[\s.]*"
)
# A "with" credit ending the text before an agency name, after a sentence or dash.
_WITH_BEFORE = re.compile(rf"(?:^|[.!?。]\s+|{DASH}{{1,2}}\s*|[(（]\s*)(?P<with>{_WITH_CREDIT})$")
_SENTENCE_END = re.compile(r"[.!?。！？؟](?:\s|$)")
# Words next to a short agency code that make it a credit ("told AP", "AP reported").
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:told|to|according\s+to|via|by|from|per|cited\s+by|quoted\s+by|with|for|said)"
    r"\s+(?:the\s+)?"
    r"|(?:agency|агентств\w*|агентству|وكالة|لوكالة|ایجنسی)\s+|据|據)$",
    re.IGNORECASE,
)
_CONTEXT_AFTER = re.compile(
    r"(?:['’]s)?\s*(?:reported|reports|reporting|said|says|quoted|cited|learned|news|agency|wire"
    r"|reporter|correspondent|photographer|journalist|interview|tally|calculations|photo"
    r"|报道|報道|报导|通讯社|сообщ\w*|переда\w*|агентств\w*|الإخبارية|للأنباء|نیوز)",
    re.IGNORECASE,
)
_DATELINE_TAIL = re.compile(rf"\s*(?:(?:{DASH}{{1,2}}|:)\s*)?")
_SIGNOFF_TAIL = re.compile(rf"(?:\s*/\s*(?:{AGENCY_PATTERN}))*\s*(?:\.\s*)?$")
_PHOTOGRAPHER_TAIL = re.compile(r"(?:\s+Photo)?\s*/\s*[^\W\d_][^\n/()]{1,60}$")
_SLASH_MARKER_TAIL = re.compile(r"/\s*\.?\s*")
_CREDIT_LAST_WORD = re.compile(r"(?i:with|from|by)$")  # how every "with" credit ends
_SPACES = re.compile(r"\s*")
_SPACES_AND_DOTS = re.compile(r"[ .]*")


def mark_reporting_credits(page: Page) -> None:
    """Reporting credits: "(Reporting by ...; editing by ...)", possibly wrapped over
    several lines, and "X contributed reporting"."""
    index = 0
    while index < len(page.lines):
        line = page.lines[index]
        index += 1
        text = line.text
        if line.removed is not None or len(text) > REPORTING_CREDIT_MAX_CHARS:
            continue
        if "ontribut" in text and _CONTRIBUTED_REPORTING.fullmatch(text):
            _reporting_credit(page, line, line)
            continue
        match = _REPORTING_CREDIT.match(text)
        if not match or not text[match.end() : match.end() + 1].isupper():
            continue
        last = line
        if match.group("paren") and ")" not in text and "）" not in text:
            last = _closing_line(page, line) or line
        _reporting_credit(page, line, last)
        index = last.index + 1


def _closing_line(page: Page, first: Line) -> Line | None:
    """The line that closes a parenthesis left open on ``first``, if near enough."""
    for follower in page.lines[first.index + 1 : first.index + REPORTING_CREDIT_MAX_LINES]:
        if (
            follower.removed is not None
            or follower.cend - first.cstart > REPORTING_CREDIT_MAX_CHARS
        ):
            return None
        if ")" in follower.text or "）" in follower.text:
            return follower
    return None


def _reporting_credit(page: Page, first: Line, last: Line) -> None:
    """Credit and remove lines ``first`` to ``last``: one credit per agency they name."""
    agencies = []
    for line in page.lines[first.index : last.index + 1]:
        for hit in line.hits:
            hit.used = True
            if hit.agency not in agencies:
                agencies.append(hit.agency)
        line.removed = "credit_line"
    for agency in agencies or [None]:
        page.credit(first, "reporting_credit", agency, first.cstart, last.cend)
    page.span("credit_line", first.start, last.end)


def inline_credits(page: Page, line: Line) -> None:
    """Credits inside a kept line: parentheses, agency names, a caption's photo credit."""
    text = page.text
    if "(" in line.text or "（" in line.text:
        for match in _PAREN.finditer(text, line.cstart, line.cend):
            _paren_credit(page, line, match)
    for hit in line.hits:
        if not hit.used:
            _hit_credit(page, line, hit)
    if line.caption and line.index not in page.photo_credited:
        tail = _PHOTO_TAIL.search(text, line.cstart, line.cend)
        if tail:
            start = tail.start() + (1 if text[tail.start()].isspace() else 0)
            page.credit_line_agencies(line, "photo_credit", start, line.cend)
            page.span("credit_line", tail.start(), line.cend)


def _paren_credit(page: Page, line: Line, match: re.Match) -> None:
    """A parenthesis naming a photo credit or agencies: "(Photo: Reuters)", "(AFP)", or the
    marker of a dateline ("WASHINGTON (Reuters) -")."""
    inner = match.group(1)
    hits = [hit for hit in line.hits_within(match.start() + 1, match.end()) if not hit.used]
    if _PHOTO_PAREN.match(inner) or (hits and "/" in inner and line.caption):
        page.credit_line_agencies(line, "photo_credit", match.start(), match.end())
        page.span(
            "credit_line", space_before(page.text, match.start(), line.cstart), match.end()
        )
        return
    if not hits or not _PAREN_AGENCIES.fullmatch(inner):
        return
    before_start, after_end = match.start(), match.end()
    # Only spaces and full stops after it: the line ends with the marker.
    if _SPACES_AND_DOTS.fullmatch(page.text, after_end, line.cend):
        kind = "photo_credit" if line.caption else "wire_marker"
        page.credit_line_agencies(line, kind, before_start, after_end)
        only_spaces = _SPACES.fullmatch(page.text, after_end, line.cend)
        page.span(
            "credit_line",
            space_before(page.text, before_start, line.cstart),
            line.cend if only_spaces else after_end,
        )
        return
    tail = _DATELINE_TAIL.match(page.text, after_end, line.cend)  # always matches
    prefix_limit = (
        DATELINE_PREFIX_MAX_CHARS if tail.group().strip() else BARE_DATELINE_PREFIX_MAX_CHARS
    )
    if before_start - line.cstart <= prefix_limit:
        prefix = page.text[line.cstart : before_start]
        if not _SENTENCE_END.search(prefix):
            dateline_prefix(page, line, prefix, before_start, after_end, tail.end())
            return
    page.credit_line_agencies(line, "wire_marker", before_start, after_end)
    page.span("credit_line", space_before(page.text, before_start, line.cstart), after_end)


def _hit_credit(page: Page, line: Line, hit: Hit) -> None:
    """An agency name not yet part of a credit: a marker, a photo credit, or a
    mention (kept in the text as an attribution when it is one)."""
    before = _Before(page.text, line.cstart, hit.start)
    for marker in (
        _dash_marker,
        _slash_marker,
        _cjk_wire_marker,
        _photographer_credit,
        _with_marker,
    ):
        if marker(page, line, hit, before):
            return
    if hit.weak and not _in_reporting_context(page.text, hit, line):
        return
    hit.used = True
    kind = "photo_credit" if line.caption else "attribution"
    page.credit(line, kind, hit.agency, hit.start, hit.end)


def _dash_marker(page: Page, line: Line, hit: Hit, before: _Before) -> bool:
    """A dash sign-off closing a line ("... said. — AFP"), or a dash dateline opening
    it ("MOSCOW, Sept 13 — RIA Novosti. ...")."""
    text = page.text
    dash_start = before.dash_start()
    if dash_start is None:
        return False
    tail = _SIGNOFF_TAIL.match(text, hit.end, line.cend)
    if tail and tail.end() == line.cend:
        page.mark_hits(line, dash_start, line.cend)
        page.credit(line, "wire_marker", hit.agency, dash_start, line.cend)
        page.span("credit_line", space_before(text, dash_start, line.cstart), line.cend)
        return True
    if (
        text[hit.end : hit.end + 1] in (".", ",")
        and len(before) <= DATELINE_PREFIX_MAX_CHARS
        and not _SENTENCE_END.search(before.string())
    ):
        cut = hit.end + 1
        while cut < line.cend and text[cut].isspace():
            cut += 1
        hit.used = True
        dateline_prefix(page, line, text[line.cstart : dash_start], hit.start, hit.end, cut)
        return True
    return False


def _slash_marker(page: Page, line: Line, hit: Hit, before: _Before) -> bool:
    """TASS style "МОСКВА, 13 сентября. /ТАСС/. ..." (or a "/AGENCY/" elsewhere)."""
    text = page.text
    if not (before.last_char() == "/" and text[hit.end : hit.end + 1] == "/"):
        return False
    hit.used = True
    marker_start, marker_end = hit.start - 1, hit.end + 1
    place_end = marker_start  # the place, without the spaces and dots before the marker
    while place_end > line.cstart and text[place_end - 1] in " .":
        place_end -= 1
    short = place_end - line.cstart <= DATELINE_PREFIX_MAX_CHARS
    place = text[line.cstart : place_end] if short else None
    if place is not None and not _SENTENCE_END.search(place):
        cut = _SLASH_MARKER_TAIL.match(text, hit.end, line.cend).end()
        dateline_prefix(page, line, place, marker_start, marker_end, cut)
    else:
        page.credit(line, "wire_marker", hit.agency, marker_start, marker_end)
        page.span("credit_line", marker_start, marker_end)
    return True


def _cjk_wire_marker(page: Page, line: Line, hit: Hit, before: _Before) -> bool:
    """The Chinese wire opening "新华社北京9月13日电" (agency, place, date, "dispatch")."""
    if len(before) or script_of(page.text[hit.start]) != "cjk":
        return False
    tail = CJK_WIRE_TAIL.match(page.text, hit.end, line.cend)
    if not tail:
        return False
    hit.used = True
    page.credit(line, "wire_marker", hit.agency, hit.start, tail.end())
    page.span("dateline", hit.start, tail.end())
    return True


def _photographer_credit(page: Page, line: Line, hit: Hit, before: _Before) -> bool:
    """A photographer credit closing a caption: "REUTERS/Kevin Lamarque", "AP Photo/X"."""
    text = page.text
    if not _PHOTOGRAPHER_TAIL.match(text, hit.end, line.cend):
        return False
    if not (line.caption or text[hit.start : hit.end].isupper()):
        return False
    page.mark_hits(line, hit.start, line.cend)
    page.credit(line, "photo_credit", hit.agency, hit.start, line.cend)
    page.span("credit_line", space_before(text, hit.start, line.cstart), line.cend)
    return True


def _with_marker(page: Page, line: Line, hit: Hit, before: _Before) -> bool:
    """A "with" credit closing a paragraph: "... With AFP", "with inputs from PTI"."""
    start = before.with_credit_start()
    # The sign-off must run to the end of the line ("With Reuters Reuters" does not).
    if start is None or not _SIGNOFF_TAIL.match(page.text, hit.end, line.cend):
        return False
    page.mark_hits(line, start, line.cend)
    page.credit(line, "wire_marker", hit.agency, start, line.cend)
    page.span("credit_line", space_before(page.text, start, line.cstart), line.cend)
    return True


def inherit_reporting_agency(page: Page, segments: list[tuple[int, int]]) -> None:
    """A reporting credit naming no agency takes its story's one wire agency."""
    if not any(c.kind == "reporting_credit" and c.agency is None for _, c in page.credits):
        return
    starts = [start for start, _ in segment_bounds(page, segments)]  # tile the text from 0
    wire: list[set[str]] = [set() for _ in starts]  # each story's wire agencies
    for _, credit in page.credits:
        if credit.kind == "wire_marker" and credit.agency:
            wire[bisect.bisect_right(starts, credit.start) - 1].add(credit.agency)
    for position, (line_index, credit) in enumerate(page.credits):
        if credit.kind != "reporting_credit" or credit.agency is not None:
            continue
        agencies = wire[bisect.bisect_right(starts, credit.start) - 1]
        if len(agencies) == 1:
            (agency,) = agencies
            page.credits[position] = (
                line_index,
                Credit(credit.kind, agency, credit.text, credit.start, credit.end),
            )


class _Before:
    """The text of a line before an agency name, read back from the name: each credit check
    looks only next to the name, so it costs the same however long the line is."""

    __slots__ = ("source", "start", "end")

    def __init__(self, source: str, start: int, end: int):
        self.source, self.start, self.end = source, start, end

    def __len__(self) -> int:
        return self.end - self.start

    def string(self) -> str:
        """The whole text before the name (callers ask only when it is short)."""
        return self.source[self.start : self.end]

    def last_char(self) -> str:
        return self.source[self.end - 1] if self.end > self.start else ""

    def dash_start(self) -> int | None:
        """Where the one or two dashes begin that stand before the name, with only spaces
        between, after a space or at the line's start ("... said. — AFP"); else None."""
        text, position = self.source, self.end
        while position > self.start and text[position - 1].isspace():
            position -= 1
        run_end = position
        while position > self.start and text[position - 1] in DASHES and run_end - position < 3:
            position -= 1
        if not 1 <= run_end - position <= 2:
            return None
        if position > self.start and not text[position - 1].isspace():
            return None
        return position

    def with_credit_start(self) -> int | None:
        """Where a "with" credit ("With", "with inputs from") right before the name starts,
        after a sentence end, a dash, an opening parenthesis or the line's start; else None."""
        text, space_start = self.source, self.end
        while space_start > self.start and text[space_start - 1].isspace():
            space_start -= 1
        last_word = text[max(self.start, space_start - 4) : space_start]
        if space_start == self.end or not _CREDIT_LAST_WORD.search(last_word):
            return None
        window = max(self.start, self.end - WITH_CREDIT_WINDOW_CHARS)
        # A cut window must not match as the line's start ("^"): a NUL there matches nothing.
        prefix = "" if window == self.start else "\0"
        found = _WITH_BEFORE.search(prefix + text[window : self.end])
        return None if found is None else window - len(prefix) + found.start("with")


def _in_reporting_context(text: str, hit: Hit, line: Line) -> bool:
    before = text[max(line.cstart, hit.start - CONTEXT_WINDOW_CHARS) : hit.start]
    if _CONTEXT_BEFORE.search(before):
        return True
    return bool(_CONTEXT_AFTER.match(text, hit.end, min(line.cend, hit.end + CONTEXT_WINDOW_CHARS)))
