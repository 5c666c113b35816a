"""LSH index of segment signatures, kept in SQLite and updated incrementally.

The band maths is ``lsh``; this module keeps the buckets in SQLite. Tables (DDL in
store.py):

* ``signatures`` - one row per signed window: kind ``'text'`` (window 0 = whole
  segment, then the token windows), kind ``'story'`` (window 0 only) and kind
  ``'fingerprint'`` (the winnowing fingerprints, uint64);
* ``lsh_index`` - one row per distinct (kind, band, band hash) of a segment, and one
  per fingerprint (text band ``lsh.FINGERPRINT_BAND``), as
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
``CandidateSettings.max_bucket_read``) and the stored signatures of the segments found
there.

Transactions: ``add``/``add_many``/``remove`` and the first ``check_params`` only
write; the caller commits (the ingest writes an article and its index rows in one
transaction). ``rebuild`` and ``flush`` are whole-database operations and commit
in batches.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

import numpy as np
import sqlite_utils

from ..parameters import (
    DEFAULT_CANDIDATES,
    DEFAULT_PARAMS,
    SIGNATURE_PARAMS_KEY,
    SIGNED_BEFORE_THE_FIELD,
    CandidateSettings,
    ParamsError,
    SignatureParams,
    describe_differences,
)
from ..store import (
    LSH_MERGED_META_KEY,
    database_name,
    get_meta,
    release_free_pages,
    set_meta,
    write_transaction,
)
from .lsh import (
    CandidateHit,
    bucket_kind,
    buckets,
    choose_for_scoring,
    estimate_story_jaccards,
    fingerprint_mask,
    group_end,
    lookup_buckets,
    rank_band_hits,
    score_candidates,
    scoring_pool,
)
from .signatures import SegmentSignatures, pack, sign_text, text_windows, unpack, unpack_many

PARAMS_META_KEY = SIGNATURE_PARAMS_KEY
# Set while a rebuild is under way: an interrupted rebuild leaves a partial index.
REBUILD_META_KEY = "signature_index_rebuild"
REBUILD_COMMAND = "datasette-provenance match DB --rebuild-index"


# Pending rows are moved into lsh_recent this many segments per transaction (each
# transaction writes every index page its rows land on, so fewer, larger ones).
FLUSH_SEGMENTS = 200_000
# lsh_recent is merged into lsh_index when it holds this share of lsh_index's
# segments, and at least MERGE_MIN_SEGMENTS (below that both are small anyway).
MERGE_SHARE = 0.25
MERGE_MIN_SEGMENTS = 50_000
# Segments (by seq) whose rows are in lsh_index: the rest are in lsh_recent or pending.
MERGED_META_KEY = LSH_MERGED_META_KEY
# The publication windows that hold story buckets (lsh.story_window): an undated lookup
# reads them all. A window whose segments were all removed stays listed (read, empty).
STORY_WINDOWS_META_KEY = "story_windows"


class IndexParamsError(Exception):
    """The database's index was built with other signature params (or is incomplete)."""


# ----------------------------------------------------------------------------- params


def check_params(db: sqlite_utils.Database, params: SignatureParams) -> None:
    """Refuse to mix signatures made with different params in one database.

    On first use records ``params`` in ``provenance_meta`` (the caller commits).
    Raises ``IndexParamsError`` telling the user to rebuild when the database was
    built with other params, or when a rebuild was interrupted.
    """
    if get_meta(db, REBUILD_META_KEY):
        raise IndexParamsError(
            f"{database_name(db)}: a rebuild of the similarity index was interrupted; "
            f"run `{REBUILD_COMMAND}` again to finish it"
        )
    stored = get_meta(db, PARAMS_META_KEY)
    if stored is None:
        if db.execute("SELECT 1 FROM signatures LIMIT 1").fetchone():
            raise IndexParamsError(
                f"{database_name(db)}: the similarity index has no recorded signature "
                f"params; run `{REBUILD_COMMAND}` to rebuild it"
            )
        set_meta(db, PARAMS_META_KEY, params.as_dict())
        return
    stored = {**SIGNED_BEFORE_THE_FIELD, **stored}
    if stored != params.as_dict():
        raise IndexParamsError(
            f"{database_name(db)}: the similarity index was built with different signature "
            f"params ({describe_differences(stored, params.as_dict())}); run "
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
            f"{database_name(db)}: unusable signature params recorded ({error}); "
            f"run `{REBUILD_COMMAND}` to rebuild the similarity index"
        ) from error


