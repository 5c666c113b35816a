"""``clean_article``: the cleaning rules, run in order over one article's raw text.

Each pass reads what the earlier ones marked on the lines: whole credit and
furniture lines go first, so the content lines left can be told apart (caption,
title, body), which is what finds the stories; repeats are looked for within a
story, and credits inside the kept lines last.
"""

from __future__ import annotations

from .boilerplate import classify_line, non_overlapping, remove_repeats
from .cleaned import CleanedArticle
from .credits import inherit_reporting_agency, inline_credits, mark_reporting_credits
from .page import Page
from .segments import describe_content_line, find_segments, is_prose, titled_segments


def clean_article(raw_text: str, title: str | None = None) -> CleanedArticle:
    """Find boilerplate, credits, segments and the title of one article's raw text."""
    if not isinstance(raw_text, str):
        raise TypeError(f"raw_text must be str, not {type(raw_text).__name__}")
    page = Page(raw_text, title)
    page.attach_agency_hits()
    for line in page.lines:
        classify_line(page, line)
        page.seen_body = page.seen_body or is_prose(line)
    mark_reporting_credits(page)
    for line in page.lines:
        if line.removed is None:
            describe_content_line(page, line)
    segments = find_segments(page)
    remove_repeats(page, segments)
    for line in page.lines:
        if line.removed is None:
            inline_credits(page, line)
    inherit_reporting_agency(page, segments)
    titled = titled_segments(page, segments)
    return CleanedArticle(
        raw_text=page.text,
        removed=non_overlapping(page.spans),
        credits=sorted(
            (credit for _, credit in page.credits), key=lambda c: (c.start, c.end, c.kind)
        ),
        segments=titled,
        title=titled[0].title if titled else page.given_title,
    )
