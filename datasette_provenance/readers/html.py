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
_HTML_LANG = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.IGNORECASE
)


def _read_html_file(path: str, display: str) -> ArticleRecord | InputError:
    data = read_whole_file(path, display)
    if isinstance(data, InputError):
        return data
    declared = _HTML_CHARSET.search(data[:4096])
    html = decode_document(data, display, declared.group(1).decode("ascii") if declared else None)
    if isinstance(html, InputError):
        return html
    extracted = extract_html(html)
    if not extracted["text"].strip():
        return InputError("no text found in the page", path=display)
    published = None
    if extracted["published"]:
        try:
            published = normalize_published(extracted["published"])
        except ValueError:
            published = None  # a page's unparseable date is no reason to drop the text
    inferred = ["outlet"] if extracted["outlet"] else []
    return ArticleRecord(
        id=readable_name(Path(path).stem),
        text=extracted["text"],
        title=extracted["title"],
        outlet=extracted["outlet"],
        url=extracted["url"],
        published=published,
        language=extracted["language"],
        inferred_fields=inferred,
        source_path=display,
    )


def extract_html(html: str) -> dict[str, str | None]:
    """Main text and metadata of an HTML page (text empty when the page has none).

    trafilatura finds the main text; its metadata gives title, date (from markup
    only, not guessed from the text), canonical URL and site name. A page where it
    finds no main text (a bare fragment, an unusual layout) falls back to all
    visible text, so nothing readable is lost.
    """
    import trafilatura  # imported here: it takes ~0.3 s and only HTML needs it

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
