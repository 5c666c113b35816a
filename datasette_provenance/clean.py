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
  attributions are sentences and stay.
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
line break. ``removed`` is sorted and non-overlapping; segments tile the text in
order, so every character is in exactly one segment.
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
AGENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Reuters": (
        ("Reuters", "Thomson Reuters", "رويترز", "روئٹرز", "رائٹرز", "Рейтер", "Рейтерс",
         "路透社", "路透", "ロイター", "로이터", "רויטרס"),
        (),
    ),
    "AFP": (
        ("AFP", "Agence France-Presse", "Agence France Presse", "France-Presse", "France Presse",
         "فرانس برس", "فرانس پریس", "أ ف ب", "اے ایف پی", "Франс Пресс", "Франс-Пресс",
         "法新社", "フランス通信", "프랑스통신"),
        (),
    ),
    "AP": (
        ("Associated Press", "أسوشيتد برس", "اسوشيتد برس", "ایسوسی ایٹڈ پریس",
         "Ассошиэйтед Пресс", "Ассошиэйтед пресс", "美联社", "美聯社", "AP通信"),
        ("AP", "АП", "اے پی"),
    ),
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


@dataclass(frozen=True, slots=True)
class _Alias:
    agency: str
    weak: bool
    arabic: bool  # may carry an attached preposition (و ف ب ل ك) on the left
    bounded: bool  # needs a word boundary on the left (not for CJK)


_ALIASES: dict[str, _Alias] = {}


_CJK_RANGES = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")
# A letter or digit that ends a word: any word character except CJK, which is
# written without spaces, so "据AFP报道" still has AFP as a word.
_WORD_CHAR_AHEAD = f"(?![^\\W{_CJK_RANGES}])"


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


for _agency, (_strong, _weak) in AGENCIES.items():
    for _names, _is_weak in ((_strong, False), (_weak, True)):
        for _name in _names:
            _script = _script_of(_name[0])
            _variants = {_name}
            if _script == "other" and _name.upper() != _name and not _name.islower():
                _variants.add(_name.upper())  # REUTERS/Name photo credits
            for _variant in _variants:
                _ALIASES.setdefault(
                    _variant, _Alias(_agency, _is_weak, _script == "arabic", _script != "cjk")
                )

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
    """One regex for many literal words (word -> what must follow it), as a trie:
    every alternative starts with a distinct literal, so the regex engine skips
    most positions after one character (several times faster than a flat
    alternation). Longer words win."""
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
_ARABIC_CLITICS = "وفبلك"


# Copyright cue words, found in the same pass over the text as agency names so
# only the lines holding one get a closer look. Only forms starting with a capital
# or a rare character: a lowercase first letter would make the regex engine stop
# at a large share of all positions and slow the pass down several times.
_COPYRIGHT_CUE_WORDS = ("©", "ⓒ", "Copyright", "All rights reserved", "Powered by", "Trust Principles",
                        "Tous droits réservés", "Todos los derechos reservados", "Alle Rechte vorbehalten",
                        "Все права защищены", "جميع الحقوق محفوظة", "版权所有", "版權所有")
_CUES: dict[str, str] = {}
for _word in _COPYRIGHT_CUE_WORDS:
    for _variant in (_word, _word.title(), _word.upper()):
        _CUES.setdefault(_variant, "copyright")
