"""SQL functions added to every Datasette connection (``prepare_connection``).

They let people ask provenance questions in plain SQL, for example in the
Datasette query editor or in a canned query:

* ``provenance_jaccard(sig_a, sig_b)`` - estimated Jaccard similarity of two
  stored MinHash signatures (``signatures.hashvalues`` BLOBs).
* ``provenance_containment(text_a, text_b)`` - share of ``text_a``'s word
  5-gram shingles that also occur in ``text_b``.
* ``provenance_normalize(text)`` - the words of a text in the form used for
  comparison (case-folded, accents and inner dots dropped).
* ``provenance_clean(text)`` - a raw article text with boilerplate, credits and
  datelines removed (``cleaning.clean_article``).

Every function returns NULL for NULL or unusable input instead of raising, so
one odd row never breaks a whole query. A text longer than ``MAX_TEXT_CHARS`` is
unusable input: a short URL can build a huge string (``printf('%.*c', 1e8, 'x')``).

Under Datasette the functions keep to its time limit (``sql_time_limit_ms``).
Datasette checks its clock every thousand SQLite steps, which can be a hundred
calls of an expensive function; so each call also checks how long its statement
has run and interrupts it once over the limit (Datasette then reports the time
limit as for any slow query).
"""

from __future__ import annotations

import sqlite3
import time
from functools import wraps

import numpy as np

from ..cleaning import clean_article
from ..matching import tokens
from ..readers.records import MAX_ARTICLE_BYTES

# Word n-gram length used by provenance_containment (the matcher's default).
CONTAINMENT_SHINGLE_SIZE = 5
# Longest text a function reads, as the check page's paste (cleaning it: a tenth of a second).
MAX_TEXT_CHARS = 200_000
# Longest signature BLOB (a 256-permutation signature is 1 KiB).
MAX_SIGNATURE_BYTES = 64 * 1024
# Largest string or BLOB SQLite may build on a Datasette connection: ``printf('%.*c',
# 1000000000, 'x')`` is refused at once instead of building 1 GB. SQLite applies it to a
# whole row when it sorts, so a row of ``articles`` (raw and clean text, each at most
# MAX_ARTICLE_BYTES) must fit; nothing bigger, since a function is handed copies of its
# arguments in Python too (two 50 MB strings under a 64 MB limit took 294 MB).
MAX_VALUE_BYTES = 2 * MAX_ARTICLE_BYTES + 2 * 1024 * 1024


def provenance_jaccard(sig_a: bytes | None, sig_b: bytes | None) -> float | None:
    """Estimated Jaccard similarity of two MinHash signatures.

    Signatures are little-endian uint32 arrays of equal length (the
    ``signatures.hashvalues`` column); the estimate is the share of positions
    where the two hold the same value. Example::

        select a.segment_id, b.segment_id,
               provenance_jaccard(a.hashvalues, b.hashvalues) as jaccard
        from signatures a join signatures b
          on a.segment_id < b.segment_id and a.kind = b.kind
        where a.window = 0 and b.window = 0 and a.kind = 'text'
        order by jaccard desc limit 20
    """
    if not isinstance(sig_a, bytes) or not isinstance(sig_b, bytes):
        return None
    if not sig_a or len(sig_a) != len(sig_b) or len(sig_a) % 4:
        return None
    if len(sig_a) > MAX_SIGNATURE_BYTES:
        return None
    values_a = np.frombuffer(sig_a, dtype="<u4")
    values_b = np.frombuffer(sig_b, dtype="<u4")
    return float(np.count_nonzero(values_a == values_b)) / len(values_a)


def provenance_containment(text_a: str | None, text_b: str | None) -> float | None:
    """Share of ``text_a``'s word 5-gram shingles found in ``text_b`` (0.0-1.0).

    Not symmetric: a short quote fully inside a long article scores 1.0 one way
    and close to 0.0 the other. Example::

        select s.title, d.title,
               provenance_containment(d.clean_text, s.clean_text) as copied_share
        from matches m
        join segment_texts s on s.id = m.source_segment_id
        join segment_texts d on d.id = m.derived_segment_id
        order by copied_share desc
    """
    if not _usable(text_a) or not _usable(text_b):
        return None
    shingles_a = _shingle_set(text_a)
    if not shingles_a:
        return None
    return len(shingles_a & _shingle_set(text_b)) / len(shingles_a)


def provenance_normalize(text: str | None) -> str | None:
    """The comparison form of a text: normalised words joined by single spaces.

    Example: ``select provenance_normalize('The U.S. Army''s Café')``
    returns ``'the us armys cafe'``.
    """
    if not _usable(text):
        return None
    return " ".join(tokens.words(text))


def provenance_clean(text: str | None) -> str | None:
    """Raw article text minus boilerplate, credit lines and datelines.

    Example::

        select id, provenance_clean(raw_text) = clean_text as unchanged
        from articles limit 10
    """
    if not _usable(text):
        return None
    return clean_article(text).clean_text


def _usable(text) -> bool:
    return isinstance(text, str) and len(text) <= MAX_TEXT_CHARS


def register(conn: sqlite3.Connection, time_limit_ms: int | None = None) -> None:
    """Add the functions to one SQLite connection. With ``time_limit_ms`` (Datasette's),
    a statement calling them is interrupted once it has run that long, and no string or
    BLOB may grow past ``MAX_VALUE_BYTES``."""
    functions = [
        ("provenance_jaccard", 2, provenance_jaccard),
        ("provenance_containment", 2, provenance_containment),
        ("provenance_normalize", 1, provenance_normalize),
        ("provenance_clean", 1, provenance_clean),
    ]
    clock = _StatementClock(conn, time_limit_ms) if time_limit_ms else None
    if clock and hasattr(conn, "setlimit"):  # Python 3.11+
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    for name, arity, function in functions:
        timed = clock.timed(function) if clock else function
        conn.create_function(name, arity, timed, deterministic=True)


class _StatementClock:
    """When the connection's current statement began (SQLite's trace callback runs as each
    one starts); a call made after the limit interrupts the statement instead of running."""

    def __init__(self, conn: sqlite3.Connection, limit_ms: int):
        self.conn, self.limit = conn, limit_ms / 1000
        self.started = time.perf_counter()
        conn.set_trace_callback(self._statement_started)

    def _statement_started(self, sql: str) -> None:
        if not sql.startswith("-- "):  # not a statement run inside another (FTS5's own)
            self.started = time.perf_counter()

    def timed(self, function):
        @wraps(function)
        def call(*args):
            if time.perf_counter() - self.started > self.limit:
                self.conn.interrupt()  # Datasette answers "SQL query took too long"
                return None
            return function(*args)

        return call


def _shingle_set(text: str) -> set[int]:
    hashes = tokens.token_hashes(tokens.words(text))
    return set(tokens.shingle_hashes(hashes, CONTAINMENT_SHINGLE_SIZE).tolist())
