"""Readers: turn files on disk into ``ArticleRecord`` objects.

Pure functions over paths; nothing here knows about SQLite or Datasette.

Inputs
------
``iter_records(paths)`` takes one path or a list of paths. A directory is walked
recursively in sorted (code point) order; hidden entries (``.name``) and files with
other extensions are ignored there. Supported files:

* ``.txt`` -- one article; id = file stem; no title (cleaning finds it).
* ``.jsonl`` / ``.ndjson`` -- one JSON object per line; blank lines are allowed.
* ``.csv`` (delimiter ``,`` ``;`` ``|`` or tab, chosen from the header line) and
  ``.tsv`` -- one article per record, quoted fields may span lines; lines may end
  in LF, CRLF or a lone CR.
* ``.html`` / ``.htm`` -- main text via trafilatura; title, date, canonical URL and
  site name from the page (the site name is listed in ``inferred_fields``); when
  trafilatura finds no main text, all visible text of the page is used.

JSON keys and CSV columns are found through ``ColumnNames``: a name given there is
used exactly (case-insensitive); otherwise the first present of the aliases in
``COLUMN_ALIASES`` (``text``, ``body``, ``content`` ...) is used. ``id`` and
``text`` are required; ``inferred`` (or ``inferred_fields``) lists the metadata
fields that are guesses, as in a manifest.

Text is decoded as UTF-8 (a BOM is dropped; UTF-16/32 with a BOM are read too).
Text that is not valid UTF-8 is tried in legacy single-byte encodings (Windows
Western European, Cyrillic, Arabic; KOI8-R) and accepted only when the result looks
like real text in one script (see ``_plausible_decoding``); otherwise it is reported.
JSONL and CSV are decoded line by line, so one bad line does not garble the others.

Publication dates are normalised to ISO 8601 (``normalize_published``): a date
(``2023-09-13``), a month or year when only that is known, or a date-time with
seconds and, when the input states one, its UTC offset (``2023-09-13T08:00:00+00:00``).
Accepted: ISO 8601 (``-``, ``/`` or ``.`` between date parts), RFC 2822 (feeds,
e-mail), and English month names (``September 13, 2023``, ``13 Sept 2023``).
Numeric day/month orders (``13/09/2023``) are refused as ambiguous.

Bad input
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
article over ``MAX_ARTICLE_BYTES`` (20 MB)          skip  file(:line), the size
JSONL line: invalid JSON, not an object             skip  file:line, the JSON error
JSONL line nested too deeply                        skip  file:line
CSV record: bad quoting, wrong field count          skip  file:line where the record starts
CSV header without an id or text column             skip  file:1, the columns it has
record: no/empty id, non-string field               skip  file:line, the field
record: bad date, language or ``inferred`` field    skip  file:line, the value
the same id twice in one call                       skip  both places (the first is kept)
manifest: missing file, unsupported type            stop  the manifest
manifest: bad date, duplicate id, bad JSON/CSV ...  stop  manifest:line, the reason
==================================================  ====  =================================

Manifest
--------
``read_manifest(path)`` reads ``.csv``/``.tsv``, ``.json`` (a list of objects with
an ``id``, or an object ``{id: {...}}``) or ``.jsonl``. Fields: ``id`` (required),
``title``, ``outlet``, ``url``, ``published``, ``language`` and ``inferred``: the
names of the fields that are guesses rather than stated by the source, separated by
commas, semicolons, ``|`` or spaces in CSV (``outlet;published``), or a JSON list
(``["outlet"]``). Unknown columns are ignored. It returns ``{id: {field: value,
"inferred_fields": [...], "source_path": "manifest.csv:7"}}`` in file order, with
only the fields that have a value. Whether every id exists is the caller's check.
"""

from __future__ import annotations

import codecs
import csv
import email.utils
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Union

# One article may be at most this big (a .txt/.html file, a JSON line, a CSV
# record). Real articles are kilobytes; anything this large is a dump or a binary
# that slipped through, and reading it whole would cost hundreds of MB of memory.
MAX_ARTICLE_BYTES = 20 * 1024 * 1024

# How much of a file is checked for binary content. Binary formats (PDF, images,
# archives, Office files) show NUL bytes or control codes within the first blocks.
BINARY_SNIFF_BYTES = 8192
# Share of C0 control bytes (other than tab, newline, CR, form feed) above which a
# file is binary. Real text has none; 5% leaves room for a few stray codes.
BINARY_CONTROL_SHARE = 0.05

# Legacy encodings tried, in order, for text that is not UTF-8. Western European
# first: it is by far the most common legacy encoding in news archives.
LEGACY_ENCODINGS = ("cp1252", "cp1251", "koi8_r", "cp1256")

