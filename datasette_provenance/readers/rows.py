"""Records from rows: a JSON object, a CSV row or a Parquet row, checked field by field.

JSON keys and CSV columns are found through ``ColumnNames``: a name given there is
used exactly (case-insensitive); otherwise the first present of the aliases in
``COLUMN_ALIASES`` (``text``, ``body``, ``content`` ...) is used. ``id`` and
``text`` are required; ``inferred`` (or ``inferred_fields``) lists the metadata
fields that are guesses, as in a manifest.
"""

from __future__ import annotations

import json
import re
from typing import Mapping

from . import records
from .dates import normalize_language, normalize_published
from .decoding import looks_binary_text
from .records import (
    METADATA_FIELDS,
    ArticleRecord,
    ColumnNames,
    InputError,
    clean_value,
    json_type,
    too_large,
)


def record_from_mapping(
    row: Mapping[str, object],
    columns: ColumnNames | None = None,
    path: str = "",
    line: int | None = None,
) -> ArticleRecord | InputError:
    """One record from a mapping of fields (a Parquet row), checked like a JSONL line."""
    columns = columns or ColumnNames()
    record = record_from_row(row, columns.resolve(row.keys()), columns, path, line)
    if line is None and isinstance(record, ArticleRecord):
        record.source_path = path
    return record


def record_from_row(
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
            name: field_value(row, resolved[name], name)
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
            f"field {resolved['text']!r} must be a string, got {json_type(text)}", **where
        )
    if len(text) > records.MAX_ARTICLE_BYTES:
        return InputError(too_large(len(text.encode("utf-8", "surrogatepass")), "text"), **where)
    if looks_binary_text(text):
        return InputError("text looks binary (NUL or control characters)", **where)
    try:
        refuse_lone_surrogates(text, resolved["text"])
        published = normalize_published(values["published"]) if values.get("published") else None
        language = normalize_language(values["language"]) if values.get("language") else None
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


def field_value(row: Mapping[str, object], key: str, name: str) -> str | None:
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
        raise ValueError(f"field {key!r} must be {expected}, got {json_type(value)}")
    refuse_lone_surrogates(value, key)
    return clean_value(value)


# JSON's "\ud800" escapes decode to lone surrogates: no UTF-8 for SQLite, no hash.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def refuse_lone_surrogates(value: str, key: str) -> None:
    found = None if value.isascii() else _LONE_SURROGATE.search(value)  # most text: one C pass
    if found:
        raise ValueError(
            f"field {key!r} is not valid Unicode (a lone surrogate, \\u{ord(found.group()):04x})"
        )


def parse_inferred(value: object) -> list[str]:
    """Field names from an ``inferred`` cell or JSON value; unknown names are an error."""
    if value is None or value == "":
        return []
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:  # a JSON array in a text cell, as sqlite-utils stores a list
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"'inferred' is not a JSON array: {value[:40]!r}") from None
    if isinstance(value, str):
        names = [part for part in re.split(r"[\s,;|]+", value) if part]
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        names = [part.strip() for part in value if part.strip()]
    else:
        raise ValueError(f"'inferred' must list field names, got {json_type(value)}")
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