# ----------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class SegmentToIndex:
    segment_id: str
    article_id: str
    raw_text: str
    kept_ranges: Sequence[tuple[int, int]]


def index_segments(
    db: sqlite_utils.Database,
    items: Iterable[SegmentToIndex],
    params: SignatureParams = DEFAULT_PARAMS,
) -> None:
    """Sign segments and write their index rows. The caller owns the transaction."""
    check_params(db, params)  # records the params on first use, refuses a mismatch
    signed = [
        (item.segment_id, sign_text(item.raw_text, item.kept_ranges, params)) for item in items
    ]
    add_many(db, signed, params)


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
    _note_story_windows(db, {signatures.story_window for _, signatures in items})
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


def _note_story_windows(db: sqlite_utils.Database, windows: set[int]) -> None:
    """Add these publication windows to the archive's list (caller's transaction)."""
    known = set(get_meta(db, STORY_WINDOWS_META_KEY, []))
    if not windows <= known:
        set_meta(db, STORY_WINDOWS_META_KEY, sorted(known | windows))


def story_windows(db: sqlite_utils.Database, cache: LookupCache | None = None) -> list[int]:
    """The publication windows that hold story buckets (read once per matching run)."""
    found = _cached(
        cache, "meta", [STORY_WINDOWS_META_KEY],
        lambda keys: {keys[0]: get_meta(db, keys[0], [])},
    )  # fmt: skip
    return found[STORY_WINDOWS_META_KEY]


def move_story_window(
    db: sqlite_utils.Database, segment_ids: Iterable[str], window: int, params: SignatureParams
) -> None:
    """Re-key the story buckets of these indexed segments to another publication window
    (their article's date changed). The caller owns the transaction."""
    moved = []
    for segment_id in segment_ids:
        signatures = load_signatures(db, segment_id, params)
        if signatures is not None and signatures.story_window != window:
            moved.append((segment_id, replace(signatures, story_window=window)))
    add_many(db, moved, params)


def pending_text(segment_buckets: np.ndarray) -> str:
    """A segment's buckets as its ``lsh_pending`` row stores them: a JSON array."""
    # A list of ints prints as JSON (2x faster than joining their strings).
    return str(segment_buckets.tolist()).replace(" ", "")


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
    if new:  # (the ingest sets seq as it inserts a segment; other writers get it here)
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


# A segment's shingle hashes are stored this many to a row (1 KB): rows of a few KB would
# leave most of a page empty each (a table page holds 4 KB, and one longer row overflows).
SHINGLES_PER_ROW = 256


def _signature_rows(segment_id: str, signatures: SegmentSignatures) -> list[tuple]:
    if signatures.window_count and signatures.shingles is not None:
        # Window 0 (what SQL users compare), then the shingle hashes the token windows
        # are made from (``text_windows``) instead of the windows: a third of the bytes.
        shingles = np.asarray(signatures.shingles, dtype="<u4")
        rows = [(segment_id, 0, "text", signatures.shingle_count, pack(signatures.text[0]))]
        rows += [
            (segment_id, number, "shingles", len(part), part.tobytes())
            for number, part in enumerate(_chunks(shingles, SHINGLES_PER_ROW))
        ]
    else:  # no token windows (a short segment), or windows read from an older layout
        # All windows packed at once (as ``pack`` would, one by one), then cut per window.
        packed = pack(signatures.text)
        size = len(packed) // max(1, len(signatures.text))
        rows = [
            (segment_id, window, "text", int(count), packed[window * size : (window + 1) * size])
            for window, count in enumerate(signatures.text_shingle_counts.tolist())
        ]
    # The story row's window is the publication window its story bands are keyed by.
    story = (segment_id, signatures.story_window, "story", signatures.story_word_count)
    rows.append((*story, pack(signatures.story)))
    fingerprints = np.asarray(signatures.fingerprints, dtype="<u8")
    rows.append((segment_id, 0, "fingerprint", len(fingerprints), fingerprints.tobytes()))
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
        # Read under the write lock: another process may flush the same rows meanwhile.
        with write_transaction(db):
            low = db.execute("SELECT min(segment) FROM lsh_pending").fetchone()[0]
            if low is None:
                break
            high = low + batch_segments
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
    _merge_if_due(db)
    release_free_pages(db)  # the pending rows' pages, as many as the index's own
    return moved


