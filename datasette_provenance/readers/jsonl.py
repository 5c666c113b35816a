"""JSON Lines: one JSON object per line; blank lines are allowed."""

from __future__ import annotations

import json
from typing import Iterator

from .decoding import iter_lines
from .records import ArticleRecord, ColumnNames, InputError, Reader, json_problem, json_type
from .rows import record_from_row


def read(
    path: str, display: str, columns: ColumnNames
) -> Iterator[ArticleRecord | InputError]:
    resolved_for: dict[tuple[str, ...], dict[str, str | None]] = {}
    empty = True
    for line_number, line, problem in iter_lines(path, display):
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
            yield InputError(f"invalid JSON ({json_problem(error)})", path=display, line=line_number)
            continue
        except RecursionError:
            yield InputError("JSON nested too deeply", path=display, line=line_number)
            continue
        if not isinstance(value, dict):
            yield InputError(
                f"expected a JSON object, got {json_type(value)}", path=display, line=line_number
            )
            continue
        keys = tuple(value)
        resolved = resolved_for.get(keys)
        if resolved is None:
            resolved = resolved_for[keys] = columns.resolve(keys)
        yield record_from_row(value, resolved, columns, display, line_number)
    if empty:
        yield InputError("empty file", path=display)


READER = Reader((".jsonl", ".ndjson"), read)
