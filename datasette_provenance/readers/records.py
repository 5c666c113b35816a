"""Article records, the column names that find their fields, and input errors.

Every reader yields ``ArticleRecord`` objects for the articles it reads and
``InputError`` objects for inputs it skips; ``str(error)`` is always one line,
``file:line: reason`` where there is a line (``error.path``, ``error.line`` and
``error.reason`` hold the parts), never a traceback. A ``Reader`` says how one kind
of file is read (``readers.READERS`` holds them by suffix).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Union

# One article may be at most this big (a .txt/.html file, a JSON line, a CSV
# record). Real articles are kilobytes; anything this large is a dump or a binary
# that slipped through, and reading it whole would cost hundreds of MB of memory.
MAX_ARTICLE_BYTES = 20 * 1024 * 1024
# A feed holds many articles (feedparser reads it whole, several times its size in memory).
MAX_FEED_BYTES = 100 * 1024 * 1024

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
        self.reason = one_line(reason)
        self.path = None if path is None else os.fspath(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.reason
        where = one_line(self.path) if self.line is None else f"{one_line(self.path)}:{self.line}"
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


@dataclass(frozen=True)
class Reader:
    """One kind of article file: ``read(path, display, columns)`` yields its records and
    problems, ``display`` naming the file in messages."""

    suffixes: tuple[str, ...]  # lower case, with the dot: (".csv", ".tsv")
    read: Callable[[str, str, ColumnNames], Iterator[ArticleRecord | InputError]]
    summary: str = ""  # for help texts, after the suffixes: "(id = file stem)"

    def describe(self) -> str:
        return " ".join(filter(None, ["/".join(self.suffixes), self.summary]))


# --------------------------------------------------------------------------- messages


def readable_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as surrogates) are
    written as \\xNN, so the name can be stored and printed."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def clean_value(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def json_type(value: object) -> str:
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


def too_large(
    size: int | None, what: str, limit: int | None = None, per: str = "one article"
) -> str:
    megabytes = (limit or MAX_ARTICLE_BYTES) / 1024 / 1024
    if size is None:
        return f"{what} over the {megabytes:g} MB limit for {per}"
    return f"{what} is {size / 1024 / 1024:.1f} MB, over the {megabytes:g} MB limit for {per}"


def os_reason(error: OSError) -> str:
    return error.strerror or error.__class__.__name__


def location(source_path: str | None) -> dict:
    """Split "file:line" back into path and line for an InputError."""
    if not source_path:
        return {}
    head, _, tail = source_path.rpartition(":")
    if head and tail.isdigit():
        return {"path": head, "line": int(tail)}
    return {"path": source_path}


def json_problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return "a number too long to read"  # ValueError: an integer of more than 4,300 digits
