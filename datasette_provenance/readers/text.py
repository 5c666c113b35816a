"""Plain text files: one article each; the id is the file stem, the title is left to cleaning."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .decoding import decode_document, read_whole_file
from .records import ArticleRecord, ColumnNames, InputError, Reader, readable_name


def read(path: str, display: str, columns: ColumnNames) -> Iterator[ArticleRecord | InputError]:
    yield _read_text_file(path, display)


def _read_text_file(path: str, display: str) -> ArticleRecord | InputError:
    data = read_whole_file(path, display)
    if isinstance(data, InputError):
        return data
    text = decode_document(data, display)
    if isinstance(text, InputError):
        return text
    if not text.strip():
        return InputError("empty text", path=display)
    return ArticleRecord(id=readable_name(Path(path).stem), text=text, source_path=display)


READER = Reader((".txt",), read, "(id = file stem)")