TEXT_EXTENSIONS = frozenset({".txt"})
JSONL_EXTENSIONS = frozenset({".jsonl", ".ndjson"})
CSV_EXTENSIONS = frozenset({".csv", ".tsv"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
ARTICLE_EXTENSIONS = TEXT_EXTENSIONS | JSONL_EXTENSIONS | CSV_EXTENSIONS | HTML_EXTENSIONS
MANIFEST_EXTENSIONS = frozenset({".csv", ".tsv", ".json", ".jsonl", ".ndjson"})

# Metadata fields a manifest or a record may mark as inferred.
METADATA_FIELDS = ("title", "outlet", "url", "published", "language")

# Field -> accepted key/column names, first match wins. Compared case-insensitively.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id", "doc_id", "document_id", "guid", "uuid", "key"),
    "text": (
        "text",
        "body",
        "content",
        "article",
        "full_text",
        "fulltext",
        "maintext",
        "raw_text",
        "article_text",
        "story",
    ),
    "title": ("title", "headline", "head", "heading"),
    "outlet": (
        "outlet",
        "source",
        "publisher",
        "publication",
        "site_name",
        "sitename",
        "site",
        "media",
        "newspaper",
    ),
    "url": ("url", "link", "canonical_url", "source_url", "permalink", "href"),
    "published": (
        "published",
        "date",
        "published_at",
        "publish_date",
        "pubdate",
        "date_published",
        "publication_date",
        "datetime",
    ),
    "language": ("language", "lang", "locale"),
    "inferred": ("inferred", "inferred_fields"),
}

PathInput = Union[str, "os.PathLike[str]"]


class InputError(Exception):
    """Bad input. ``str(error)`` is one line naming the file (and line).

    ``reason`` is the message without the location; ``path`` and ``line`` say where
    (either may be ``None``).
    """

    def __init__(self, reason: str, *, path: PathInput | None = None, line: int | None = None):
        self.reason = _one_line(reason)
        self.path = None if path is None else os.fspath(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.reason
        where = _one_line(self.path) if self.line is None else f"{_one_line(self.path)}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass
class ArticleRecord:
    id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: str | None = None  # ISO 8601
    language: str | None = None
    inferred_fields: list[str] = field(default_factory=list)
    source_path: str | None = None  # "file" or "file:line", for messages


@dataclass(frozen=True)
class ColumnNames:
    """Which JSON key / CSV column holds each field; ``None`` = try ``COLUMN_ALIASES``."""

    id: str | None = None
    text: str | None = None
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: str | None = None
    language: str | None = None
    inferred: str | None = None

    def resolve(self, keys: Iterable[str]) -> dict[str, str | None]:
        """Map each field to the key present in ``keys`` (or ``None``)."""
        by_folded: dict[str, str] = {}
        for key in keys:
            by_folded.setdefault(str(key).strip().casefold(), key)
        resolved: dict[str, str | None] = {}
        for name in COLUMN_ALIASES:
            wanted = getattr(self, name)
            candidates = (wanted,) if wanted else COLUMN_ALIASES[name]
            resolved[name] = next(
                (by_folded[c.casefold()] for c in candidates if c.casefold() in by_folded), None
            )
        return resolved

    def describe(self, name: str) -> str:
        """How a field is looked up, for messages: "'body'" or "one of id, article_id ..."."""
        wanted = getattr(self, name)
        return repr(wanted) if wanted else "one of " + ", ".join(COLUMN_ALIASES[name])


# --------------------------------------------------------------------------- records


def iter_records(
    paths: PathInput | Iterable[PathInput],
    columns: ColumnNames | None = None,
    exclude: Iterable[PathInput] = (),
) -> Iterator[ArticleRecord | InputError]:
    """Yield an ``ArticleRecord`` per article, or an ``InputError`` per skipped input.

    Raises ``InputError`` (before yielding anything) when a given path does not
    exist, a given directory cannot be listed, or a given file has an unsupported
    extension. Ids must be unique across the whole call: a repeated id is reported
    naming both places and the later record is skipped. Files in ``exclude`` (the
    manifest, kept beside the articles it describes) are not read as articles.
    """
    columns = columns or ColumnNames()
    targets = _check_targets(paths)
    seen_ids: dict[str, str] = {}
    seen_files: set[str] = {os.path.realpath(os.fspath(path)) for path in exclude}
    for path, display, is_dir in targets:
        files = _walk(path, display) if is_dir else iter([(path, display)])
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
                if isinstance(result, ArticleRecord):
                    first = seen_ids.get(result.id)
                    if first is not None:
                        result = InputError(
                            f"duplicate id {result.id!r} (first seen at {first})",
                            **_location(result.source_path),
                        )
                    else:
                        seen_ids[result.id] = result.source_path or file_display
                yield result


def read_file(
    path: str, display: str | None = None, columns: ColumnNames | None = None
) -> Iterator[ArticleRecord | InputError]:
    """The records of one file of a supported kind, named ``display`` in messages.

    For readers of copies (the Spark engine reads a copy of each remote file);
    ids are not checked for repeats here.
    """
    return _read_file(path, display or path, columns or ColumnNames())


def record_from_mapping(
    row: Mapping[str, object],
    columns: ColumnNames | None = None,
    path: str = "",
    line: int | None = None,
) -> ArticleRecord | InputError:
    """One record from a mapping of fields (a Parquet row), checked like a JSONL line."""
    columns = columns or ColumnNames()
    record = _record_from_row(row, columns.resolve(row.keys()), columns, path, line)
    if line is None and isinstance(record, ArticleRecord):
        record.source_path = path
    return record


def _check_targets(paths: PathInput | Iterable[PathInput]) -> list[tuple[str, str, bool]]:
    """Validate every given path up front: (path, display name, is directory)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    targets = []
    for given in paths:
        path = os.fspath(given)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not os.path.exists(path):
            raise InputError("no such file or directory", path=path)
        if os.path.isdir(path):
            try:
                with os.scandir(path):
                    pass
            except OSError as error:
                raise InputError(
                    f"cannot list directory ({_os_reason(error)})", path=path
                ) from None
            targets.append((path, path, True))
            continue
        extension = _extension(path)
        if extension not in ARTICLE_EXTENSIONS:
            raise InputError(
                f"unsupported file type {extension or '(no extension)'!r}; expected one of "
                + ", ".join(sorted(ARTICLE_EXTENSIONS)),
                path=path,
            )
        targets.append((path, path, False))
    return targets


def _walk(
    directory: str, display: str, _visited: set[str] | None = None
) -> Iterator[tuple[str, str] | InputError]:
    """Article files under ``directory``, depth first in sorted order."""
    visited = _visited if _visited is not None else set()
    real = os.path.realpath(directory)
    if real in visited:  # a symlink loop
        return
    visited.add(real)
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield InputError(f"cannot list directory ({_os_reason(error)})", path=display)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child_display = os.path.join(display, entry.name)
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as error:
            yield InputError(f"cannot read ({_os_reason(error)})", path=child_display)
            continue
        if is_dir:
            yield from _walk(entry.path, child_display, visited)
        elif is_file and _extension(entry.name) in ARTICLE_EXTENSIONS:
            yield entry.path, child_display


def _read_file(
    path: str, display: str, columns: ColumnNames
) -> Iterator[ArticleRecord | InputError]:
    extension = _extension(path)
    display = _readable_name(display)
    try:
        if extension in TEXT_EXTENSIONS:
            yield _read_text_file(path, display)
        elif extension in HTML_EXTENSIONS:
            yield _read_html_file(path, display)
        elif extension in JSONL_EXTENSIONS:
            yield from _read_jsonl(path, display, columns)
        elif extension in CSV_EXTENSIONS:
            yield from _read_csv(path, display, columns)
    except OSError as error:  # vanished, permission, I/O error
        yield InputError(f"cannot read file ({_os_reason(error)})", path=display)


# --------------------------------------------------------------------------- .txt / .html


def _read_text_file(path: str, display: str) -> ArticleRecord | InputError:
    data = _read_whole_file(path, display)
    if isinstance(data, InputError):
        return data
    text = _decode_document(data, display)
    if isinstance(text, InputError):
        return text
    if not text.strip():
        return InputError("empty text", path=display)
    return ArticleRecord(id=_readable_name(Path(path).stem), text=text, source_path=display)


def _read_whole_file(path: str, display: str) -> bytes | InputError:
    size = os.stat(path).st_size
    if size > MAX_ARTICLE_BYTES:
        return InputError(_too_large(size, "file"), path=display)
    with open(path, "rb") as handle:
        data = handle.read(MAX_ARTICLE_BYTES + 1)
    if len(data) > MAX_ARTICLE_BYTES:  # grew since stat
        return InputError(_too_large(len(data), "file"), path=display)
    return data


def _decode_document(data: bytes, display: str, declared: str | None = None) -> str | InputError:
    """Decode a whole file, after ruling out binary content."""
    unicode_bom = _unicode_bom(data)
    if unicode_bom:
        try:
            return data.decode(unicode_bom)
        except UnicodeDecodeError as error:
            return InputError(f"invalid {unicode_bom.upper()} at byte {error.start}", path=display)
    if _looks_binary(data):
        return InputError("binary file, not text (NUL bytes or control codes)", path=display)
    text = decode_text(data, declared)
    if text is None:
        return InputError(_undecodable(data), path=display)
    return text


# Declared charset in the first bytes of an HTML page (<meta charset> or http-equiv).
_HTML_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HTML_LANG = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.IGNORECASE
)


def _read_html_file(path: str, display: str) -> ArticleRecord | InputError:
    data = _read_whole_file(path, display)
    if isinstance(data, InputError):
        return data
    declared = _HTML_CHARSET.search(data[:4096])
    html = _decode_document(data, display, declared.group(1).decode("ascii") if declared else None)
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
        id=_readable_name(Path(path).stem),
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
        "title": _clean_value(getattr(document, "title", None)),
        "published": _clean_value(getattr(document, "date", None)),
        "url": _clean_value(getattr(document, "url", None)),
        "outlet": _clean_value(getattr(document, "sitename", None)),
        "language": _normalize_language(language.group(1)) if language else None,
    }


# --------------------------------------------------------------------------- .jsonl


def _read_jsonl(
    path: str, display: str, columns: ColumnNames
) -> Iterator[ArticleRecord | InputError]:
    resolved_for: dict[tuple[str, ...], dict[str, str | None]] = {}
    empty = True
    for line_number, line, problem in _iter_lines(path, display):
        if problem is not None:
            empty = False
            yield problem
            continue
        if not line.strip():
            continue
        empty = False
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield InputError(
                f"invalid JSON ({error.msg} at column {error.colno})",
                path=display,
                line=line_number,
            )
            continue
        except ValueError as error:  # an integer of more than 4,300 digits
            yield InputError(f"invalid JSON ({_json_problem(error)})", path=display, line=line_number)
            continue
        except RecursionError:
            yield InputError("JSON nested too deeply", path=display, line=line_number)
            continue
        if not isinstance(value, dict):
            yield InputError(
                f"expected a JSON object, got {_json_type(value)}", path=display, line=line_number
            )
            continue
        keys = tuple(value)
        resolved = resolved_for.get(keys)
        if resolved is None:
            resolved = resolved_for[keys] = columns.resolve(keys)
        yield _record_from_row(value, resolved, columns, display, line_number)
    if empty:
        yield InputError("empty file", path=display)


# --------------------------------------------------------------------------- .csv


def _read_csv(
    path: str, display: str, columns: ColumnNames
) -> Iterator[ArticleRecord | InputError]:
    rows = _iter_csv_rows(path, display)
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
    for item in _csv_records(rows, header, display):
        if isinstance(item, InputError):
            yield item
            continue
        line_number, record = item
        yield _record_from_row(record, resolved, columns, display, line_number)


def _iter_csv_rows(path: str, display: str) -> Iterator[tuple[int, list[str]] | InputError]:
    """(first line number, fields) per CSV record; ``InputError`` per bad record."""
    _raise_csv_field_limit()
    lines = _iter_lines(path, display)
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
    delimiter = "\t" if _extension(path) == ".tsv" else _guess_delimiter(header_line)
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
        if size > MAX_ARTICLE_BYTES:
            yield InputError(_too_large(size, "record"), path=display, line=start)
            continue
        yield start, row


def _raise_csv_field_limit() -> None:
    # The csv module refuses fields over 128 KB by default; articles can be bigger.
    # The limit is process-wide, so it is only ever raised, never lowered.
    if csv.field_size_limit() < MAX_ARTICLE_BYTES + 1:
        csv.field_size_limit(MAX_ARTICLE_BYTES + 1)


def _guess_delimiter(header_line: str) -> str:
    """The most frequent of , ; | tab in the header line (comma on a tie)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


# --------------------------------------------------------------------------- records from rows


def _record_from_row(
    row: Mapping[str, object],
    resolved: Mapping[str, str | None],
    columns: ColumnNames,
    display: str,
    line_number: int,
) -> ArticleRecord | InputError:
    """Build a record from a JSON object / CSV row, or say what is wrong with it."""
    where = {"path": display, "line": line_number}
    if resolved["id"] is None:
        return InputError(f"no id ({columns.describe('id')})", **where)
    if resolved["text"] is None:
        return InputError(f"no text ({columns.describe('text')})", **where)
    try:
        values = {
            name: _field_value(row, resolved[name], name)
            for name in ("id",) + METADATA_FIELDS
            if resolved[name] is not None
        }
    except ValueError as error:
        return InputError(str(error), **where)
    if not values.get("id"):
        return InputError("empty id", **where)
    text = row.get(resolved["text"])
    if text is None or (isinstance(text, str) and not text.strip()):
        return InputError("empty text", **where)
    if not isinstance(text, str):
        return InputError(
            f"field {resolved['text']!r} must be a string, got {_json_type(text)}", **where
        )
    if len(text) > MAX_ARTICLE_BYTES:
        return InputError(_too_large(len(text.encode("utf-8", "surrogatepass")), "text"), **where)
    if _looks_binary_text(text):
        return InputError("text looks binary (NUL or control characters)", **where)
    try:
        _refuse_lone_surrogates(text, resolved["text"])
        published = normalize_published(values["published"]) if values.get("published") else None
        language = _normalize_language(values["language"]) if values.get("language") else None
        inferred = parse_inferred(row.get(resolved["inferred"]) if resolved["inferred"] else None)
    except ValueError as error:
        return InputError(str(error), **where)
    return ArticleRecord(
        id=values["id"],
        text=text,
        title=values.get("title"),
        outlet=values.get("outlet"),
        url=values.get("url"),
        published=published,
        language=language,
        inferred_fields=inferred,
        source_path=f"{display}:{line_number}",
    )


def _field_value(row: Mapping[str, object], key: str, name: str) -> str | None:
    """A scalar field as whitespace-normalised text (``None`` when empty).

    Ids may be JSON integers; everything else must be a string (or null).
    """
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name == "id":
        return str(value)
    if not isinstance(value, str):
        expected = "a string or integer" if name == "id" else "a string"
        raise ValueError(f"field {key!r} must be {expected}, got {_json_type(value)}")
    _refuse_lone_surrogates(value, key)
    return _clean_value(value)


# JSON's "\ud800" escapes decode to lone surrogates: no UTF-8 for SQLite, no hash.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(value: str, key: str) -> None:
    found = _LONE_SURROGATE.search(value)
    if found:
        raise ValueError(
            f"field {key!r} is not valid Unicode (a lone surrogate, \\u{ord(found.group()):04x})"
        )


def _readable_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as surrogates) are
    written as \\xNN, so the name can be stored and printed."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def parse_inferred(value: object) -> list[str]:
    """Field names from an ``inferred`` cell or JSON value; unknown names are an error."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        names = [part for part in re.split(r"[\s,;|]+", value) if part]
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        names = [part.strip() for part in value if part.strip()]
    else:
        raise ValueError(f"'inferred' must list field names, got {_json_type(value)}")
    result: list[str] = []
    for name in names:
        folded = name.casefold()
        if folded not in METADATA_FIELDS:
            raise ValueError(
                f"unknown field {name!r} in 'inferred' (expected {', '.join(METADATA_FIELDS)})"
            )
        if folded not in result:
            result.append(folded)
    return result


# --------------------------------------------------------------------------- manifest


def read_manifest(path: PathInput) -> dict[str, dict]:
    """Metadata by article id from a CSV/TSV, JSON or JSONL manifest (file order).

    Any problem raises ``InputError`` naming ``file:line``: a manifest is small and
    hand-made, so it is fixed and the run repeated rather than half applied.
    """
    display = os.fspath(path)
    if not os.path.exists(display):
        raise InputError("no such file", path=display)
    extension = _extension(display)
    if extension not in MANIFEST_EXTENSIONS:
        raise InputError(
            f"unsupported manifest type {extension or '(no extension)'!r}; expected one of "
            + ", ".join(sorted(MANIFEST_EXTENSIONS)),
            path=display,
        )
    try:
        if extension in CSV_EXTENSIONS:
            entries = _manifest_csv_entries(display)
        elif extension == ".json":
            entries = _manifest_json_entries(display)
        else:
            entries = _manifest_jsonl_entries(display)
        return _build_manifest(entries, display)
    except OSError as error:
        raise InputError(f"cannot read manifest ({_os_reason(error)})", path=display) from None


def _build_manifest(
    entries: Iterable[tuple[int, Mapping[str, object]]], display: str
) -> dict[str, dict]:
    manifest: dict[str, dict] = {}
    columns = ColumnNames()
    resolved_for: dict[tuple[str, ...], dict[str, str | None]] = {}
    for line_number, entry in entries:
        keys = tuple(entry)
        resolved = resolved_for.get(keys)
        if resolved is None:
            resolved = resolved_for[keys] = columns.resolve(keys)
        try:
            item = _manifest_item(entry, resolved)
        except ValueError as error:
            raise InputError(str(error), path=display, line=line_number) from None
        article_id = item.pop("id")
        if article_id in manifest:
            raise InputError(
                f"duplicate id {article_id!r} (first at {manifest[article_id]['source_path']})",
                path=display,
                line=line_number,
            )
        item["source_path"] = f"{display}:{line_number}"
        manifest[article_id] = item
    return manifest


def _manifest_item(entry: Mapping[str, object], resolved: Mapping[str, str | None]) -> dict:
    if resolved["id"] is None:
        raise ValueError(f"no id ({ColumnNames().describe('id')})")
    article_id = _field_value(entry, resolved["id"], "id")
    if not article_id:
        raise ValueError("empty id")
    item: dict = {"id": article_id}
    for name in METADATA_FIELDS:
        key = resolved[name]
        value = _field_value(entry, key, name) if key is not None else None
        if value is None:
            continue
        if name == "published":
            value = normalize_published(value)
        elif name == "language":
            value = _normalize_language(value)
        item[name] = value
    item["inferred_fields"] = parse_inferred(
        entry.get(resolved["inferred"]) if resolved["inferred"] else None
    )
    return item


def _manifest_csv_entries(display: str) -> Iterator[tuple[int, dict[str, str]]]:
    rows = _iter_csv_rows(display, display)
    first = next(rows, None)
    if first is None:
        return
    if isinstance(first, InputError):
        raise first
    header = [name.strip() for name in first[1]]
    for item in _csv_records(rows, header, display):
        if isinstance(item, InputError):
            raise item  # a manifest is fixed and re-run, never half applied
        yield item


def _csv_records(
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


def _manifest_jsonl_entries(display: str) -> Iterator[tuple[int, dict]]:
    for line_number, line, problem in _iter_lines(display, display):
        if problem is not None:
            raise problem
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as error:
            raise InputError(
                f"invalid JSON ({_json_problem(error)})", path=display, line=line_number
            ) from None
        if not isinstance(value, dict):
            raise InputError(
                f"expected a JSON object, got {_json_type(value)}", path=display, line=line_number
            )
        yield line_number, value


def _manifest_json_entries(display: str) -> list[tuple[int, dict]]:
    """Entries of a JSON manifest with the line each starts on.

    The top-level list or object is walked with ``raw_decode`` one element at a
    time, so errors can name the line of the entry at fault.
    """
    data = _read_whole_file(display, display)
    if isinstance(data, InputError):
        raise data
    text = _decode_document(data, display)
    if isinstance(text, InputError):
        raise text
    decoder = json.JSONDecoder()
    try:
        position = _skip_json_space(text, 0)
        if position >= len(text):
            return []
        opener = text[position]
        if opener not in "[{":
            raise InputError(
                "a JSON manifest must be a list of objects or an object keyed by id",
                path=display,
                line=_line_at(text, position),
            )
        entries = []
        position = _skip_json_space(text, position + 1)
        closer = "]" if opener == "[" else "}"
        while position < len(text) and text[position] != closer:
            start = position
            if opener == "{":
                key, position = decoder.raw_decode(text, position)
                position = _skip_json_space(text, position)
                if text[position : position + 1] != ":":
                    raise json.JSONDecodeError("Expecting ':' delimiter", text, position)
                position = _skip_json_space(text, position + 1)
            value, position = decoder.raw_decode(text, position)
            line_number = _line_at(text, start)
            if not isinstance(value, dict):
                raise InputError(
                    f"expected a JSON object, got {_json_type(value)}",
                    path=display,
                    line=line_number,
                )
            if opener == "{":
                value = {"id": key, **{k: v for k, v in value.items() if k != "id"}}
            entries.append((line_number, value))
            position = _skip_json_space(text, position)
            if text[position : position + 1] == ",":
                position = _skip_json_space(text, position + 1)
            elif text[position : position + 1] != closer:
                raise json.JSONDecodeError(f"Expecting ',' or '{closer}'", text, position)
        if position >= len(text):
            raise json.JSONDecodeError(f"Expecting '{closer}'", text, position)
        if _skip_json_space(text, position + 1) < len(text):
            raise json.JSONDecodeError("Extra data", text, _skip_json_space(text, position + 1))
        return entries
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON ({error.msg} at column {error.colno})", path=display, line=error.lineno
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=display) from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise InputError(f"invalid JSON ({_json_problem(error)})", path=display) from None


def _json_problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return "a number too long to read"  # ValueError: an integer of more than 4,300 digits


def _skip_json_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


# --------------------------------------------------------------------------- dates & language

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_TIME = (
    r"(?:(?:\s*,?\s*|\s+at\s+|T)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_ISO_DATE = re.compile(
    r"(?P<year>\d{4})(?:(?P<sep>[-/.])(?P<month>\d{1,2})(?:(?P=sep)(?P<day>\d{1,2}))?)?"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH_FIRST = re.compile(
    _WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + _TIME, re.IGNORECASE
)
_DAY_FIRST = re.compile(_WEEKDAY + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + _TIME, re.IGNORECASE)
_MONTH_YEAR = re.compile(_MONTH + r",?\s+" + _YEAR, re.IGNORECASE)
_NUMERIC_DMY = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def normalize_published(value: str) -> str:
    """The ISO 8601 form of a publication date; ``ValueError`` says why not.

    Keeps the precision given: ``2023``, ``2023-09``, ``2023-09-13``, or a
    date-time with seconds and the UTC offset when one is stated.
    """
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("empty date")
    try:
        return _normalize_date_text(text)
    except ValueError as error:
        raise ValueError(f"bad date {_short(value)!r}: {error}") from None


def _normalize_date_text(text: str) -> str:
    match = _ISO_DATE.fullmatch(text)
    if match:
        return _format_date_parts(
            match.groupdict(), int(match["month"]) if match["month"] else None
        )
    for pattern in (_MONTH_FIRST, _DAY_FIRST):
        match = pattern.fullmatch(text)
        if match:
            return _format_date_parts(match.groupdict(), _month_number(match["month"]))
    match = _MONTH_YEAR.fullmatch(text)
    if match:
        return f"{int(match['year']):04d}-{_month_number(match['month']):02d}"
    if re.search(r"[A-Za-z]", text) and re.search(r"\d{1,2}:\d{2}", text):
        try:  # RFC 2822, as in RSS feeds and e-mail
            return _format_datetime(email.utils.parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            pass
    if text.isdigit():
        raise ValueError("a bare number is not a date; use ISO 8601 (2023-09-13)")
    if _NUMERIC_DMY.fullmatch(text):
        raise ValueError("day/month order is ambiguous; use ISO 8601 (2023-09-13)")
    raise ValueError(
        "not a recognised date; use ISO 8601 (2023-09-13 or 2023-09-13T08:00:00+00:00)"
    )


def _month_number(name: str) -> int:
    number = _MONTHS.get(name.casefold().rstrip("."))
    if number is None:
        raise ValueError(f"unknown month {name!r}")
    return number


def _format_date_parts(parts: Mapping[str, str | None], month: int | None) -> str:
    year = int(parts["year"])
    if month is None:
        return f"{year:04d}"
    if parts.get("day") is None:
        if not 1 <= month <= 12:
            raise ValueError("month must be 1-12")
        return f"{year:04d}-{month:02d}"
    day_value = date(year, month, int(parts["day"]))  # raises ValueError for 2023-02-30
    if parts.get("hour") is None:
        return day_value.isoformat()
    hour = int(parts["hour"])
    ampm = (parts.get("ampm") or "").replace(".", "").casefold()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour must be 1-12 with AM/PM")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    fraction = (parts.get("fraction") or "").ljust(6, "0")[:6]
    moment = datetime(
        year,
        month,
        int(parts["day"]),
        hour,
        int(parts["minute"]),
        int(parts.get("second") or 0),
        int(fraction or 0),
        tzinfo=_parse_zone(parts.get("zone")),
    )
    return _format_datetime(moment)


def _parse_zone(zone: str | None) -> timezone | None:
    if not zone:
        return None
    zone = zone.upper()
    if zone in ("Z", "UTC", "GMT"):
        return timezone.utc
    digits = zone[3:] if zone[:3] in ("UTC", "GMT") else zone
    sign = -1 if digits[0] == "-" else 1
    digits = digits[1:].replace(":", "")
    hours, minutes = (
        (int(digits[:-2] or 0), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    )
    if hours > 14 or minutes > 59:
        raise ValueError(f"bad UTC offset {zone!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _format_datetime(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def _normalize_language(value: str) -> str:
    """BCP 47 casing: ``EN_us`` -> ``en-US``; anything else is a ``ValueError``."""
    value = value.strip()
    if not _LANGUAGE_TAG.fullmatch(value):
        raise ValueError(
            f"bad language {_short(value)!r}: use a BCP 47 code such as en, fr, ar, zh-Hans"
        )
    primary, *rest = re.split(r"[-_]", value)
    parts = [primary.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # script
        else:
            parts.append(part.lower())
    return "-".join(parts)


# --------------------------------------------------------------------------- decoding


def decode_text(data: bytes, declared: str | None = None) -> str | None:
    """Decode bytes as UTF-8 (BOM dropped), a declared charset, or a plausible legacy
    encoding; ``None`` when nothing gives believable text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    candidates = list(LEGACY_ENCODINGS)
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            name = None
        if name and name not in ("utf-8", "utf-8-sig"):
            candidates.insert(0, name)
    for encoding in dict.fromkeys(candidates):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):  # LookupError: "hex", "base64" are no text
            continue
        if _plausible_decoding(text):
            return text
    return None


