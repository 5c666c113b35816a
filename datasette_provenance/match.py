"""Matching orchestration: index -> candidates -> align -> lineage -> rows.

The only module of the matching stages that touches SQLite. ``index_segments``
writes index rows inside the caller's transaction; ``update_matches`` matches
every pending segment, committing chunk by chunk, so an interrupted run leaves
whole chunks and the next run finishes the rest; ``find_sources`` only reads.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple, Sequence

import sqlite_utils

from . import align, clean, index, lineage, signatures
from .shingles import tokenize_ranges, words as normalized_words
from .signatures import DEFAULT_PARAMS, SignatureParams
from .store import SEARCH_TABLE, get_meta, has_search, set_meta

# Segments matched per transaction: an interrupted run loses at most this many.
CHUNK_SIZE = 50
# Prepared segments kept in memory: a segment meets many candidates in one run.
PREPARED_CACHE_SIZE = 500
# Set while stored matches and the clusters/lineage built from them disagree.
LINEAGE_STALE_KEY = "lineage_stale"
# A segment is aligned with at most this many candidates, best index evidence first:
# a story syndicated by hundreds of outlets still finds its closest versions, and
# one segment never costs more than about a second of alignment.
_WORD = re.compile(r"\w+")
MAX_ALIGNED_CANDIDATES = 100
# A pasted text shorter than this often has no band in common with the 100-word windows
# of its source (of 30 random verbatim excerpts of the seeds, 20 words found their source
# 5 times, 30 words 19, 40 words 25, 50 words 30): full-text search adds candidates.
SHORT_TEXT_WORDS = 50
# Full-text search first looks for articles holding all of the text's words, then, if that
# gives no candidate (an edited copy), for those holding all the words of one of a few
# groups of them: with three groups (nine words or more), a copy with two words changed
# still holds a whole group. AND queries skip through the index (a few ms at 200,000
# articles, however common the words); OR queries and bm25 ranking read every listed
# article of every word (0.1-0.7 s), so neither is used: the words the found segments
# share with the text rank them instead.
SEARCH_MAX_WORDS = 30
SEARCH_GROUP_WORDS = 3  # at least this many words in a group, so each stays selective
SEARCH_MAX_GROUPS = 3
SEARCH_MAX_ARTICLES = 200  # articles read per query (their segments' words are compared)
SEARCH_CANDIDATE_SEGMENTS = 20
# Only segments holding this share of the text's words are aligned (a copy or a quote
# holds nearly all of them): a set test costs microseconds, an alignment milliseconds.
SEARCH_MIN_WORD_SHARE = 0.6
# A search word is a run of non-space characters from a letter or digit to a letter or
# digit ("U.S", "don't", "İstanbul"). Each goes to FTS5 as a quoted phrase, which FTS5
# tokenizes as it tokenized the articles ("u s", "don t", "istanbul"), so the words need not
# mimic its tokenizer; a run of punctuation (no token: a phrase that matches nothing) is
# never a word. Control characters end a word, as FTS5 treats them (and a NUL inside a
# phrase is a syntax error to FTS5), and so do lone surrogates (no UTF-8 for SQLite).
_SEARCH_WORD = re.compile(r"[^\W_](?:[^\s\x00-\x1f\x7f-\x9f\ud800-\udfff]*[^\W_])?")
# Of those, candidates sharing only story words (no text band): at most this many,
# most story words in common first. A paraphrase shares the most story words with
# its source; beyond a few dozen, story-only candidates are same-genre news.
MAX_STORY_ONLY_CANDIDATES = 30


@dataclass(frozen=True)
class SegmentToIndex:
    segment_id: str
    article_id: str
    raw_text: str
    kept_ranges: Sequence[tuple[int, int]]


@dataclass
class MatchSummary:
    segments: int = 0
    pairs_compared: int = 0
    matches_stored: int = 0
    derived: int = 0
    clusters: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.segments} segments matched, {self.pairs_compared} pairs compared, "
            f"{self.matches_stored} matches stored ({self.derived} derived), "
            f"{self.clusters} clusters, {self.seconds:.2f}s"
        )


@dataclass
class CheckResult:
    """One corpus segment a pasted text shares text with (the pasted text is the derived side)."""

    article_id: str
    segment_id: str
    label: str
    source_containment: float
    derived_containment: float
    jaccard: float
    evidence: list[str]
    passages: list[align.Passage]
    scores: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------
# Indexing


def index_segments(
    db: sqlite_utils.Database,
    items: Iterable[SegmentToIndex],
    params: SignatureParams = DEFAULT_PARAMS,
) -> None:
    """Sign segments and write their index rows. The caller owns the transaction."""
    index.check_params(db, params)  # records the params on first use, refuses a mismatch
    signed = [
        (item.segment_id, sign_text(item.raw_text, item.kept_ranges, params)) for item in items
    ]
    index.add_many(db, signed, params)


def sign_text(
    raw_text: str, kept_ranges: Sequence[tuple[int, int]], params: SignatureParams = DEFAULT_PARAMS
) -> signatures.SegmentSignatures:
    norms = [token.norm for token in tokenize_ranges(raw_text, kept_ranges)]
    return signatures.sign_tokens(norms, params)


def rebuild_index(
    db: sqlite_utils.Database,
    params: SignatureParams = DEFAULT_PARAMS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-sign every segment from its stored text with ``params``; then everything is re-matched."""
    store = _SegmentStore(db)

    def sign_segment(segment_id: str) -> signatures.SegmentSignatures:
        data = store.get(segment_id)
        return sign_text(data.raw_text, data.kept_ranges, params)

    indexed = index.rebuild(db, params, sign_segment, progress=progress)
    with db.conn:
        db.conn.execute("UPDATE segments SET match_pending = 1")
    return indexed


