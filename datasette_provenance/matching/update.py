"""Matching orchestration: index -> candidates -> align -> lineage -> rows.

``update_matches`` matches every pending segment (``index.candidates``, then a cheap
look at each of the best of them: ``pairs.compare_segments`` aligns those sharing text
or wording, ``pairs.story_candidate`` keeps the pairs not stored as a match that may
report the same story), committing chunk by chunk, so an interrupted run leaves whole
chunks and the next run finishes the rest; then ``rebuild_lineage`` measures every
stored pair's story similarity with the corpus's word rarity as it stands (story links,
``rescore_stories``) and recomputes clusters and lineage from the matches and links.
``match_row``, ``passage_rows`` and ``cluster_rows`` are the rows both matching
engines write.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

import sqlite_utils

from ..parameters import (
    DEFAULT_CANDIDATES,
    DEFAULT_LINEAGE,
    DEFAULT_PARAMS,
    DEFAULT_THRESHOLDS,
    LINEAGE_SETTINGS_KEY,
    CandidateSettings,
    LineageSettings,
    SignatureParams,
    check_matching_settings,
)
from ..store import (
    LINEAGE_STALE_KEY,
    StoppedAfterWriting,
    database_file,
    first_line,
    get_meta,
    insert_rows,
    set_meta,
    store_match,
    write_transaction,
)
from ..vocabulary import COPY, DERIVED_LABELS
from . import corpus, index, lineage, lsh, stories
from .pairs import (
    PairResult,
    StoryLink,
    best_candidates,
    compare_segments,
    shares_wording,
    storm_candidates,
    story_candidate,
    story_link,
)
from .segments import SegmentStore, opening
from .signatures import SegmentSignatures, sign_text
from .workers import worker_pool

# Segments matched per transaction: an interrupted run loses at most this many.
CHUNK_SIZE = 50


@dataclass
class MatchSummary:
    segments: int = 0
    pairs_compared: int = 0
    matches_stored: int = 0
    derived: int = 0
    clusters: int = 0
    seconds: float = 0.0
    segments_written: int = 0  # by committed chunks

    def __str__(self) -> str:
        return (
            f"{self.segments} segments matched, {self.pairs_compared} pairs compared, "
            f"{self.matches_stored} matches stored ({self.derived} derived), "
            f"{self.clusters} clusters, {self.seconds:.2f}s"
        )


# ------------------------------------------------------------------------------
# Indexing


def rebuild_index(
    db: sqlite_utils.Database,
    params: SignatureParams = DEFAULT_PARAMS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-sign every segment from its stored text with ``params``; then everything is re-matched."""
    store = SegmentStore(db)

    def sign_segment(segment_id: str) -> SegmentSignatures:
        return sign_stored(store.get(segment_id), params)

    indexed = index.rebuild(db, params, sign_segment, progress=progress)
    with db.conn:
        db.conn.execute("UPDATE segments SET match_pending = 1")
    return indexed


def sign_stored(segment, params: SignatureParams) -> SegmentSignatures:
    """Sign a stored segment (``SegmentStore.get``), its story bands keyed by its date."""
    signed = sign_text(segment.raw_text, segment.kept_ranges, params)
    return replace(signed, story_window=lsh.story_window(segment.facts.published, params))


# ------------------------------------------------------------------------------
# update_matches


