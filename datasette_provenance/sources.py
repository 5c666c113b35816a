"""Readers: turn files on disk into ``ArticleRecord`` objects.

Pure functions over paths; nothing here knows about SQLite or Datasette.
Supported inputs: directories, ``.txt`` (id = file stem), ``.jsonl``/``.ndjson``,
``.csv``, ``.html``/``.htm`` (main text via trafilatura), plus a manifest (CSV or
JSON) that adds metadata to articles by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class InputError(Exception):
    """Bad input. ``str(error)`` is one line naming the file (and line)."""


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


# CONTRACT (implemented by the ingest work):
# def iter_records(paths, columns: ColumnNames | None = None) -> Iterator[ArticleRecord | InputError]
#     yields records, and InputError objects for skipped bad inputs (the caller reports them);
#     raises InputError for errors that must stop the whole run.
# def read_manifest(path) -> dict[str, dict]   # id -> {field: value, "inferred_fields": [...]}
