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
import os
import zlib
from typing import Iterator

from .html import page_record
from .records import MAX_ARTICLE_BYTES, ArticleRecord, ColumnNames, InputError, Reader, too_large

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def read(path: str, display: str, columns: ColumnNames) -> Iterator[ArticleRecord | InputError]:
    archive = _Archive(path)
    cut_reported = None
    try:
        for number, record in archive:
            if _is_html_page(record):
                where = f"{display}: record {number}"
                yield _article(record, where)  # says so itself when the file ends inside it
                if _cut_short(record):
                    cut_reported = number
    except _Unreadable as problem:
        yield InputError(str(problem), path=display)
        return
    if archive.count == 0:
        reason = "no WARC records in the file" + (" (cut short?)" if archive.cut else "")
        yield InputError(reason, path=display)
    elif archive.ends_inside is not None and archive.ends_inside != cut_reported:
        yield InputError(f"record {archive.ends_inside}: {_CUT}", path=display)
    elif archive.cut and archive.ends_inside is None:
        yield InputError(f"the file is cut short at or after record {archive.count}", path=display)


_CUT = "record cut short (the file ends inside it)"


class _Unreadable(Exception):
    """The archive cannot be read on from here: one line, the records before it kept."""


class _Archive:
    """(number, record) pairs of a WARC file, numbered from 1. Afterwards ``count`` is
    how many records were read, ``cut`` whether the file ends inside a record (warcio
    reads a cut file silently, to its end) and ``ends_inside`` that record's number
    when it is known.

    A .warc.gz compressed as one gzip stream, not one member per record (warcio gives up
    on it after the first record), is read decompressed."""

    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self.cut = False
        self.ends_inside: int | None = None

    def __iter__(self) -> Iterator[tuple[int, object]]:
        with open(self.path, "rb") as handle:
            try:
                yield from self._read(handle, _size(handle))
                return
            except _WholeGzip:
                pass
        with gzip.open(self.path, "rb") as stream:
            yield from self._read(stream, None, skip=self.count)

    def _read(self, handle, size: int | None, skip: int = 0) -> Iterator[tuple[int, object]]:
        iterator = _iterator(handle)
        records = iter(iterator)
        number, last = 0, None
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as error:  # noqa: BLE001 - warcio raises many kinds on bad bytes
                if "non-chunked gzip" in str(error):
                    raise _WholeGzip() from None
                if not _is_parse_error(error):
                    raise
                raise _Unreadable(_unreadable(number, error)) from None
            number += 1
            if record.format != "warc":  # warcio reads the older ARC format too
                raise _Unreadable(f"not a readable WARC file (record {number} is not a WARC record)")
            if record.length is None:  # headers cut off before their Content-Length
                raise _Unreadable(
                    f"record {number}: {_CUT}"
                    + (f" ({number - 1} before it kept)" if number > 1 else "")
                )
            last = record
            if number > skip:  # the records before a whole-gzip restart were read whole
                self.count = number
                yield number, record
        if last is not None and _cut_short(last):
            self.cut, self.ends_inside = True, number
        else:
            self.cut = not _read_to_the_end(iterator, handle, size)


def _iterator(handle):
    """warcio's iterator, noting whether the last gzip member was whole (it ends such a
    member quietly, as if the file ended there)."""
    from warcio.archiveiterator import ArchiveIterator

    class Iterator(ArchiveIterator):
        last_member_whole = True

        def close(self):
            decompressor = getattr(self.reader, "decompressor", None)
            if decompressor is not None and not getattr(decompressor, "eof", True):
                self.last_member_whole = False
            super().close()

    return Iterator(handle)


class _WholeGzip(Exception):
    pass


def _is_parse_error(error: Exception) -> bool:
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.statusandheaders import StatusAndHeadersParserException

    # Cut or damaged headers surface as any of these from inside warcio.
    parse_errors = (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, OSError,
                    ValueError, AttributeError, IndexError, KeyError, TypeError, zlib.error)  # fmt: skip
    return isinstance(error, parse_errors)


def _unreadable(number: int, error: Exception) -> str:
    reason = printable(" ".join(str(error).split())) or type(error).__name__
    if number == 0:
        return f"not a readable WARC file ({reason})"
    return (
        f"record {number + 1}: cannot be read ({reason}); the file may be cut short or "
        f"damaged (the {number} record{'s' if number > 1 else ''} before it are kept)"
    )


def _size(handle) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError):
        return None


def _read_to_the_end(iterator, handle, size: int | None) -> bool:
    """Whether warcio stopped at the end of the file: a gzip member cut short, or bytes
    left after the last record, mean the file ends inside a record it passed over."""
    if not iterator.last_member_whole:
        return False
    if size is None:
        return True
    handle.seek(iterator.offset)
    rest = handle.read(4096)
    return not rest.strip()


def _cut_short(record) -> bool:
    """warcio does not notice a record the file ends inside: its length says more."""
    return getattr(record.raw_stream, "limit", 0) > 0


def printable(text: str | None) -> str:
    """Text from an archive as one printable line (control bytes written as escapes)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in (text or ""))


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
    where = f"{where} ({printable(url)})"
    if len(data) > MAX_ARTICLE_BYTES:
        return InputError(too_large(None, "page"), path=where)
    if _cut_short(record):
        return InputError(_CUT, path=where)
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