def update_matches(
    db: sqlite_utils.Database,
    full: bool = False,
    progress: bool | Callable[[int], None] | None = None,
    workers: int = 1,
    candidates: CandidateSettings = DEFAULT_CANDIDATES,
) -> MatchSummary:
    """Match pending segments (all with ``full``), store matches, rebuild clusters and lineage.

    Idempotent: with nothing pending and nothing stale it changes nothing.
    Every chunk of segments is one transaction that also clears their
    ``match_pending`` flag, so an interrupted run is finished by the next one.
    Refuses a database whose matches were made with other settings (``parameters``)
    unless ``full``, which makes every match again with the current ones (``candidates``:
    which indexed segments are compared; recorded in the database like the defaults).
    With ``workers`` > 1, candidates are found and pairs aligned in that many
    processes; this one decides which pairs are compared, in the order one process
    would, and writes: the stored rows are the same as with one process.
    """
    started = time.perf_counter()
    params = index.stored_params(db) or DEFAULT_PARAMS
    with write_transaction(db):
        index.check_params(db, params)
        check_matching_settings(db, candidates, DEFAULT_THRESHOLDS, recompute=full)
        corpus.ensure_story_terms(db)
        if full:
            db.conn.execute("UPDATE segments SET match_pending = 1")
    index.flush(db)  # an interrupted ingest may have left index rows pending
    pending = [
        row[0] for row in db.execute("SELECT id FROM segments WHERE match_pending = 1 ORDER BY id")
    ]
    summary = MatchSummary(segments=len(pending))
    report = _progress_reporter(progress, len(pending))
    try:
        _match_pending(db, pending, params, candidates, summary, report, workers)
    except (sqlite3.Error, OSError) as error:
        if not summary.segments_written:
            raise
        raise StoppedAfterWriting(
            f"{first_line(error)}: stopped after matching {summary.segments_written:,} "
            "segments (kept; run the same command again to finish)"
        ) from error
    if pending or get_meta(db, LINEAGE_STALE_KEY):
        summary.clusters = rebuild_lineage(db)
    else:
        summary.clusters = db.execute("SELECT count(*) FROM clusters").fetchone()[0]
    summary.seconds = time.perf_counter() - started
    return summary


def _match_pending(db, pending, params, candidates, summary, report, workers: int) -> None:
    """Match the pending segments chunk by chunk, each chunk written in one transaction."""
    chunks = [pending[start : start + CHUNK_SIZE] for start in range(0, len(pending), CHUNK_SIZE)]
    # Which chunk first compared each pair: a chunk replaces the stored matches of its
    # segments, except those that earlier chunks of this run wrote (or found not worth it).
    compared: dict[frozenset[str], int] = {}
    with _matcher(db, params, candidates, workers if len(chunks) > 1 else 1) as matcher:
        for number, chunk in enumerate(matcher.run(chunks, compared, summary)):
            written = _write_chunk(db, chunk, compared, number)
            summary.matches_stored += len(written)
            summary.derived += sum(row["label"] in DERIVED_LABELS for row, _, _ in written)
            summary.segments_written += len(chunk.segment_ids)
            report(len(chunk.segment_ids))


# Chunks whose candidates and alignments are under way at once with worker processes:
# enough to keep every worker busy while this process decides pairs and writes.
CHUNKS_AHEAD = 4

# One compared pair: its match row, passage rows, and the (segment id, segments.seq) of
# its two segments as they were loaded to compare them.
ComparedPair = tuple[dict, list[dict], tuple[tuple[str, int], ...]]
# One story candidate, with its two segments as loaded (as for a pair).
ComparedLink = tuple[StoryLink, tuple[tuple[str, int], ...]]


@dataclass
class ComparedChunk:
    """A chunk's work, ready to write: what its segments were when loaded (``seqs``), the
    ids of the matches involving them before its comparison began (``existing``: only
    those can be stale; another process may write newer ones meanwhile), its pairs and
    its story candidates."""

    segment_ids: list[str]
    seqs: dict[str, int]
    existing: set[int]
    results: list[ComparedPair]
    links: list[ComparedLink]