def _merge_if_due(db: sqlite_utils.Database) -> None:
    """Merge lsh_recent into lsh_index once it holds MERGE_SHARE as many segments."""
    with write_transaction(db):
        merged = get_meta(db, MERGED_META_KEY, 0)
        flushed, _ = pending_segments(db)
        if flushed - merged < max(MERGE_MIN_SEGMENTS, MERGE_SHARE * merged):
            return
        # lsh_recent is read in its key order: one sorted pass over lsh_index
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
            set_meta(db, STORY_WINDOWS_META_KEY, [])
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
    story = [(count, blob, window) for kind, window, count, blob in rows if kind == "story"]
    fingerprints = [blob for kind, _, _, blob in rows if kind == "fingerprint"]
    windows = _windows_from_rows(
        [(kind, count, blob) for kind, _, count, blob in rows if kind in _WINDOW_KINDS], params
    )
    if windows is None or not story:
        return None
    text, counts, shingles = windows
    shingle_count = int(counts[0])
    return SegmentSignatures(
        text=text,
        text_shingle_counts=counts,
        shingles=shingles,
        story=unpack(story[0][1]),
        story_word_count=story[0][0],
        story_window=story[0][2],
        token_count=shingle_count + params.shingle_size - 1 if shingle_count else 0,
        fingerprints=np.frombuffer(fingerprints[0] if fingerprints else b"", dtype="<u8").astype(
            np.uint64
        ),
    )


def candidates(
    db: sqlite_utils.Database,
    signatures: SegmentSignatures,
    params: SignatureParams,
    exclude_segment_ids: Iterable[str] = (),
    settings: CandidateSettings = DEFAULT_CANDIDATES,
    cache: LookupCache | None = None,
    enough: int | None = None,
) -> dict[str, CandidateHit]:
    """Indexed segments that may share text or story with the signed one, best first.

    A segment is a candidate if it shares a text band with one of the banded
    windows and a window pair estimates at ``settings.text_min_jaccard`` or more, or
    if it shares a story band and its story words estimate at
    ``settings.story_min_jaccard`` or more, or if it shares
    ``settings.min_fingerprint_hits`` winnowing fingerprints (a short copy inside a
    long text). At most ``settings.max_scored_candidates`` are scored and returned,
    most text band hits first, then most story band hits. The steps are ``lsh``'s;
    this reads what each needs from SQLite (through ``cache``, a ``LookupCache``, when
    the caller looks up many segments).

    With ``enough``, candidates sharing text are scored best first only until that many
    pass, whole groups of equal band and fingerprint hits at a time (``lsh.group_end``):
    the ``enough`` best of them by ``pairs.best_candidates``'s order are the same, and
    a copy of a storm of hundreds scores about ``enough``, not hundreds.
    """
    archive_windows = story_windows(db, cache) if signatures.story_window == 0 else ()
    keys = lookup_buckets(signatures, params, archive_windows)
    fingerprints = fingerprint_mask(keys)
    text_hits, story_hits = band_hits(db, keys[~fingerprints], exclude_segment_ids, settings, cache)
    fingerprint_hits = shared_fingerprints(
        db, keys[fingerprints], exclude_segment_ids, settings, cache
    )
    for segment_id in fingerprint_hits:  # a short copy: text evidence without a band
        text_hits.setdefault(segment_id, 0)
    text_first, story_only = rank_band_hits(text_hits, story_hits, fingerprint_hits)
    pool = scoring_pool(text_first, story_only, settings)
    story_jaccards = _story_jaccards(db, signatures, pool, cache)
    chosen = choose_for_scoring(text_first, story_only, story_jaccards, settings)
    text_count = min(len(text_first), len(chosen))  # chosen: text first, then story

    def score(segment_ids: list[str]) -> dict[str, CandidateHit]:
        windows = _load_text_windows(db, segment_ids, params, cache)
        return score_candidates(
            signatures, windows, text_hits, story_hits, story_jaccards, settings,
            fingerprint_hits,
        )  # fmt: skip

    if enough is None:
        return score(chosen)
    ranks = (text_hits, fingerprint_hits)
    scored = group_end(chosen, min(enough, text_count), text_count, ranks)
    found = score(chosen[:scored] + chosen[text_count:])
    passed = len(found) - sum(1 for hit in found.values() if not hit.shares_text)
    while passed < enough and scored < text_count:
        end = group_end(chosen, scored + enough - passed, text_count, ranks)
        more = score(chosen[scored:end])
        found.update(more)
        passed, scored = passed + len(more), end
    return {segment_id: found[segment_id] for segment_id in chosen if segment_id in found}


