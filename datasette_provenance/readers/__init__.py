"""Readers: turn files on disk into ``ArticleRecord`` objects.

Pure functions over paths; nothing here knows about SQLite or Datasette.

``iter_records(paths)`` takes one path or a list of paths. A directory is walked
recursively in sorted (code point) order; hidden entries (``.name``) and files with
other suffixes are ignored there. Each kind of file has its reader module, found
by suffix in ``READERS``: ``text`` (``.txt``), ``jsonl`` (``.jsonl``, ``.ndjson``),
``delimited`` (``.csv``, ``.tsv``), ``html`` (``.html``, ``.htm``), ``warc``
(``.warc``, ``.warc.gz``: web archives) and ``feeds`` (``.rss``, ``.atom``). A new kind
of input is one module defining a ``Reader`` and one ``register`` call below.
``tables`` reads an existing SQLite table or view (``ingest --from-table``).
``read_manifest`` (``manifest``) reads the metadata a manifest adds by article id;
``dates`` normalises dates and languages, ``decoding`` bytes, ``rows`` fields.

Bad input
---------
---------
A problem with one file or one record skips it and is reported ("skip":
``iter_records`` *yields* an ``InputError`` and goes on); a problem with what was
asked for stops the run ("stop": ``iter_records`` or ``read_manifest`` *raises*
``InputError``) before any record is produced, so a typo never leaves half a batch
ingested. A manifest is small and hand-made, so any problem in it stops the run: it
is fixed and the run repeated rather than half applied. ``str(error)`` is always one
line, ``file:line: reason`` where there is a line (``error.path``, ``error.line`` and
``error.reason`` hold the parts); it is never a traceback.

==================================================  ====  =================================
Case                                                Run   The one-line message names
==================================================  ====  =================================
a path given does not exist                         stop  the path
a directory given cannot be listed                  stop  the directory, the OS reason
a file given has an unsupported extension           stop  the file, the supported ones
a subdirectory inside a tree cannot be listed       skip  the subdirectory, the OS reason
a file cannot be opened or read                     skip  the file, the OS reason
binary file (NUL bytes, >5% control bytes)          skip  the file
not UTF-8, and no plausible legacy encoding         skip  file(:line), the first bad byte
empty or whitespace-only text; empty file           skip  file(:line)
article over ``MAX_ARTICLE_BYTES`` (20 MB), a feed  skip  file(:line), the size
  file over ``MAX_FEED_BYTES`` (100 MB)
JSONL line: invalid JSON, not an object             skip  file:line, the JSON error
JSONL line nested too deeply                        skip  file:line
CSV record: bad quoting, wrong field count          skip  file:line where the record starts
CSV header without an id or text column             skip  file:1, the columns it has
record: no/empty id, non-string field               skip  file:line, the field
WARC: not a WARC file, unreadable compression       skip  the file, warcio's reason
WARC: cut short or damaged (in headers, a gzip      skip  file: record N, the reason
  member, after the last whole record)                    (the records before are kept)
WARC record: cut short, no text in its page         skip  file: record N (URL)
feed: not RSS/Atom, no entries                      skip  file(:line), the parser's reason
feed: the file ends inside an entry                 skip  file:line, the entry number
feed entry: no id or link, no text                  skip  file: entry N
--from-table: no file, not SQLite, no such table,   stop  the file (and table), the tables
  no id or text column                                    or columns it has
--from-table row: as a record above, text that is   skip  file:table:rowid, the field
  not UTF-8
==================================================  ====  =================================
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

from . import delimited, feeds, html, jsonl, text, warc
from .manifest import directory_manifests, outlet_domain, read_manifest
from .paths import check_targets, extension, walk
from .records import (
    COLUMN_ALIASES,
    MAX_ARTICLE_BYTES,
    METADATA_FIELDS,
    ArticleRecord,
    ColumnNames,
    InputError,
    PathInput,
    Reader,
    location,
    os_reason,
    readable_name,
)
from .rows import record_from_mapping
from .tables import TableSource

# Suffix -> the reader of that kind of file.
READERS: dict[str, Reader] = {}


def register(reader: Reader) -> None:
    """Read files with ``reader.suffixes`` with ``reader`` (a suffix registered again is
    taken over by the new reader)."""
    for suffix in reader.suffixes:
        READERS[suffix] = reader


for _format in (text, jsonl, delimited, html, warc, feeds):
    register(_format.READER)


def describe_formats() -> str:
    """The kinds of file read, for help texts: ".txt (id = file stem), ... and .html/.htm"."""
    described = list(dict.fromkeys(reader.describe() for reader in READERS.values()))
    if len(described) < 2:
        return "".join(described)
    return ", ".join(described[:-1]) + " and " + described[-1]


def iter_records(
    paths: PathInput | Iterable[PathInput],
    columns: ColumnNames | None = None,
    exclude: Iterable[PathInput] = (),
    tables: Iterable[str] = (),
) -> Iterator[ArticleRecord | InputError]:
    """Yield an ``ArticleRecord`` per article, or an ``InputError`` per skipped input.

    Raises ``InputError`` (before yielding anything) when a given path does not
    exist, a given directory cannot be listed, a given file has an unsupported
    extension, or a table given as ``FILE:TABLE`` (``tables``, read after the files)
    cannot be read. Ids must be unique across the whole call: a repeated id is reported
    naming both places and the later record is skipped. Files in ``exclude`` (the
    manifest, kept beside the articles it describes) are not read as articles.
    """
    columns = columns or ColumnNames()
    targets = check_targets(paths, READERS)
    sources = [TableSource(spec, columns) for spec in tables]
    seen_ids: dict[str, str] = {}
    seen_files: set[str] = {os.path.realpath(os.fspath(path)) for path in exclude}
    for path, display, is_dir in targets:
        files = walk(path, display, READERS) if is_dir else iter([(path, display)])
        for item in files:
            if isinstance(item, InputError):
                yield item
                continue
            file_path, file_display = item
            real = os.path.realpath(file_path)
            if real in seen_files:  # the same file reached twice (a dir and a file in it)
                continue
            seen_files.add(real)
            for result in _read_file(file_path, file_display, columns):
                yield _first_of_its_id(result, seen_ids, file_display)
    for source in sources:
        for result in source.records():
            yield _first_of_its_id(result, seen_ids, source.display)


def _first_of_its_id(result, seen_ids: dict[str, str], where: str):
    """The record, or an ``InputError`` when its id was read before in this run."""
    if isinstance(result, ArticleRecord):
        first = seen_ids.get(result.id)
        if first is not None:
            return InputError(
                f"duplicate id {result.id!r} (first seen at {first})",
                **location(result.source_path),
            )
        seen_ids[result.id] = result.source_path or where
    return result


def read_file(
    path: str, display: str | None = None, columns: ColumnNames | None = None
) -> Iterator[ArticleRecord | InputError]:
    """The records of one file of a supported kind, named ``display`` in messages.

    For readers of copies (the Spark engine reads a copy of each remote file);
    ids are not checked for repeats here.
    """
    return _read_file(path, display or path, columns or ColumnNames())


def _read_file(
    path: str, display: str, columns: ColumnNames
) -> Iterator[ArticleRecord | InputError]:
    reader = READERS.get(extension(path))
    display = readable_name(display)
    if reader is None:
        return
    try:
        yield from reader.read(path, display, columns)
    except OSError as error:  # vanished, permission, I/O error
        yield InputError(f"cannot read file ({os_reason(error)})", path=display)


__all__ = [
    "COLUMN_ALIASES",
    "MAX_ARTICLE_BYTES",
    "METADATA_FIELDS",
    "READERS",
    "ArticleRecord",
    "ColumnNames",
    "InputError",
    "Reader",
    "TableSource",
    "describe_formats",
    "directory_manifests",
    "iter_records",
    "outlet_domain",
    "read_file",
    "read_manifest",
    "readable_name",
    "record_from_mapping",
    "register",
]