class _Matcher:
    """Candidates and alignments of chunks of segments, here or in worker processes.

    ``run`` yields a ``ComparedChunk`` per chunk, in chunk order: a pair an earlier segment
    compared is not compared again, exactly as one process going through the segments in
    order does. Candidates depend only on the index, which matching does not write, so a
    segment's candidates are the same in any process and at any time.
    """

    def __init__(self, db, params: SignatureParams, candidates: CandidateSettings, pool=None):
        self.db, self.params, self.candidates, self.pool = db, params, candidates, pool
        self.now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def run(self, chunks: list[list[str]], compared: dict, summary: MatchSummary):
        if self.pool is None:
            worker = MatchWorker(self.db, self.params, self.candidates)
            for number, chunk in enumerate(chunks):
                existing = _match_ids_involving(self.db, chunk)
                found, seqs = worker.candidates(chunk)
                tasks = _new_pairs(chunk, found, compared, number, summary)
                yield ComparedChunk(chunk, seqs, existing, *worker.compare(tasks, self.now))
            return
        yield from self._in_workers(chunks, compared, summary)

    def _in_workers(self, chunks: list[list[str]], compared: dict, summary: MatchSummary):
        def look_up(chunk: list[str]) -> tuple:
            existing = _match_ids_involving(self.db, chunk)  # before its comparison begins
            return chunk, existing, self.pool.apply_async(_worker_candidates, (chunk,))

        lookups = deque(look_up(chunk) for chunk in chunks[: 2 * CHUNKS_AHEAD])
        later = iter(chunks[2 * CHUNKS_AHEAD :])
        aligning: deque = deque()  # (chunk, seqs, existing, its alignments under way)
        for number in range(len(chunks)):
            chunk, existing, lookup = lookups.popleft()
            following = next(later, None)
            if following is not None:
                lookups.append(look_up(following))
            found, seqs = lookup.get()
            tasks = _new_pairs(chunk, found, compared, number, summary)
            alignments = self.pool.apply_async(_worker_compare, (tasks, self.now))
            aligning.append((chunk, seqs, existing, alignments))
            if len(aligning) > CHUNKS_AHEAD:
                chunk, seqs, existing, alignments = aligning.popleft()
                yield ComparedChunk(chunk, seqs, existing, *alignments.get())
        for chunk, seqs, existing, alignments in aligning:
            yield ComparedChunk(chunk, seqs, existing, *alignments.get())


def _new_pairs(
    chunk: list[str], candidates: list, compared: dict, number: int, summary: MatchSummary
) -> list[tuple[str, list[tuple[str, bool]]]]:
    """Each segment's (candidate, shares text) pairs that no earlier segment compared."""
    tasks = []
    for segment_id, found in zip(chunk, candidates):
        new = []
        for candidate_id, shares_text in found:
            pair = frozenset((segment_id, candidate_id))
            if pair not in compared:
                compared[pair] = number
                summary.pairs_compared += 1
                new.append((candidate_id, shares_text))
        tasks.append((segment_id, new))
    return tasks


class MatchWorker:
    """What a matching process holds: a connection, the params and candidate settings, the
    corpus's word rarity (``story_terms``, which matching does not write) and its caches."""

    def __init__(
        self, db, params: SignatureParams, candidates: CandidateSettings = DEFAULT_CANDIDATES
    ):
        self.db, self.params, self.settings = db, params, candidates
        self.store = SegmentStore(db)
        self.lookups = index.LookupCache()
        self.rarity = corpus.stored_rarity(db)

    def candidates(self, chunk: list[str]) -> tuple[list[list[tuple[str, bool]]], dict]:
        """Each segment's (candidate id, shares text) pairs to align, best first; and the
        ``segments.seq`` of the chunk's segments as loaded."""
        found, seqs = [], {}
        for segment_id in chunk:
            segment = self.store.get(segment_id)
            seqs[segment_id] = self.store.seqs.get(segment_id)
            own_article = self.store.article_segment_ids(segment.article_id)
            query = index.load_signatures(self.db, segment_id, self.params) or sign_stored(
                segment, self.params
            )
            hits = index.candidates(
                self.db, query, self.params, own_article, self.settings, self.lookups,
                enough=self.settings.max_aligned_candidates,
            )
            best = best_candidates(hits, self.settings)
            found.append(storm_candidates(best, self.published, self.settings))
        return found, seqs

    def published(self, segment_id: str) -> str | None:
        return self.store.get(segment_id).facts.published

    def compare(self, tasks, now: str) -> tuple[list[ComparedPair], list[ComparedLink]]:
        """Each pair worth storing and each story candidate, in task order.

        Every candidate gets a cheap look: those sharing text or wording are aligned; a
        pair not stored as a match is kept as a story candidate when it may report the
        same story (the lineage rebuild decides, with the corpus's rarity then)."""
        results, links = [], []
        for segment_id, pairs in tasks:
            for candidate_id, shares_text in pairs:
                first, second = self.store.get(segment_id), self.store.get(candidate_id)
                loaded = tuple(
                    (segment.segment_id, self.store.seqs.get(segment.segment_id))
                    for segment in (first, second)
                )
                if shares_text or shares_wording(first, second):
                    result = compare_segments(first, second, True, self.rarity)
                    if result is not None:
                        results.append((match_row(result, now), passage_rows(result), loaded))
                        continue
                link = story_candidate(first, second, self.rarity)
                if link is not None:
                    links.append((link, loaded))
        return results, links