class LookupCache:
    """What the lookups of one matching process read more than once: the members of big
    buckets and the stored signatures of the segments found.

    Every copy of a syndicated story reads the same big buckets (hundreds of keys, each
    with the same members) and scores the same copies; neither the index nor the
    signatures change while matching, so each is read once. Least recently used go first.
    """

    def __init__(self, limit: int = 20_000):
        self.limit = limit
        self.entries: OrderedDict[tuple, object] = OrderedDict()

    def held(self, kind: str, keys: list) -> dict:
        """{key: value} of these keys that are kept (the others are left out)."""
        found = {}
        for key in keys:
            value = self.entries.get((kind, key))
            if value is not None:
                self.entries.move_to_end((kind, key))
                found[key] = value
        return found

    def get_many(self, kind: str, keys: list, load: Callable[[list], dict]) -> dict:
        """{key: value} for these keys; ``load(missing keys)`` reads the ones not kept (a
        key it leaves out has no value, and is asked for again next time)."""
        found, missing = {}, []
        for key in keys:
            value = self.entries.get((kind, key))
            if value is None:
                missing.append(key)
            else:
                self.entries.move_to_end((kind, key))
                found[key] = value
        if missing:
            for key, value in load(missing).items():
                found[key] = self.entries[(kind, key)] = value
            while len(self.entries) > self.limit:
                self.entries.popitem(last=False)
        return found


def _cached(cache: LookupCache | None, kind: str, keys: list, load: Callable[[list], dict]):
    return cache.get_many(kind, keys, load) if cache else load(keys)


def band_hits(
    db: sqlite_utils.Database,
    keys: np.ndarray,
    exclude_segment_ids: Iterable[str] = (),
    settings: CandidateSettings = DEFAULT_CANDIDATES,
    cache: LookupCache | None = None,
) -> tuple[Counter[str], Counter[str]]:
    """Text and story keys each indexed segment shares with these ``keys`` (buckets).

    Members come back from SQLite as integers (``segments.seq``) and are counted with
    numpy; only the segments found are named (one query), not every row read. A bucket
    gives at most ``settings.max_bucket_read`` members: the first ones in segment id order.
    """
    seqs, story = _member_seqs(db, keys, settings.max_bucket_read, cache)
    keep = _not_excluded(db, seqs, exclude_segment_ids)
    seqs, story = seqs[keep], story[keep]
    text_seqs, text_counts = np.unique(seqs[~story], return_counts=True)
    story_seqs, story_counts = np.unique(seqs[story], return_counts=True)
    names = dict(_seqs_and_ids(db, "seq", np.union1d(text_seqs, story_seqs).tolist()))
    return _named_counts(names, text_seqs, text_counts), _named_counts(
        names, story_seqs, story_counts
    )


def shared_fingerprints(
    db: sqlite_utils.Database,
    keys: np.ndarray,
    exclude_segment_ids: Iterable[str] = (),
    settings: CandidateSettings = DEFAULT_CANDIDATES,
    cache: LookupCache | None = None,
) -> Counter[str]:
    """Segments sharing at least ``settings.min_fingerprint_hits`` of these fingerprint
    buckets, and how many.

    A bucket with more than ``settings.max_fingerprint_members`` members is a stock
    phrase or boilerplate, not the trace of one copy: it is not read at all."""
    seqs, _ = _member_seqs(
        db, keys, settings.max_fingerprint_members, cache, read_crowded=False
    )
    seqs = seqs[_not_excluded(db, seqs, exclude_segment_ids)]
    found, counts = np.unique(seqs, return_counts=True)
    keep = counts >= settings.min_fingerprint_hits
    found, counts = found[keep], counts[keep]
    return _named_counts(dict(_seqs_and_ids(db, "seq", found.tolist())), found, counts)


