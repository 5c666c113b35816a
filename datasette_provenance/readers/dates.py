"""Publication dates to ISO 8601, language tags to BCP 47 casing.

Dates keep the precision given: a date (``2023-09-13``), a month or year when only
that is known, or a date-time with seconds and, when the input states one, its UTC
offset (``2023-09-13T08:00:00+00:00``). Accepted: ISO 8601 (``-``, ``/`` or ``.``
between date parts), RFC 2822 (feeds, e-mail), and English month names
(``September 13, 2023``, ``13 Sept 2023``). Numeric day/month orders (``13/09/2023``)
are refused as ambiguous.
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime, timedelta, timezone
from typing import Mapping

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_TIME = (
    r"(?:(?:\s*,?\s*|\s+at\s+|T)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_ISO_DATE = re.compile(
    r"(?P<year>\d{4})(?:(?P<sep>[-/.])(?P<month>\d{1,2})(?:(?P=sep)(?P<day>\d{1,2}))?)?"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH_FIRST = re.compile(
    _WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + _TIME, re.IGNORECASE
)
_DAY_FIRST = re.compile(_WEEKDAY + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + _TIME, re.IGNORECASE)
_MONTH_YEAR = re.compile(_MONTH + r",?\s+" + _YEAR, re.IGNORECASE)
_NUMERIC_DMY = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def normalize_published(value: str) -> str:
    """The ISO 8601 form of a publication date; ``ValueError`` says why not.

    Keeps the precision given: ``2023``, ``2023-09``, ``2023-09-13``, or a
    date-time with seconds and the UTC offset when one is stated.
    """
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("empty date")
    try:
        return _normalize_date_text(text)
    except ValueError as error:
        raise ValueError(f"bad date {_short(value)!r}: {error}") from None


def _normalize_date_text(text: str) -> str:
    match = _ISO_DATE.fullmatch(text)
    if match:
        return _format_date_parts(
            match.groupdict(), int(match["month"]) if match["month"] else None
        )
    for pattern in (_MONTH_FIRST, _DAY_FIRST):
        match = pattern.fullmatch(text)
        if match:
            return _format_date_parts(match.groupdict(), _month_number(match["month"]))
    match = _MONTH_YEAR.fullmatch(text)
    if match:
        return f"{int(match['year']):04d}-{_month_number(match['month']):02d}"
    if re.search(r"[A-Za-z]", text) and re.search(r"\d{1,2}:\d{2}", text):
        try:  # RFC 2822, as in RSS feeds and e-mail
            return _format_datetime(email.utils.parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            pass
    if text.isdigit():
        raise ValueError("a bare number is not a date; use ISO 8601 (2023-09-13)")
    if _NUMERIC_DMY.fullmatch(text):
        raise ValueError("day/month order is ambiguous; use ISO 8601 (2023-09-13)")
    raise ValueError(
        "not a recognised date; use ISO 8601 (2023-09-13 or 2023-09-13T08:00:00+00:00)"
    )


def _month_number(name: str) -> int:
    number = _MONTHS.get(name.casefold().rstrip("."))
    if number is None:
        raise ValueError(f"unknown month {name!r}")
    return number


def _format_date_parts(parts: Mapping[str, str | None], month: int | None) -> str:
    year = int(parts["year"])
    if month is None:
        return f"{year:04d}"
    if parts.get("day") is None:
        if not 1 <= month <= 12:
            raise ValueError("month must be 1-12")
        return f"{year:04d}-{month:02d}"
    day_value = date(year, month, int(parts["day"]))  # raises ValueError for 2023-02-30
    if parts.get("hour") is None:
        return day_value.isoformat()
    hour = int(parts["hour"])
    ampm = (parts.get("ampm") or "").replace(".", "").casefold()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour must be 1-12 with AM/PM")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    fraction = (parts.get("fraction") or "").ljust(6, "0")[:6]
    moment = datetime(
        year,
        month,
        int(parts["day"]),
        hour,
        int(parts["minute"]),
        int(parts.get("second") or 0),
        int(fraction or 0),
        tzinfo=_parse_zone(parts.get("zone")),
    )
    return _format_datetime(moment)


def _parse_zone(zone: str | None) -> timezone | None:
    if not zone:
        return None
    zone = zone.upper()
    if zone in ("Z", "UTC", "GMT"):
        return timezone.utc
    digits = zone[3:] if zone[:3] in ("UTC", "GMT") else zone
    sign = -1 if digits[0] == "-" else 1
    digits = digits[1:].replace(":", "")
    hours, minutes = (
        (int(digits[:-2] or 0), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    )
    if hours > 14 or minutes > 59:
        raise ValueError(f"bad UTC offset {zone!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _format_datetime(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def normalize_language(value: str) -> str:
    """BCP 47 casing: ``EN_us`` -> ``en-US``; anything else is a ``ValueError``."""
    value = value.strip()
    if not _LANGUAGE_TAG.fullmatch(value):
        raise ValueError(
            f"bad language {_short(value)!r}: use a BCP 47 code such as en, fr, ar, zh-Hans"
        )
    primary, *rest = re.split(r"[-_]", value)
    parts = [primary.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # script
        else:
            parts.append(part.lower())
    return "-".join(parts)


def _short(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
