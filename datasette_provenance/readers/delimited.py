"""CSV and TSV: one article per record (delimiter ``,`` ``;`` ``|`` or tab, chosen from the
header line; always tab in ``.tsv``); quoted fields may span lines, and lines may end
in LF, CRLF or a lone CR."""

from __future__ import annotations

import csv
from typing import Iterable, Iterator

from . import records
from .decoding import iter_lines
from .paths import extension
from .records import ArticleRecord, ColumnNames, InputError, Reader, too_large
from .rows import record_from_row


def read(
    path: str, display: str, columns: ColumnNames
) -> Iterator[ArticleRecord | InputError]:
    rows = iter_csv_rows(path, display)
    first = next(rows, None)
    if first is None:
        yield InputError("empty file", path=display)
        return
    if isinstance(first, InputError):
        yield first
        return
    _, header = first
    header = [name.strip() for name in header]
    resolved = columns.resolve(header)
    missing = [name for name in ("id", "text") if resolved[name] is None]
    if missing:
        wanted = "; ".join(f"no {name} column ({columns.describe(name)})" for name in missing)
        yield InputError(f"{wanted}; columns are: {', '.join(header)}", path=display, line=1)
        return
    for item in csv_records(rows, header, display):
        if isinstance(item, InputError):
            yield item
            continue
        line_number, record = item
        yield record_from_row(record, resolved, columns, display, line_number)


def iter_csv_rows(path: str, display: str) -> Iterator[tuple[int, list[str]] | InputError]:
    """(first line number, fields) per CSV record; ``InputError`` per bad record."""
    _raise_csv_field_limit()
    lines = iter_lines(path, display)
    bad_lines: dict[int, InputError] = {}
    position = [0]  # physical line last handed to the csv reader

    def feed(first_line: str) -> Iterator[str]:
        yield first_line
        for line_number, line, problem in lines:
            position[0] = line_number
            if problem is not None:
                bad_lines[line_number] = problem
                line = "\n"
            yield line

    header_item = next(lines, None)
    if header_item is None:
        return
    line_number, header_line, problem = header_item
    if problem is not None:
        yield problem
        return
    position[0] = line_number
    delimiter = "\t" if extension(path) == ".tsv" else _guess_delimiter(header_line)
    reader = csv.reader(feed(header_line), delimiter=delimiter, strict=True)
    while True:
        start = position[0] + 1 if reader.line_num else 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = str(error)
            if "unexpected end of data" in reason:
                reason = "unterminated quoted field (it runs to the end of the file)"
            yield InputError(f"malformed CSV record: {reason}", path=display, line=start)
            continue
        problem = next(
            (bad_lines.pop(n) for n in range(start, position[0] + 1) if n in bad_lines), None
        )
        if problem is not None:
            yield problem
            continue
        size = sum(len(cell) for cell in row)
        if size > records.MAX_ARTICLE_BYTES:
            yield InputError(too_large(size, "record"), path=display, line=start)
            continue
        yield start, row


def _raise_csv_field_limit() -> None:
    # The csv module refuses fields over 128 KB by default; articles can be bigger.
    # The limit is process-wide, so it is only ever raised, never lowered.
    if csv.field_size_limit() < records.MAX_ARTICLE_BYTES + 1:
        csv.field_size_limit(records.MAX_ARTICLE_BYTES + 1)


def _guess_delimiter(header_line: str) -> str:
    """The most frequent of , ; | tab in the header line (comma on a tie)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def csv_records(
    rows: Iterable, header: list[str], display: str
) -> Iterator[tuple[int, dict[str, str]] | InputError]:
    """(line, {column: value}) for each non-blank CSV row, or an error for a bad one."""
    for item in rows:
        if isinstance(item, InputError):
            yield item
            continue
        line_number, row = item
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield InputError(
                f"malformed CSV record: {len(row)} fields, the header has {len(header)}",
                path=display,
                line=line_number,
            )
            continue
        yield line_number, dict(zip(header, row))


READER = Reader((".csv", ".tsv"), read)