# ------------------------------------------------------------------------------
# Segments as the matcher sees them


@dataclass
class _SegmentData:
    segment_id: str
    article_id: str
    raw_text: str
    kept_ranges: list[tuple[int, int]]
    facts: lineage.ArticleFacts
    _prepared: align.PreparedText | None = None

    @property
    def prepared(self) -> align.PreparedText:
        if self._prepared is None:
            self._prepared = align.prepare(self.raw_text, self.kept_ranges)
        return self._prepared


class _SegmentStore:
    """Loads segments (text, kept ranges, article facts) from the database, with a bounded cache."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.cache: OrderedDict[str, _SegmentData] = OrderedDict()

    def get(self, segment_id: str) -> _SegmentData:
        if segment_id in self.cache:
            self.cache.move_to_end(segment_id)
            return self.cache[segment_id]
        data = self._load(segment_id)
        self.cache[segment_id] = data
        if len(self.cache) > PREPARED_CACHE_SIZE:
            self.cache.popitem(last=False)
        return data

    def article_segment_ids(self, article_id: str) -> list[str]:
        return [
            row[0]
            for row in self.db.execute("SELECT id FROM segments WHERE article_id = ?", [article_id])
        ]

    def _load(self, segment_id: str) -> _SegmentData:
        row = self.db.execute(
            "SELECT s.article_id, s.start_char, s.end_char, s.word_count, s.title, a.raw_text, "
            "a.outlet, a.published, a.inferred_fields, a.title, a.word_count "
            "FROM segments s JOIN articles a ON a.id = s.article_id WHERE s.id = ?",
            [segment_id],
        ).fetchone()
        if row is None:
            raise KeyError(f"no segment {segment_id!r}")
        fields = SegmentFields(*row)
        removed = self.db.execute(
            "SELECT start_char, end_char FROM boilerplate_spans WHERE article_id = ? "
            "ORDER BY start_char",
            [fields.article_id],
        ).fetchall()
        segment_spans = self.db.execute(
            "SELECT start_char, end_char FROM segments WHERE article_id = ?", [fields.article_id]
        ).fetchall()
        credits = self.db.execute(
            "SELECT kind, agency, matched_text, start_char, end_char FROM article_credits "
            "WHERE article_id = ?",
            [fields.article_id],
        ).fetchall()
        return segment_data(segment_id, fields, removed, segment_spans, credits)


class SegmentFields(NamedTuple):
    """A segment's row joined with its article's, in the order ``_SegmentStore`` selects them."""

    article_id: str
    start: int
    end: int
    segment_words: int
    segment_title: str | None
    raw_text: str
    outlet: str | None
    published: str | None
    inferred_fields: str | None  # JSON list, as stored
    article_title: str | None
    article_words: int


def segment_data(
    segment_id: str,
    fields: SegmentFields,
    removed: Iterable[tuple[int, int]],
    segment_spans: Sequence[tuple[int, int]],
    credits: Iterable[tuple[str, str | None, str, int, int]],
) -> _SegmentData:
    """A segment as the matcher sees it, from its article's stored rows.

    Pure, so the Spark engine builds the same thing from rows it holds in memory:
    ``removed`` are boilerplate spans, ``segment_spans`` every segment of the
    article, ``credits`` (kind, agency, matched text, start, end).
    """
    span = (fields.start, fields.end)
    inferred = set(json.loads(fields.inferred_fields or "[]"))
    facts = lineage.ArticleFacts(
        article_id=fields.article_id,
        segment_id=segment_id,
        outlet=fields.outlet,
        published=fields.published,
        published_inferred="published" in inferred,
        outlet_inferred="outlet" in inferred,
        title=fields.article_title or fields.segment_title,
        credits=[
            lineage.CreditFact(kind, agency, text)
            for kind, agency, text, credit_start, credit_end in credits
            if _applies_to_segment(credit_start, credit_end, span, segment_spans)
        ],
        text=_segment_scope_text(fields.raw_text, span, segment_spans),
        segment_words=fields.segment_words,
        article_words=fields.article_words,
        segment_count=len(segment_spans),
    )
    return _SegmentData(
        segment_id, fields.article_id, fields.raw_text, kept_ranges(span, removed), facts
    )


def kept_ranges(
    segment: tuple[int, int], removed: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The parts of a segment's raw-text span not covered by removed spans."""
    start, end = segment
    ranges = []
    position = start
    for removed_start, removed_end in sorted(removed):
        if removed_end <= position or removed_start >= end:
            continue
        if removed_start > position:
            ranges.append((position, removed_start))
        position = max(position, removed_end)
    if position < end:
        ranges.append((position, end))
    return ranges


