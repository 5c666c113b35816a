"""The check page's search: the corpus segments a pasted text derives from, or quotes.

In memory, never writes. Candidates come from the similarity index and, for a short
text, from the optional full-text index (``store.enable_search``).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

import sqlite_utils

from ..cleaning import clean_article
from ..parameters import DEFAULT_PARAMS
from ..store import SEARCH_TABLE, has_search
from ..vocabulary import LABEL_RANK
from . import align, budget, evidence, index, lineage
from .pairs import best_candidates
from .segments import SegmentData, SegmentStore
from .signatures import sign_tokens
from .tokens import words as normalized_words

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


# A longer "word" is not searched for: FTS5 makes a phrase of its tokens and reads every
# token's list of articles, so a pasted `or.or.or…` without spaces (one 199 KB word) cost
# 39 s and 3.45 GB on 3,000 articles, growing with the archive. Real words stay far below.
SEARCH_MAX_WORD_CHARS = 40


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
    kind: str = ""  # the label, or "quotation" when only quoted words are shared


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
    query = sign_tokens(pasted.norms, params)
    hits = index.candidates(db, query, params)
    store = SegmentStore(db)
    candidate_ids = [segment_id for segment_id, _ in best_candidates(hits)]
    if use_search and len(pasted.tokens) < SHORT_TEXT_WORDS and has_search(db):
        found = set(candidate_ids)
        kept_text = " ".join(text[start:end] for start, end in ranges)
        candidate_ids += [s for s in _searched_segments(db, kept_text) if s not in found]
    results = []
    for segment_id in candidate_ids:
        budget.look()  # a caller's budget (the check page's) may stop between candidates
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
    them (``tokens.words``: accents, case and width folded, CJK characters one by one),
    so a paste the aligner would call verbatim is never dropped here."""
    rows = db.execute(
        "SELECT id, clean_text FROM segment_texts WHERE article_id IN ("
        f"SELECT found.id FROM {SEARCH_TABLE} AS f JOIN articles AS found "
        f"ON found.rowid = f.rowid WHERE {SEARCH_TABLE} MATCH ? LIMIT ?) ORDER BY id",
        [query, SEARCH_MAX_ARTICLES],
    ).fetchall()
    shares = {
        segment_id: len(wanted.intersection(normalized_words(clean_text))) / len(wanted)
        for segment_id, clean_text in rows
    }
    kept = [segment_id for segment_id, share in shares.items() if share >= SEARCH_MIN_WORD_SHARE]
    return sorted(kept, key=lambda segment_id: -shares[segment_id])


def _search_words(text: str) -> set[str]:
    """The text's distinct search words (above) of 2 to SEARCH_MAX_WORD_CHARS characters,
    lower case."""
    words = _SEARCH_WORD.findall(text.lower())
    return {word for word in words if 1 < len(word) <= SEARCH_MAX_WORD_CHARS}


def _all_words_query(words: list[str]) -> str:
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _any_group_query(words: list[str]) -> str:
    """Any of up to SEARCH_MAX_GROUPS groups (of SEARCH_GROUP_WORDS or more) with all of
    its words. ``words`` come longest (rarest) first and are dealt out in turn, so every
    group gets selective words."""
    group_count = max(1, min(SEARCH_MAX_GROUPS, len(words) // SEARCH_GROUP_WORDS))
    groups = [words[start::group_count] for start in range(group_count)]
    return " OR ".join(f"({_all_words_query(group)})" for group in groups)


def _check_one(candidate: SegmentData, pasted: align.PreparedText) -> CheckResult | None:
    phrase = align.phrase_found(candidate.prepared, pasted)
    if phrase is not None:
        return _phrase_result(candidate, phrase)
    alignment = align.align_prepared(candidate.prepared, pasted)
    label, _ = lineage.label(alignment)
    if label == "independent":
        return None
    scores = dict(alignment.scores, **_quotations_and_statements(candidate, alignment.passages))
    kind = evidence.check_kind(
        label,
        (p.kind for p in alignment.passages),
        alignment.derived_containment,
        in_quotation_marks=scores["passages_quotation"] > 0,
    )
    return CheckResult(
        article_id=candidate.article_id,
        segment_id=candidate.segment_id,
        label=label,
        source_containment=alignment.source_containment,
        derived_containment=alignment.derived_containment,
        jaccard=alignment.jaccard,
        evidence=[evidence.check_sentence(kind, scores)],
        passages=alignment.passages,
        scores=scores,
        kind=kind,
    )


def _quotations_and_statements(candidate: SegmentData, passages: list[align.Passage]) -> dict:
    """Shared quotations split by what the article has there: words in quotation marks, or
    a statement it attributes without them ("the ministry said ...", align's statements)."""
    quoted = candidate.prepared.quoted
    shared = [p.source_tokens for p in passages if p.kind == "quotation"]
    quotations = sum(bool(quoted[start:end].mean() >= 0.5) for start, end in shared)
    return {"passages_quotation": quotations, "passages_statement": len(shared) - quotations}


def _phrase_result(candidate: SegmentData, phrase: align.Passage) -> CheckResult:
    """A short pasted phrase found whole in ``candidate``: where it stands, word for word
    (or inside a quotation), never "reworded"."""
    quoted = phrase.kind == "quotation"
    kind = evidence.QUOTATION if quoted else evidence.PHRASE
    found = phrase.source_tokens[1] - phrase.source_tokens[0]
    scores = {
        "derived_containment": 1.0,
        "source_containment": round(found / max(1, len(candidate.prepared)), 4),
        **_quotations_and_statements(candidate, [phrase]),
    }
    return CheckResult(
        article_id=candidate.article_id,
        segment_id=candidate.segment_id,
        label="shared_quotes" if quoted else "verbatim",
        source_containment=scores["source_containment"],
        derived_containment=1.0,
        jaccard=0.0,
        evidence=[evidence.check_sentence(kind, scores)],
        passages=[phrase],
        scores=scores,
        kind=kind,
    )


def _pasted_kept_ranges(text: str) -> list[tuple[int, int]]:
    """The pasted text minus boilerplate and credit lines, as the ingest would clean it."""
    cleaned = clean_article(text)
    ranges = [r for segment in cleaned.segments for r in cleaned.kept_ranges(segment)]
    return ranges or [(0, len(text))]
