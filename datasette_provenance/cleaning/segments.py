"""Segments and titles: one file may hold several stories, each with its title.

A file holding several stories is split where a title-like line follows at least
``MIN_SEGMENT_BODY_CHARS`` of body text *and* opens a header: the title repeated, a
signature line, or a byline / dateline / wire marker right after it (or, after a
run of blank lines, a photo caption right after it). A subheading inside a story
opens no header, so it stays in its story. A story's title is the first title-like
line (short, no closing full stop) before its first body paragraph; a given title
wins for the first story.
"""

from __future__ import annotations

import re

from .cleaned import SegmentSpan
from .datelines import DATELINE_PREFIX_MAX_CHARS, opens_with_wire_dateline
from .page import VIDEO_WORDS, Line, Page

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

# Photo captions: a photo or video word or a file-photo label.
_CAPTION_CUE = re.compile(
    r"photo|pictured|picture|\(files?\)|file\s+image|handout|foto|фото|صورة|تصوير|تصویر|فوٹو"
    rf"|फोटो|照片|图片|圖片|写真|사진|{VIDEO_WORDS}",
    re.IGNORECASE,
)
_TERMINAL_PUNCTUATION = frozenset(".,;:。，；：、،؛۔…")
_CLOSING_QUOTES = "\"'”’»›」』)]）"
_PROSE_END = frozenset(".!?。！？؟۔…\"”»'’)")


def is_prose(line: Line) -> bool:
    """A kept line of running text: long enough, and ending like a sentence."""
    text = line.text
    return line.removed is None and len(text) >= BODY_LINE_MIN_CHARS and text[-1] in _PROSE_END


def describe_content_line(page: Page, line: Line) -> None:
    """Tell a kept line apart: caption, title-like, body; its repeat key; a wire dateline."""
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
        line.header_mark = opens_with_wire_dateline(page.text, line)


def find_segments(page: Page) -> list[tuple[int, int]]:
    """(first content index, end content index) per story."""
    content = page.lines
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
            and _opens_header(page, position)
        ):
            starts.append(position)
            body_chars = 0
        elif line.body:
            body_chars += len(line.text)
    return [(start, end) for start, end in zip(starts, starts[1:] + [len(content)])]


def _opens_header(page: Page, position: int) -> bool:
    """Does the title-like line at ``position`` start a new story's header?"""
    content = page.lines
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


def segment_bounds(page: Page, segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each story's (start, end) in the raw text: they tile it, the first from 0."""
    bounds = []
    for number, (first, _) in enumerate(segments):
        start = 0 if number == 0 or not page.lines else page.lines[first].start
        bounds.append(start)
    return [(start, end) for start, end in zip(bounds, bounds[1:] + [len(page.text)])]


def titled_segments(page: Page, segments: list[tuple[int, int]]) -> list[SegmentSpan]:
    """The stories as ``SegmentSpan``s, each with its title (the given one for the first)."""
    result = []
    for number, ((first, end), (start, stop)) in enumerate(
        zip(segments, segment_bounds(page, segments)), start=1
    ):
        if number == 1 and page.given_title:
            title = page.given_title
        elif number > 1:
            title = page.lines[first].text
        else:
            title = _header_title(page, first, end)
        result.append(SegmentSpan(number, start, stop, title))
    return result


def _header_title(page: Page, first: int, end: int) -> str | None:
    """The first title-like line before the first body line of a story."""
    for line in page.lines[first:end]:
        if line.removed is not None or line.caption:
            continue
        return line.text if line.title_like else None
    return None


def _is_caption(line: Line) -> bool:
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