_worker: MatchWorker | None = None  # a worker process's own


def _start_worker(path: str, params_json: str, candidates: CandidateSettings) -> None:
    global _worker
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    params = SignatureParams.from_json(params_json)
    _worker = MatchWorker(sqlite_utils.Database(conn), params, candidates)


def _worker_candidates(chunk: list[str]):
    return _worker.candidates(chunk)


def _worker_compare(tasks, now: str):
    return _worker.compare(tasks, now)


@contextmanager
def _matcher(db, params: SignatureParams, candidates: CandidateSettings, workers: int):
    path = database_file(db)
    if workers <= 1 or not path:  # an in-memory database cannot be shared with workers
        yield _Matcher(db, params, candidates)
        return
    with worker_pool(workers, _start_worker, (path, params.to_json(), candidates)) as pool:
        yield _Matcher(db, params, candidates, pool)


def _write_chunk(db, chunk: ComparedChunk, compared: dict, number: int) -> list[ComparedPair]:
    """Replace the chunk's matches and story candidates in one transaction (keeping what
    earlier chunks wrote); returns the pairs written.

    Another process may have written since the chunk was compared: a pair or link is written only
    if both its segments are still the ones compared (same ``seq``), and only the matches
    that existed before the comparison (``chunk.existing``) can be stale."""
    with write_transaction(db):
        involved = {
            segment_id
            for *_, loaded in chunk.results + chunk.links
            for segment_id, _ in loaded
        }
        current = _current_seqs(db, involved | set(chunk.segment_ids))
        results = [
            pair
            for pair in chunk.results
            if all(current.get(segment_id) == seq for segment_id, seq in pair[2])
        ]
        stale = [
            match_id
            for match_id, source_id, derived_id in _matches_involving(db, chunk.segment_ids)
            if match_id in chunk.existing
            and compared.get(frozenset((source_id, derived_id)), number) >= number
        ]
        for start in range(0, len(stale), 500):
            ids = stale[start : start + 500]
            db.conn.execute(f"DELETE FROM matches WHERE id IN ({','.join('?' * len(ids))})", ids)
        db.conn.executemany(
            "DELETE FROM story_candidates WHERE segment_id = ? AND other_segment_id = ?",
            [
                pair
                for pair in _candidates_involving(db, chunk.segment_ids)
                if compared.get(frozenset(pair), number) >= number
            ],
        )
        store_story_candidates(
            db,
            [
                link
                for link, loaded in chunk.links
                if all(current.get(segment_id) == seq for segment_id, seq in loaded)
            ],
        )
        for row, passages, _ in results:
            store_match(db, row, passages)
        db.conn.executemany(  # a segment stored again meanwhile stays pending
            "UPDATE segments SET match_pending = 0 WHERE id = ? AND seq = ?",
            [(segment_id, chunk.seqs.get(segment_id)) for segment_id in chunk.segment_ids],
        )
        set_meta(db, LINEAGE_STALE_KEY, True)
    return results


