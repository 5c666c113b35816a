"""Datelines, date lines and bylines: where and when a story was filed, and by whom.

"WASHINGTON, Sept 13 (Reuters) -", "МОСКВА, 13 сентября. /ТАСС/.", "新华社北京9月13日电"
open a story; "September 13, 2023" or "Updated 13.09.2023 10:15 GMT" may fill a
line; "By Jane Doe" names its writer. All are credits, and leave the clean text.
"""

from __future__ import annotations

import re

import re2

from ..vocabulary import OTHER_CREDIT, WIRE_MARKER, script_of
from .agencies import AGENCY_LIST
from .page import CLOSE, DASH, DASHES, OPEN, UNICODE_SPACES, Line, Page

# A dateline ("WASHINGTON, Sept 13 (Reuters) -") is at most this long before its marker.
DATELINE_PREFIX_MAX_CHARS = 80
# A marker with no dash after it is a dateline only when even shorter ("موسكو (رويترز)").
BARE_DATELINE_PREFIX_MAX_CHARS = 40
# The opening of a line searched for a wire dateline: its place and date, the marker and a
# list of agencies fit well within it, and a long line then costs what a short one does.
WIRE_DATELINE_WINDOW_CHARS = 240
# Memory RE2 may give the date-line automaton (it holds every month name in 12 languages).
RE2_MAX_MEMORY = 64 << 20

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
    rf"(?:\s*(?:,|\||•|·|{DASH}|at|à|a\s+las|um|в)?\s*{_TIME})?"
)
DIGIT = re.compile(r"\d")  # every date line has one: a cheap test before the long pattern
# A line holding only a date (lowercase): "September 13, 2023", "Updated 13.09.2023 10:15 GMT".
# A time may belong to the date before it or the one after, so a backtracking engine tries
# exponentially many readings of a line of dates that fails at its end (113 characters cost
# a second, each more date five times that): RE2, a finite automaton, decides the same
# language in linear time.
DATE_LINE_PATTERN = rf"{_ONE_DATE}(?:\s*[|•·,;/]\s*{_ONE_DATE})*"


def re2_syntax(pattern: str) -> str:
    """A Python pattern in RE2's syntax. RE2 spells ``\\s`` and ``\\d`` ASCII-only, Python as
    Unicode: they become Python's whitespace set and ``\\p{Nd}`` (for patterns that use them
    outside character classes only, checked)."""
    if re.search(r"\[[^\]]*\\[sd]", pattern):
        raise ValueError("\\s or \\d inside a character class: not translated")
    spaces = "".join(f"\\x{{{ord(char):x}}}" for char in UNICODE_SPACES)
    return pattern.replace("\\s", f"[{spaces}]").replace("\\d", "\\p{Nd}")


def _re2_compile(pattern: str):
    options = re2.Options()
    options.max_mem = RE2_MAX_MEMORY
    return re2.compile(re2_syntax(pattern), options)


DATE_LINE = _re2_compile(DATE_LINE_PATTERN)

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮİŁŃŇŌŐŒŘŚŞŠŢŤŪŮŰŲŸŹŻŽА-ЯЁΑ-Ω"
_NAME_WORD = rf"(?:[{_UPPER}][\w'’.-]*|[{_UPPER}]\.)"
_PARTICLE = r"(?:van|von|de|da|del|der|den|di|du|el|al|bin|ibn|la|le|dos|das|ter)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,4}}"
BYLINE = re.compile(
    r"(?:(?:By|BY|Par|PAR|Von|VON|Por|POR|Door|Av|Przez|Written\s+by|Posted\s+by|Story\s+by"
    r"|Reported\s+by|Words\s+by|Text\s+by|Report\s+by|Author:|Reporter:|Автор:|От)\s+"
    rf"{_NAME}(?:\s*(?:,|\band\b|&|\bund\b|\bet\b|\by\b|\bи\b)\s*{_NAME}){{0,5}}"
    rf"(?:\s*(?:,|\||{DASH}|/|\bin\b)\s*[^\n]{{1,60}})?"
    r"|(?:بقلم|كتب|كتبت|إعداد)\s*:?\s*\S[^\n]{1,60}"
    r"|[（(]?\s*记者\s*[^）)\n]{1,30}[）)]?)"
)
# A line opening with a wire dateline: "WASHINGTON (Reuters) -", "МОСКВА, 13 сентября. /ТАСС/.",
# "MOSCOW, Sept 13 - RIA Novosti." (checked only on lines with an agency near the start).
# The place may end in spaces only before its comma or full stop: the spaces before the
# marker are then read once, not once per possible place length.
_WIRE_DATELINE_START = re.compile(
    rf"[^.!?。\n]{{0,{DATELINE_PREFIX_MAX_CHARS}}}?(?:(?<!\s)|(?=[.,]))[.,]?\s*"
    rf"(?:{OPEN}\s*{AGENCY_LIST}\s*{CLOSE}\s*(?:{DASH}{{1,2}}|:)|/\s*{AGENCY_LIST}\s*/"
    rf"|{DASH}{{1,2}}\s*{AGENCY_LIST}\s*[.,]\s)"
)
# What comes right before an agency name inside a wire marker: "(Reuters)", "/ТАСС/", "— AFP".
_MARKER_OPENERS = frozenset("(（/" + DASHES)
# The Chinese wire opening's tail after the agency: "北京9月13日电" (place, date, "dispatch").
CJK_WIRE_TAIL = re.compile(r"[^，。,.\n]{0,24}?电(?:\s*[（(][^）)\n]{0,30}[）)])?\s*")


def opens_with_wire_dateline(text: str, line: Line) -> bool:
    """Does the line open with a wire dateline ("WASHINGTON (Reuters) -", "/ТАСС/", "新华社...电")?"""
    first = line.hits[0]
    if first.start == line.cstart:
        if script_of(text[first.start]) == "cjk":
            return bool(CJK_WIRE_TAIL.match(text, first.end, line.cend))  # 新华社...电
    elif text[line.cstart : first.start].rstrip()[-1:] not in _MARKER_OPENERS:
        return False  # the first agency is not inside a marker: skip the costly regex
    return bool(_WIRE_DATELINE_START.match(line.text[:WIRE_DATELINE_WINDOW_CHARS]))


def dateline_prefix(
    page: Page, line: Line, prefix: str, marker_start: int, marker_end: int, cut: int
) -> None:
    """A dateline opening a line ("PLACE, DATE (AGENCY) - "): credit the place and date
    and the agency, and remove everything up to ``cut``."""
    place = prefix.rstrip(" ,")
    if place.strip():
        page.credit(line, OTHER_CREDIT, "dateline", None, line.cstart, line.cstart + len(place))
    page.credit_line_agencies(line, WIRE_MARKER, "dateline", marker_start, marker_end)
    page.span("dateline" if place.strip() else "credit_line", line.cstart, cut)
