"""Credits: what a text says about where its words and pictures come from.

Each credit is one of the kinds in ``vocabulary.CREDIT_KINDS``, with the form it was
written in (``Credit.form``):

* ``wire_marker`` - the agency's marker where the story starts: in its dateline
  ("WASHINGTON (AP) -", "ممبئی (اے پی پی)", "МОСКВА. /ТАСС/.", "新华社北京9月13日电"; form
  ``dateline``, ``slash``), on a line of its own above the text ("(Reuters)"; ``line``),
  in a byline ("By Jane Doe, Reuters"; ``byline``) or inside a line (``parenthesis``);
* ``text_credit`` - a credit line for the text: a sign-off ("— AFP", "(AFP)" closing a
  paragraph, "(Reuters)" below the text; ``sign_off``), "With AFP", "with inputs from
  PTI" (``with``), "(Reporting by ...; editing by ...)" and "X contributed reporting"
  (``reporting``; one naming no agency inherits its story's one wire agency, so
  Reuters' block is credited to Reuters), a copyright line (``copyright``: its holder);
* ``attribution`` - a sentence naming an agency ("AFP reported", "told Reuters",
  "据路透社报道"; ``sentence``);
* ``photo_credit`` - "(Photo: Reuters)", "Video: AFP", "REUTERS/Name", an agency named
  in a caption (``line``, ``parenthesis``, ``caption``, ``photographer``, ``video``);
* ``other`` - a dateline, byline or sign-off naming no agency.

Credit lines and markers leave the clean text (span kind ``credit_line``);
attributions are sentences and stay. How much an agency's name counts depends on its
form (``vocabulary``): distinctive names anywhere; codes that are ordinary acronyms
("AP", "PTI") in a credit position or beside an unambiguous reporting word; ordinary
words ("Online", "MENA") only inside a marker; "PA" only under a photo.
``find_name_credits`` finds an outlet's other names ("The New York Times reported")
by the same kind of rules.
"""

from __future__ import annotations

import bisect
import re
from typing import Iterable, Iterator