def _current_seqs(db, segment_ids: set[str]) -> dict[str, int]:
    """segments.seq of these segments now (deleted ones are missing)."""
    ids, seqs = list(segment_ids), {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        seqs.update(db.execute(f"SELECT id, seq FROM segments WHERE id IN ({marks})", part))
    return seqs


def _match_ids_involving(db, segment_ids: list[str]) -> set[int]:
    return {row[0] for row in _matches_involving(db, segment_ids)}


def _matches_involving(db, segment_ids: list[str]) -> list[tuple[int, str, str]]:
    return _rows_involving(
        db, "id, source_segment_id, derived_segment_id", "matches", segment_ids
    )


def _candidates_involving(db, segment_ids: list[str]) -> list[tuple[str, str]]:
    return _rows_involving(db, "segment_id, other_segment_id", "story_candidates", segment_ids)


def _rows_involving(db, columns: str, table: str, segment_ids: list[str]) -> list[tuple]:
    """Rows of a table of segment pairs (its last two ``columns``) with one of these segments."""
    first, second = [name.strip() for name in columns.split(",")[-2:]]
    marks = ",".join("?" * len(segment_ids))
    return db.execute(
        f"SELECT {columns} FROM {table} WHERE {first} IN ({marks}) OR {second} IN ({marks})",
        segment_ids + segment_ids,
    ).fetchall()


def store_story_candidates(db, candidates: Sequence[StoryLink]) -> None:
    """Insert story candidates (their similarity is measured again by the lineage rebuild)
    in the caller's transaction."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO story_candidates (segment_id, other_segment_id) VALUES (?, ?)",
        [(link.segment_id, link.other_segment_id) for link in candidates],
    )


def match_row(result: PairResult, now: str) -> dict:
    """The ``matches`` row of one compared pair (without its id)."""
    scores = dict(result.alignment.scores, closeness=round(result.closeness, 4))
    return {
        "source_article_id": result.source.article_id,
        "derived_article_id": result.derived.article_id,
        "source_segment_id": result.source.segment_id,
        "derived_segment_id": result.derived.segment_id,
        "label": result.label,
        "source_containment": result.alignment.source_containment,
        "derived_containment": result.alignment.derived_containment,
        "jaccard": result.alignment.jaccard,
        "credited": None if result.credited is None else int(result.credited),
        "credit": result.credit,
        "relation": COPY if result.label in DERIVED_LABELS else None,
        "direction_confidence": round(result.direction_confidence, 4),
        "derivation_probability": round(result.derivation_probability, 4),
        "scores": json.dumps(scores, sort_keys=True),
        "evidence": json.dumps(result.evidence, ensure_ascii=False),
        "computed_at": now,
    }


def passage_rows(result: PairResult) -> list[dict]:
    """The ``passages`` rows of one compared pair (without ``match_id``)."""
    return [
        {
            "kind": p.kind,
            "source_start": p.source_start,
            "source_end": p.source_end,
            "derived_start": p.derived_start,
            "derived_end": p.derived_end,
            "similarity": round(p.similarity, 4),
            "edits": json.dumps(p.edits, ensure_ascii=False),
        }
        for p in result.alignment.passages
    ]


def _progress_reporter(progress, total: int) -> Callable[[int], None]:
    if callable(progress):
        return progress
    if not progress or not total:
        return lambda done: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" segments", desc="match", leave=False)

    def advance(done: int) -> None:
        bar.update(done)
        if bar.n >= total:
            bar.close()

    return advance


# ------------------------------------------------------------------------------
# Clusters and lineage


def rebuild_lineage(
    db: sqlite_utils.Database, settings: LineageSettings = DEFAULT_LINEAGE
) -> int:
    """Recompute ``story_links``, ``clusters`` and ``lineage`` from the stored matches and
    story candidates (one transaction), and each derived match's relation in them (a copy,
    or siblings sharing a source).

    Every pair's story similarity is measured with the corpus's word rarity as it stands
    now, not as it stood when the pair was matched: which stories exist then depends on
    the articles stored, not on the order they arrived in (``StoryProfiles``).
    Read and written under one write lock: a process that read the matches before another
    wrote more would otherwise replace the newer lineage with an older one."""
    with write_transaction(db):
        return _rebuild_lineage(db, settings)


class StoryProfiles:
    """Each segment's story profile under one word rarity, made once from its stored text
    (its words as ``SegmentData.norms`` reads them); pairs' similarities."""

    def __init__(self, db: sqlite_utils.Database, rarity: stories.Rarity):
        self.db, self.rarity = db, rarity
        self.profiles: dict[str, dict[str, float]] = {}

    def __call__(self, segment_id: str) -> dict[str, float]:
        if segment_id not in self.profiles:
            (article_id,) = self.db.execute(
                "SELECT article_id FROM segments WHERE id = ?", [segment_id]
            ).fetchone()
            for segment, norms in corpus.stored_segment_norms(self.db, article_id).items():
                self.profiles[segment] = self.rarity.profile(stories.story_terms(norms))
        return self.profiles[segment_id]

    def similarity(self, first: str, second: str) -> float:
        """As matching measures it (``pairs``): the smaller id's profile first."""
        low, high = sorted((first, second))
        return stories.similarity(self(low), self(high))