def _applies_to_segment(start: int, end: int, segment: tuple[int, int], all_segments) -> bool:
    """A credit belongs to the segment it lies in; one outside every segment (page furniture)
    belongs to all of them."""
    if segment[0] <= start < segment[1]:
        return True
    return not any(s <= start < e for s, e in all_segments)


def _segment_scope_text(raw_text: str, segment: tuple[int, int], all_segments) -> str:
    """The segment's text plus page text outside every segment (where credit lines often sit)."""
    outside = kept_ranges((0, len(raw_text)), all_segments)
    pieces = [raw_text[segment[0] : segment[1]]] + [raw_text[s:e] for s, e in outside]
    return "\n".join(pieces)


# ------------------------------------------------------------------------------
# Comparing two segments


@dataclass
class _PairResult:
    source: _SegmentData
    derived: _SegmentData
    label: str
    alignment: align.Alignment
    credited: bool | None
    direction_confidence: float
    evidence: list[str]

    @property
    def closeness(self) -> float:
        return lineage.closeness(self.alignment.scores)


def compare_segments(
    first: _SegmentData, second: _SegmentData, shares_text: bool = True
) -> _PairResult | None:
    """Align, label and orient one pair; None when it is not worth storing.

    A candidate found only by story words (``shares_text`` False) is aligned only
    if the two are about the same story: a paraphrase always is, and checking
    costs a fifth of an alignment.
    """
    if second.segment_id < first.segment_id:  # one fixed order: same result whoever asks first
        first, second = second, first
    if not shares_text and not lineage.is_same_story(
        {"story_similarity": align.story_similarity(first.prepared, second.prepared)}
    ):
        return None
    alignment = align.align_prepared(first.prepared, second.prepared)
    label, reasons = lineage.label(alignment)
    if not lineage.worth_storing(label, alignment.scores):
        return None
    direction = lineage.decide_direction(first.facts, second.facts, alignment.scores)
    source, derived = (second, first) if direction.swapped else (first, second)
    if direction.swapped:
        alignment = alignment.swapped()
    evidence = [f"shared text: {_containment_sentence(source, derived, alignment)}"]
    evidence += [f"label: {reason}" for reason in reasons]
    evidence += [f"direction: {reason}" for reason in direction.evidence]
    credited = None
    if label in lineage.DERIVED_LABELS:
        credited, credit_reason = lineage.is_credited(source.facts, derived.facts)
        evidence.append(f"credit: {credit_reason}")
    return _PairResult(source, derived, label, alignment, credited, direction.confidence, evidence)


