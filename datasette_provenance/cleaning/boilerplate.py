"""Boilerplate: page furniture, copyright lines, sign-offs and repeats, left out of the clean text.

* ``advertisement``, ``comment_form`` ("Leave a Reply", "Your email address will not
  be published..."), ``social_share`` and ``navigation`` lines;
* ``copyright`` / "Powered by" lines, ``signature`` lines (initials such as "TT");
* repeats: a line that appears again verbatim in the same story is a
  ``repeated_caption`` (a photo caption) or ``repeated_paragraph``; the first
  occurrence is kept.

``classify_line`` is the first pass over whole lines: it also recognises the lines
that are nothing but a credit (a wire marker, a photo credit, a date, a byline),
which leave the clean text the same way.
"""

from __future__ import annotations

import re

from ..vocabulary import OTHER_CREDIT, PHOTO_CREDIT, TEXT_CREDIT, WIRE_MARKER
from .cleaned import Span
from .credits import MARKER_LINE, PHOTO_LINE, PHOTO_LINE_STARTS, marker_line_ok, photo_form
from .datelines import BYLINE, DATE_LINE, DIGIT
from .page import DASHES, Line, Page

# Furniture lines (ads, bylines, datelines, sign-offs, share buttons) are short;
# longer lines are prose and skip those checks.
SHORT_LINE_CHARS = 120
COPYRIGHT_LINE_MAX_CHARS = 300

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
    r"(?:\s*(?:[|·•]\s*)?(?:facebook|twitter|x|whatsapp|linkedin|telegram|email|print))*)"
    r"|(?P<navigation>(?:related(?:\s+(?:articles?|stories|news|posts|topics))?|read\s+more"
    r"|also\s+read|read\s+also|more\s+(?:stories|news)|recommended(?:\s+for\s+you)?|most\s+read"
    r"|trending(?:\s+now)?)\s*:?)"
)
# Copyright and "Powered by" lines (lowercase).
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|ⓒ|copyright\b|powered\s+by\b)|©|all\s+rights\s+reserved|tous\s+droits\s+réservés"
    r"|todos\s+los\s+derechos\s+reservados|alle\s+rechte\s+vorbehalten|все\s+права\s+защищены"
    r"|جميع\s+الحقوق\s+محفوظة|版权所有|版權所有|trust\s+principles"
)
_POWERED_BY = re.compile(r"powered\s+by\s+(.*[^\s.]|.)[\s.]*$", re.IGNORECASE)
_COPYRIGHT_HOLDER = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?)?[\s.,]*"
    r"(.+?)\s*(?:[.,|]|all\s+rights\s+reserved|$)",
    re.IGNORECASE,
)


def classify_line(page: Page, line: Line) -> None:
    """Remove a whole line that is furniture or nothing but a credit (a wire marker, a photo
    credit, a sign-off, a date, a byline, a copyright line), crediting what it names."""
    text = line.text
    size = len(text)
    if size <= SHORT_LINE_CHARS:
        low = text.lower()  # for the lowercase patterns; never used for offsets
        if line.hits and MARKER_LINE.fullmatch(text) and marker_line_ok(line):
            # Above the text: the story's wire marker; below it: a sign-off credit.
            kind, form = (TEXT_CREDIT, "sign_off") if page.seen_body else (WIRE_MARKER, "line")
            for hit in line.hits:
                hit.used = True
                page.credit(line, kind, form, hit.agency, line.cstart, line.cend)
            line.header_mark = True
            page.remove_line(line, "credit_line")
            return
        furniture = _FURNITURE.fullmatch(low)
        if furniture:
            page.remove_line(line, furniture.lastgroup)
            return
        if low.startswith(PHOTO_LINE_STARTS) and PHOTO_LINE.fullmatch(text):
            page.credit_line_agencies(line, PHOTO_CREDIT, photo_form(text))
            page.remove_line(line, "credit_line")
            return
        if _is_signature(text):
            line.signature = True
            page.credit(line, OTHER_CREDIT, "signoff", None, line.cstart, line.cend)
            page.remove_line(line, "signature")
            return
        if DIGIT.search(low) and DATE_LINE.fullmatch(low):
            line.header_mark = True
            page.credit(line, OTHER_CREDIT, "dateline", None, line.cstart, line.cend)
            page.remove_line(line, "dateline")
            return
        if BYLINE.fullmatch(text):
            line.header_mark = True
            page.credit_line_agencies(line, WIRE_MARKER, "byline", other_kind=OTHER_CREDIT)
            page.remove_line(line, "byline")
            return
    if (
        size <= COPYRIGHT_LINE_MAX_CHARS
        and (line.copyright_cue or _starts_like_copyright(text))
        and _COPYRIGHT.search(text.lower())
    ):
        holder = _copyright_holder(line)
        page.credit(line, TEXT_CREDIT, "copyright", holder, line.cstart, line.cend)
        for hit in line.hits:
            hit.used = True
        page.remove_line(line, "copyright")


def _copyright_holder(line: Line) -> str | None:
    """The agency a copyright line names, else its holder as written ("Vygr Media")."""
    if line.hits:
        return line.hits[0].agency
    match = _POWERED_BY.search(line.text) or _COPYRIGHT_HOLDER.search(line.text)
    if not match:
        return None
    holder = match.group(1).strip(" .,;:|-–—")
    if not holder or re.fullmatch(r"(?i)(?:all\s+rights\s+reserved|\d{4})", holder):
        return None
    return holder


def remove_repeats(page: Page, segments: list[tuple[int, int]]) -> None:
    """A line seen before in the same story goes (a repeated caption or paragraph); the
    first stays."""
    for first, end in segments:
        seen: set[str] = set()
        for line in page.lines[first:end]:
            if line.removed is not None or not line.key:
                continue
            if line.key in seen:
                page.remove_line(
                    line, "repeated_caption" if line.caption else "repeated_paragraph"
                )
            else:
                seen.add(line.key)


def _is_signature(text: str) -> bool:
    """Initials alone on a line: "TT", "AB/CD", "(jk/rb)", "— TT"."""
    core = text.strip("()[]" + DASHES + " .")
    if not 2 <= len(core) <= 15:
        return False
    parts = [part for part in re.split(r"\s*[/,&]\s*|\s+", core) if part]
    if not 1 <= len(parts) <= 3 or not all(part.isalpha() for part in parts):
        return False
    if all(part.isupper() and 2 <= len(part) <= 5 for part in parts):
        return True
    return len(parts) >= 2 and all(part.islower() and len(part) <= 4 for part in parts)


def _starts_like_copyright(text: str) -> bool:
    return text[0] in "(cCpP" and (
        text[:3].lower() == "(c)" or text[:9].lower() in ("copyright", "powered b")
    )


def non_overlapping(spans: list[Span]) -> list[Span]:
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
