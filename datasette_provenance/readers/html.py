"""HTML pages: main text via trafilatura; title, date, canonical URL and site name from
the page (the site name is listed in ``inferred_fields``); when trafilatura finds no
main text, all visible text of the page is used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from .dates import normalize_language, normalize_published
from .decoding import decode_document, read_whole_file
from .records import ArticleRecord, ColumnNames, InputError, Reader, clean_value, readable_name


def read(path: str, display: str, columns: ColumnNames) -> Iterator[ArticleRecord | InputError]:
    yield _read_html_file(path, display)


# Declared charset in the first bytes of an HTML page (<meta charset> or http-equiv).
_HTML_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
# A fragment (no <html> or <body>) gives no text at all unless it is wrapped in a page.
_WHOLE_PAGE = re.compile(r"<(?:html|body)\b", re.IGNORECASE)
_HTML_LANG = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.IGNORECASE
)


def _read_html_file(path: str, display: str) -> ArticleRecord | InputError:
    data = read_whole_file(path, display)
    if isinstance(data, InputError):
        return data
    return page_record(data, display, readable_name(Path(path).stem))


def page_record(
    data: bytes,
    where: str,
    article_id: str,
    *,
    charset: str | None = None,
    url: str | None = None,
    fallback_published: str | None = None,
) -> ArticleRecord | InputError:
    """The article in an HTML page's bytes (from a file, a web archive ...), named ``where``
    in messages. ``charset``: what the server declared, else the page's own
    ``<meta charset>``. ``url``: where the page was fetched, when the page names no
    canonical URL. ``fallback_published``: a date for a page that states none (a capture
    time): it is kept but listed in ``inferred_fields``."""
    declared = charset or declared_charset(data)
    html = decode_document(data, where, declared)
    if isinstance(html, InputError):
        return html
    extracted = extract_html(html)
    if not extracted["text"].strip():
        return InputError("no text found in the page", path=where)
    inferred = ["outlet"] if extracted["outlet"] else []
    published = _published(extracted["published"])
    if published is None and fallback_published:
        published = _published(fallback_published)
        if published is not None:
            inferred.append("published")
    return ArticleRecord(
        id=article_id,
        text=extracted["text"],
        title=extracted["title"],
        outlet=extracted["outlet"],
        url=extracted["url"] or url,
        published=published,
        language=extracted["language"],
        inferred_fields=inferred,
        source_path=where,
    )


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first bytes (``<meta charset>``), if any."""
    declared = _HTML_CHARSET.search(data[:4096])
    return declared.group(1).decode("ascii") if declared else None


def _published(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalize_published(value)
    except ValueError:
        return None  # a page's unparseable date is no reason to drop the text


def extract_html(html: str) -> dict[str, str | None]:
    """Main text and metadata of an HTML page (text empty when the page has none).

    trafilatura finds the main text; its metadata gives title, date (from markup
    only, not guessed from the text), canonical URL and site name. A page where it
    finds no main text (a bare fragment, an unusual layout) falls back to all
    visible text, so nothing readable is lost.
    """
    import trafilatura  # imported here: it takes ~0.3 s and only HTML needs it

    if not _WHOLE_PAGE.search(html[:4096]):
        html = f"<html><body>{html}</body></html>"  # a fragment (a feed entry): text found
    document = None
    try:
        document = trafilatura.bare_extraction(
            html,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:  # trafilatura raising on odd markup must not stop a batch
        document = None
    text = (getattr(document, "text", None) or "").strip()
    if not text:
        try:
            text = trafilatura.html2txt(html) or ""
        except Exception:
            text = ""
    language = _HTML_LANG.search(html[:4096])
    return {
        "text": text,
        "title": clean_value(getattr(document, "title", None)),
        "published": clean_value(getattr(document, "date", None)),
        "url": clean_value(getattr(document, "url", None)),
        "outlet": clean_value(getattr(document, "sitename", None)),
        "language": normalize_language(language.group(1)) if language else None,
    }


READER = Reader((".html", ".htm"), read)