_SCAN_WORDS = {**{cue: "" for cue in _CUES}, **{alias: _alias_tail(alias) for alias in _ALIASES}}
# Two passes, not one: with only ASCII first letters the engine tests each
# position against a bitmap; mixing in Cyrillic, Arabic and CJK first letters
# turns that into a slower big-set lookup (one pass: ~1.4x the time of both).
_SCAN_RES = tuple(
    re.compile(_trie_pattern({word: tail for word, tail in _SCAN_WORDS.items() if (word[0] < "\x80") == ascii_first}))
    for ascii_first in (True, False)
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


def _scan(text: str, start: int = 0, end: int | None = None) -> tuple[list[_Hit], list[tuple[int, str]]]:
    """Agency names and copyright cue words (position, "copyright"), in one pass."""
    hits: list[_Hit] = []
    cues: list[tuple[int, str]] = []
    end = len(text) if end is None else end
    for pattern in _SCAN_RES:
        for match in pattern.finditer(text, start, end):
            matched = match.group()
            cue = _CUES.get(matched)
            if cue is not None:
                cues.append((match.start(), cue))
                continue
            alias = _resolve_alias(matched)
            if alias is not None and _left_boundary_ok(text, match.start(), alias):
                hits.append(_Hit(match.start(), match.end(), alias.agency, alias.weak))
    hits.sort(key=lambda hit: hit.start)
    return hits, cues


def _agencies_in(text: str) -> list[str]:
    return list(dict.fromkeys(hit.agency for hit in _agency_hits(text)))


# --------------------------------------------------------------------------- line patterns

_DASHES = "-‐‑‒–—―−"
_DASH = f"[{_DASHES}]"
_OPEN = "[(（]"
_CLOSE = "[)）]"

# Patterns marked "lowercase" run on ``line.low`` (the line lowercased once):
# case-insensitive matching of Unicode patterns is several times slower.

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
    r"|post\s+(?:a\s+)?comment|add\s+(?:a\s+)?comment|(?:\d+\s+)?comments?(?:\s*\(\d+\))?|submit\s+comment"
    r"|your\s+email\s+address\s+will\s+not\s+be\s+published\.?(?:\s*required\s+fields\s+are\s+marked\s*\*)?"
    r"|required\s+fields\s+are\s+marked\s*\*|(?:name|e-?mail|website|comment)\s*\*"
    r"|save\s+my\s+name,?\s+email,?\s+and\s+website\s+in\s+this\s+browser\s+for\s+the\s+next\s+time\s+i\s+comment\.?"
    r"|you\s+must\s+be\s+logged\s+in\s+to\s+post\s+a\s+comment\.?"
    r"|notify\s+me\s+of\s+(?:follow-up\s+comments|new\s+posts)\s+by\s+email\.?"
    r"|laisser\s+un\s+commentaire|deja\s+un\s+comentario|оставить\s+комментарий|اترك\s+تعليقا)"
    r"|(?P<social_share>share(?:\s+this(?:\s+(?:article|story|post))?)?(?:\s+(?:on|via)\s+\w+)?:?"
    r"|click\s+to\s+(?:share|email|print)\b.{0,60}|follow\s+us\s+on\b.{0,60}|tweet|print(?:\s+this)?"
    r"|e-?mail(?:\s+this(?:\s+(?:article|story))?)?"
    r"|(?:facebook|twitter|x|whatsapp|linkedin|telegram|email|print)"
    r"(?:\s*[|·•]?\s*(?:facebook|twitter|x|whatsapp|linkedin|telegram|email|print))*)"
    r"|(?P<navigation>(?:related(?:\s+(?:articles?|stories|news|posts|topics))?|read\s+more|also\s+read"
    r"|read\s+also|more\s+(?:stories|news)|recommended(?:\s+for\s+you)?|most\s+read|trending(?:\s+now)?)\s*:?)"
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
_MONTH_ALTERNATIVES = "|".join(sorted({re.escape(name.lower()) for name in _MONTH_NAMES}, key=len, reverse=True))
_MONTH = rf"(?:{_MONTH_ALTERNATIVES})\.?(?:\s*/\s*(?:{_MONTH_ALTERNATIVES}))?"
_WEEKDAY = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs"
    r"|fri|sat|sun|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles"
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
# "(Reporting by ...", "Additional reporting by ...", "Editing by ...".
_REPORTING_CREDIT = re.compile(
    rf"{_DASH}*\s*{_OPEN}?\s*(?:(?:additional|further)\s+)?(?:reporting|writing|editing|compiled"
    r"|research|written|edited|translated|graphics|fact[- ]?checking|produced|newsroom)"
    r"(?:\s+and\s+\w+)?\s+(?:by|from)\b",
    re.IGNORECASE,
)
# "Alina Lobzina and Valeriya Safronova contributed reporting."
_CONTRIBUTED_REPORTING = re.compile(
    r"[^.!?\n]{2,200}?\s(?:contributed|contributing)\s+(?:reporting|research|to\s+this\s+(?:report|article|story))\b.{0,160}",
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
    r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?)?[\s.,]*(.+?)\s*(?:[.,|]|all\s+rights\s+reserved|$)",
    re.IGNORECASE,
)
# Photo captions: a photo word or a file-photo label.
_CAPTION_CUE = re.compile(
    r"photo|pictured|picture|\(files?\)|file\s+image|handout|foto|фото|صورة|تصوير|تصویر|照片|图片|圖片|写真|사진",
    re.IGNORECASE,
)
# A short line that is only a photo credit: "Photo: Reuters", "Image by John Smith".
_PHOTO_LINE = re.compile(
    r"(?:photo(?:graph)?s?|pictures?|images?|foto|фото)(?:\s+credit)?\s*(?::|by)\s*\S.{0,80}",
    re.IGNORECASE,
)
_PHOTO_PAREN = re.compile(
    r"\s*(?:photo(?:graph)?s?|pics?|pictures?|images?|file\s+photo|foto|credit|фото|صورة|تصوير|照片|图片|写真|사진)\b",
    re.IGNORECASE,
)
_PHOTO_TAIL = re.compile(
    r"(?:^|\s)(?:photo(?:graph)?s?|pictures?|images?|foto|фото)(?:\s+credit)?\s*(?::|by)\s+[^\n]{2,80}$",
    re.IGNORECASE,
)
_PAREN = re.compile(rf"{_OPEN}([^()（）]{{1,200}}){_CLOSE}")
_PAREN_AGENCIES = re.compile(
    rf"\s*(?:with\s+(?:(?:additional\s+)?(?:inputs?|reporting|information)\s+(?:from|by)\s+)?)?"
    rf"{_AGENCY_LIST}\s*\.?\s*",
    re.IGNORECASE,
)
_MARKER_LINE = re.compile(
    rf"[{_DASHES}•*\s]*{_OPEN}?\s*(?:(?i:with)\s+(?:(?i:(?:additional\s+)?(?:inputs?|reporting|information))\s+(?i:from|by)\s+)?)?"
    rf"{_AGENCY_LIST}\s*{_CLOSE}?[\s.]*"
)
_WITH_BEFORE = re.compile(
    rf"(?:^|[.!?。]\s+|{_DASH}{{1,2}}\s*|[(（]\s*)(?:with\s+(?:(?:additional\s+)?(?:inputs?|reporting|information)\s+(?:from|by)\s+)?)$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?。！？؟](?:\s|$)")