def _containment_sentence(
    source: _SegmentData, derived: _SegmentData, alignment: align.Alignment
) -> str:
    scores = alignment.scores
    source_share = round(100 * scores["source_containment"])
    derived_share = round(100 * scores["derived_containment"])
    return (
        f"{derived.article_id} contains {source_share}% of {source.article_id}; "
        f"{derived_share}% of {derived.article_id} is found in {source.article_id} "
        f"({scores['passages_verbatim']} verbatim, {scores['passages_edited']} edited, "
        f"{scores['passages_paraphrase']} paraphrased, "
        f"{scores['passages_quotation']} quoted passages)"
    )


# ------------------------------------------------------------------------------
# update_matches


def update_matches(
    db: sqlite_utils.Database,
    full: bool = False,
    progress: bool | Callable[[int], None] | None = None,
) -> MatchSummary:
    """Match pending segments (all with ``full``), store matches, rebuild clusters and lineage.

    Idempotent: with nothing pending and nothing stale it changes nothing.
    Every chunk of segments is one transaction that also clears their
    ``match_pending`` flag, so an interrupted run is finished by the next one.
    """
    started = time.perf_counter()
    params = index.stored_params(db) or DEFAULT_PARAMS
    with db.conn:
        index.check_params(db, params)
        if full:
            db.conn.execute("UPDATE segments SET match_pending = 1")
    index.flush(db)  # an interrupted ingest may have left index rows pending
    pending = [
        row[0] for row in db.execute("SELECT id FROM segments WHERE match_pending = 1 ORDER BY id")
    ]
    summary = MatchSummary(segments=len(pending))
    store = _SegmentStore(db)
    compared: set[frozenset[str]] = set()
    report = _progress_reporter(progress, len(pending))
    for start in range(0, len(pending), CHUNK_SIZE):
        chunk = pending[start : start + CHUNK_SIZE]
        written_earlier = set(compared)  # pairs stored (or found not worth it) by earlier chunks
        results = _match_chunk(db, store, chunk, params, compared, summary)
        _write_chunk(db, chunk, results, written_earlier)
        summary.matches_stored += len(results)
        summary.derived += sum(result.label in lineage.DERIVED_LABELS for result in results)
        report(len(chunk))
    if pending or get_meta(db, LINEAGE_STALE_KEY):
        summary.clusters = rebuild_lineage(db)
    else:
        summary.clusters = db.execute("SELECT count(*) FROM clusters").fetchone()[0]
    summary.seconds = time.perf_counter() - started
    return summary


def _match_chunk(
    db,
    store: _SegmentStore,
    chunk: list[str],
    params: SignatureParams,
    compared: set[frozenset[str]],
    summary: MatchSummary,
) -> list[_PairResult]:
    """Compare each segment of the chunk with its candidates (CPU only, no writes)."""
    results = []
    for segment_id in chunk:
        segment = store.get(segment_id)
        own_article = store.article_segment_ids(segment.article_id)
        query = index.load_signatures(db, segment_id, params) or sign_text(
            segment.raw_text, segment.kept_ranges, params
        )
        hits = index.candidates(db, query, params, exclude_segment_ids=own_article)
        for candidate_id, shares_text in best_candidates(hits):
            pair = frozenset((segment_id, candidate_id))
            if pair in compared:
                continue
            compared.add(pair)
            summary.pairs_compared += 1
            result = compare_segments(segment, store.get(candidate_id), shares_text)
            if result is not None:
                results.append(result)
    return results


