"""RSS and Atom feed files (``.rss``, ``.atom``: RSS 0.9x-2.0, RSS 1.0 or Atom), read with
feedparser.

Each entry is one article: id = the entry's id (guid), else its link; text = its full
content (``content:encoded``, Atom ``content``), else its summary, the HTML turned into
text as for ``.html`` files; title, link and date (``published``, else ``updated``) from
the entry; outlet = the feed's title, listed in ``inferred_fields`` (an aggregator's feed
carries other outlets' stories). Entries are numbered from 1 in messages:
``news.rss: entry 3: reason``. A feed that is not well-formed is read as far as
feedparser can; when the file ends inside an entry (cut short), that entry is skipped.
"""

from __future__ import annotations

from html import unescape
from typing import Iterator
from urllib.parse import urlsplit

from .dates import normalize_published
from .decoding import read_whole_file
from .html import extract_html
from .records import (
    MAX_ARTICLE_BYTES,
    MAX_FEED_BYTES,
    ArticleRecord,
    ColumnNames,
    InputError,
    Reader,
    clean_value,
    too_large,
)


def read(path: str, display: str, columns: ColumnNames) -> Iterator[ArticleRecord | InputError]:
    import feedparser  # imported here: only feeds need it

    data = read_whole_file(path, display, MAX_FEED_BYTES, "one feed")
    if isinstance(data, InputError):
        yield data
        return
    if not data.strip():
        yield InputError("empty file", path=display)
        return
    # Bytes, not the path: given a string, feedparser may fetch it as a URL.
    feed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not feed.entries:
        if feed.bozo:
            reason = f"not an RSS or Atom feed ({_problem(feed)})"
        else:
            reason = "a feed without entries" if feed.get("version") else "not an RSS or Atom feed"
        yield InputError(reason, path=display, line=_line(feed))
        return
    outlet = clean_value(feed.feed.get("title"))
    entries = list(enumerate(feed.entries, start=1))
    if feed.bozo and "no element found" in _problem(feed):
        last, _ = entries.pop()  # its text may be cut: not kept
        yield InputError(
            f"the file ends inside entry {last} (cut short?)", path=display, line=_line(feed)
        )
    for number, entry in entries:
        yield _article(entry, outlet, f"{display}: entry {number}")


def _article(entry, outlet: str | None, where: str) -> ArticleRecord | InputError:
    link = clean_value(entry.get("link"))
    article_id = clean_value(entry.get("id")) or link
    if not article_id:
        return InputError("entry without an id or link", path=where)
    html = _fullest_text(entry)
    if len(html) > MAX_ARTICLE_BYTES:
        return InputError(too_large(None, "entry text"), path=where)
    # Text without tags may still hold entities (&amp;, &#8217;).
    text = extract_html(html)["text"] if "<" in html else unescape(html).strip()
    if not text.strip():
        return InputError("entry without text", path=where)
    return ArticleRecord(
        id=article_id,
        text=text,
        title=clean_value(entry.get("title")),
        outlet=outlet,
        url=link if _is_web_address(link) else None,  # a guid "1234" is no address
        published=_published(entry),
        inferred_fields=["outlet"] if outlet else [],
        source_path=where,
    )


def _is_web_address(value: str | None) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _fullest_text(entry) -> str:
    """An entry's content, or its summary when that is longer (some feeds put the whole
    story in the description and a teaser in the content)."""
    contents = [content.get("value") or "" for content in entry.get("content") or []]
    content = max(contents, key=len, default="")
    summary = entry.get("summary") or ""
    return content if len(content) >= len(summary) else summary


def _published(entry) -> str | None:
    for key in ("published", "updated"):
        if entry.get(key):
            try:
                return normalize_published(entry[key])
            except ValueError:
                continue  # an entry's unreadable date is no reason to drop its text
    return None


def _problem(feed) -> str:
    error = feed.get("bozo_exception")
    message = getattr(error, "getMessage", None)
    text = message() if callable(message) else " ".join(str(error).split())
    return text or type(error).__name__


def _line(feed) -> int | None:
    line = getattr(feed.get("bozo_exception"), "getLineNumber", None)
    return line() if callable(line) else None


READER = Reader((".rss", ".atom"), read, "(feeds: one article per entry)")