# The most frequent lowercase letters of the scripts legacy encodings are tried
# for. Text decoded with the wrong code page scatters its letters over the whole
# alphabet (or into another case), so these make up far less of it.
_COMMON_LETTERS = {
    "cyrillic": frozenset("оеаинтсрвлкмдпу"),
    "arabic": frozenset("اليمونهرتبعدكفسق"),
}
# Only this much of a text is inspected: enough to judge, cheap for big files.
PLAUSIBILITY_SAMPLE_CHARS = 65536
# Non-ASCII symbols that are not letters and not ordinary typography (box drawing,
# maths signs) may be at most this share of the non-ASCII characters.
MAX_ODD_SYMBOL_SHARE = 0.1
_TEXT_SYMBOLS = frozenset("\u00a0«»“”‘’„‚‹›–—―…•·€£¥¢©®™°§¶×÷¿¡±µ¼½¾¹²³ªº¦¨¯´¸¬­\u2009\u202f")
_C1_CONTROLS = re.compile("[\x80-\x9f]")
# Share of a script's letters that must be common ones (real text: ~70%).
MIN_COMMON_LETTER_SHARE = 0.4
# Latin text: at most this share of letters may be non-ASCII (French ~4%, Czech
# ~15%); Cyrillic or Arabic bytes read as cp1252 give ~100%.
MAX_ACCENTED_LATIN_SHARE = 0.3