_TERMINAL_PUNCTUATION = frozenset(".,;:。，；：、،؛۔…")
_CLOSING_QUOTES = "\"'”’»›」』)]）"
_PROSE_END = frozenset(".!?。！？؟۔…\"”»'’)")
# Words next to a short agency code that make it a credit ("told AP", "AP reported").
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:told|to|according\s+to|via|by|from|per|cited\s+by|quoted\s+by|with|for|said)\s+(?:the\s+)?"
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
_STRIP = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"


# --------------------------------------------------------------------------- lines


class _Line:
    """One non-blank line of raw text and what is known about it."""

    __slots__ = ("index", "start", "end", "cstart", "cend", "text", "blank_before", "removed",
                 "caption", "title_like", "body", "key", "hits", "signature", "header_mark", "cues")

    def __init__(self, index: int, start: int, end: int, cstart: int, cend: int, text: str, blank_before: int):
        self.index = index                       # position among the non-blank lines
        self.start, self.end = start, end        # the line, without its line break
        self.cstart, self.cend = cstart, cend    # the line without surrounding spaces
        self.text = text
        self.blank_before = blank_before         # blank lines right before this one
        self.removed: str | None = None          # span kind when the whole line goes
        self.caption = False
        self.title_like = False
        self.body = False
        self.key = ""                            # for repeat detection ("" = too short)
        self.hits: list[_Hit] = []
        self.signature = False
        self.header_mark = False                 # byline, dateline or wire-marker line
        self.cues: set[str] = set()              # "copyright" when a cue word is on the line