def _rebuild_lineage(db: sqlite_utils.Database, settings: LineageSettings) -> int:
    profiles = StoryProfiles(db, corpus.stored_rarity(db))
    edges = [
        rescored(match_edge(*row), profiles)
        for row in db.execute(
            "SELECT id, source_segment_id, derived_segment_id, label, scores, "
            "direction_confidence, credit FROM matches ORDER BY id"
        )
    ]
    links = _store_story_links(db, profiles, edges)
    nodes = {
        segment_id: lineage.SegmentNode(segment_id, *rest, opening=opening(text, [(0, len(text))]))
        for segment_id, *rest, text in db.execute(
            "SELECT s.id, s.article_id, COALESCE(a.title, s.title), a.published, a.outlet, "
            "s.word_count, s.clean_end - s.clean_start, "
            "substr(a.clean_text, s.clean_start + 1, min(200, s.clean_end - s.clean_start)) "
            "FROM segments s "
            "JOIN articles a ON a.id = s.article_id WHERE s.id IN "
            "(SELECT source_segment_id FROM matches UNION SELECT derived_segment_id FROM matches "
            "UNION SELECT segment_id FROM story_links "
            "UNION SELECT other_segment_id FROM story_links)"
        )
    }
    links += completed_links(edges, links, profiles)
    clusters = lineage.build_clusters(
        nodes, edges, lambda ids: load_passages(db, ids), settings, links
    )
    db.conn.execute("DELETE FROM lineage")
    db.conn.execute("DELETE FROM clusters")
    for cluster_id, cluster in enumerate(clusters, start=1):
        _store_cluster(db, cluster_id, cluster)
    _store_relations(db, [r for cluster in clusters for r in cluster.relations])
    set_meta(db, LINEAGE_SETTINGS_KEY, settings.as_dict())
    set_meta(db, LINEAGE_STALE_KEY, False)
    return len(clusters)