def _plausible_decoding(text: str) -> bool:
    """Does a legacy decoding look like real text in one script?"""
    if _C1_CONTROLS.search(text):  # C1 controls: the wrong code page
        return False
    sample = text[:PLAUSIBILITY_SAMPLE_CHARS]
    counts = {"ascii": 0, "latin": 0, "cyrillic": 0, "arabic": 0, "other": 0}
    common = {"cyrillic": 0, "arabic": 0}
    symbols = 0
    for ch in sample:
        if ch < "\x80":
            if ch.isalpha():
                counts["ascii"] += 1
            continue
        if not ch.isalpha():
            if ch not in _TEXT_SYMBOLS:
                symbols += 1  # box drawing, maths, odd signs: bytes read in the wrong code page
            continue
        script = _legacy_script(ch)
        counts[script] += 1
        if script in common and ch in _COMMON_LETTERS[script]:
            common[script] += 1
    non_ascii = counts["latin"] + counts["cyrillic"] + counts["arabic"] + counts["other"]
    if symbols > MAX_ODD_SYMBOL_SHARE * (non_ascii + symbols):
        return False
    if non_ascii == 0:
        return True
    dominant = max(("latin", "cyrillic", "arabic", "other"), key=counts.__getitem__)
    if dominant == "other" or counts[dominant] < 0.9 * non_ascii:
        return False  # mixed scripts inside one text: a sure sign of the wrong code page
    if dominant == "latin":
        return counts["latin"] <= MAX_ACCENTED_LATIN_SHARE * (counts["latin"] + counts["ascii"])
    return common[dominant] >= MIN_COMMON_LETTER_SHARE * counts[dominant]