_LINE_BREAK_CHARS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _split_lines(text: str) -> list[_Line]:
    """The non-blank lines of ``text`` (every Unicode line break counts)."""
    lines: list[_Line] = []
    position = 0
    blanks = 0
    for piece in text.splitlines(keepends=True):
        body = piece.rstrip(_LINE_BREAK_CHARS)
        content = body.strip(_STRIP)
        if content:
            # content[0] is no strip character, so its first occurrence ends the indent
            cstart = position + body.index(content[0])
            lines.append(_Line(len(lines), position, position + len(body), cstart,
                               cstart + len(content), content, blanks))
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
            credits=sorted((credit for _, credit in self.credits), key=lambda c: (c.start, c.end, c.kind)),
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
        for position, cue in cues:
            self.content[bisect.bisect_right(starts, position) - 1].cues.add(cue)

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
            if _PHOTO_LINE.fullmatch(text):
                self._credit_line_agencies(line, "photo_credit")
                self._remove_line(line, "credit_line")
                return
            if _is_signature(text):
                line.signature = True
                self._credit(line, "signoff", None, line.cstart, line.cend)
                self._remove_line(line, "signature")
                return
            if _DATE_LINE.fullmatch(low):
                line.header_mark = True
                self._credit(line, "dateline", None, line.cstart, line.cend)
                self._remove_line(line, "dateline")
                return
            if _BYLINE.fullmatch(text):
                line.header_mark = True
                self._credit_line_agencies(line, "byline")
                self._remove_line(line, "byline")
                return
        if size <= COPYRIGHT_LINE_MAX_CHARS and ("copyright" in line.cues or _starts_like_copyright(text)) \
                and _COPYRIGHT.search(text.lower()):
            self._credit(line, "copyright", self._copyright_holder(line), line.cstart, line.cend)
            for hit in line.hits:
                hit.used = True
            self._remove_line(line, "copyright")

    def _credit_line_agencies(self, line: _Line, kind: str, start: int | None = None, end: int | None = None) -> None:
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
        """(Reporting by ...; editing by ...), possibly over several lines; "X contributed reporting"."""
        content = self.content
        index = 0
        while index < len(content):
            line = content[index]
            index += 1
            if line.removed is not None or len(line.text) > REPORTING_CREDIT_MAX_CHARS:
                continue
            if "ontribut" in line.text and _CONTRIBUTED_REPORTING.fullmatch(line.text):
                self._reporting_credit(line, line)
                continue
            if not _REPORTING_CREDIT.match(line.text):
                continue
            last = line
            opened = line.text.lstrip(_DASHES + " ")[:1] in "(（"
            if opened and not any(ch in line.text for ch in ")）"):
                for follower in content[index : index + REPORTING_CREDIT_MAX_LINES - 1]:
                    if follower.removed is not None or follower.cend - line.cstart > REPORTING_CREDIT_MAX_CHARS:
                        break
                    last = follower
                    if any(ch in follower.text for ch in ")）"):
                        break
                else:
                    last = line
                if not any(ch in last.text for ch in ")）"):
                    last = line  # never closed: claim only the first line
            self._reporting_credit(line, last)
            index = last.index + 1

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
        line.body = not line.caption and not line.title_like and (
            size >= BODY_LINE_MIN_CHARS or text[-1] in _PROSE_END
        )
        if size >= REPEAT_MIN_CHARS:
            line.key = text  # verbatim repeats only: a changed word makes it another paragraph

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
            if line.title_like and body_chars >= MIN_SEGMENT_BODY_CHARS and self._opens_header(position):
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
        return bool(following and following[0].caption and title.blank_before >= SEPARATOR_BLANK_LINES)

    def _remove_repeats(self, segments: list[tuple[int, int]]) -> None:
        for first, end in segments:
            seen: set[str] = set()
            for line in self.content[first:end]:
                if line.removed is not None or not line.key:
                    continue
                if line.key in seen:
                    self._remove_line(line, "repeated_caption" if line.caption else "repeated_paragraph")
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
        if line.caption and not any(c.kind == "photo_credit" for i, c in self.credits if i == line.index):
            tail = _PHOTO_TAIL.search(text, line.cstart, line.cend)
            if tail:
                start = tail.start() + (1 if text[tail.start()].isspace() else 0)
                self._credit_line_agencies(line, "photo_credit", start, line.cend)
                self._span("credit_line", tail.start(), line.cend)

    def _paren_credit(self, line: _Line, match: re.Match) -> None:
        inner = match.group(1)
        hits = [hit for hit in line.hits if match.start() < hit.start < match.end() and not hit.used]
        if _PHOTO_PAREN.match(inner) or (hits and "/" in inner and line.caption):
            self._credit_line_agencies(line, "photo_credit", match.start(), match.end())
            self._span("credit_line", _space_before(self.text, match.start(), line.cstart), match.end())
            return
        if not hits or not _PAREN_AGENCIES.fullmatch(inner):
            return
        before_start, after_end = match.start(), match.end()
        prefix = self.text[line.cstart:before_start]
        suffix = self.text[after_end:line.cend]
        if not suffix.strip(" .") :  # at the end of the line
            kind = "photo_credit" if line.caption else "wire_marker"
            self._credit_line_agencies(line, kind, before_start, after_end)
            self._span("credit_line", _space_before(self.text, before_start, line.cstart), line.cend if not suffix.strip() else after_end)
            return
        tail = _DATELINE_TAIL.match(self.text, after_end, line.cend)  # always matches
        prefix_limit = DATELINE_PREFIX_MAX_CHARS if tail.group().strip() else BARE_DATELINE_PREFIX_MAX_CHARS
        if len(prefix) <= prefix_limit and not _SENTENCE_END.search(prefix):
            self._dateline_prefix(line, prefix, before_start, after_end, tail.end())
            return
        self._credit_line_agencies(line, "wire_marker", before_start, after_end)
        self._span("credit_line", _space_before(self.text, before_start, line.cstart), after_end)

    def _dateline_prefix(self, line: _Line, prefix: str, marker_start: int, marker_end: int, cut: int) -> None:
        """"PLACE, DATE (AGENCY) - " at a line start: a dateline plus a wire marker."""
        place = prefix.rstrip(" ,")
        if place.strip():
            self._credit(line, "dateline", None, line.cstart, line.cstart + len(place))
        self._credit_line_agencies(line, "wire_marker", marker_start, marker_end)
        self._span("dateline" if place.strip() else "credit_line", line.cstart, cut)

    def _hit_credit(self, line: _Line, hit: _Hit) -> None:
        text = self.text
        before = text[line.cstart:hit.start]
        # "— AFP" / "-- Reuters" closing a paragraph, or "MOSCOW, Sept 13 — RIA Novosti. ..."
        dash = _INLINE_DASH.search(before)
        if dash:
            dash_start = line.cstart + dash.start()
            tail = _SIGNOFF_TAIL.match(text, hit.end, line.cend)
            if tail and tail.end() == line.cend:
                self._mark_hits(line, dash_start, line.cend)
                self._credit(line, "wire_marker", hit.agency, dash_start, line.cend)
                self._span("credit_line", _space_before(text, dash_start, line.cstart), line.cend)
                return
            if text[hit.end:hit.end + 1] in (".", ",") and len(before) <= DATELINE_PREFIX_MAX_CHARS \
                    and not _SENTENCE_END.search(before):
                cut = hit.end + 1
                while cut < line.cend and text[cut].isspace():
                    cut += 1
                self._dateline_prefix(line, before[: dash.start()], hit.start, hit.end, cut)
                hit.used = True
                return
        # "/ТАСС/" (TASS style) after a place and date
        if before.endswith("/") and text[hit.end:hit.end + 1] == "/":
            slash = _SLASH_MARKER_TAIL.match(text, hit.end, line.cend)
            marker_start = hit.start - 1
            if len(before) <= DATELINE_PREFIX_MAX_CHARS + 1 and not _SENTENCE_END.search(before[:-1].rstrip(" .")):
                hit.used = True
                cut = slash.end()
                self._dateline_prefix(line, before[:-1].rstrip(" ."), marker_start, hit.end + 1, cut)
            else:
                hit.used = True
                self._credit(line, "wire_marker", hit.agency, marker_start, hit.end + 1)
                self._span("credit_line", marker_start, hit.end + 1)
            return
        # "新华社北京9月13日电" opening a Chinese wire story
        if not before and _script_of(text[hit.start]) == "cjk":
            tail = _CJK_WIRE_TAIL.match(text, hit.end, line.cend)
            if tail and "电" in tail.group():
                hit.used = True
                self._credit(line, "wire_marker", hit.agency, hit.start, tail.end())
                self._span("dateline", hit.start, tail.end())
                return
        # "REUTERS/Kevin Lamarque", "AP Photo/Evan Vucci" closing a caption
        photographer = _PHOTOGRAPHER_TAIL.match(text, hit.end, line.cend)
        if photographer and (line.caption or text[hit.start:hit.end].isupper()):
            self._mark_hits(line, hit.start, line.cend)
            self._credit(line, "photo_credit", hit.agency, hit.start, line.cend)
            self._span("credit_line", _space_before(text, hit.start, line.cstart), line.cend)
            return
        # "... With AFP" / "with inputs from PTI" closing a paragraph
        with_match = _WITH_BEFORE.search(before)
        if with_match and _SIGNOFF_TAIL.match(text, hit.end, line.cend).end() == line.cend:
            start = line.cstart + with_match.start() + (1 if before[with_match.start():with_match.start() + 1].isspace() else 0)
            self._mark_hits(line, start, line.cend)
            self._credit(line, "wire_marker", hit.agency, start, line.cend)
            self._span("credit_line", _space_before(text, start, line.cstart), line.cend)
            return
        if hit.weak and not _in_reporting_context(text, hit, line):
            return
        hit.used = True
        kind = "photo_credit" if line.caption else "attribution"
        self._credit(line, kind, hit.agency, hit.start, hit.end)

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
            start, end = next(((s, e) for s, e in bounds if s <= credit.start < e), (0, len(self.text)))
            wire = {c.agency for _, c in self.credits if c.kind == "wire_marker" and c.agency and start <= c.start < end}
            if len(wire) == 1:
                self.credits[position] = (line_index, Credit(credit.kind, wire.pop(), credit.text, credit.start, credit.end))

    def _segment_bounds(self, segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
        bounds = []
        for number, (first, _) in enumerate(segments):
            start = 0 if number == 0 or not self.content else self.content[first].start
            bounds.append(start)
        return [(start, end) for start, end in zip(bounds, bounds[1:] + [len(self.text)])]

    def _titles(self, segments: list[tuple[int, int]]) -> list[SegmentSpan]:
        result = []
        for number, ((first, end), (start, stop)) in enumerate(zip(segments, self._segment_bounds(segments)), start=1):
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
    before = text[max(line.cstart, hit.start - CONTEXT_WINDOW_CHARS):hit.start]
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


def _starts_like_copyright(text: str) -> bool:
    return text[0] in "(cCpP" and (text[:3].lower() == "(c)" or text[:9].lower() in ("copyright", "powered b"))


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
            span = Span(span.kind, previous.end, span.end, span.text[previous.end - span.start:])
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
