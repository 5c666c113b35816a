"""Cleaning: find boilerplate, credits, datelines and story segments in raw text.

Pure functions over strings. The raw text is never changed: everything found is
reported as character spans into it, and the clean text is derived from the raw
text minus the removed spans.

What is found
-------------
* **Boilerplate** (``Span``; left out of the clean text): ``advertisement`` lines,
  ``comment_form`` lines ("Leave a Reply", "Your email address will not be
  published..."), ``social_share`` and ``navigation`` widgets, ``copyright`` /
  "Powered by" lines, ``signature`` lines (initials such as "TT"), and repeats:
  a line that appears again verbatim in the same story is a ``repeated_caption``
  (a photo caption) or ``repeated_paragraph``; the first occurrence is kept.
* **Credits** (``Credit``): ``wire_marker`` ("(Reuters)", "WASHINGTON (AP) -",
  "— AFP", "/ТАСС/", "新华社北京9月13日电", "(with inputs from PTI)"),
  ``photo_credit`` ("(Photo: Reuters)", "(Photo by X / AFP)", "REUTERS/Name",
  an agency named in a caption), ``reporting_credit`` ("(Reporting by ...; editing
  by ...)", "X contributed reporting."), ``byline``, ``dateline``, ``signoff``,
  ``copyright`` and ``attribution`` (a sentence naming an agency: "AFP reported",
  "told Reuters"). Credit lines, datelines, bylines and wire markers are removed
  from the clean text (span kinds ``credit_line``, ``dateline``, ``byline``);
  attributions are sentences and stay. ``Credit.agency`` is the canonical agency
  (``canonical_agency``); for a copyright line naming no agency it is the holder
  as written ("Powered by Vygr Media" -> "Vygr Media").
* **Agencies** are recognised from ``AGENCIES`` in Latin, Cyrillic, Arabic, Urdu,
  Chinese, Japanese and Korean spellings. Distinctive names count wherever they
  appear; short codes that are also ordinary acronyms ("AP", "UPI", "EPA") count only
  in a credit position or next to a reporting word ("told AP", "AP reported").
  A reporting credit that names no agency inherits the one wire agency of its
  story, so Reuters' "(Reporting by ...)" block is credited to Reuters.
* **Segments**: a file holding several stories is split where a title-like line
  follows at least ``MIN_SEGMENT_BODY_CHARS`` of body text *and* opens a header:
  the title repeated, a signature line, or a byline / dateline / wire marker right
  after it (or, after a run of blank lines, a photo caption right after it). A
  subheading inside a story opens no header, so it stays in its story.
* **Title**: the first title-like line (short, no closing full stop) before the
  first body paragraph; a given ``title`` wins.

All patterns are Unicode-aware; every line ending (CRLF, CR, LF, U+2028 ...) is a
line break. ``removed`` is sorted and non-overlapping; there is always at least one
segment, and segments tile the text in order (the first starts at 0, each ends
where the next starts, the last at ``len(raw_text)``), so every character is in
exactly one segment and ``kept_ranges`` plus ``removed`` cover each segment.

Speed: one pass of two trie-shaped regexes finds every agency name; everything else
works line by line, and only short lines (or lines holding a cue) get the costlier
checks: about 0.1-0.2 µs per word on the seed articles (timeit, CPython 3.11).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Iterable

# --------------------------------------------------------------------------- thresholds

# Furniture lines (ads, bylines, datelines, sign-offs, share buttons) are short;
# longer lines are prose and skip those checks.
SHORT_LINE_CHARS = 120
# A title is at most this long (most headlines are 40-110 characters).
TITLE_MAX_CHARS = 160
TITLE_MAX_WORDS = 25
# A caption is one or two sentences; longer "photo" lines are prose.
CAPTION_MAX_CHARS = 400
# Lines shorter than this may legitimately repeat ("Yes.", "Watch:").
REPEAT_MIN_CHARS = 12
# How many lines after a candidate title may hold its header (repeat, captions, signature).
HEADER_LOOKAHEAD_LINES = 6
# Body text a story needs before another may start (about 50 English words), so a
# header block at the top never splits off a sliver.
MIN_SEGMENT_BODY_CHARS = 280
# A line of at least this many characters ending like a sentence is body text.
BODY_LINE_MIN_CHARS = 60
# Blank lines that separate stories rather than paragraphs.
SEPARATOR_BLANK_LINES = 2
# A dateline ("WASHINGTON, Sept 13 (Reuters) -") is at most this long before its marker.
DATELINE_PREFIX_MAX_CHARS = 80
# A marker with no dash after it is a dateline only when even shorter ("موسكو (رويترز)").
BARE_DATELINE_PREFIX_MAX_CHARS = 40
# A reporting credit in parentheses may wrap over a few lines.
REPORTING_CREDIT_MAX_LINES = 6
REPORTING_CREDIT_MAX_CHARS = 800
COPYRIGHT_LINE_MAX_CHARS = 300
# Characters either side of a short agency code searched for a reporting word.
CONTEXT_WINDOW_CHARS = 40


# --------------------------------------------------------------------------- results


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

    # wire_marker, photo_credit, reporting_credit, dateline, byline, signoff, copyright, attribution
    kind: str
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
    """Everything ``clean_article`` found; offsets point into ``raw_text``."""

    raw_text: str
    removed: list[Span] = field(default_factory=list)  # sorted, non-overlapping
    credits: list[Credit] = field(default_factory=list)
    segments: list[SegmentSpan] = field(default_factory=list)  # cover the kept text, in order
    title: str | None = None  # the given title, else the one found in the text

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
        first = bisect.bisect_left([span.end for span in self.removed], start + 1)
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


# --------------------------------------------------------------------------- agencies

# Canonical name -> (distinctive names, short codes). Distinctive names count
# wherever they appear. Short codes are ordinary acronyms or words elsewhere (AP
# exams, UPI payments, the EPA, the Sputnik satellite, Michael Bloomberg), so they
# count only in a credit position or beside a reporting word. Latin names also
# match in capitals ("REUTERS/Name"); Cyrillic names also with case endings
# ("Интерфаксу"); Arabic names also with an attached preposition ("لرويترز").
# "TT" is not here: as a bare signature it is as often initials as the Swedish agency.
# fmt: off
AGENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Reuters": (("Reuters", "Thomson Reuters", "رويترز", "روئٹرز", "رائٹرز", "Рейтер", "Рейтерс",
                 "路透社", "路透", "ロイター", "로이터", "רויטרס"), ()),
    "AFP": (("AFP", "Agence France-Presse", "Agence France Presse", "France-Presse",
             "France Presse", "فرانس برس", "فرانس پریس", "أ ف ب", "اے ایف پی", "Франс Пресс",
             "Франс-Пресс", "法新社", "フランス通信", "프랑스통신"), ()),
    "AP": (("Associated Press", "أسوشيتد برس", "اسوشيتد برس", "ایسوسی ایٹڈ پریس",
            "Ассошиэйтед Пресс", "Ассошиэйтед пресс", "美联社", "美聯社", "AP通信"),
           ("AP", "АП", "اے پی")),
    "TASS": (("TASS", "ITAR-TASS", "Tass", "ТАСС", "ИТАР-ТАСС", "塔斯社"), ("تاس",)),
    "Xinhua": (("Xinhua", "新华社", "新華社", "شينخوا", "شنہوا", "Синьхуа", "신화통신"), ()),
    "Sputnik": (("Sputnik News",), ("Sputnik", "Спутник", "سبوتنيك")),
    "RIA Novosti": (("RIA Novosti", "RIA-Novosti", "РИА Новости", "ريا نوفوستي"), ("RIA", "РИА")),
    "Interfax": (("Interfax", "Интерфакс", "إنترفاكس"), ()),
    "Yonhap": (("Yonhap", "연합뉴스", "韩联社", "韓聯社", "聯合ニュース", "يونهاب", "Ёнхап"), ()),
    "KCNA": (("KCNA", "Korean Central News Agency", "조선중앙통신", "朝中社", "ЦТАК"), ()),
    "Kyodo": (("Kyodo", "共同社", "共同通信", "Киодо", "كيودو"), ()),
    "Jiji Press": (("Jiji Press", "時事通信"), ("Jiji",)),
    "Bloomberg": (("Bloomberg News", "彭博社"), ("Bloomberg", "بلومبرغ", "Блумберг")),
    "dpa": (("Deutsche Presse-Agentur",), ("dpa", "DPA")),
    "EFE": (("EFE", "Agencia EFE"), ("إفي",)),
    "ANSA": (("ANSA",), ()),
    "Anadolu": (("Anadolu Agency", "Anadolu Ajansı", "الأناضول", "Анадолу"), ("Anadolu",)),
    "PTI": (("Press Trust of India",), ("PTI",)),
    "ANI": (("Asian News International",), ("ANI",)),
    "IANS": (("IANS", "Indo-Asian News Service"), ()),
    "UPI": (("United Press International",), ("UPI",)),
    "AAP": (("Australian Associated Press",), ("AAP",)),
    "Canadian Press": (("The Canadian Press", "Canadian Press"), ()),
    "PA Media": (("PA Media", "Press Association"), ()),
    "EPA": (("European Pressphoto Agency",), ("EPA",)),
    "Getty Images": (("Getty Images",), ("Getty",)),
    "Antara": (("Antara News",), ("Antara",)),
    "Bernama": (("Bernama",), ()),
    "IRNA": (("IRNA", "ایرنا", "إرنا"), ()),
    "SANA": (("Syrian Arab News Agency",), ("SANA", "سانا")),
    "Ukrinform": (("Ukrinform", "Укрінформ", "Укрінформу"), ()),
    "UNIAN": (("UNIAN", "УНІАН", "УНИАН"), ()),
    "BelTA": (("BelTA", "БелТА"), ()),
    "Lusa": (("Agência Lusa",), ("Lusa",)),
    "Europa Press": (("Europa Press",), ()),
    "China News Service": (("China News Service", "中新社"), ()),
}
# fmt: on


@dataclass(frozen=True, slots=True)
class _Alias:
    agency: str
    weak: bool
    arabic: bool  # may carry an attached preposition (و ف ب ل ك) on the left
    bounded: bool  # needs a word boundary on the left (not for CJK)


_CJK_RANGES = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")
# Not followed by a letter or digit: any word character except CJK, which is
# written without spaces, so "据AFP报道" still has AFP as a word.
_WORD_CHAR_AHEAD = f"(?![^\\W{_CJK_RANGES}])"
_ARABIC_CLITICS = "وفبلك"


def _script_of(char: str) -> str:
    if "\u0600" <= char <= "\u06ff":
        return "arabic"
    if "\u0400" <= char <= "\u04ff":
        return "cyrillic"
    if _CJK_CHAR.match(char):
        return "cjk"
    return "other"


def _is_word_char(char: str) -> bool:
    return (char.isalnum() or char == "_") and not _CJK_CHAR.match(char)


def _build_aliases() -> dict[str, _Alias]:
    aliases: dict[str, _Alias] = {}
    for agency, (strong, weak) in AGENCIES.items():
        for names, is_weak in ((strong, False), (weak, True)):
            for name in names:
                script = _script_of(name[0])
                variants = [name]
                if script == "other" and not name.islower() and name.upper() != name:
                    variants.append(name.upper())  # "REUTERS/Name" photo credits
                for variant in variants:
                    aliases.setdefault(
                        variant, _Alias(agency, is_weak, script == "arabic", script != "cjk")
                    )
    return aliases


_ALIASES = _build_aliases()
_CANONICAL = {name.casefold(): alias.agency for name, alias in _ALIASES.items()}
_CANONICAL.update({agency.casefold(): agency for agency in AGENCIES})


def canonical_agency(name: str | None) -> str | None:
    """The canonical agency for a name ("Agence France-Presse" -> "AFP"), else ``None``."""
    if not name:
        return None
    return _CANONICAL.get(" ".join(name.split()).casefold())


def _alias_tail(alias: str) -> str:
    """What may follow an alias: a word boundary (none for CJK); Cyrillic case endings."""
    script = _script_of(alias[-1])
    if script == "cjk":
        return ""
    if script == "cyrillic" and alias[-1].islower():
        return r"(?:[а-яё]{1,3})?" + _WORD_CHAR_AHEAD
    return _WORD_CHAR_AHEAD


def _trie_pattern(words: dict[str, str]) -> str:
    """One regex for many literal words (word -> what must follow it).

    Words whose tail ends in the word-end check get it once, after the whole
    group, instead of once per word: the check holds a large CJK character class
    that costs milliseconds to compile each time it appears, and hundreds of
    copies made importing this module take seconds.
    """
    bounded = {
        word: tail[: -len(_WORD_CHAR_AHEAD)]
        for word, tail in words.items()
        if tail.endswith(_WORD_CHAR_AHEAD)
    }
    free = {word: tail for word, tail in words.items() if word not in bounded}
    parts = []
    if bounded:
        parts.append(f"(?:{_literal_trie(bounded)}){_WORD_CHAR_AHEAD}")
    if free:
        parts.append(_literal_trie(free))
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _literal_trie(words: dict[str, str]) -> str:
    """Many literal words as a trie: every alternative starts with a distinct
    literal, so the regex engine skips most positions after one character
    (several times faster than a flat alternation). Longer words win."""
    trie: dict = {}
    for word, tail in words.items():
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = tail

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            branches.append(node[""])  # the word may end here: after the longer ones
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return build(trie)


_AGENCY_PATTERN = _trie_pattern({alias: _alias_tail(alias) for alias in _ALIASES})
# Several agencies in one credit: "AFP/Reuters", "Reuters and AP", "AFP, Getty Images".
_AGENCY_LIST = rf"(?:{_AGENCY_PATTERN})(?:\s*(?:/|,|;|&|\band\b|\+)\s*(?:{_AGENCY_PATTERN}))*"

# Copyright cue words, found in the same pass over the text as agency names so
# only the lines holding one get a closer look.
_COPYRIGHT_CUES = frozenset(
    variant
    for word in (
        "©",
        "ⓒ",
        "Copyright",
        "All rights reserved",
        "Powered by",
        "Trust Principles",
        "Tous droits réservés",
        "Todos los derechos reservados",
        "Alle Rechte vorbehalten",
        "Все права защищены",
        "جميع الحقوق محفوظة",
        "版权所有",
        "版權所有",
    )
    for variant in (word, word.title(), word.upper())
)


def _build_scanners() -> tuple[tuple[re.Pattern, ...], tuple[str, ...]]:
    """Regexes finding every alias and cue word, plus the words found with str.find.

    The regex engine tests each position's character against the set of first
    letters. Words starting with a lowercase ASCII letter ("dpa") would make it
    stop at a large share of all positions, so they are found with ``str.find``
    instead. ASCII and other first letters go in separate passes: an ASCII-only
    set is a fast bitmap; adding Cyrillic, Arabic and CJK letters makes every test
    a slower big-set lookup (one pass takes ~1.4x the time of both).
    """
    words = {cue: "" for cue in _COPYRIGHT_CUES}
    words.update({alias: _alias_tail(alias) for alias in _ALIASES})
    found_by_find = tuple(word for word in words if "a" <= word[0] <= "z")
    passes = tuple(
        re.compile(
            _trie_pattern(
                {
                    word: tail
                    for word, tail in words.items()
                    if word not in found_by_find and (word[0] < "\x80") == ascii_first
                }
            )
        )
        for ascii_first in (True, False)
    )
    return passes, found_by_find


_SCAN_PASSES, _FOUND_BY_FIND = _build_scanners()
# First characters of the words the second (non-ASCII) pass looks for: a text with
# none of them, such as any ASCII text, skips that pass (it is the slower one).
_NON_ASCII_FIRST = frozenset(
    word[0] for word in (*_COPYRIGHT_CUES, *_ALIASES) if word[0] >= "\x80"
)


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    agency: str
    weak: bool
    used: bool = False


def _resolve_alias(matched: str) -> _Alias | None:
    alias = _ALIASES.get(matched)
    if alias is None:  # a Cyrillic case ending: "Интерфаксу"
        for cut in (1, 2, 3):
            alias = _ALIASES.get(matched[:-cut])
            if alias is not None:
                break
    return alias


def _left_boundary_ok(text: str, start: int, alias: _Alias) -> bool:
    if not alias.bounded or start == 0:
        return True
    before = text[start - 1]
    if not _is_word_char(before):
        return True
    if alias.arabic and before in _ARABIC_CLITICS:  # "لرويترز" = "to Reuters"
        return start == 1 or not _is_word_char(text[start - 2])
    return False


def find_agencies(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """Every agency name in ``text[start:end]``: (start, end, canonical name).

    Includes short codes in any position; use ``clean_article`` credits to know
    which mentions are credits.
    """
    return [(hit.start, hit.end, hit.agency) for hit in _agency_hits(text, start, end)]


def _agency_hits(text: str, start: int = 0, end: int | None = None) -> list[_Hit]:
    return _scan(text, start, end)[0]


def _scan(text: str, start: int = 0, end: int | None = None) -> tuple[list[_Hit], list[int]]:
    """Agency names (as hits) and the positions of copyright cue words."""
    end = len(text) if end is None else end
    hits: list[_Hit] = []
    cues: list[int] = []

    def found(matched: str, position: int) -> None:
        if matched in _COPYRIGHT_CUES:
            cues.append(position)
            return
        alias = _resolve_alias(matched)
        if alias is not None and _left_boundary_ok(text, position, alias):
            hits.append(_Hit(position, position + len(matched), alias.agency, alias.weak))

    piece = text[start:end]
    non_ascii = not piece.isascii() and not _NON_ASCII_FIRST.isdisjoint(piece)
    for pattern in _SCAN_PASSES if non_ascii else _SCAN_PASSES[:1]:
        for match in pattern.finditer(text, start, end):
            found(match.group(), match.start())
    for word in _FOUND_BY_FIND:
        position = text.find(word, start, end)
        while position >= 0:
            after = position + len(word)
            if after >= len(text) or not _is_word_char(text[after]):
                found(word, position)
            position = text.find(word, after, end)
    hits.sort(key=lambda hit: hit.start)
    return hits, cues


# --------------------------------------------------------------------------- line patterns

_DASHES = "-‐‑‒–—―−"
_DASH = f"[{_DASHES}]"
_OPEN = "[(（]"
_CLOSE = "[)）]"

# Patterns marked "lowercase" are matched against the lowercased line: matching
# Unicode patterns case-insensitively is several times slower.

# Page furniture filling a whole short line (lowercase); the group name is the span kind.
_FURNITURE = re.compile(
    r"(?P<advertisement>[-–—•*·|\s]*(?:advertisements?|advertising"
    r"|sponsored(?:\s+(?:content|post|links?|stories))?"
    r"|paid\s+(?:content|post|partner\s+content)|promoted(?:\s+content)?|partner\s+content"
    r"|story\s+continues\s+below(?:\s+(?:this\s+)?advertisement)?"
    r"|article\s+continues\s+(?:below|after\s+(?:this\s+)?advertisement)"
    r"|continue\s+reading(?:\s+(?:below|the\s+main\s+story|after\s+(?:the\s+)?advertisement))?"
    r"|scroll\s+to\s+continue(?:\s+with\s+content)?|skip\s+advertisement|ads?"
    r"|anzeige|werbung|publicit[ée]|publicidad|pubblicit[àa]|реклама|إعلان|اشتہار|广告|廣告|広告|광고)"
    r"[-–—•*·|\s]*)"
    r"|(?P<comment_form>leave\s+a\s+(?:reply|comment)(?:\s+cancel\s+reply)?|cancel\s+reply"
    r"|post\s+(?:a\s+)?comment|add\s+(?:a\s+)?comment|(?:\d+\s+)?comments?(?:\s*\(\d+\))?"
    r"|submit\s+comment|your\s+email\s+address\s+will\s+not\s+be\s+published\.?"
    r"(?:\s*required\s+fields\s+are\s+marked\s*\*)?"
    r"|required\s+fields\s+are\s+marked\s*\*|(?:name|e-?mail|website|comment)\s*\*"
    r"|save\s+my\s+name,?\s+email,?\s+and\s+website\s+in\s+this\s+browser\s+for\s+the\s+next"
    r"\s+time\s+i\s+comment\.?"
    r"|you\s+must\s+be\s+logged\s+in\s+to\s+post\s+a\s+comment\.?"
    r"|notify\s+me\s+of\s+(?:follow-up\s+comments|new\s+posts)\s+by\s+email\.?"
    r"|laisser\s+un\s+commentaire|deja\s+un\s+comentario|оставить\s+комментарий|اترك\s+تعليقا)"
    r"|(?P<social_share>share(?:\s+this(?:\s+(?:article|story|post))?)?(?:\s+(?:on|via)\s+\w+)?:?"
    r"|click\s+to\s+(?:share|email|print)\b.{0,60}|follow\s+us\s+on\b.{0,60}"
    r"|tweet|print(?:\s+this)?"
    r"|e-?mail(?:\s+this(?:\s+(?:article|story))?)?"
    r"|(?:facebook|twitter|x|whatsapp|linkedin|telegram|email|print)"
    r"(?:\s*[|·•]?\s*(?:facebook|twitter|x|whatsapp|linkedin|telegram|email|print))*)"
    r"|(?P<navigation>(?:related(?:\s+(?:articles?|stories|news|posts|topics))?|read\s+more"
    r"|also\s+read|read\s+also|more\s+(?:stories|news)|recommended(?:\s+for\s+you)?|most\s+read"
    r"|trending(?:\s+now)?)\s*:?)"
)

_MONTH_NAMES = (
    # English
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    # French, Spanish, Portuguese, German, Italian
    "janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre "
    "décembre decembre enero febrero marzo abril mayo junio julio agosto septiembre setiembre "
    "octubre noviembre diciembre janeiro fevereiro março marco maio junho julho setembro outubro "
    "dezembro Januar Jänner Februar März Maerz Juni Juli Oktober Dezember gennaio febbraio aprile "
    "maggio giugno luglio settembre ottobre dicembre "
    # Russian (nominative and genitive), Ukrainian (genitive)
    "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь "
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря "
    "янв фев мар апр июн июл авг сен сент окт ноя дек "
    "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня "
    # Arabic (Egyptian and Levantine names), Urdu
    "يناير فبراير مارس أبريل إبريل ابريل مايو يونيو يونيه يوليو يوليه أغسطس اغسطس سبتمبر أكتوبر "
    "اكتوبر نوفمبر ديسمبر شباط آذار نيسان أيار حزيران تموز آب أيلول "
    "جنوری فروری مارچ اپریل مئی جون جولائی اگست ستمبر اکتوبر نومبر دسمبر"
).split()
_MONTH_NAMES += ["كانون الثاني", "كانون الأول", "تشرين الأول", "تشرين الثاني"]
_MONTH_ALTERNATIVES = "|".join(
    sorted({re.escape(name.lower()) for name in _MONTH_NAMES}, key=len, reverse=True)
)
_MONTH = rf"(?:{_MONTH_ALTERNATIVES})\.?(?:\s*/\s*(?:{_MONTH_ALTERNATIVES}))?"
_WEEKDAY = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles"
    r"|jueves|viernes|sábado|domingo|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
    r"|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье|الاثنين|الثلاثاء|الأربعاء"
    r"|الخميس|الجمعة|السبت|الأحد)\.?,?\s+)?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|\.|º)?"
_YEAR = r"\d{4}"
_DATE = (
    rf"(?:{_MONTH}\s+{_DAY},?\s+{_YEAR}"
    rf"|{_DAY}\s+(?:de\s+)?{_MONTH}(?:\s+de)?,?\s+{_YEAR}(?:\s*(?:г\.?|года|م|ء))?"
    rf"|{_YEAR}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{4}}"
    rf"|{_YEAR}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|{_YEAR}\s*년\s*\d{{1,2}}\s*월\s*\d{{1,2}}\s*일)"
)
_TIME = (
    r"\d{1,2}[:.h]\d{2}(?:[:.]\d{2})?\s*(?:[ap]\.?\s?m\.?)?"
    r"(?:\s*\(?(?:[a-z]{2,5}|utc|gmt)?(?:\s*[+-]\d{1,2}(?::?\d{2})?)?\)?)?"
)
_DATE_LABEL = (
    r"(?:(?:published|updated|posted|last\s+updated|first\s+published|date|modified|publié\s+le"
    r"|mis\s+à\s+jour\s+le|publicado|actualizado|veröffentlicht|aktualisiert|опубликовано"
    r"|обновлено|نشر\s+في|تاريخ\s+النشر|آخر\s+تحديث|发布时间|更新时间|发布于)\s*(?:on|at)?\s*:?\s*)?"
)
_ONE_DATE = (
    rf"{_DATE_LABEL}(?:{_TIME}\s*[,|•·]?\s*)?{_WEEKDAY}{_DATE}"
    rf"(?:\s*(?:,|\||•|·|{_DASH}|at|à|a\s+las|um|в)?\s*{_TIME})?"
)
_DIGIT = re.compile(r"\d")  # every date line has one: a cheap test before the long pattern
# A line holding only a date (lowercase): "September 13, 2023", "Updated 13.09.2023 10:15 GMT".
_DATE_LINE = re.compile(rf"{_ONE_DATE}(?:\s*[|•·,;/]\s*{_ONE_DATE})*")

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮİŁŃŇŌŐŒŘŚŞŠŢŤŪŮŰŲŸŹŻŽА-ЯЁΑ-Ω"
_NAME_WORD = rf"(?:[{_UPPER}][\w'’.-]*|[{_UPPER}]\.)"
_PARTICLE = r"(?:van|von|de|da|del|der|den|di|du|el|al|bin|ibn|la|le|dos|das|ter)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,4}}"
_BYLINE = re.compile(
    r"(?:(?:By|BY|Par|PAR|Von|VON|Por|POR|Door|Av|Przez|Written\s+by|Posted\s+by|Story\s+by"
    r"|Reported\s+by|Words\s+by|Text\s+by|Report\s+by|Author:|Reporter:|Автор:|От)\s+"
    rf"{_NAME}(?:\s*(?:,|\band\b|&|\bund\b|\bet\b|\by\b|\bи\b)\s*{_NAME}){{0,5}}"
    rf"(?:\s*(?:,|\||{_DASH}|/|\bin\b)\s*[^\n]{{1,60}})?"
    r"|(?:بقلم|كتب|كتبت|إعداد)\s*:?\s*\S[^\n]{1,60}"
    r"|[（(]?\s*记者\s*[^）)\n]{1,30}[）)]?)"
)
# "(Reporting by ...", "Additional reporting by ...", "Editing by ...", "Reporting from ...";
# the name after "by"/"from" must start with a capital (checked in code), so prose
# such as "Written by hand, ..." stays.
_REPORTING_CREDIT = re.compile(
    rf"{_DASH}*\s*(?P<paren>{_OPEN})?\s*(?:(?:additional|further)\s+)?"
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
# Copyright and "Powered by" lines (lowercase).
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|ⓒ|copyright\b|powered\s+by\b)|©|all\s+rights\s+reserved|tous\s+droits\s+réservés"
    r"|todos\s+los\s+derechos\s+reservados|alle\s+rechte\s+vorbehalten|все\s+права\s+защищены"
    r"|جميع\s+الحقوق\s+محفوظة|版权所有|版權所有|trust\s+principles"
)
_POWERED_BY = re.compile(r"powered\s+by\s+(.+?)[\s.]*$", re.IGNORECASE)
_COPYRIGHT_HOLDER = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?)?[\s.,]*"
    r"(.+?)\s*(?:[.,|]|all\s+rights\s+reserved|$)",
    re.IGNORECASE,
)
# Photo captions: a photo word or a file-photo label.
_CAPTION_CUE = re.compile(
    r"photo|pictured|picture|\(files?\)|file\s+image|handout|foto|фото|صورة|تصوير|تصویر"
    r"|照片|图片|圖片|写真|사진",
    re.IGNORECASE,
)
_PHOTO_WORD = r"(?:photo(?:graph)?s?|pictures?|images?|foto|фото)(?:\s+credit)?"
# A short line that is only a photo credit: "Photo: Reuters", "Image by John Smith".
_PHOTO_LINE_STARTS = ("photo", "picture", "image", "foto", "фото")
_PHOTO_LINE = re.compile(rf"{_PHOTO_WORD}\s*(?::|by)\s*\S.{{0,80}}", re.IGNORECASE)
# The inside of a photo-credit parenthesis: "(Photo: Reuters)", "(Photo by X / AFP)".
_PHOTO_PAREN = re.compile(
    r"\s*(?:photo(?:graph)?s?|pics?|pictures?|images?|file\s+photo|foto|credit|фото|صورة|تصوير"
    r"|照片|图片|写真|사진)\b",
    re.IGNORECASE,
)
# A photo credit closing a caption: "... in Moscow. Photo: Reuters".
_PHOTO_TAIL = re.compile(rf"(?:^|\s){_PHOTO_WORD}\s*(?::|by)\s+[^\n]{{2,80}}$", re.IGNORECASE)
_PAREN = re.compile(rf"{_OPEN}([^()（）]{{1,200}}){_CLOSE}")
# "With AFP", "with inputs from PTI", "with additional reporting by Reuters".
_WITH_CREDIT = (
    r"(?i:with\s+(?:(?:additional\s+)?(?:inputs?|reporting|information)\s+(?:from|by)\s+)?)"
)
# The inside of a parenthesis naming only agencies: "(Reuters)", "(AFP/Reuters)".
_PAREN_AGENCIES = re.compile(rf"\s*{_WITH_CREDIT}?{_AGENCY_LIST}\s*\.?\s*")
# A line that is only a wire marker: "(Reuters)", "— AFP", "Reuters", "With AFP".
_MARKER_LINE = re.compile(
    rf"[{_DASHES}•*\s]*{_OPEN}?\s*{_WITH_CREDIT}?{_AGENCY_LIST}\s*{_CLOSE}?[\s.]*"
)
# A "with" credit ending the text before an agency name, after a sentence or dash.
_WITH_BEFORE = re.compile(rf"(?:^|[.!?。]\s+|{_DASH}{{1,2}}\s*|[(（]\s*)(?P<with>{_WITH_CREDIT})$")
# A line opening with a wire dateline: "WASHINGTON (Reuters) -", "МОСКВА, 13 сентября. /ТАСС/.",
# "MOSCOW, Sept 13 - RIA Novosti." (checked only on lines with an agency near the start).
_WIRE_DATELINE_START = re.compile(
    rf"[^.!?。\n]{{0,{DATELINE_PREFIX_MAX_CHARS}}}?[.,]?\s*"
    rf"(?:{_OPEN}\s*{_AGENCY_LIST}\s*{_CLOSE}\s*(?:{_DASH}{{1,2}}|:)|/\s*{_AGENCY_LIST}\s*/"
    rf"|{_DASH}{{1,2}}\s*{_AGENCY_LIST}\s*[.,]\s)"
)
# What comes right before an agency name inside a wire marker: "(Reuters)", "/ТАСС/", "— AFP".
_MARKER_OPENERS = frozenset("(（/" + _DASHES)
_SENTENCE_END = re.compile(r"[.!?。！？؟](?:\s|$)")
_TERMINAL_PUNCTUATION = frozenset(".,;:。，；：、،؛۔…")
_CLOSING_QUOTES = "\"'”’»›」』)]）"
_PROSE_END = frozenset(".!?。！？؟۔…\"”»'’)")
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
_CJK_WIRE_TAIL = re.compile(r"[^，。,.\n]{0,24}?电(?:\s*[（(][^）)\n]{0,30}[）)])?\s*")
_DATELINE_TAIL = re.compile(rf"\s*(?:(?:{_DASH}{{1,2}}|:)\s*)?")
_SIGNOFF_TAIL = re.compile(rf"(?:\s*/\s*(?:{_AGENCY_PATTERN}))*\s*\.?\s*$")
_PHOTOGRAPHER_TAIL = re.compile(r"(?:\s+Photo)?\s*/\s*[^\W\d_][^\n/()]{1,60}$")
_SLASH_MARKER_TAIL = re.compile(r"/\s*\.?\s*")
_INLINE_DASH = re.compile(rf"(?:^|(?<=\s)){_DASH}{{1,2}}\s*$")
# Invisible format characters (zero-width space/joiners, direction marks and
# embeddings, BOM) that surround lines like whitespace does.
_FORMAT_CHARS = (
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space and joiners, direction marks
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"  # embeddings, BOM
)
_STRIP = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + _FORMAT_CHARS


# --------------------------------------------------------------------------- lines


class _Line:
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
        self.hits: list[_Hit] = []
        self.signature = False
        self.header_mark = False  # byline, dateline or wire-marker line
        self.copyright_cue = False  # a copyright cue word is on the line


_LINE_BREAK_CHARS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _split_lines(text: str) -> list[_Line]:
    """The non-blank lines of ``text`` (every Unicode line break counts)."""
    lines: list[_Line] = []
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
                _Line(
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


# --------------------------------------------------------------------------- the cleaner


class _Cleaner:
    """Collects spans and credits for one text; ``run`` returns the result."""

    def __init__(self, text: str, title: str | None):
        self.text = text
        self.given_title = " ".join(title.split()) if title and title.strip() else None
        self.content = _split_lines(text)
        self.spans: list[Span] = []
        self.credits: list[tuple[int, Credit]] = []  # (line index, credit)

    def run(self) -> CleanedArticle:
        self._attach_agency_hits()
        for line in self.content:
            self._classify_line(line)
        self._mark_reporting_credits()
        for line in self.content:
            if line.removed is None:
                self._describe_content_line(line)
        segments = self._segments()
        self._remove_repeats(segments)
        for line in self.content:
            if line.removed is None:
                self._inline_credits(line)
        self._inherit_reporting_agency(segments)
        titled = self._titles(segments)
        return CleanedArticle(
            raw_text=self.text,
            removed=_non_overlapping(self.spans),
            credits=sorted(
                (credit for _, credit in self.credits), key=lambda c: (c.start, c.end, c.kind)
            ),
            segments=titled,
            title=titled[0].title if titled else self.given_title,
        )

    # ----- helpers

    def _span(self, kind: str, start: int, end: int) -> None:
        if end > start:
            self.spans.append(Span(kind, start, end, self.text[start:end]))

    def _credit(self, line: _Line, kind: str, agency: str | None, start: int, end: int) -> None:
        self.credits.append((line.index, Credit(kind, agency, self.text[start:end], start, end)))

    def _remove_line(self, line: _Line, kind: str) -> None:
        line.removed = kind
        self._span(kind, line.start, line.end)

    def _attach_agency_hits(self) -> None:
        hits, cues = _scan(self.text)
        if not hits and not cues:
            return
        starts = [line.start for line in self.content]
        for hit in hits:
            self.content[bisect.bisect_right(starts, hit.start) - 1].hits.append(hit)
        for position in cues:
            self.content[bisect.bisect_right(starts, position) - 1].copyright_cue = True

    # ----- whole lines: furniture and credit lines

    def _classify_line(self, line: _Line) -> None:
        text = line.text
        size = len(text)
        if size <= SHORT_LINE_CHARS:
            low = text.lower()  # for the lowercase patterns; never used for offsets
            if line.hits and _MARKER_LINE.fullmatch(text):
                for hit in line.hits:
                    hit.used = True
                    self._credit(line, "wire_marker", hit.agency, line.cstart, line.cend)
                line.header_mark = True
                self._remove_line(line, "credit_line")
                return
            furniture = _FURNITURE.fullmatch(low)
            if furniture:
                self._remove_line(line, furniture.lastgroup)
                return
            if low.startswith(_PHOTO_LINE_STARTS) and _PHOTO_LINE.fullmatch(text):
                self._credit_line_agencies(line, "photo_credit")
                self._remove_line(line, "credit_line")
                return
            if _is_signature(text):
                line.signature = True
                self._credit(line, "signoff", None, line.cstart, line.cend)
                self._remove_line(line, "signature")
                return
            if _DIGIT.search(low) and _DATE_LINE.fullmatch(low):
                line.header_mark = True
                self._credit(line, "dateline", None, line.cstart, line.cend)
                self._remove_line(line, "dateline")
                return
            if _BYLINE.fullmatch(text):
                line.header_mark = True
                self._credit_line_agencies(line, "byline")
                self._remove_line(line, "byline")
                return
        if (
            size <= COPYRIGHT_LINE_MAX_CHARS
            and (line.copyright_cue or _starts_like_copyright(text))
            and _COPYRIGHT.search(text.lower())
        ):
            self._credit(line, "copyright", self._copyright_holder(line), line.cstart, line.cend)
            for hit in line.hits:
                hit.used = True
            self._remove_line(line, "copyright")

    def _credit_line_agencies(
        self, line: _Line, kind: str, start: int | None = None, end: int | None = None
    ) -> None:
        """One credit per agency named on the line (one with no agency if none is)."""
        start = line.cstart if start is None else start
        end = line.cend if end is None else end
        agencies = []
        for hit in line.hits:
            if start <= hit.start < end:
                hit.used = True
                if hit.agency not in agencies:
                    agencies.append(hit.agency)
        for agency in agencies or [None]:
            self._credit(line, kind, agency, start, end)

    def _copyright_holder(self, line: _Line) -> str | None:
        if line.hits:
            return line.hits[0].agency
        match = _POWERED_BY.search(line.text) or _COPYRIGHT_HOLDER.search(line.text)
        if not match:
            return None
        holder = match.group(1).strip(" .,;:|-–—")
        if not holder or re.fullmatch(r"(?i)(?:all\s+rights\s+reserved|\d{4})", holder):
            return None
        return holder

    def _mark_reporting_credits(self) -> None:
        """Reporting credits: "(Reporting by ...; editing by ...)", possibly wrapped over
        several lines, and "X contributed reporting"."""
        index = 0
        while index < len(self.content):
            line = self.content[index]
            index += 1
            text = line.text
            if line.removed is not None or len(text) > REPORTING_CREDIT_MAX_CHARS:
                continue
            if "ontribut" in text and _CONTRIBUTED_REPORTING.fullmatch(text):
                self._reporting_credit(line, line)
                continue
            match = _REPORTING_CREDIT.match(text)
            if not match or not text[match.end() : match.end() + 1].isupper():
                continue
            last = line
            if match.group("paren") and ")" not in text and "）" not in text:
                last = self._closing_line(line) or line
            self._reporting_credit(line, last)
            index = last.index + 1

    def _closing_line(self, first: _Line) -> _Line | None:
        """The line that closes a parenthesis left open on ``first``, if near enough."""
        for follower in self.content[first.index + 1 : first.index + REPORTING_CREDIT_MAX_LINES]:
            if (
                follower.removed is not None
                or follower.cend - first.cstart > REPORTING_CREDIT_MAX_CHARS
            ):
                return None
            if ")" in follower.text or "）" in follower.text:
                return follower
        return None

    def _reporting_credit(self, first: _Line, last: _Line) -> None:
        agencies = []
        for line in self.content[first.index : last.index + 1]:
            for hit in line.hits:
                hit.used = True
                if hit.agency not in agencies:
                    agencies.append(hit.agency)
            line.removed = "credit_line"
        for agency in agencies or [None]:
            self._credit(first, "reporting_credit", agency, first.cstart, last.cend)
        self._span("credit_line", first.start, last.end)

    # ----- content lines

    def _describe_content_line(self, line: _Line) -> None:
        text = line.text
        size = len(text)
        line.caption = _is_caption(line)
        line.title_like = not line.caption and _is_title_like(text)
        line.body = (
            not line.caption
            and not line.title_like
            and (size >= BODY_LINE_MIN_CHARS or text[-1] in _PROSE_END)
        )
        if size >= REPEAT_MIN_CHARS:
            line.key = text  # verbatim repeats only: a changed word makes it another paragraph
        if line.hits and line.hits[0].start - line.cstart <= DATELINE_PREFIX_MAX_CHARS + 4:
            line.header_mark = _opens_with_wire_dateline(self.text, line)

    # ----- segments

    def _segments(self) -> list[tuple[int, int]]:
        """(first content index, end content index) per story."""
        content = self.content
        if not content:
            return [(0, 0)]
        starts = [0]
        body_chars = 0
        for position, line in enumerate(content):
            if line.removed is not None:
                continue
            if (
                line.title_like
                and body_chars >= MIN_SEGMENT_BODY_CHARS
                and self._opens_header(position)
            ):
                starts.append(position)
                body_chars = 0
            elif line.body:
                body_chars += len(line.text)
        return [(start, end) for start, end in zip(starts, starts[1:] + [len(content)])]

    def _opens_header(self, position: int) -> bool:
        """Does the title-like line at ``position`` start a new story's header?"""
        content = self.content
        title = content[position]
        following = content[position + 1 : position + 1 + HEADER_LOOKAHEAD_LINES]
        if following and following[0].header_mark:
            return True  # byline, dateline or wire marker right under it
        for line in following:
            if line.signature or (line.key and line.key == title.key):
                return True
            if line.body or line.title_like:  # the header ends at the text or the next heading
                break
        return bool(
            following and following[0].caption and title.blank_before >= SEPARATOR_BLANK_LINES
        )

    def _remove_repeats(self, segments: list[tuple[int, int]]) -> None:
        for first, end in segments:
            seen: set[str] = set()
            for line in self.content[first:end]:
                if line.removed is not None or not line.key:
                    continue
                if line.key in seen:
                    self._remove_line(
                        line, "repeated_caption" if line.caption else "repeated_paragraph"
                    )
                else:
                    seen.add(line.key)

    # ----- credits inside kept lines

    def _inline_credits(self, line: _Line) -> None:
        text = self.text
        if "(" in line.text or "（" in line.text:
            for match in _PAREN.finditer(text, line.cstart, line.cend):
                self._paren_credit(line, match)
        for hit in line.hits:
            if not hit.used:
                self._hit_credit(line, hit)
        if line.caption and not any(
            c.kind == "photo_credit" for i, c in self.credits if i == line.index
        ):
            tail = _PHOTO_TAIL.search(text, line.cstart, line.cend)
            if tail:
                start = tail.start() + (1 if text[tail.start()].isspace() else 0)
                self._credit_line_agencies(line, "photo_credit", start, line.cend)
                self._span("credit_line", tail.start(), line.cend)

    def _paren_credit(self, line: _Line, match: re.Match) -> None:
        inner = match.group(1)
        hits = [
            hit for hit in line.hits if match.start() < hit.start < match.end() and not hit.used
        ]
        if _PHOTO_PAREN.match(inner) or (hits and "/" in inner and line.caption):
            self._credit_line_agencies(line, "photo_credit", match.start(), match.end())
            self._span(
                "credit_line", _space_before(self.text, match.start(), line.cstart), match.end()
            )
            return
        if not hits or not _PAREN_AGENCIES.fullmatch(inner):
            return
        before_start, after_end = match.start(), match.end()
        prefix = self.text[line.cstart : before_start]
        suffix = self.text[after_end : line.cend]
        if not suffix.strip(" ."):  # at the end of the line
            kind = "photo_credit" if line.caption else "wire_marker"
            self._credit_line_agencies(line, kind, before_start, after_end)
            self._span(
                "credit_line",
                _space_before(self.text, before_start, line.cstart),
                line.cend if not suffix.strip() else after_end,
            )
            return
        tail = _DATELINE_TAIL.match(self.text, after_end, line.cend)  # always matches
        prefix_limit = (
            DATELINE_PREFIX_MAX_CHARS if tail.group().strip() else BARE_DATELINE_PREFIX_MAX_CHARS
        )
        if len(prefix) <= prefix_limit and not _SENTENCE_END.search(prefix):
            self._dateline_prefix(line, prefix, before_start, after_end, tail.end())
            return
        self._credit_line_agencies(line, "wire_marker", before_start, after_end)
        self._span("credit_line", _space_before(self.text, before_start, line.cstart), after_end)

    def _dateline_prefix(
        self, line: _Line, prefix: str, marker_start: int, marker_end: int, cut: int
    ) -> None:
        """A dateline opening a line ("PLACE, DATE (AGENCY) - "): credit the place and date
        and the agency, and remove everything up to ``cut``."""
        place = prefix.rstrip(" ,")
        if place.strip():
            self._credit(line, "dateline", None, line.cstart, line.cstart + len(place))
        self._credit_line_agencies(line, "wire_marker", marker_start, marker_end)
        self._span("dateline" if place.strip() else "credit_line", line.cstart, cut)

    def _hit_credit(self, line: _Line, hit: _Hit) -> None:
        """An agency name not yet part of a credit: a marker, a photo credit, or a
        mention (kept in the text as an attribution when it is one)."""
        before = self.text[line.cstart : hit.start]
        for marker in (
            self._dash_marker,
            self._slash_marker,
            self._cjk_wire_marker,
            self._photographer_credit,
            self._with_marker,
        ):
            if marker(line, hit, before):
                return
        if hit.weak and not _in_reporting_context(self.text, hit, line):
            return
        hit.used = True
        kind = "photo_credit" if line.caption else "attribution"
        self._credit(line, kind, hit.agency, hit.start, hit.end)

    def _dash_marker(self, line: _Line, hit: _Hit, before: str) -> bool:
        """A dash sign-off closing a line ("... said. — AFP"), or a dash dateline opening
        it ("MOSCOW, Sept 13 — RIA Novosti. ...")."""
        text = self.text
        dash = _INLINE_DASH.search(before)
        if not dash:
            return False
        dash_start = line.cstart + dash.start()
        tail = _SIGNOFF_TAIL.match(text, hit.end, line.cend)
        if tail and tail.end() == line.cend:
            self._mark_hits(line, dash_start, line.cend)
            self._credit(line, "wire_marker", hit.agency, dash_start, line.cend)
            self._span("credit_line", _space_before(text, dash_start, line.cstart), line.cend)
            return True
        if (
            text[hit.end : hit.end + 1] in (".", ",")
            and len(before) <= DATELINE_PREFIX_MAX_CHARS
            and not _SENTENCE_END.search(before)
        ):
            cut = hit.end + 1
            while cut < line.cend and text[cut].isspace():
                cut += 1
            hit.used = True
            self._dateline_prefix(line, before[: dash.start()], hit.start, hit.end, cut)
            return True
        return False

    def _slash_marker(self, line: _Line, hit: _Hit, before: str) -> bool:
        """TASS style "МОСКВА, 13 сентября. /ТАСС/. ..." (or a "/AGENCY/" elsewhere)."""
        text = self.text
        if not (before.endswith("/") and text[hit.end : hit.end + 1] == "/"):
            return False
        hit.used = True
        marker_start, marker_end = hit.start - 1, hit.end + 1
        place = before[:-1].rstrip(" .")
        if len(place) <= DATELINE_PREFIX_MAX_CHARS and not _SENTENCE_END.search(place):
            cut = _SLASH_MARKER_TAIL.match(text, hit.end, line.cend).end()
            self._dateline_prefix(line, place, marker_start, marker_end, cut)
        else:
            self._credit(line, "wire_marker", hit.agency, marker_start, marker_end)
            self._span("credit_line", marker_start, marker_end)
        return True

    def _cjk_wire_marker(self, line: _Line, hit: _Hit, before: str) -> bool:
        """The Chinese wire opening "新华社北京9月13日电" (agency, place, date, "dispatch")."""
        if before or _script_of(self.text[hit.start]) != "cjk":
            return False
        tail = _CJK_WIRE_TAIL.match(self.text, hit.end, line.cend)
        if not tail:
            return False
        hit.used = True
        self._credit(line, "wire_marker", hit.agency, hit.start, tail.end())
        self._span("dateline", hit.start, tail.end())
        return True

    def _photographer_credit(self, line: _Line, hit: _Hit, before: str) -> bool:
        """A photographer credit closing a caption: "REUTERS/Kevin Lamarque", "AP Photo/X"."""
        text = self.text
        if not _PHOTOGRAPHER_TAIL.match(text, hit.end, line.cend):
            return False
        if not (line.caption or text[hit.start : hit.end].isupper()):
            return False
        self._mark_hits(line, hit.start, line.cend)
        self._credit(line, "photo_credit", hit.agency, hit.start, line.cend)
        self._span("credit_line", _space_before(text, hit.start, line.cstart), line.cend)
        return True

    def _with_marker(self, line: _Line, hit: _Hit, before: str) -> bool:
        """A "with" credit closing a paragraph: "... With AFP", "with inputs from PTI"."""
        with_match = _WITH_BEFORE.search(before)
        if not with_match or _SIGNOFF_TAIL.match(self.text, hit.end, line.cend).end() != line.cend:
            return False
        start = line.cstart + with_match.start("with")
        self._mark_hits(line, start, line.cend)
        self._credit(line, "wire_marker", hit.agency, start, line.cend)
        self._span("credit_line", _space_before(self.text, start, line.cstart), line.cend)
        return True

    def _mark_hits(self, line: _Line, start: int, end: int) -> None:
        for hit in line.hits:
            if start <= hit.start < end:
                hit.used = True

    # ----- finishing

    def _inherit_reporting_agency(self, segments: list[tuple[int, int]]) -> None:
        """A reporting credit naming no agency takes its story's one wire agency."""
        if not any(c.kind == "reporting_credit" and c.agency is None for _, c in self.credits):
            return
        bounds = self._segment_bounds(segments)
        for position, (line_index, credit) in enumerate(self.credits):
            if credit.kind != "reporting_credit" or credit.agency is not None:
                continue
            start, end = next(
                ((s, e) for s, e in bounds if s <= credit.start < e), (0, len(self.text))
            )
            wire = {
                c.agency
                for _, c in self.credits
                if c.kind == "wire_marker" and c.agency and start <= c.start < end
            }
            if len(wire) == 1:
                self.credits[position] = (
                    line_index,
                    Credit(credit.kind, wire.pop(), credit.text, credit.start, credit.end),
                )

    def _segment_bounds(self, segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
        bounds = []
        for number, (first, _) in enumerate(segments):
            start = 0 if number == 0 or not self.content else self.content[first].start
            bounds.append(start)
        return [(start, end) for start, end in zip(bounds, bounds[1:] + [len(self.text)])]

    def _titles(self, segments: list[tuple[int, int]]) -> list[SegmentSpan]:
        result = []
        for number, ((first, end), (start, stop)) in enumerate(
            zip(segments, self._segment_bounds(segments)), start=1
        ):
            if number == 1 and self.given_title:
                title = self.given_title
            elif number > 1:
                title = self.content[first].text
            else:
                title = self._header_title(first, end)
            result.append(SegmentSpan(number, start, stop, title))
        return result

    def _header_title(self, first: int, end: int) -> str | None:
        """The first title-like line before the first body line of a story."""
        for line in self.content[first:end]:
            if line.removed is not None or line.caption:
                continue
            return line.text if line.title_like else None
        return None


def _space_before(text: str, position: int, floor: int) -> int:
    """Move ``position`` left over the spaces before it (not past ``floor``)."""
    while position > floor and text[position - 1] in " \t\u00a0\u3000":
        position -= 1
    return position


def _in_reporting_context(text: str, hit: _Hit, line: _Line) -> bool:
    before = text[max(line.cstart, hit.start - CONTEXT_WINDOW_CHARS) : hit.start]
    if _CONTEXT_BEFORE.search(before):
        return True
    return bool(_CONTEXT_AFTER.match(text, hit.end, min(line.cend, hit.end + CONTEXT_WINDOW_CHARS)))


def _is_signature(text: str) -> bool:
    """Initials alone on a line: "TT", "AB/CD", "(jk/rb)", "— TT"."""
    core = text.strip("()[]" + _DASHES + " .")
    if not 2 <= len(core) <= 15:
        return False
    parts = [part for part in re.split(r"\s*[/,&]\s*|\s+", core) if part]
    if not 1 <= len(parts) <= 3 or not all(part.isalpha() for part in parts):
        return False
    if all(part.isupper() and 2 <= len(part) <= 5 for part in parts):
        return True
    return len(parts) >= 2 and all(part.islower() and len(part) <= 4 for part in parts)


def _opens_with_wire_dateline(text: str, line: _Line) -> bool:
    first = line.hits[0]
    if first.start == line.cstart:
        if _script_of(text[first.start]) == "cjk":
            return bool(_CJK_WIRE_TAIL.match(text, first.end, line.cend))  # 新华社...电
    elif text[line.cstart : first.start].rstrip()[-1:] not in _MARKER_OPENERS:
        return False  # the first agency is not inside a marker: skip the costly regex
    return bool(_WIRE_DATELINE_START.match(text, line.cstart, line.cend))


def _starts_like_copyright(text: str) -> bool:
    return text[0] in "(cCpP" and (
        text[:3].lower() == "(c)" or text[:9].lower() in ("copyright", "powered b")
    )


def _is_caption(line: _Line) -> bool:
    """A photo caption: short, credited (a closing parenthesis or an agency), and
    naming a photo. Only credited lines are searched, which keeps this cheap."""
    text = line.text
    if len(text) > CAPTION_MAX_CHARS:
        return False
    if not (line.hits or text[-1] in ")）" or text[0] in "(（" or "/" in text[-60:]):
        return False
    return bool(_CAPTION_CUE.search(text))


def _is_title_like(text: str) -> bool:
    if len(text) < 2 or len(text) > TITLE_MAX_CHARS:
        return False
    unquoted = text.rstrip(_CLOSING_QUOTES)  # '"... countries."' is a sentence, not a title
    if not unquoted or unquoted[-1] in _TERMINAL_PUNCTUATION:
        return False
    if len(text.split()) > TITLE_MAX_WORDS or text[0] in "(（[":
        return False
    return any(char.isalpha() for char in text)


def _non_overlapping(spans: list[Span]) -> list[Span]:
    """Sort spans; drop ones inside an earlier span and trim partial overlaps."""
    result: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if result and span.start < result[-1].end:
            previous = result[-1]
            if span.end <= previous.end:
                continue
            span = Span(span.kind, previous.end, span.end, span.text[previous.end - span.start :])
        result.append(span)
    return result


def clean_article(raw_text: str, title: str | None = None) -> CleanedArticle:
    """Find boilerplate, credits, segments and the title of one article's raw text."""
    if not isinstance(raw_text, str):
        raise TypeError(f"raw_text must be str, not {type(raw_text).__name__}")
    return _Cleaner(raw_text, title).run()


__all__ = [
    "AGENCIES",
    "CleanedArticle",
    "Credit",
    "SegmentSpan",
    "Span",
    "canonical_agency",
    "clean_article",
    "find_agencies",
]