from ..vocabulary import (
    ATTRIBUTION,
    MARKER,
    PHOTO,
    PHOTO_CREDIT,
    TEXT_CREDIT,
    WIRE_MARKER,
    script_of,
)
from .agencies import AGENCY_LIST, AGENCY_PATTERN, LIST_SEPARATOR, Hit, is_word_char
from .cleaned import Credit
from .datelines import (
    BARE_DATELINE_PREFIX_MAX_CHARS,
    CJK_WIRE_TAIL,
    DATELINE_PREFIX_MAX_CHARS,
    dateline_prefix,
)
from .page import CLOSE, DASH, DASHES, OPEN, VIDEO_WORDS, Line, Page, space_before
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
_VIDEO_WORD = re.compile(VIDEO_WORDS, re.IGNORECASE)
_PHOTO_WORD = (
    r"(?:photo(?:graph)?s?|pictures?|images?|foto|фото|فوٹو|फोटो|videos?|footage|видео|ویڈیو)"
    r"(?:\s+credit)?"
)
# A short line that is only a photo or video credit: "Photo: Reuters", "Video: AFP".
PHOTO_LINE_STARTS = (
    "photo", "picture", "image", "foto", "фото", "فوٹو", "फोटो", "video", "footage", "видео",
    "ویڈیو",
)  # fmt: skip
PHOTO_LINE = re.compile(rf"{_PHOTO_WORD}\s*(?::|by)\s*\S.{{0,80}}", re.IGNORECASE)
# The inside of a photo-credit parenthesis: "(Photo: Reuters)", "(Photo by X / AFP)".
_PHOTO_PAREN = re.compile(
    r"\s*(?:photo(?:graph)?s?|pics?|pictures?|images?|file\s+photo|foto|credit|фото|صورة|تصوير"
    rf"|فوٹو|فائل\s+فوٹو|फोटो|照片|图片|写真|사진|{VIDEO_WORDS})\b",
    re.IGNORECASE,
)
# A photo credit closing a caption: "... in Moscow. Photo: Reuters".
_PHOTO_TAIL = re.compile(rf"(?:^|\s){_PHOTO_WORD}\s*(?::|by)\s+[^\n]{{2,80}}$", re.IGNORECASE)
_PAREN = re.compile(rf"{OPEN}([^()（）]{{1,200}}){CLOSE}")
# "With AFP", "with inputs from PTI", "with additional reporting by Reuters".
_WITH_CREDIT = (
    r"(?i:with\s+(?:(?:additional\s+)?(?:inputs?|reporting|information)\s+(?:from|by)\s+)?)"
)
# A desk or staff credit beside an agency in one marker: "(AFP/Sports Desk)",
# "(اے ایف پی/اسپورٹس ڈیسک)" - the agency is credited, the desk is the outlet's own.
_DESK = (
    r"(?:[^\W\d_][\w'’.-]*\s+){0,2}(?i:desk|staff|bureau|correspondents?|reporters?)"
    r"|(?:\S+\s+){0,2}(?:ڈیسک|رپورٹر|نمائندہ|بیورو)"
)
# The inside of a parenthesis naming only agencies: "(Reuters)", "(AFP/Reuters)", a desk.
_PAREN_AGENCIES = re.compile(
    rf"\s*{_WITH_CREDIT}?(?:(?:{_DESK}){LIST_SEPARATOR})?{AGENCY_LIST}"
    rf"(?:{LIST_SEPARATOR}(?:{_DESK}))?\s*(?:\.\s*)?"
)
# A line that is only a wire marker: "(Reuters)", "— AFP", "Reuters", "With AFP".
MARKER_LINE = re.compile(
    rf"[{DASHES}•*\s]*(?:{OPEN}\s*)?{_WITH_CREDIT}?{AGENCY_LIST}(?:\s*{CLOSE})?[\s.]*"
)
# A "with" credit ending the text before an agency name, after a sentence or dash.
_WITH_BEFORE = re.compile(rf"(?:^|[.!?。]\s+|{DASH}{{1,2}}\s*|[(（]\s*)(?P<with>{_WITH_CREDIT})$")
_SENTENCE_END = re.compile(r"[.!?。！？؟](?:\s|$)")
# Reporting words next to a short agency code that make it a credit ("told AP", "AP
# reported", "according to PTI", "据美联社"). Only unambiguous ones: parties, companies
# and exams "say", are voted "for" and sat "by" ("PTI said", "votes for AAP", "AP exams").
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:told|according\s+to|via|per|cited\s+by|quoted\s+by|(?:first\s+)?reported\s+by"
    r"|citing|cites|(?:in\s+an\s+)?interview\s+with|speaking\s+to|spoke\s+to|talking\s+to"
    r"|said\s+to)\s+(?:the\s+)?"
    r"|(?:news\s+agency|agency|агентств\w*|агентству|وكالة|لوكالة|ایجنسی)\s+"
    r"|(?:по\s+данным|по\s+информации|сообщили?|сообщила)\s+"
    r"|(?:وفقا\s+ل|نقلا\s+عن|ذكرت|أفادت)\s*|据|據|援引)$",
    re.IGNORECASE,
)
_CONTEXT_AFTER = re.compile(
    r"(?:['’]s)?\s*(?:reported|reports|has\s+learned|learned|news\s+agency|agency|wire\s+service"
    r"|reporter|correspondent|photographer|journalist|tally|calculations|count\b"
    r"|报道|報道|报导|消息|通讯社|通信|сообщ\w*|переда\w*|агентств\w*|الإخبارية|للأنباء"
    r"|کے\s+مطابق|کی\s+رپورٹ|के\s+मुताबिक|के\s+अनुसार|को\s+बताया|によると|が報じ|에\s*따르면|통신)",
    re.IGNORECASE,
)
# A code followed by a role in an organisation is the organisation ("PTI chief", "AAP
# leader", "told PTI workers"), not an agency.
_ORGANISATION_AFTER = re.compile(
    r"['’]?s?\s+(?:workers?|leaders?|leadership|supporters?|chief|chairman|chairperson|members?"
    r"|government|party|lawmakers?|candidates?|founder|spokes(?:person|man|woman)|president"
    r"|secretary|activists?|MNAs?|MPAs?|MLAs?|MPs?|senators?|rally|exams?|scores?|courses?)\b",
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
        page.credit(first, TEXT_CREDIT, "reporting", agency, first.cstart, last.cend)
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
            page.credit_line_agencies(line, PHOTO_CREDIT, "caption", start, line.cend)
            page.span("credit_line", tail.start(), line.cend)


def _paren_credit(page: Page, line: Line, match: re.Match) -> None:
    """A parenthesis naming a photo credit or agencies: "(Photo: Reuters)", "(AFP)", or the
    marker of a dateline ("WASHINGTON (Reuters) -")."""
    inner = match.group(1)
    hits = [hit for hit in line.hits_within(match.start() + 1, match.end()) if not hit.used]
    if _PHOTO_PAREN.match(inner) or (hits and "/" in inner and line.caption):
        form = photo_form(inner, "parenthesis")
        page.credit_line_agencies(line, PHOTO_CREDIT, form, match.start(), match.end())
        page.span(
            "credit_line", space_before(page.text, match.start(), line.cstart), match.end()
        )
        return
    if not hits or not _PAREN_AGENCIES.fullmatch(inner):
        return
    if not line.caption and all(hit.strength == PHOTO for hit in hits):
        return  # "Harrisburg (PA)": a photo agency's code is a credit only under a photo
    before_start, after_end = match.start(), match.end()
    # Only spaces and full stops after it: the line ends with the marker.
    if _SPACES_AND_DOTS.fullmatch(page.text, after_end, line.cend):
        kind, form = (PHOTO_CREDIT, "caption") if line.caption else (TEXT_CREDIT, "sign_off")
        page.credit_line_agencies(line, kind, form, before_start, after_end)
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
    page.credit_line_agencies(line, WIRE_MARKER, "parenthesis", before_start, after_end)
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
    if hit.marker_only and not (line.caption and hit.strength == PHOTO):
        return  # an ordinary word outside a marker ("Online", "MENA")
    if hit.weak and not line.caption and not _in_reporting_context(page.text, hit, line):
        return
    hit.used = True
    kind, form = (PHOTO_CREDIT, "caption") if line.caption else (ATTRIBUTION, "sentence")
    page.credit(line, kind, form, hit.agency, hit.start, hit.end)


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
        page.credit(line, TEXT_CREDIT, "sign_off", hit.agency, dash_start, line.cend)
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
        page.credit(line, WIRE_MARKER, "slash", hit.agency, marker_start, marker_end)
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
    page.credit(line, WIRE_MARKER, "dateline", hit.agency, hit.start, tail.end())
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
    page.credit(line, PHOTO_CREDIT, "photographer", hit.agency, hit.start, line.cend)
    page.span("credit_line", space_before(text, hit.start, line.cstart), line.cend)
    return True


def _with_marker(page: Page, line: Line, hit: Hit, before: _Before) -> bool:
    """A "with" credit closing a paragraph: "... With AFP", "with inputs from PTI"."""
    start = before.with_credit_start()
    # The sign-off must run to the end of the line ("With Reuters Reuters" does not).
    if start is None or not _SIGNOFF_TAIL.match(page.text, hit.end, line.cend):
        return False
    page.mark_hits(line, start, line.cend)
    page.credit(line, TEXT_CREDIT, "with", hit.agency, start, line.cend)
    page.span("credit_line", space_before(page.text, start, line.cstart), line.cend)
    return True


def inherit_reporting_agency(page: Page, segments: list[tuple[int, int]]) -> None:
    """A reporting credit naming no agency takes its story's one wire agency."""
    if not any(c.form == "reporting" and c.agency is None for _, c in page.credits):
        return
    starts = [start for start, _ in segment_bounds(page, segments)]  # tile the text from 0
    wire: list[set[str]] = [set() for _ in starts]  # each story's wire agencies
    for _, credit in page.credits:
        if credit.kind == WIRE_MARKER and credit.agency:
            wire[bisect.bisect_right(starts, credit.start) - 1].add(credit.agency)
    for position, (line_index, credit) in enumerate(page.credits):
        if credit.form != "reporting" or credit.agency is not None:
            continue
        agencies = wire[bisect.bisect_right(starts, credit.start) - 1]
        if len(agencies) == 1:
            (agency,) = agencies
            page.credits[position] = (
                line_index,
                Credit(credit.kind, agency, credit.text, credit.start, credit.end, credit.form),
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
    if _ORGANISATION_AFTER.match(text, hit.end, min(line.cend, hit.end + CONTEXT_WINDOW_CHARS)):
        return False
    before = text[max(line.cstart, hit.start - CONTEXT_WINDOW_CHARS) : hit.start]
    if _CONTEXT_BEFORE.search(before):
        return True
    return bool(_CONTEXT_AFTER.match(text, hit.end, min(line.cend, hit.end + CONTEXT_WINDOW_CHARS)))


def marker_line_ok(line: Line) -> bool:
    """A line that is only agency names is a credit unless it holds an ordinary word
    ("Online" alone may be a menu entry) with no parenthesis or dash around it, or a
    photo agency's code ("PA")."""
    if any(hit.strength == PHOTO for hit in line.hits):
        return False
    if any(hit.strength == MARKER for hit in line.hits):
        return any(char in line.text for char in "(（/" + DASHES)
    return True


def photo_form(text: str, default: str = "line") -> str:
    """The form of a photo credit: ``video`` when it names a video."""
    return "video" if _VIDEO_WORD.search(text) else default


# Outlet names --------------------------------------------------------------------------


# Words that make an outlet's name the source of what is said ("The New York Times
# reported", "according to the Times", "a report in Dawn", "Source: nytimes.com").
# Outlets "say" what they publish, so "said" counts here, unlike for agency codes.
_SOURCE_BEFORE = re.compile(
    r"(?:\b(?:according\s+to|(?:first\s+|as\s+(?:first\s+)?)?reported\s+(?:by|in|on)|cited\s+by"
    r"|quoted\s+by|citing|cites|via|per|told|said\s+(?:in|to)|wrote\s+in|writing\s+in"
    r"|published\s+(?:in|by)|interview\s+with|(?:report|story|article|investigation|interview"
    r"|analysis)\s+(?:in|by|from|with|on)|(?:sources?|courtesy(?:\s+of)?)\s*:?)\s+(?:the\s+)?"
    r"|(?:by|from)\s+(?:the\s+)?|据|據|援引)$",
    re.IGNORECASE,
)
_SOURCE_AFTER = re.compile(
    r"(?:['’]s?)?\s+(?:first\s+)?(?:reported|reports|said|says|wrote|writes|has\s+learned|learned"
    r"|revealed|published|broke\s+the\s+news|(?:report|reporting|story|article|investigation"
    r"|analysis|interview)\b)"
    r"|\s*(?:کے\s+مطابق|کی\s+رپورٹ|के\s+मुताबिक|के\s+अनुसार|报道|報道|によると|에\s*따르면)",
    re.IGNORECASE,
)
_SOURCE_LABEL = re.compile(r"(?:\b(?:sources?|courtesy(?:\s+of)?)\s*:\s*|[(（]\s*)$", re.IGNORECASE)
_DOMAIN_CHAR = re.compile(r"[\w.-]")


def find_name_credits(text: str, names: Iterable[str], outlet: str) -> list[Credit]:
    """Where ``text`` credits an outlet known by ``names`` (display names and domains).

    A name counts as an attribution beside a reporting word ("The New York Times reported",
    "according to the Times"), as a text credit on a source label or in parentheses
    ("Source: nytimes.com", "(The New York Times)"), as a photo credit after a photo word;
    a domain counts anywhere. Names keep their capitals ("the Times", not "at times"); a
    name inside a longer one ("the Financial Times" for "the Times") does not count.
    The credits carry ``outlet`` as their agency.
    """
    found: list[Credit] = []
    for name in dict.fromkeys(name.strip() for name in names if name and name.strip()):
        for start, end in _name_positions(text, name):
            credit = _name_credit(text, start, end, outlet, _is_domain(name))
            if credit:
                found.append(credit)
    return sorted(set(found), key=lambda credit: (credit.start, credit.end))


def _is_domain(name: str) -> bool:
    return " " not in name and "." in name.strip(".")


def _name_positions(text: str, name: str) -> Iterator[tuple[int, int]]:
    if _is_domain(name):
        for match in re.finditer(re.escape(name), text, re.IGNORECASE):
            start, end = match.span()
            for prefix in ("www.", "m.", "amp."):  # a link: "https://www.nytimes.com/..."
                if text[max(0, start - len(prefix)) : start].casefold() == prefix:
                    start -= len(prefix)
                    break
            before = text[start - 1 : start]
            after = text[end : end + 2]
            if _DOMAIN_CHAR.match(before) or (after[:1] and (after[0].isalnum() or after[0] == "-")):
                continue
            if after[:1] == "." and after[1:2].isalnum():
                continue  # nytimes.com.au is another site
            yield start, end
        return
    core = re.sub(r"^(?:the|The|THE)\s+", "", name)
    for match in re.finditer(re.escape(core), text):
        start, end = match.span()
        if (start and is_word_char(text[start - 1])) or (
            end < len(text) and is_word_char(text[end])
        ):
            continue
        previous = re.search(r"(\S+)\s+$", text[max(0, start - 30) : start])
        if previous and previous.group(1)[:1].isupper() and previous.group(1).casefold() != "the":
            continue  # part of a longer name: "the Financial Times", "Los Angeles Times"
        if previous and previous.group(1).casefold() == "the":
            start -= len(previous.group(0))
        yield start, end


def _name_credit(text: str, start: int, end: int, outlet: str, domain: bool) -> Credit | None:
    line_start = max(text.rfind("\n", 0, start) + 1, start - CONTEXT_WINDOW_CHARS * 2)
    before = text[line_start:start]
    after_end = text.find("\n", end)
    after = text[end : after_end if after_end >= 0 else len(text)][: CONTEXT_WINDOW_CHARS * 2]
    words = text[start:end]
    if re.search(rf"{_PHOTO_WORD}\s*(?::|by)?\s*[^.!?]*$", before, re.IGNORECASE):
        return Credit(PHOTO_CREDIT, outlet, words, start, end, photo_form(before, "caption"))
    if _SOURCE_LABEL.search(before) and (
        not before.rstrip().endswith(("(", "（")) or after.lstrip()[:1] in (")", "）")
    ):
        return Credit(TEXT_CREDIT, outlet, words, start, end, "source")
    if domain or _SOURCE_BEFORE.search(before[-CONTEXT_WINDOW_CHARS:]) or _SOURCE_AFTER.match(after):
        return Credit(ATTRIBUTION, outlet, words, start, end, "sentence")
    return None
