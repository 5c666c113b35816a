"""LSH index of segment signatures, kept in SQLite and updated incrementally.

Tables (DDL in store.py):

* ``signatures`` - one row per signed window: kind ``'text'`` (window 0 = whole
  segment, then the token windows) and kind ``'story'`` (window 0 only);
* ``lsh_index`` - one row per distinct (kind, band, band hash) of a segment, as
  one integer *bucket* and the segment's integer key (``segments.seq``).
  Segments that share a bucket are candidates for each other;
* ``lsh_pending`` - the buckets of segments added with ``deferred=True``
  (ingest), one row per segment (a JSON array), until ``flush`` moves them into
  ``lsh_recent``, a second table like ``lsh_index``, merged into it once it holds
  a quarter as many segments: sorted inserts into a big B-tree still rewrite most
  of its pages, so adding ten thousand articles to an archive of millions goes
  into the small table, and the big one is rewritten once per 25% growth.
  A few hundred random B-tree inserts per article cost more than everything
  else ingest does, and more the bigger the index gets (each lands on its own
  page); appending them in segment order and moving them in bulk, sorted by
  bucket, costs a fraction of that. Lookups read ``lsh_index`` and
  ``lsh_recent``, so pending rows are found once flushed: ingest flushes before it ends (and
  matching before it starts);
* ``lsh_bands`` - a view of both as (kind, band, hash, segment_id).

Nothing here holds the corpus in memory: adding a segment writes its rows,
looking one up reads only the buckets its own bands fall in (bounded, see
``MAX_BUCKET_READ``) and the stored signatures of the segments found there.

Transactions: ``add``/``add_many``/``remove`` and the first ``check_params`` only
write; the caller commits (pipeline writes an article and its index rows in one
transaction). ``rebuild`` and ``flush`` are whole-database operations and commit
in batches.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import sqlite_utils

from .signatures import (
    DEFAULT_PARAMS,
    SegmentSignatures,
    ParamsError,
    SignatureParams,
    estimate_containment,
    jaccard_matrix,
    pack,
    unpack,
    unpack_many,
)
from .store import LSH_MERGED_META_KEY, get_meta, set_meta

PARAMS_META_KEY = "signature_params"
# Set while a rebuild is under way: an interrupted rebuild leaves a partial index.
REBUILD_META_KEY = "signature_index_rebuild"
REBUILD_COMMAND = "datasette-provenance match DB --rebuild-index"

# At most this many members of one LSH bucket are read per lookup. A band of
# three or more equal minima is rare by chance, so a bucket this big holds text
# that hundreds of segments carry verbatim: left-over boilerplate (a standard
# disclaimer, a newsletter pitch) or a wire story syndicated by hundreds of
# outlets - or, for story bands, a pair of very common content words. Reading it
# whole would make every lookup as slow as the most copied text in the archive;
# skipping it would lose the syndicated story altogether. So a fixed part is
# read (the first members in segment id order): the same part for every band of
# a copied window, so those members collect hits from all its bands and are
# still found and verified.
MAX_BUCKET_READ = 200

# Candidates whose signatures are loaded and scored, most band hits first. Each
# costs ~1 KB per window to read; past a few hundred, the rest are near-copies of
# ones already scored or weak story-only hits, and alignment could not afford
# them anyway.
MAX_SCORED_CANDIDATES = 300

# A text band hit needs this best window Jaccard: a chance collision of three
# minima between windows that share a stock phrase or two (J ~ 0.01) estimates
# at ~0.03-0.06, while pairs with containment >= 0.5 score >= 0.15 (1st
# percentile 0.26 in benchmarks/lsh_recall.py).
TEXT_MIN_JACCARD = 0.1

# A candidate without a good text hit needs this estimated Jaccard of story
# words. Calibrated on the seeds: the summit story's rewrites estimate at
# 0.16-0.31 with each other, the unrelated Canada story at 0.02-0.05 (exact
# Jaccard 0.06-0.07). The estimate's standard deviation with 128 permutations is
# ~0.035 at J = 0.19 and ~0.022 at J = 0.07, so 0.12 is two of them from both.
STORY_MIN_JACCARD = 0.12

# Odd 64-bit multipliers combining a band's rows into one 64-bit value.
_BAND_MULTIPLIERS = np.array(
    [
        0x9FB21C651E98DF25,
        0xD6E8FEB86659FD93,
        0xA0761D6478BD642F,
        0xE7037ED1A0B428DB,
        0x8EBC6AF09C88C6E3,
        0x589965CC75374CC3,
        0x1D8E4E27C47D124F,
        0xF1357AEA2E62A9C5,
    ],
    dtype=np.uint64,
)


# An lsh_index bucket: the band hash's top 54 bits, then the band number (9 bits,
# signatures.MAX_BANDS) and the kind (1 bit: story). Two different bands collide
# with probability ~2**-54.
_BUCKET_LOW_BITS = 10
_KIND_BITS = {"text": 0, "story": 1}
_KINDS = ("text", "story")

# Pending rows are moved into lsh_recent this many segments per transaction (each
# transaction writes every index page its rows land on, so fewer, larger ones).
FLUSH_SEGMENTS = 200_000
# lsh_recent is merged into lsh_index when it holds this share of lsh_index's
# segments, and at least MERGE_MIN_SEGMENTS (below that both are small anyway).
MERGE_SHARE = 0.25
MERGE_MIN_SEGMENTS = 50_000
# Segments (by seq) whose rows are in lsh_index: the rest are in lsh_recent or pending.
MERGED_META_KEY = LSH_MERGED_META_KEY


class IndexParamsError(Exception):
    """The database's index was built with other signature params (or is incomplete)."""


