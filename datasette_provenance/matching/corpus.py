"""The corpus's story-term frequencies in SQLite (``story_terms``): how many segments use
each content term, the corpus-wide rarity that same-story similarity weighs words by
(``stories``).

Ingest adds each new segment's terms and removes a replaced article's
(``count_story_terms``, in the caller's transaction); a database from an earlier
release is counted once, in full, by its next ingest or match
(``ensure_story_terms``). ``stored_rarity`` reads the table as ``stories.Rarity``.
"""

from __future__ import annotations

import itertools
from typing import Iterable, Sequence

import numpy as np
import sqlite_utils

from ..store import get_meta, set_meta
from . import stories
from .segments import kept_ranges
from .tokens import words_in_ranges

# Set once story_terms counts every segment.
STORY_TERMS_META_KEY = "story_terms_counted"


def segment_story_keys(norms: Sequence[str]) -> list[int]:
    """The keys of a segment's distinct content terms (from its normalised tokens)."""
    return stories.term_keys(stories.story_terms(norms))


def count_story_terms(
    db: sqlite_utils.Database, key_lists: Iterable[Sequence[int]], sign: int = 1
) -> None:
    """Add segments' terms to story_terms (``sign`` -1: remove them); caller's transaction."""
    # Counted with numpy, in key order (each story_terms page is then visited once).
    keys = np.fromiter(itertools.chain.from_iterable(map(set, key_lists)), dtype=np.int64)
    if not len(keys):
        return
    terms, counts = np.unique(keys, return_counts=True)
    terms = terms.tolist()
    db.conn.executemany(
        "INSERT INTO story_terms (term, segments) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET segments = segments + excluded.segments",
        zip(terms, (counts * sign).tolist()),
    )
    if sign < 0:
        db.conn.executemany(
            "DELETE FROM story_terms WHERE term = ? AND segments <= 0", [(k,) for k in terms]
        )


def ensure_story_terms(db: sqlite_utils.Database) -> None:
    """Count every stored segment's terms, if that was never done (caller's transaction)."""
    if get_meta(db, STORY_TERMS_META_KEY):
        return
    db.conn.execute("DELETE FROM story_terms")
    articles = [row[0] for row in db.execute("SELECT id FROM articles")]
    for start in range(0, len(articles), 500):
        count_story_terms(
            db,
            [
                segment_story_keys(norms)
                for article_id in articles[start : start + 500]
                for norms in stored_segment_norms(db, article_id).values()
            ],
        )
    set_meta(db, STORY_TERMS_META_KEY, True)


def stored_segment_norms(db: sqlite_utils.Database, article_id: str) -> dict[str, list[str]]:
    """Each stored segment's normalised tokens, as ingest made them (kept ranges of the raw text)."""
    row = db.execute("SELECT raw_text FROM articles WHERE id = ?", [article_id]).fetchone()
    if row is None:
        return {}
    removed = db.execute(
        "SELECT start_char, end_char FROM boilerplate_spans WHERE article_id = ?", [article_id]
    ).fetchall()
    return {
        segment_id: words_in_ranges(row[0], kept_ranges((start, end), removed))
        for segment_id, start, end in db.execute(
            "SELECT id, start_char, end_char FROM segments WHERE article_id = ?", [article_id]
        )
    }


def stored_rarity(db: sqlite_utils.Database) -> stories.Rarity:
    """story_terms as ``stories.Rarity``; the terms looked up are kept in memory (read-only)."""
    known: dict[int, int] = {}

    def frequency(keys: Sequence[int]) -> dict[int, int]:
        missing = [key for key in set(keys) if key not in known]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            known.update(dict.fromkeys(chunk, 0))
            known.update(
                db.execute(
                    "SELECT term, segments FROM story_terms "
                    f"WHERE term IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return {key: known[key] for key in keys}

    segments = db.execute("SELECT count(*) FROM segments").fetchone()[0]
    return stories.Rarity(segments, frequency)
