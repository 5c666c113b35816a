"""Articles already in a SQLite table (``ingest DB --from-table OTHER.db:TABLE``).

Any table or view, made by sqlite-utils, a scraper or another Datasette instance: each
row is one article, its fields found by the same ``--*-column`` options (and aliases) as
CSV and JSONL rows. Problems with the table itself (no file, not SQLite, no such table,
no id or text column) stop the run before anything is read; a bad row is skipped, named
``file:table:rowid`` (text that is not UTF-8 included); a table damaged part-way stops the
run there, naming the table and the last row read (the rows before it are kept). The file is opened read-only and
a table read in batches of rows, each a short read of its own, so a table in the very
database being ingested into can be read while articles are written; a view or WITHOUT
ROWID table is one query, fetched a batch at a time. (The only reader that opens SQLite: other people's tables,
never the provenance store.)
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from typing import Iterator

from .records import ArticleRecord, ColumnNames, InputError
from .rows import record_from_mapping

BATCH_ROWS = 500
_ROWID = "_provenance_source_rowid"  # the rowid, under a name no table's column has


class TableSource:
    """``FILE:TABLE`` (split at the last colon), checked when made."""

    def __init__(self, spec: str, columns: ColumnNames | None = None):
        path, colon, table = spec.rpartition(":")
        if not colon or not path or not table:
            raise InputError(f"--from-table wants FILE:TABLE, got {spec!r}")
        self.path, self.table = path, table
        self.display = f"{path}:{table}"
        self.columns = columns or ColumnNames()
        if not os.path.isfile(path):
            raise InputError("no such file", path=path)
        try:
            names, self.by_rowid = self._inspect()
        except sqlite3.DatabaseError as error:
            raise InputError(f"cannot read as SQLite ({error})", path=path) from None
        self.resolved = self.columns.resolve(names)
        for needed in ("id", "text"):
            if self.resolved[needed] is None:
                raise InputError(
                    f"no {needed} column ({self.columns.describe(needed)}); columns are: "
                    + ", ".join(names),
                    path=self.display,
                )

    def records(self) -> Iterator[ArticleRecord | InputError]:
        used = [column for column in self.resolved.values() if column is not None]
        for rowid, row in self._rows_or_input_error():
            bad = next((key for key in used if isinstance(row.get(key), NotUtf8)), None)
            if bad is not None:
                yield InputError(row[bad].reason(bad), path=self.display, line=rowid)
                continue
            yield record_from_mapping(row, self.columns, path=self.display, line=rowid)

    def _inspect(self) -> tuple[list[str], bool]:
        """The table's column names, and whether it can be read in rowid order."""
        with closing(self._connect()) as conn:
            conn.text_factory = lambda data: data.decode("utf-8", "backslashreplace")
            kinds = dict(
                conn.execute("select name, type from sqlite_master where type in ('table', 'view')")
            )
            if self.table not in kinds:
                listed = ", ".join(sorted(kinds)) or "none"
                raise InputError(f"no table {self.table!r} (tables: {listed})", path=self.path)
            names = [row[1] for row in conn.execute("select * from pragma_table_info(?)", [self.table])]
            return names, kinds[self.table] == "table" and _has_rowid(conn, self.table)

    def _connect(self) -> sqlite3.Connection:
        path = os.path.abspath(self.path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        conn.text_factory = _text
        return conn

    def _rows_or_input_error(self) -> Iterator[tuple[int, dict]]:
        """The rows; a table damaged or locked part-way stops the run naming the table and
        the last row read (sqlite3's own message would not say which database failed)."""
        last = None
        try:
            for last, row in self._rows():
                yield last, row
        except sqlite3.DatabaseError as error:
            where = "its first row" if last is None else f"row {last}"
            raise InputError(f"cannot read past {where} ({error})", path=self.display) from None

    def _rows(self) -> Iterator[tuple[int, dict]]:
        quoted = _quote(self.table)
        if not self.by_rowid:
            # A view or WITHOUT ROWID table: one query, fetched a batch at a time, rows
            # numbered. Its read lasts the whole run (a WAL database still takes writes).
            with closing(self._connect()) as conn:
                cursor = conn.execute(f"select * from {quoted}")
                number = 0
                while batch := cursor.fetchmany(BATCH_ROWS):
                    for row in batch:
                        number += 1
                        yield number, dict(row)
            return
        last = None
        while True:
            with closing(self._connect()) as conn:
                after = "" if last is None else "where rowid > :last"
                batch = conn.execute(
                    f"select rowid as {_ROWID}, * from {quoted} {after} order by rowid limit :size",
                    {"last": last, "size": BATCH_ROWS},
                ).fetchall()
            if not batch:
                return
            for row in batch:
                values = dict(row)
                last = values.pop(_ROWID)
                yield last, values


class NotUtf8(bytes):
    """A text value whose bytes are not UTF-8: its row is skipped, named, not the run."""

    def reason(self, column: str) -> str:
        try:
            self.decode("utf-8")
        except UnicodeDecodeError as error:
            return (
                f"column {column!r} is not UTF-8 text (byte 0x{self[error.start]:02x} "
                f"at offset {error.start})"
            )
        return f"column {column!r} is not UTF-8 text"


def _text(data: bytes) -> str | NotUtf8:
    """SQLite text as str, decoded value by value: one bad value would otherwise stop the
    whole read half-way (sqlite3's own decoding raises for the batch)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return NotUtf8(data)


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"select rowid from {_quote(table)} limit 0")
        return True
    except sqlite3.OperationalError:
        return False


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