def best_candidates(hits: dict) -> list[tuple[str, bool]]:
    """(candidate id, shares text) pairs to align: shared text first, then shared story words."""
    text = sorted(
        (hit for hit in hits.values() if hit.text_band_hits),
        key=lambda h: (-h.text_band_hits, -h.containment, h.segment_id),
    )
    story = sorted(
        (hit for hit in hits.values() if not hit.text_band_hits),
        key=lambda h: (-h.story_jaccard, h.segment_id),
    )[:MAX_STORY_ONLY_CANDIDATES]
    return [(hit.segment_id, bool(hit.text_band_hits)) for hit in text + story][
        :MAX_ALIGNED_CANDIDATES
    ]


def _write_chunk(
    db, chunk: list[str], results: list[_PairResult], written_earlier: set[frozenset[str]]
) -> None:
    """Replace the chunk's matches in one transaction (keeping what earlier chunks wrote)."""
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with db.conn:
        stale = [
            match_id
            for match_id, source_id, derived_id in _matches_involving(db, chunk)
            if frozenset((source_id, derived_id)) not in written_earlier
        ]
        for start in range(0, len(stale), 500):
            ids = stale[start : start + 500]
            db.conn.execute(f"DELETE FROM matches WHERE id IN ({','.join('?' * len(ids))})", ids)
        for result in results:
            _store_result(db, result, now)
        marks = ",".join("?" * len(chunk))
        db.conn.execute(f"UPDATE segments SET match_pending = 0 WHERE id IN ({marks})", chunk)
        set_meta(db, LINEAGE_STALE_KEY, True)


def _matches_involving(db, segment_ids: list[str]) -> list[tuple[int, str, str]]:
    marks = ",".join("?" * len(segment_ids))
    return db.execute(
        f"SELECT id, source_segment_id, derived_segment_id FROM matches "
        f"WHERE source_segment_id IN ({marks}) OR derived_segment_id IN ({marks})",
        segment_ids + segment_ids,
    ).fetchall()


def _store_result(db, result: _PairResult, now: str) -> None:
    """Insert (or replace) one match row and its passages."""
    store_match(db, match_row(result, now), passage_rows(result))


def match_row(result: _PairResult, now: str) -> dict:
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
        "direction_confidence": round(result.direction_confidence, 4),
        "scores": json.dumps(scores, sort_keys=True),
        "evidence": json.dumps(result.evidence, ensure_ascii=False),
        "computed_at": now,
    }


def passage_rows(result: _PairResult) -> list[dict]:
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


def store_match(db, row: dict, passages: list[dict]) -> int:
    """Insert (or replace) a match row and its passages in the caller's transaction; its id."""
    source, derived = row["source_segment_id"], row["derived_segment_id"]
    db.conn.execute(
        "DELETE FROM matches WHERE (source_segment_id = ? AND derived_segment_id = ?) "
        "OR (source_segment_id = ? AND derived_segment_id = ?)",
        [source, derived, derived, source],
    )
    match_id = _insert(db, "matches", [row])
    _insert(db, "passages", [{"match_id": match_id, **passage} for passage in passages])
    return match_id


def _insert(db, table: str, rows: list[dict]) -> int | None:
    """Insert rows (all with the same keys) in the caller's transaction; the last rowid."""
    if not rows:
        return None
    columns = list(rows[0])
    cursor = db.conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[row[column] for column in columns] for row in rows],
    )
    if len(rows) == 1:
        return db.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
    return cursor.lastrowid


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


