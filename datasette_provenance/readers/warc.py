"""Web archives: WARC files (``.warc``, ``.warc.gz``), as crawlers and Common Crawl News
write them, read with warcio.

Each HTML ``response`` (or ``resource``) record is one article: its page goes through
the same extraction as an ``.html`` file (``html.page_record``); id and url are the
record's target URL. The page's own publication date is kept; a page that states none
gets the capture time (``WARC-Date``), listed in ``inferred_fields``: a capture only
shows the page existed by then. Other records (requests, metadata, revisits, redirects,
errors, images ...) are passed over. Records are numbered from 1 in messages:
``crawl.warc.gz: record 4 (https://...): reason``.
"""

from __future__ import annotations

import gzip
from typing import Iterator

from .html import page_record
from .records import MAX_ARTICLE_BYTES, ArticleRecord, ColumnNames, InputError, Reader, too_large

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def read(path: str, display: str, columns: ColumnNames) -> Iterator[ArticleRecord | InputError]:
    from warcio.exceptions import ArchiveLoadFailed

    read_any = False
    try:
        for number, record in _records(path):
            read_any = True
            if _is_html_page(record):
                yield _article(record, f"{display}: record {number}")
    except ArchiveLoadFailed as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        yield InputError(f"not a readable WARC file ({reason})", path=display)
        return
    if not read_any:
        yield InputError("no WARC records in the file", path=display)


def _records(path: str) -> Iterator[tuple[int, object]]:
    """(number, record) pairs. A .warc.gz compressed as one gzip stream, not one member
    per record (warcio gives up on it after the first record), is read decompressed."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    number = 0
    with open(path, "rb") as handle:
        try:
            for number, record in enumerate(ArchiveIterator(handle), start=1):
                if record.format != "warc":  # warcio reads the older ARC format too
                    raise ArchiveLoadFailed(f"record {number} is not a WARC record")
                yield number, record
            return
        except ArchiveLoadFailed as error:
            if "non-chunked gzip" not in str(error):
                raise
    with gzip.open(path, "rb") as stream:
        for again, record in enumerate(ArchiveIterator(stream), start=1):
            if again > number:  # the records before the failure were read whole
                yield again, record


def _is_html_page(record) -> bool:
    if record.rec_type == "response":
        if record.http_headers is None:
            return False
        if not record.http_headers.get_statuscode().startswith("2"):
            return False  # a redirect or an error page carries no article
        content_type = record.http_headers.get_header("Content-Type")
    elif record.rec_type == "resource":
        content_type = record.rec_headers.get_header("Content-Type")
    else:
        return False
    return (content_type or "").split(";")[0].strip().lower() in HTML_TYPES


def _article(record, where: str) -> ArticleRecord | InputError:
    data = record.content_stream().read(MAX_ARTICLE_BYTES + 1)
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip()
    if not url:
        return InputError("an HTML record without a WARC-Target-URI", path=where)
    where = f"{where} ({url})"
    if len(data) > MAX_ARTICLE_BYTES:
        return InputError(too_large(None, "page"), path=where)
    if getattr(record.raw_stream, "limit", 0) > 0:  # warcio does not notice this itself
        return InputError("record cut short (the file ends inside it)", path=where)
    return page_record(
        data,
        where,
        url,
        charset=_http_charset(record),
        url=url,
        fallback_published=record.rec_headers.get_header("WARC-Date"),
    )


def _http_charset(record) -> str | None:
    headers = record.http_headers or record.rec_headers
    for part in (headers.get_header("Content-Type") or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


READER = Reader((".warc", ".warc.gz"), read, "(web archives: one article per HTML response)")