@dataclass(frozen=True)
class CandidateHit:
    segment_id: str
    text_band_hits: int  # distinct text (band, hash) keys shared
    story_band_hits: int  # distinct story (band, hash) keys shared
    best_window_jaccard: float  # best estimated Jaccard over (query window, candidate window) pairs
    best_windows: tuple[int, int]  # (query window, candidate window) of best_window_jaccard
    containment: float  # best estimated share of the smaller window found in the larger
    story_jaccard: float  # estimated Jaccard of the story signatures (0 when either is empty)


# ----------------------------------------------------------------------------- params


def check_params(db: sqlite_utils.Database, params: SignatureParams) -> None:
    """Refuse to mix signatures made with different params in one database.

    On first use records ``params`` in ``provenance_meta`` (the caller commits).
    Raises ``IndexParamsError`` telling the user to rebuild when the database was
    built with other params, or when a rebuild was interrupted.
    """
    if get_meta(db, REBUILD_META_KEY):
        raise IndexParamsError(
            f"{_database_name(db)}: a rebuild of the similarity index was interrupted; "
            f"run `{REBUILD_COMMAND}` again to finish it"
        )
    stored = get_meta(db, PARAMS_META_KEY)
    if stored is None:
        if db.execute("SELECT 1 FROM signatures LIMIT 1").fetchone():
            raise IndexParamsError(
                f"{_database_name(db)}: the similarity index has no recorded signature "
                f"params; run `{REBUILD_COMMAND}` to rebuild it"
            )
        set_meta(db, PARAMS_META_KEY, params.as_dict())
        return
    if stored != params.as_dict():
        raise IndexParamsError(
            f"{_database_name(db)}: the similarity index was built with different signature "
            f"params ({_describe_differences(stored, params.as_dict())}); run "
            f"`{REBUILD_COMMAND}` to rebuild it with the current ones"
        )


def stored_params(db: sqlite_utils.Database) -> SignatureParams | None:
    """The params the database's index was built with, if recorded."""
    try:
        stored = get_meta(db, PARAMS_META_KEY)
        if stored is None:
            return None
        return SignatureParams.from_dict(stored)
    except (ParamsError, TypeError, ValueError) as error:  # ValueError: not JSON at all
        raise IndexParamsError(
            f"{_database_name(db)}: unusable signature params recorded ({error}); "
            f"run `{REBUILD_COMMAND}` to rebuild the similarity index"
        ) from error


def _describe_differences(stored: dict, current: dict) -> str:
    keys = sorted(set(stored) | set(current))
    return ", ".join(
        f"{key}: {stored.get(key, 'unset')} in the database, {current.get(key, 'unset')} now"
        for key in keys
        if stored.get(key) != current.get(key)
    )