def _not_excluded(
    db: sqlite_utils.Database, seqs: np.ndarray, exclude_segment_ids: Iterable[str]
) -> np.ndarray:
    """Which of these member seqs are not of the excluded segments (bool array)."""
    excluded = list(exclude_segment_ids)
    if not excluded or not len(seqs):
        return np.ones(len(seqs), dtype=bool)
    return ~np.isin(seqs, [seq for seq, _ in _seqs_and_ids(db, "id", excluded)])


def _named_counts(names: dict, seqs: np.ndarray, counts: np.ndarray) -> Counter[str]:
    # A member without a segments row (deleted behind the index's back) is no candidate.
    return Counter(
        {names[seq]: count for seq, count in zip(seqs.tolist(), counts.tolist()) if seq in names}
    )


def _seqs_and_ids(db: sqlite_utils.Database, by: str, values: list) -> list[tuple[int, str]]:
    """(seq, id) of the segments with these seqs (``by="seq"``) or ids (``by="id"``)."""
    found = []
    for chunk in _chunks(list(values), 500):
        found += db.execute(
            f"SELECT seq, id FROM segments WHERE {by} IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
    return found


def _member_seqs(
    db: sqlite_utils.Database,
    keys: np.ndarray,
    max_read: int,
    cache: LookupCache | None,
    read_crowded: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(seq, is a story key) of the members of these buckets, one per (bucket, member).

    The keys travel as one JSON array (one cached statement, however many). Big buckets
    (a storm, left-over boilerplate: the same ones recur) are read one by one through the
    cache, their first ``max_read`` members in segment id order (crowded ones: none with
    ``read_crowded`` False); the others in one statement. So each bucket's size is read
    first, counting no further than tells which it is, and not at all for a bucket the
    cache holds: a storm's copies read the same hundreds of crowded buckets, and
    counting their members again for every copy cost more than everything else a
    lookup does.
    """
    if not len(keys):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    held = _held_buckets(cache, keys)
    seqs, story = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=bool)]
    for bucket, members in held.items():
        seqs.append(members)
        story.append(np.full(len(members), bucket_kind(bucket) == "story"))
    if held:
        keys = keys[~np.isin(keys, np.fromiter(held, dtype=np.int64, count=len(held)))]
    big_above = min(CACHED_BUCKET_MEMBERS, max_read) if cache else max_read
    # Past big_above a bucket is read one by one, whatever its size; only a lookup that
    # skips crowded buckets needs to count up to max_read.
    limit = (big_above if read_crowded else max_read) + 1
    sizes = db.execute(_SIZES_SQL, {"keys": pending_text(keys), "limit": limit})
    sizes = np.array(sizes.fetchall(), dtype=np.int64).reshape(-1, 2)
    if not read_crowded:
        sizes = sizes[sizes[:, 1] <= max_read]
    big = sizes[:, 1] > big_above
    small = sizes[~big & (sizes[:, 1] > 0), 0]
    if len(small):
        rows = db.execute(_MEMBERS_SQL, [pending_text(small)] * len(_INDEX_TABLES)).fetchall()
        packed = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        seqs.append(packed >> 1)
        story.append((packed & 1) == 1)
    for bucket in sizes[big, 0].tolist():
        members = _cached(cache, "bucket", [bucket], lambda b: {b[0]: _first_members(db, b[0], max_read)})
        seqs.append(members[bucket])
        story.append(np.full(len(members[bucket]), bucket_kind(bucket) == "story"))
    return np.concatenate(seqs), np.concatenate(story)


def _held_buckets(cache: LookupCache | None, keys: np.ndarray) -> dict[int, np.ndarray]:
    """The members of these buckets that the cache holds (read earlier in this run)."""
    if cache is None:
        return {}
    return cache.held("bucket", keys.tolist())


def _first_members(db: sqlite_utils.Database, bucket: int, max_read: int) -> np.ndarray:
    """The first ``max_read`` members (seqs) of a bucket, in segment id order."""
    rows = db.execute(_FIRST_MEMBERS_SQL, [bucket, bucket, max_read]).fetchall()
    return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))


# Buckets with more members than this are read one by one through a matching run's
# cache: storms and left-over boilerplate make the same big buckets recur.
CACHED_BUCKET_MEMBERS = 16
_INDEX_TABLES = ("lsh_index", "lsh_recent")
# Each key's member count (both tables), up to :limit each.
_SIZES_SQL = (
    "SELECT key.value, "
    + " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {table} AS member "
        "WHERE member.bucket = key.value LIMIT :limit))"
        for table in _INDEX_TABLES
    )
    + " FROM json_each(:keys) AS key"
)
# Members of small buckets as seq * 2 + (story key): one integer a row. CROSS JOIN keeps
# the keys as the outer loop, so each key is one primary-key search.
_MEMBERS_SQL = " UNION ALL ".join(
    f"SELECT member.segment * 2 + (key.value & 1) FROM json_each(?) AS key "
    f"CROSS JOIN {table} AS member ON member.bucket = key.value"
    for table in _INDEX_TABLES
)
# A crowded bucket's readable members: the first in segment id order (the Spark engine
# reads the same ones), each crowded bucket read once per matching run (the cache).
_FIRST_MEMBERS_SQL = (
    "SELECT s.seq FROM (SELECT segment FROM lsh_index WHERE bucket = ? UNION ALL "
    "SELECT segment FROM lsh_recent WHERE bucket = ?) AS member "
    "JOIN segments AS s ON s.seq = member.segment ORDER BY s.id LIMIT ?"
)


def _story_jaccards(
    db: sqlite_utils.Database,
    query: SegmentSignatures,
    segment_ids: list[str],
    cache: LookupCache | None = None,
) -> dict[str, float]:
    """Estimated story Jaccard with each of these segments (one small row each)."""
    if not query.story_word_count:
        return {}
    stories = _cached(cache, "story", segment_ids, lambda ids: _read_stories(db, ids, query))
    found = [segment_id for segment_id in segment_ids if segment_id in stories]
    if not found:
        return {}
    return estimate_story_jaccards(query, found, np.vstack([stories[s] for s in found]))


def _read_stories(db, segment_ids: list[str], query: SegmentSignatures) -> dict[str, np.ndarray]:
    """The stored story signatures of these segments (those with content words)."""
    stories = {}
    for chunk in _chunks(segment_ids, 500):
        rows = db.execute(
            "SELECT segment_id, hashvalues FROM signatures WHERE kind = 'story' "
            f"AND shingle_count > 0 AND segment_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        if rows:
            values = unpack_many([blob for _, blob in rows], len(query.story))
            stories.update(zip([segment_id for segment_id, _ in rows], values))
    return stories


def _load_text_windows(
    db: sqlite_utils.Database,
    segment_ids: list[str],
    params: SignatureParams,
    cache: LookupCache | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each segment's text windows (window 0 first) and their shingle counts, in the given order."""
    found = _cached(cache, "windows", segment_ids, lambda ids: _read_windows(db, ids, params))
    return {segment_id: found[segment_id] for segment_id in segment_ids if segment_id in found}


def _read_windows(db, segment_ids: list[str], params: SignatureParams) -> dict:
    rows: list[tuple] = []
    for chunk in _chunks(segment_ids, 500):
        rows += db.execute(
            "SELECT segment_id, kind, shingle_count, hashvalues FROM signatures "
            f"WHERE kind IN ('shingles', 'text') AND segment_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY segment_id, kind, window",
            chunk,
        ).fetchall()
    by_segment: dict[str, list[tuple]] = {}
    for segment_id, *row in rows:
        by_segment.setdefault(segment_id, []).append(row)
    found = {}
    for segment_id, segment_rows in by_segment.items():
        windows = _windows_from_rows(segment_rows, params)
        if windows is not None:
            found[segment_id] = windows[:2]
    return found


# The signature rows a segment's text windows are read from.
_WINDOW_KINDS = ("shingles", "text")


def _windows_from_rows(
    rows: list[tuple[str, int, bytes]], params: SignatureParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """(windows, their shingle counts, the shingle hashes or None) from a segment's
    ``(kind, shingle_count, hashvalues)`` rows of ``_WINDOW_KINDS`` in window order, None
    without any: made from its shingle hashes when stored, else its stored windows."""
    shingles = [blob for kind, _, blob in rows if kind == "shingles"]
    if shingles:
        values = np.frombuffer(b"".join(shingles), dtype="<u4").astype(np.uint32)
        return (*text_windows(values, params), values)
    text = [(count, blob) for kind, count, blob in rows if kind == "text"]
    if not text:
        return None
    counts = np.array([count for count, _ in text], dtype=np.int64)
    return unpack_many([blob for _, blob in text], params.num_perm), counts, None


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