def load_passages(db, match_ids: Iterable[int]) -> dict[int, list[lineage.PassageSpan]]:
    """Stored passages of some matches, as the lineage reads them."""
    found: dict[int, list[lineage.PassageSpan]] = {}
    ids = list(match_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for match_id, *fields in db.execute(
            "SELECT match_id, kind, source_start, source_end, derived_start, derived_end, edits "
            f"FROM passages WHERE match_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        ):
            found.setdefault(match_id, []).append(passage_span(*fields))
    return found


def passage_span(kind, source_start, source_end, derived_start, derived_end, edits):
    """A stored passage row as a ``lineage.PassageSpan`` (``edits`` as stored JSON)."""
    changed = 0
    for pair in json.loads(edits or "[]"):
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            changed += len(str(pair[1]).split()) or 1
    return lineage.PassageSpan(
        kind, source_start, source_end, derived_start, derived_end, changed
    )


def _store_relations(db, relations: list[lineage.Relation]) -> None:
    """Write each derived match's relation; siblings are not a credit question."""
    db.conn.executemany(
        "UPDATE matches SET relation = ?, shared_source_segment_id = ?, "
        "shared_source_article_id = ?, "
        "credited = CASE WHEN ? = 'siblings' THEN NULL "
        "ELSE CASE credit WHEN 'credited' THEN 1 WHEN 'photo_only' THEN 0 "
        "WHEN 'uncredited' THEN 0 END END "
        "WHERE id = ? AND (relation IS NOT ? OR shared_source_segment_id IS NOT ? "
        "OR credited IS NOT (CASE WHEN ? = 'siblings' THEN NULL ELSE CASE credit "
        "WHEN 'credited' THEN 1 WHEN 'photo_only' THEN 0 WHEN 'uncredited' THEN 0 END END))",
        [
            (
                r.relation, r.shared_source_segment_id, r.shared_source_article_id, r.relation,
                r.match_id, r.relation, r.shared_source_segment_id, r.relation,
            )
            for r in relations
        ],
    )


def rescored(edge: lineage.MatchEdge, profiles: StoryProfiles) -> lineage.MatchEdge:
    """A match's edge with its story similarity under the rarity of ``profiles`` (its stored
    scores keep the figure measured when it was matched)."""
    value = round(profiles.similarity(edge.source_segment_id, edge.derived_segment_id), 4)
    return replace(edge, story_similarity=value)


def _store_story_links(
    db, profiles: StoryProfiles, edges: Sequence[lineage.MatchEdge]
) -> list[tuple[str, str, float]]:
    """The story candidates that report one story under the rarity of ``profiles``, written
    as ``story_links`` (only the rows that changed); (segment, other, similarity) in order."""
    matched = {frozenset((e.source_segment_id, e.derived_segment_id)) for e in edges}
    links = []
    for first, second in db.execute(
        "SELECT segment_id, other_segment_id FROM story_candidates "
        "ORDER BY segment_id, other_segment_id"
    ):
        if frozenset((first, second)) not in matched:
            link = story_link(first, second, profiles.similarity(first, second))
            if link is not None:
                links.append((link.segment_id, link.other_segment_id, link.similarity))
    stored = set(db.execute("SELECT segment_id, other_segment_id, similarity FROM story_links"))
    db.conn.executemany(
        "DELETE FROM story_links WHERE segment_id = ? AND other_segment_id = ?",
        [(first, second) for first, second, _ in stored.difference(links)],
    )
    db.conn.executemany(
        "INSERT OR REPLACE INTO story_links (segment_id, other_segment_id, similarity) "
        "VALUES (?, ?, ?)",
        sorted(set(links).difference(stored)),
    )
    return links


def completed_links(
    edges: Sequence[lineage.MatchEdge],
    links: Sequence[tuple[str, str, float]],
    profile_of: Callable[[str], dict[str, float]],
) -> list[tuple[str, str, float]]:
    """``stories.complete_links`` over matches and links, profiles from ``profile_of``
    (both matching engines: the Spark engine holds the profiles in memory)."""
    pairs = [(e.source_segment_id, e.derived_segment_id) for e in edges]
    pairs += [(first, second) for first, second, _ in links]
    return stories.complete_links(
        pairs,
        lambda first, second: stories.similarity(profile_of(first), profile_of(second)),
        DEFAULT_THRESHOLDS.same_story_similarity,
    )


def match_edge(
    match_id: int,
    source_id: str,
    derived_id: str,
    label: str,
    scores: str,
    confidence: float,
    credit: str | None,
) -> lineage.MatchEdge:
    """A lineage edge from a ``matches`` row's columns (``scores`` as stored JSON)."""
    parsed = json.loads(scores)
    return lineage.MatchEdge(
        match_id,
        source_id,
        derived_id,
        label,
        parsed.get("closeness", 0.0),
        confidence,
        credit,
        parsed.get("story_similarity", 0.0),
    )


def _store_cluster(db, cluster_id: int, cluster: lineage.Cluster) -> None:
    cluster_row, member_rows = cluster_rows(cluster_id, cluster)
    insert_rows(db, "clusters", [cluster_row])
    insert_rows(db, "lineage", member_rows)


def cluster_rows(cluster_id: int, cluster: lineage.Cluster) -> tuple[dict, list[dict]]:
    """The ``clusters`` row and the ``lineage`` rows of one cluster."""
    cluster_row = {
        "id": cluster_id,
        "title": cluster.title,
        "origin_article_id": cluster.origin_article_id,
        "article_count": cluster.article_count,
        "derived_count": cluster.derived_count,
        "uncredited_count": cluster.uncredited_count,
        "photo_only_count": cluster.photo_only_count,
        "first_published": cluster.first_published,
        "last_published": cluster.last_published,
    }
    member_rows = [
        {
            "segment_id": m.segment_id,
            "article_id": m.article_id,
            "cluster_id": cluster_id,
            "parent_article_id": m.parent_article_id,
            "parent_segment_id": m.parent_segment_id,
            "match_id": m.match_id,
            "label": m.label,
            "generation": m.generation,
            "is_origin": int(m.is_origin),
            "origin_article_id": m.origin_article_id,
            "origin_segment_id": m.origin_segment_id,
            "credit": m.credit,
            "evidence": json.dumps(m.evidence, ensure_ascii=False),
        }
        for m in cluster.members
    ]
    return cluster_row, member_rows
