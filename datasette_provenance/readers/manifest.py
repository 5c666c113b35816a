"""Manifests: metadata by article id, kept beside the articles it describes.

``read_manifest(path)`` reads ``.csv``/``.tsv``, ``.json`` (a list of objects with
an ``id``, or an object ``{id: {...}}``) or ``.jsonl``. Fields: ``id`` (required),
``title``, ``outlet``, ``url``, ``published``, ``language`` and ``inferred``: the
names of the fields that are guesses rather than stated by the source, separated by
commas, semicolons, ``|`` or spaces in CSV (``outlet;published``), or a JSON list
(``["outlet"]``), and ``outlet_names``/``outlet_domains``: other names the outlet goes
by in text, for credit checks ("The New York Times;the Times", "nytimes.com"; ``;`` or
``|`` between names in CSV, a list in JSON). Unknown columns are ignored. It returns
``{id: {field: value,
"inferred_fields": [...], "source_path": "manifest.csv:7"}}`` in file order, with
only the fields that have a value. Whether every id exists is the caller's check.

A manifest is small and hand-made, so any problem in it raises ``InputError``
naming ``file:line``: it is fixed and the run repeated rather than half applied.

``directory_manifests(paths)`` finds the ``manifest.csv`` or ``manifest.json`` inside
each directory given: it describes that directory's articles, so it is used as their
manifest and not read as an article.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from typing import Iterable, Iterator, Mapping

from .dates import normalize_language, normalize_published
from .decoding import decode_document, iter_lines, read_whole_file
from . import delimited
from .delimited import csv_records, iter_csv_rows
from .paths import directories, extension
from .records import (
    METADATA_FIELDS,
    ColumnNames,
    InputError,
    PathInput,
    json_problem,
    json_type,
    os_reason,
)
from .rows import field_value, parse_inferred, refuse_lone_surrogates

MANIFEST_EXTENSIONS = frozenset({".csv", ".tsv", ".json", ".jsonl", ".ndjson"})
DIRECTORY_MANIFESTS = ("manifest.csv", "manifest.json")


def directory_manifests(paths: Iterable[PathInput]) -> list[tuple[str, str]]:
    """(directory, its manifest) for each directory given, or under one given, that holds
    one (parents before their subdirectories: a deeper manifest wins for an id both name);
    raises ``InputError`` for a directory holding both names (which one is meant?)."""
    found = []
    for given in paths:
        if os.path.isdir(os.fspath(given)):
            for directory in directories(os.fspath(given)):
                found += _manifest_of(directory)
    return found


def _manifest_of(directory: str) -> list[tuple[str, str]]:
    present = [
        os.path.join(directory, name)
        for name in DIRECTORY_MANIFESTS
        if os.path.isfile(os.path.join(directory, name))
    ]
    if len(present) > 1:
        raise InputError(
            f"two manifests ({', '.join(DIRECTORY_MANIFESTS)}): keep one, or name the one "
            "to use with --manifest",
            path=directory,
        )
    return [(directory, present[0])] if present else []


def read_manifest(path: PathInput) -> dict[str, dict]:
    """Metadata by article id from a CSV/TSV, JSON or JSONL manifest (file order).

    Any problem raises ``InputError`` naming ``file:line``: a manifest is small and
    hand-made, so it is fixed and the run repeated rather than half applied.
    """
    display = os.fspath(path)
    if not os.path.exists(display):
        raise InputError("no such file", path=display)
    suffix = extension(display)
    if suffix not in MANIFEST_EXTENSIONS:
        raise InputError(
            f"unsupported manifest type {suffix or '(no extension)'!r}; expected one of "
            + ", ".join(sorted(MANIFEST_EXTENSIONS)),
            path=display,
        )
    try:
        if suffix in delimited.READER.suffixes:
            entries = _manifest_csv_entries(display)
        elif suffix == ".json":
            entries = _manifest_json_entries(display)
        else:
            entries = _manifest_jsonl_entries(display)
        return _build_manifest(entries, display)
    except OSError as error:
        raise InputError(f"cannot read manifest ({os_reason(error)})", path=display) from None


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
    article_id = field_value(entry, resolved["id"], "id")
    if not article_id:
        raise ValueError("empty id")
    item: dict = {"id": article_id}
    for name in METADATA_FIELDS:
        key = resolved[name]
        value = field_value(entry, key, name) if key is not None else None
        if value is None:
            continue
        if name == "published":
            value = normalize_published(value)
        elif name == "language":
            value = normalize_language(value)
        item[name] = value
    item["inferred_fields"] = parse_inferred(
        entry.get(resolved["inferred"]) if resolved["inferred"] else None
    )
    for name, keys in OUTLET_NAME_FIELDS.items():
        key = next((k for k in entry if isinstance(k, str) and k.strip().casefold() in keys), None)
        names = parse_outlet_names(entry.get(key), key) if key else []
        if names:
            if name == "outlet_domains":
                names = [outlet_domain(value) or value.casefold() for value in names]
            item[name] = names
    return item


# Manifest columns naming an outlet's other names (separated by ";" or "|" in CSV, a list
# in JSON): "The New York Times;the Times" and "nytimes.com" for the outlet "nytimes".
OUTLET_NAME_FIELDS = {
    "outlet_names": ("outlet_names", "outlet_aliases"),
    "outlet_domains": ("outlet_domains", "outlet_domain"),
}


def parse_outlet_names(value: object, key: str) -> list[str]:
    """Names from an ``outlet_names``/``outlet_domains`` cell or JSON list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = re.split(r"[;|]", value)
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        raise ValueError(f"field {key!r} must list names, got {json_type(value)}")
    names = []
    for part in parts:
        refuse_lone_surrogates(part, key)
        name = " ".join(part.split())
        if name and name not in names:
            names.append(name)
    return names


def outlet_domain(url: str | None) -> str | None:
    """The site a URL or bare domain belongs to ("https://www.nytimes.com/x" -> "nytimes.com")."""
    if not url:
        return None
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urllib.parse.urlsplit(text).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
    return host


def _manifest_csv_entries(display: str) -> Iterator[tuple[int, dict[str, str]]]:
    rows = iter_csv_rows(display, display)
    first = next(rows, None)
    if first is None:
        return
    if isinstance(first, InputError):
        raise first
    header = [name.strip() for name in first[1]]
    for item in csv_records(rows, header, display):
        if isinstance(item, InputError):
            raise item  # a manifest is fixed and re-run, never half applied
        yield item


def _manifest_jsonl_entries(display: str) -> Iterator[tuple[int, dict]]:
    for line_number, line, problem in iter_lines(display, display):
        if problem is not None:
            raise problem
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as error:
            raise InputError(
                f"invalid JSON ({json_problem(error)})", path=display, line=line_number
            ) from None
        if not isinstance(value, dict):
            raise InputError(
                f"expected a JSON object, got {json_type(value)}", path=display, line=line_number
            )
        yield line_number, value


def _manifest_json_entries(display: str) -> list[tuple[int, dict]]:
    """Entries of a JSON manifest with the line each starts on.

    The top-level list or object is walked with ``raw_decode`` one element at a
    time, so errors can name the line of the entry at fault.
    """
    data = read_whole_file(display, display)
    if isinstance(data, InputError):
        raise data
    text = decode_document(data, display)
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
                    f"expected a JSON object, got {json_type(value)}",
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
        raise InputError(f"invalid JSON ({json_problem(error)})", path=display) from None


def _skip_json_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1