def _database_name(db: sqlite_utils.Database) -> str:
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or "in-memory database"
    return "database"


# ----------------------------------------------------------------------------- bands


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(windows x bands) signed 64-bit hash of each band's ``rows`` values.

    A multilinear combination with odd 64-bit constants, then the splitmix64
    finaliser; vectorised over every window and band at once (a per-band xxh64
    call would cost more than the whole MinHash). Two different bands of 32-bit
    values collide with probability ~2**-64.
    """
    signatures = np.atleast_2d(signatures)
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    combined = (values * _BAND_MULTIPLIERS[:rows]).sum(axis=2, dtype=np.uint64)
    combined ^= combined >> np.uint64(30)
    combined *= np.uint64(0xBF58476D1CE4E5B9)
    combined ^= combined >> np.uint64(27)
    combined *= np.uint64(0x94D049BB133111EB)
    combined ^= combined >> np.uint64(31)
    return combined.view(np.int64)


def band_keys(signatures: SegmentSignatures, params: SignatureParams) -> list[tuple[str, int, int]]:
    """The segment's distinct (kind, band, hash) keys: text windows' bands and story bands.

    ``hash`` is the band hash's top 54 bits (what an ``lsh_index`` bucket keeps).
    """
    return [_key(bucket) for bucket in buckets(signatures, params).tolist()]


def buckets(signatures: SegmentSignatures, params: SignatureParams) -> np.ndarray:
    """The segment's distinct ``lsh_index`` buckets (int64): ``band_keys`` folded.

    Text buckets first, then story buckets, each in increasing order.
    """
    parts = []
    windows = signatures.banded_windows
    if len(windows):
        text = band_hashes(signatures.text[windows], params.text_bands, params.text_rows)
        parts.append(np.unique(_fold(text, _KIND_BITS["text"])))
    if signatures.story_word_count >= params.story_min_words:
        story = band_hashes(signatures.story, params.story_bands, params.story_rows)
        parts.append(np.unique(_fold(story, _KIND_BITS["story"])))
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts)


def _fold(hashes: np.ndarray, kind_bit: int) -> np.ndarray:
    """(windows x bands) band hashes -> buckets: hash top bits | band | kind."""
    bands = np.arange(hashes.shape[1], dtype=np.int64) << 1 | kind_bit
    return ((hashes >> _BUCKET_LOW_BITS) << _BUCKET_LOW_BITS | bands).ravel()


def _key(bucket: int) -> tuple[str, int, int]:
    return (_KINDS[bucket & 1], (bucket >> 1) & 511, bucket >> _BUCKET_LOW_BITS)


# ----------------------------------------------------------------------------- writing


def add(
    db: sqlite_utils.Database,
    segment_id: str,
    signatures: SegmentSignatures,
    params: SignatureParams,
) -> None:
    """Index one segment, replacing any rows it had. The caller owns the transaction."""
    add_many(db, [(segment_id, signatures)], params)


def add_many(
    db: sqlite_utils.Database,
    items: Iterable[tuple[str, SegmentSignatures]],
    params: SignatureParams,
    *,
    deferred: bool = False,
    precomputed_buckets: Sequence[np.ndarray | str | None] | None = None,
) -> None:
    """Index several segments, replacing any rows they had (caller's transaction).

    Prefer one call per batch of segments to one ``add`` per segment. The
    segments' rows must exist (``segments.seq`` is assigned here on first use).
    With ``deferred`` each segment's buckets are appended to ``lsh_pending`` (one
    row) and become visible to ``candidates`` after ``flush``; otherwise they go
    straight into ``lsh_index`` (sorted, so each B-tree page is visited once per call).
    ``precomputed_buckets`` may give each item's ``buckets(signatures, params)``, or
    its ``pending_text``, made where the signing was (ingest worker processes).
    """
    items = list(items)
    if not items:
        return
    ids = [segment_id for segment_id, _ in items]
    remove(db, ids, params)
    seqs = _segment_seqs(db, ids)
    signature_rows: list[tuple] = []
    parts = []
    for number, (segment_id, signatures) in enumerate(items):
        signature_rows += _signature_rows(segment_id, signatures)
        found = precomputed_buckets[number] if precomputed_buckets else None
        if found is None:
            found = buckets(signatures, params)
        elif isinstance(found, str) and not deferred:
            found = np.array(json.loads(found), dtype=np.int64)
        parts.append((segment_id, found))
    db.conn.executemany(
        "INSERT INTO signatures (segment_id, window, kind, shingle_count, hashvalues) "
        "VALUES (?, ?, ?, ?, ?)",
        signature_rows,
    )
    if deferred:  # one row per segment, in seq order: appended at the end of lsh_pending
        parts.sort(key=lambda part: seqs[part[0]])
        db.conn.executemany(
            "INSERT INTO lsh_pending (segment, buckets) VALUES (?, ?)",
            [(seqs[segment_id], found if isinstance(found, str) else pending_text(found))
             for segment_id, found in parts],
        )  # fmt: skip
        return
    rows = np.concatenate(
        [np.column_stack([np.full(len(found), seqs[segment_id], np.int64), found])
         for segment_id, found in parts] or [np.zeros((0, 2), np.int64)]
    )  # fmt: skip
    rows = rows[np.lexsort((rows[:, 0], rows[:, 1]))]  # bucket order: each page visited once
    db.conn.executemany(
        "INSERT INTO lsh_index (segment, bucket) VALUES (?, ?)",
        zip(rows[:, 0].tolist(), rows[:, 1].tolist()),
    )


def pending_text(segment_buckets: np.ndarray) -> str:
    """A segment's buckets as its ``lsh_pending`` row stores them: a JSON array."""
    return f"[{','.join(map(str, segment_buckets.tolist()))}]"