def rebuild_lineage(db: sqlite_utils.Database) -> int:
    """Recompute ``clusters`` and ``lineage`` from the stored matches (one transaction)."""
    nodes = {
        segment_id: lineage.SegmentNode(segment_id, article_id, title, published)
        for segment_id, article_id, title, published in db.execute(
            "SELECT s.id, s.article_id, COALESCE(a.title, s.title), a.published FROM segments s "
            "JOIN articles a ON a.id = s.article_id WHERE s.id IN "
            "(SELECT source_segment_id FROM matches UNION SELECT derived_segment_id FROM matches)"
        )
    }
    edges = [
        match_edge(*row)
        for row in db.execute(
            "SELECT id, source_segment_id, derived_segment_id, label, scores, "
            "direction_confidence, credited FROM matches ORDER BY id"
        )
    ]
    clusters = lineage.build_clusters(nodes, edges)
    with db.conn:
        db.conn.execute("DELETE FROM lineage")
        db.conn.execute("DELETE FROM clusters")
        for cluster_id, cluster in enumerate(clusters, start=1):
            _store_cluster(db, cluster_id, cluster)
        set_meta(db, LINEAGE_STALE_KEY, False)
    return len(clusters)


def match_edge(
    match_id: int,
    source_id: str,
    derived_id: str,
    label: str,
    scores: str,
    confidence: float,
    credited: int | None,
) -> lineage.MatchEdge:
    """A lineage edge from a ``matches`` row's columns (``scores`` as stored JSON)."""
    return lineage.MatchEdge(
        match_id,
        source_id,
        derived_id,
        label,
        json.loads(scores).get("closeness", 0.0),
        confidence,
        None if credited is None else bool(credited),
    )


def _store_cluster(db, cluster_id: int, cluster: lineage.Cluster) -> None:
    cluster_row, member_rows = cluster_rows(cluster_id, cluster)
    _insert(db, "clusters", [cluster_row])
    _insert(db, "lineage", member_rows)


def cluster_rows(cluster_id: int, cluster: lineage.Cluster) -> tuple[dict, list[dict]]:
    """The ``clusters`` row and the ``lineage`` rows of one cluster."""
    cluster_row = {
        "id": cluster_id,
        "title": cluster.title,
        "origin_article_id": cluster.origin_article_id,
        "article_count": cluster.article_count,
        "derived_count": cluster.derived_count,
        "uncredited_count": cluster.uncredited_count,
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
        }
        for m in cluster.members
    ]
    return cluster_row, member_rows


# ------------------------------------------------------------------------------
# find_sources (the check page): read-only


LABEL_RANK = {"verbatim": 0, "light_edit": 1, "paraphrase": 2, "shared_quotes": 3, "independent": 4}


def find_sources(
    db: sqlite_utils.Database, text: str, limit: int = 20, *, use_search: bool = True
) -> list[CheckResult]:
    """Corpus segments a pasted text derives from (or quotes), best first. Never writes.

    Candidates come from the similarity index and, for a text under SHORT_TEXT_WORDS
    when the database has a full-text index (``search-index``) and ``use_search``, from
    full-text search.
    """
    params = index.stored_params(db) or DEFAULT_PARAMS
    ranges = _pasted_kept_ranges(text)
    pasted = align.prepare(text, ranges)
    if not pasted.tokens:
        return []
    query = signatures.sign_tokens(pasted.norms, params)
    hits = index.candidates(db, query, params)
    store = _SegmentStore(db)
    candidate_ids = [segment_id for segment_id, _ in best_candidates(hits)]
    if use_search and len(pasted.tokens) < SHORT_TEXT_WORDS and has_search(db):
        found = set(candidate_ids)
        kept_text = " ".join(text[start:end] for start, end in ranges)
        candidate_ids += [s for s in _searched_segments(db, kept_text) if s not in found]
    results = []
    for segment_id in candidate_ids:
        try:
            candidate = store.get(segment_id)
        except KeyError:  # its article was deleted behind the index's back (sqlite3, Datasette)
            continue
        result = _check_one(candidate, pasted)
        if result is not None:
            results.append(result)
    results.sort(
        key=lambda r: (
            LABEL_RANK[r.label],
            -r.derived_containment,
            -r.source_containment,
            r.segment_id,
        )
    )
    return results[:limit]