def _legacy_script(ch: str) -> str:
    code = ord(ch)
    if code <= 0x024F:
        return "latin"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    return "other"


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _unicode_bom(data: bytes) -> str | None:
    """``utf-16``/``utf-32`` when the data starts with such a BOM (UTF-32 checked first:
    its little-endian BOM begins with the UTF-16 one)."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _looks_binary(data: bytes) -> bool:
    sample = data[:BINARY_SNIFF_BYTES]
    if b"\x00" in data:
        return True
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > BINARY_CONTROL_SHARE * len(sample)


_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_binary_text(text: str) -> bool:
    sample = text[:BINARY_SNIFF_BYTES]
    if "\x00" in text:
        return True
    return len(_CONTROL_CHARS.findall(sample)) > BINARY_CONTROL_SHARE * len(sample)


def _undecodable(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}) and no "
            f"legacy encoding ({', '.join(LEGACY_ENCODINGS)}) gives plausible text; "
            "convert it to UTF-8"
        )
    return "cannot decode text"


def _iter_lines(path: str, display: str) -> Iterator[tuple[int, str, InputError | None]]:
    """(line number, decoded line, problem) for a line-oriented file.

    Each line is decoded on its own (UTF-8, else a plausible legacy encoding), so a
    file that mixes encodings loses only its bad lines. Lines over
    ``MAX_ARTICLE_BYTES`` are skipped without being held in memory.
    """
    with open(path, "rb") as handle:
        head = handle.read(BINARY_SNIFF_BYTES)
        handle.seek(0)
        unicode_bom = _unicode_bom(head)
        if unicode_bom:
            yield from _iter_wide_lines(handle, unicode_bom, display)
            return
        if _looks_binary(head):
            yield 1, "", InputError(
                "binary file, not text (NUL bytes or control codes)", path=display
            )
            return
        for line_number, raw in enumerate(_physical_lines(handle), start=1):
            if raw is None:
                yield line_number, "", InputError(
                    _too_large(None, "line"), path=display, line=line_number
                )
                continue
            if line_number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if b"\x00" in raw:
                yield line_number, "", InputError(
                    "NUL bytes in line (binary data?)", path=display, line=line_number
                )
                continue
            text = decode_text(raw)
            if text is None:
                yield line_number, "", InputError(_undecodable(raw), path=display, line=line_number)
                continue
            yield line_number, text, None


def _physical_lines(handle) -> Iterator[bytes | None]:
    """Lines ending in LF, CRLF or a lone CR (classic Mac, e.g. Excel's "CSV (Macintosh)")."""
    for raw in _bounded_lines(handle):
        if raw is not None and b"\r" in raw[:-2]:
            yield from raw.splitlines(keepends=True)
        else:
            yield raw


def _iter_wide_lines(
    handle, encoding: str, display: str
) -> Iterator[tuple[int, str, InputError | None]]:
    stream = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
    line_number = 0
    try:
        for line_number, line in enumerate(stream, start=1):
            if len(line) > MAX_ARTICLE_BYTES:
                yield line_number, "", InputError(
                    _too_large(None, "line"), path=display, line=line_number
                )
                continue
            yield line_number, line, None
    except UnicodeDecodeError:
        yield line_number + 1, "", InputError(
            f"invalid {encoding.upper()}; the rest of the file was not read",
            path=display,
            line=line_number + 1,
        )
    finally:
        stream.detach()


def _bounded_lines(handle) -> Iterator[bytes | None]:
    """Lines of a binary file; ``None`` for a line over the limit (read past, not kept).

    A file whose lines end in lone CRs reads as one long "line" up to the limit: its
    lines are cut out of it here, so a big file of short ones is not refused."""
    pending = b""  # the unfinished last line of such a stretch
    while True:
        line = pending + handle.readline(MAX_ARTICLE_BYTES + 1)
        pending = b""
        if not line:
            return
        if len(line) > MAX_ARTICLE_BYTES and not line.endswith(b"\n") and b"\r" in line:
            *complete, pending = line.split(b"\r")
            yield from (piece + b"\r" for piece in complete)
            if len(pending) > MAX_ARTICLE_BYTES:  # one line over the limit (its rest follows)
                pending = b""
                yield None
            continue
        if len(line) > MAX_ARTICLE_BYTES and not line.endswith(b"\n"):
            while True:
                chunk = handle.readline(1 << 20)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield None
            continue
        yield line


# --------------------------------------------------------------------------- small helpers


def _extension(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _clean_value(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _short(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _too_large(size: int | None, what: str) -> str:
    limit = MAX_ARTICLE_BYTES / 1024 / 1024
    if size is None:
        return f"{what} over the {limit:g} MB limit for one article"
    return f"{what} is {size / 1024 / 1024:.1f} MB, over the {limit:g} MB limit for one article"


def _os_reason(error: OSError) -> str:
    return error.strerror or error.__class__.__name__


def _location(source_path: str | None) -> dict:
    """Split "file:line" back into path and line for an InputError."""
    if not source_path:
        return {}
    head, _, tail = source_path.rpartition(":")
    if head and tail.isdigit():
        return {"path": head, "line": int(tail)}
    return {"path": source_path}


__all__ = [
    "ArticleRecord",
    "ColumnNames",
    "InputError",
    "MAX_ARTICLE_BYTES",
    "decode_text",
    "extract_html",
    "iter_records",
    "normalize_published",
    "parse_inferred",
    "read_manifest",
]