def _segment_seqs(db: sqlite_utils.Database, segment_ids: list[str]) -> dict[str, int]:
    """Each segment's ``segments.seq``, assigning the next free ones where missing."""
    found: dict[str, int | None] = {}
    for chunk in _chunks(segment_ids, 500):
        found.update(
            db.execute(
                f"SELECT id, seq FROM segments WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
        )
    absent = [segment_id for segment_id in segment_ids if segment_id not in found]
    if absent:
        raise sqlite3.IntegrityError(f"cannot index segments without a segments row: {absent[:3]}")
    new = [segment_id for segment_id in segment_ids if found[segment_id] is None]
    if new:  # (pipeline.ingest sets seq as it inserts a segment; other writers get it here)
        db.conn.executemany(
            "UPDATE segments SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM segments) "
            "WHERE id = ?",
            [(segment_id,) for segment_id in new],
        )
        for chunk in _chunks(new, 500):
            found.update(
                db.execute(
                    f"SELECT id, seq FROM segments WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
    return found  # type: ignore[return-value]


def _signature_rows(segment_id: str, signatures: SegmentSignatures) -> list[tuple]:
    # All windows packed at once (as ``pack`` would, one by one), then cut per window.
    packed = pack(signatures.text)
    size = len(packed) // max(1, len(signatures.text))
    rows = [
        (segment_id, window, "text", int(count), packed[window * size : (window + 1) * size])
        for window, count in enumerate(signatures.text_shingle_counts.tolist())
    ]
    rows.append((segment_id, 0, "story", signatures.story_word_count, pack(signatures.story)))
    return rows


def remove(
    db: sqlite_utils.Database,
    segment_ids: Iterable[str],
    params: SignatureParams | None = None,
) -> None:
    """Delete the index rows of these segments (caller's transaction).

    A segment's ``lsh_index`` rows are found by their buckets, recomputed from its
    stored signatures with ``params`` (default: the database's), so the index
    needs no second B-tree by segment.
    """
    segment_ids = list(segment_ids)
    if not segment_ids:
        return
    params = params or stored_params(db) or DEFAULT_PARAMS
    for chunk in _chunks(segment_ids, 500):
        marks = ",".join("?" * len(chunk))
        indexed = db.execute(
            f"SELECT id, seq FROM segments WHERE seq IS NOT NULL AND id IN ({marks}) "
            f"AND EXISTS (SELECT 1 FROM signatures WHERE signatures.segment_id = segments.id)",
            chunk,
        ).fetchall()
        for segment_id, seq in indexed:
            signatures = load_signatures(db, segment_id, params)
            if signatures is not None:
                keys = [(bucket, seq) for bucket in buckets(signatures, params).tolist()]
                for table in ("lsh_index", "lsh_recent"):
                    db.conn.executemany(
                        f"DELETE FROM {table} WHERE bucket = ? AND segment = ?", keys
                    )
            db.conn.execute("DELETE FROM lsh_pending WHERE segment = ?", [seq])
        db.conn.execute(f"DELETE FROM signatures WHERE segment_id IN ({marks})", chunk)


def pending_segments(db: sqlite_utils.Database) -> tuple[int, int]:
    """(segments with flushed index rows, segments with pending ones), estimated from seq."""
    low = db.execute("SELECT min(segment) FROM lsh_pending").fetchone()[0]
    high = db.execute("SELECT max(seq) FROM segments").fetchone()[0] or 0
    if low is None:
        return high, 0
    return low - 1, high - low + 1


def flush(
    db: sqlite_utils.Database,
    *,
    batch_segments: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Move every pending bucket row into the index; returns the rows moved.

    Segment range by segment range (``FLUSH_SEGMENTS`` at a time), each in one
    transaction: the range's rows are inserted in bucket order, so every B-tree
    page they land on is written once, however many rows it takes. An
    interrupted flush leaves the rest pending for the next one. Rows go to
    ``lsh_recent``, which is then merged into ``lsh_index`` if it has grown to
    ``MERGE_SHARE`` of it.
    """
    batch_segments = batch_segments or FLUSH_SEGMENTS
    moved = 0
    while True:
        low = db.execute("SELECT min(segment) FROM lsh_pending").fetchone()[0]
        if low is None:
            _merge_if_due(db)
            return moved
        high = low + batch_segments
        with db.conn:
            cursor = db.conn.execute(
                "INSERT INTO lsh_recent (bucket, segment) SELECT j.value, p.segment "
                "FROM lsh_pending AS p, json_each(p.buckets) AS j "
                "WHERE p.segment >= ? AND p.segment < ? ORDER BY 1, 2",
                [low, high],
            )
            moved += cursor.rowcount
            # Read under this transaction's write lock: no other writer can add rows now.
            last = db.conn.execute("SELECT max(segment) FROM lsh_pending").fetchone()[0]
            if last < high:  # all of it: a DELETE without WHERE drops whole pages, 3x faster
                db.conn.execute("DELETE FROM lsh_pending")
            else:
                db.conn.execute(
                    "DELETE FROM lsh_pending WHERE segment >= ? AND segment < ?", [low, high]
                )
        if progress:
            progress(cursor.rowcount)


def _merge_if_due(db: sqlite_utils.Database) -> None:
    """Merge lsh_recent into lsh_index once it holds MERGE_SHARE as many segments."""
    merged = get_meta(db, MERGED_META_KEY, 0)
    flushed, _ = pending_segments(db)
    if flushed - merged < max(MERGE_MIN_SEGMENTS, MERGE_SHARE * merged):
        return
    with db.conn:  # lsh_recent is read in its key order: one sorted pass over lsh_index
        db.conn.execute(
            "INSERT INTO lsh_index (bucket, segment) SELECT bucket, segment FROM lsh_recent "
            "ORDER BY bucket, segment"
        )
        db.conn.execute("DELETE FROM lsh_recent")
        set_meta(db, MERGED_META_KEY, flushed)


def rebuild(
    db: sqlite_utils.Database,
    params: SignatureParams,
    sign_segment: Callable[[str], SegmentSignatures],
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-sign every segment with ``params`` and rebuild the index; returns segments indexed.

    ``sign_segment(segment_id)`` signs one segment from its stored text (the
    caller knows how: raw text and kept ranges). Commits every ``batch_size``
    segments. Resumable: if interrupted, running it again with the same params
    continues with the segments not yet signed; until it finishes,
    ``check_params`` refuses the database.
    """
    in_progress = get_meta(db, REBUILD_META_KEY)
    with db.conn:
        if in_progress != params.as_dict():
            db.conn.execute("DELETE FROM lsh_index")
            db.conn.execute("DELETE FROM lsh_recent")
            db.conn.execute("DELETE FROM lsh_pending")
            set_meta(db, MERGED_META_KEY, 0)
            db.conn.execute("DELETE FROM signatures")
            set_meta(db, PARAMS_META_KEY, params.as_dict())
            set_meta(db, REBUILD_META_KEY, params.as_dict())
    indexed = 0
    last_rowid = -1
    while True:
        batch = db.execute(
            "SELECT rowid, id FROM segments WHERE rowid > ? AND NOT EXISTS "
            "(SELECT 1 FROM signatures WHERE signatures.segment_id = segments.id) "
            "ORDER BY rowid LIMIT ?",
            [last_rowid, batch_size],
        ).fetchall()
        if not batch:
            break
        last_rowid = batch[-1][0]
        with db.conn:
            add_many(
                db,
                [(segment_id, sign_segment(segment_id)) for _, segment_id in batch],
                params,
                deferred=True,
            )
        indexed += len(batch)
        if progress:
            progress(len(batch))
    flush(db)
    with db.conn:
        db.conn.execute("DELETE FROM provenance_meta WHERE key = ?", [REBUILD_META_KEY])
    return indexed


# ----------------------------------------------------------------------------- reading


def load_signatures(
    db: sqlite_utils.Database, segment_id: str, params: SignatureParams
) -> SegmentSignatures | None:
    """A segment's stored signatures (no re-tokenising), or None if it is not indexed.

    ``token_count`` is derived from window 0's shingle count, so it is exact for
    segments of at least ``shingle_size`` tokens.
    """
    rows = db.execute(
        "SELECT kind, window, shingle_count, hashvalues FROM signatures "
        "WHERE segment_id = ? ORDER BY kind, window",
        [segment_id],
    ).fetchall()
    text = [(count, blob) for kind, _, count, blob in rows if kind == "text"]
    story = [(count, blob) for kind, _, count, blob in rows if kind == "story"]
    if not text or not story:
        return None
    shingle_count = text[0][0]
    return SegmentSignatures(
        text=unpack_many([blob for _, blob in text], params.num_perm),
        text_shingle_counts=np.array([count for count, _ in text], dtype=np.int64),
        story=unpack(story[0][1]),
        story_word_count=story[0][0],
        token_count=shingle_count + params.shingle_size - 1 if shingle_count else 0,
    )


def candidates(
    db: sqlite_utils.Database,
    signatures: SegmentSignatures,
    params: SignatureParams,
    exclude_segment_ids: Iterable[str] = (),
) -> dict[str, CandidateHit]:
    """Indexed segments that may share text or story with the signed one, best first.

    A segment is a candidate if it shares a text band with one of the banded
    windows and a window pair estimates at ``TEXT_MIN_JACCARD`` or more, or if
    it shares a story band and its story words estimate at ``STORY_MIN_JACCARD``
    or more. At most ``MAX_SCORED_CANDIDATES`` are scored and returned, most
    text band hits first, then most story band hits.
    """
    members = _bucket_members(db, buckets(signatures, params).tolist())
    text_hits, story_hits = count_band_hits(members, exclude_segment_ids)
    text_first, story_only = rank_band_hits(text_hits, story_hits)
    story_jaccards = _story_jaccards(db, signatures, scoring_pool(text_first, story_only))
    chosen = choose_for_scoring(text_first, story_only, story_jaccards)
    windows = _load_text_windows(db, chosen, signatures.text.shape[1])
    return score_candidates(signatures, windows, text_hits, story_hits, story_jaccards)


# The pure steps of ``candidates``, in order. The Spark engine (spark.py) runs the
# same steps, with bucket members and stored signatures brought by joins.


def count_band_hits(
    members: Iterable[tuple[str, str]], exclude_segment_ids: Iterable[str] = ()
) -> tuple[Counter[str], Counter[str]]:
    """Text and story keys each segment shares with the query, from (kind, segment id) members."""
    excluded = set(exclude_segment_ids)
    text_hits: Counter[str] = Counter()
    story_hits: Counter[str] = Counter()
    for kind, segment_id in members:
        if segment_id not in excluded:
            (text_hits if kind == "text" else story_hits)[segment_id] += 1
    return text_hits, story_hits


def rank_band_hits(
    text_hits: Counter[str], story_hits: Counter[str]
) -> tuple[list[str], list[str]]:
    """Segments with text band hits (most first), and those with story band hits only."""
    story_only = sorted(set(story_hits) - set(text_hits), key=lambda s: (-story_hits[s], s))
    text_first = sorted(text_hits, key=lambda s: (-text_hits[s], -story_hits[s], s))
    return text_first, story_only


def scoring_pool(text_first: list[str], story_only: list[str]) -> list[str]:
    """The segments whose story Jaccard is estimated."""
    return (text_first + story_only)[:MAX_SCORED_CANDIDATES]


def choose_for_scoring(
    text_first: list[str], story_only: list[str], story_jaccards: dict[str, float]
) -> list[str]:
    """The segments whose text windows are loaded and scored."""
    story_passed = [s for s in story_only if story_jaccards.get(s, 0.0) >= STORY_MIN_JACCARD]
    return (text_first + story_passed)[:MAX_SCORED_CANDIDATES]


def estimate_story_jaccards(
    query: SegmentSignatures, segment_ids: Sequence[str], stories: np.ndarray
) -> dict[str, float]:
    """Estimated story Jaccard with stored story signatures (rows of ``stories``, with words)."""
    if not query.story_word_count or not len(segment_ids):
        return {}
    shares = np.count_nonzero(stories == query.story, axis=1) / len(query.story)
    return dict(zip(segment_ids, shares.tolist()))


def score_candidates(
    query: SegmentSignatures,
    windows: dict[str, tuple[np.ndarray, np.ndarray]],
    text_hits: Counter[str],
    story_hits: Counter[str],
    story_jaccards: dict[str, float],
) -> dict[str, CandidateHit]:
    """Score chosen segments from their (text windows, shingle counts); keep those that pass."""
    found = {}
    for segment_id, (values, sizes) in windows.items():
        hit = _score(
            query,
            segment_id,
            values,
            sizes,
            text_hits[segment_id],
            story_hits[segment_id],
            story_jaccards.get(segment_id, 0.0),
        )
        if hit.best_window_jaccard >= TEXT_MIN_JACCARD or hit.story_jaccard >= STORY_MIN_JACCARD:
            found[segment_id] = hit
    return found


def _bucket_members(db: sqlite_utils.Database, keys: Sequence[int]) -> list[tuple[str, str]]:
    """(kind, segment_id) of every member of these buckets (lsh_index buckets), at most
    MAX_BUCKET_READ per bucket."""
    members: list[tuple[str, str]] = []
    for chunk in _chunks(list(keys), _KEYS_PER_QUERY):
        crowded = {
            bucket
            for (bucket,) in db.execute(
                f"{_keys_sql(chunk)} SELECT bucket FROM key WHERE {_MEMBER_SQL} > ?",
                [*chunk, *[MAX_BUCKET_READ + 1] * len(_INDEX_TABLES), MAX_BUCKET_READ],
            )
        }
        ordinary = [bucket for bucket in chunk if bucket not in crowded]
        if ordinary:
            members += [
                (_KINDS[bucket & 1], segment_id)
                for bucket, segment_id in db.execute(
                    f"{_keys_sql(ordinary)} "
                    + " UNION ALL ".join(
                        f"SELECT key.bucket, s.id FROM key "
                        f"CROSS JOIN {table} AS member ON member.bucket = key.bucket "
                        f"JOIN segments AS s ON s.seq = member.segment"
                        for table in _INDEX_TABLES
                    ),
                    ordinary,
                )
            ]
        for bucket in sorted(crowded):
            members += _first_members(db, bucket)
    return members


def _keys_sql(buckets: Sequence[int]) -> str:
    return f"WITH key(bucket) AS (VALUES {','.join(['(?)'] * len(buckets))})"


def _first_members(db: sqlite_utils.Database, bucket: int) -> list[tuple[str, str]]:
    """The first MAX_BUCKET_READ members of a crowded bucket, in segment id order."""
    kind = _KINDS[bucket & 1]
    return [
        (kind, segment_id)
        for (segment_id,) in db.execute(
            "SELECT s.id FROM (SELECT segment FROM lsh_index WHERE bucket = ? UNION ALL "
            "SELECT segment FROM lsh_recent WHERE bucket = ?) AS member "
            "JOIN segments AS s ON s.seq = member.segment ORDER BY s.id LIMIT ?",
            [bucket, bucket, MAX_BUCKET_READ],
        )
    ]


# Keys travel as a VALUES list (one parameter each, within SQLite's historic limit
# of 999 per statement); CROSS JOIN keeps the keys as the outer loop, so each key
# is one primary-key search of lsh_index.
_KEYS_PER_QUERY = 900
_INDEX_TABLES = ("lsh_index", "lsh_recent")
# A bucket is crowded when both tables together hold more than MAX_BUCKET_READ members.
_MEMBER_SQL = " + ".join(
    f"(SELECT count(*) FROM (SELECT 1 FROM {table} AS member "
    f"WHERE member.bucket = key.bucket LIMIT ?))"
    for table in _INDEX_TABLES
)


def _story_jaccards(
    db: sqlite_utils.Database, query: SegmentSignatures, segment_ids: list[str]
) -> dict[str, float]:
    """Estimated story Jaccard with each of these segments (one small row each)."""
    if not query.story_word_count:
        return {}
    jaccards = {}
    for chunk in _chunks(segment_ids, 500):
        rows = db.execute(
            "SELECT segment_id, hashvalues FROM signatures WHERE kind = 'story' AND window = 0 "
            f"AND shingle_count > 0 AND segment_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        if rows:
            stored = unpack_many([blob for _, blob in rows], len(query.story))
            segment_ids_found = [segment_id for segment_id, _ in rows]
            jaccards.update(estimate_story_jaccards(query, segment_ids_found, stored))
    return jaccards


def _load_text_windows(
    db: sqlite_utils.Database, segment_ids: list[str], num_perm: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each segment's text windows (window 0 first) and their shingle counts, in the given order."""
    rows: list[tuple] = []
    for chunk in _chunks(segment_ids, 500):
        rows += db.execute(
            "SELECT segment_id, shingle_count, hashvalues FROM signatures WHERE kind = 'text' "
            f"AND segment_id IN ({','.join('?' * len(chunk))}) ORDER BY segment_id, window",
            chunk,
        ).fetchall()
    if not rows:
        return {}
    values = unpack_many([blob for _, _, blob in rows], num_perm)
    sizes = np.array([count for _, count, _ in rows], dtype=np.int64)
    owners = [segment_id for segment_id, _, _ in rows]
    spans: dict[str, list[int]] = {}
    for position, segment_id in enumerate(owners):
        spans.setdefault(segment_id, [position, position])[1] = position + 1
    return {
        segment_id: (
            values[spans[segment_id][0] : spans[segment_id][1]],
            sizes[spans[segment_id][0] : spans[segment_id][1]],
        )
        for segment_id in segment_ids
        if segment_id in spans
    }


def _score(
    query: SegmentSignatures,
    segment_id: str,
    windows: np.ndarray,
    window_sizes: np.ndarray,
    text_band_hits: int,
    story_band_hits: int,
    story_jaccard: float,
) -> CandidateHit:
    jaccards = jaccard_matrix(query.text, windows)
    query_window, stored_window = np.unravel_index(int(np.argmax(jaccards)), jaccards.shape)
    query_sizes = query.text_shingle_counts[:, None]
    stored_sizes = window_sizes[None, :]
    smaller, larger = np.minimum(query_sizes, stored_sizes), np.maximum(query_sizes, stored_sizes)
    containment = estimate_containment(jaccards, smaller, larger)
    return CandidateHit(
        segment_id=segment_id,
        text_band_hits=text_band_hits,
        story_band_hits=story_band_hits,
        best_window_jaccard=float(jaccards[query_window, stored_window]),
        best_windows=(int(query_window), int(stored_window)),
        containment=float(containment.max()),
        story_jaccard=story_jaccard,
    )


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