def _searched_segments(db: sqlite_utils.Database, text: str) -> list[str]:
    """Segments holding most of the text's words, found by full-text search (above),
    most words in common first. ``text`` is the pasted text as cleaning keeps it (the
    index holds clean texts: a dateline or credit line would match no article)."""
    words = sorted(_search_words(text), key=lambda w: (-len(w), w))[:SEARCH_MAX_WORDS]
    wanted = set(normalized_words(text))
    if not words or not wanted:
        return []
    try:
        kept = _kept_segments(db, _all_words_query(words), wanted)
        if not kept and len(words) >= 2 * SEARCH_GROUP_WORDS:  # else one group: the same query
            kept = _kept_segments(db, _any_group_query(words), wanted)
    except sqlite3.OperationalError:
        # An articles_fts this project did not build (detail=none cannot take phrases, a
        # plain table no MATCH): the similarity index alone answers, as without one.
        return []
    return kept[:SEARCH_CANDIDATE_SEGMENTS]


def _kept_segments(db: sqlite_utils.Database, query: str, wanted: set[str]) -> list[str]:
    """Segments of the articles the FTS5 query finds that hold SEARCH_MIN_WORD_SHARE of
    the ``wanted`` words, most words first. Words are compared as the aligner compares
    them (``shingles.words``: accents, case and width folded, CJK characters one by one),
    so a paste the aligner would call verbatim is never dropped here."""
    rows = db.execute(
        "SELECT s.id, s.clean_text FROM segments AS s WHERE s.article_id IN ("
        f"SELECT a.id FROM {SEARCH_TABLE} AS f JOIN articles AS a ON a.rowid = f.rowid "
        f"WHERE {SEARCH_TABLE} MATCH ? LIMIT ?) ORDER BY s.id",
        [query, SEARCH_MAX_ARTICLES],
    ).fetchall()
    shares = {
        segment_id: len(wanted.intersection(normalized_words(clean_text))) / len(wanted)
        for segment_id, clean_text in rows
    }
    kept = [segment_id for segment_id, share in shares.items() if share >= SEARCH_MIN_WORD_SHARE]
    return sorted(kept, key=lambda segment_id: -shares[segment_id])


def _search_words(text: str) -> set[str]:
    """The text's distinct search words (above) of two or more characters, lower case."""
    return {word for word in _SEARCH_WORD.findall(text.lower()) if len(word) > 1}


def _all_words_query(words: list[str]) -> str:
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _any_group_query(words: list[str]) -> str:
    """Any of up to SEARCH_MAX_GROUPS groups (of SEARCH_GROUP_WORDS or more) with all of
    its words. ``words`` come longest (rarest) first and are dealt out in turn, so every
    group gets selective words."""
    group_count = max(1, min(SEARCH_MAX_GROUPS, len(words) // SEARCH_GROUP_WORDS))
    groups = [words[start::group_count] for start in range(group_count)]
    return " OR ".join(f"({_all_words_query(group)})" for group in groups)


def _check_one(candidate: _SegmentData, pasted: align.PreparedText) -> CheckResult | None:
    alignment = align.align_prepared(candidate.prepared, pasted)
    label, reasons = lineage.label(alignment)
    if label == "independent":
        return None
    return CheckResult(
        article_id=candidate.article_id,
        segment_id=candidate.segment_id,
        label=label,
        source_containment=alignment.source_containment,
        derived_containment=alignment.derived_containment,
        jaccard=alignment.jaccard,
        evidence=reasons,
        passages=alignment.passages,
        scores=alignment.scores,
    )


def _pasted_kept_ranges(text: str) -> list[tuple[int, int]]:
    """The pasted text minus boilerplate and credit lines, as the ingest would clean it."""
    cleaned = clean.clean_article(text)
    ranges = [r for segment in cleaned.segments for r in cleaned.kept_ranges(segment)]
    return ranges or [(0, len(text))]
