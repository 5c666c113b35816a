"""One candidate pair: aligned, oriented, labelled and credited (``judge_pair``,
``compare_segments``), the cheap look that decides whether it is worth aligning
(``shares_wording``), the story candidate of a pair not stored (``story_candidate``)
and its same-story link (``story_link``),
and which of a segment's candidates are looked at (``best_candidates``).

Pure: both matching engines (``update`` locally, the Spark engine) verify pairs
with these, so their results agree row for row. ``rarity`` is the corpus's
story-term frequencies (``stories.Rarity``), read once per matching run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..parameters import (
    DEFAULT_CANDIDATES,
    DEFAULT_DERIVATION,
    DEFAULT_THRESHOLDS,
    CandidateSettings,
)
from ..vocabulary import CREDITED, DERIVED_LABELS
from . import align, derivation, evidence, lineage, stories
from .segments import SegmentData

# A candidate found by story words alone is aligned when this share of the word
# 3-grams of one of the two texts is in the other: a derivation keeps wording (of the
# labelled derived pairs of four corpora, 98 % share at least 3 %, and those that share
# less are never judged derived), while most same-story reports share less.
MIN_SHARED_PHRASE_SHARE = 0.03


@dataclass
class PairResult:
    """One compared pair, oriented source -> derived."""

    source: SegmentData
    derived: SegmentData
    label: str
    alignment: align.Alignment
    credit: str | None  # vocabulary.CREDIT_STATES; None when not derived or not checkable
    direction_confidence: float
    evidence: list[dict]  # {"about": ..., "text": ...}: see matching.evidence
    derivation_probability: float

    @property
    def credited(self) -> bool | None:
        return None if self.credit is None else self.credit == CREDITED

    @property
    def closeness(self) -> float:
        return lineage.closeness(self.alignment.scores)


@dataclass(frozen=True)
class StoryLink:
    """Two segments reporting one story without wording worth aligning (ids in order)."""

    segment_id: str
    other_segment_id: str
    similarity: float


def compare_segments(
    first: SegmentData,
    second: SegmentData,
    shares_text: bool = True,
    rarity: stories.Rarity | None = None,
) -> PairResult | None:
    """Align, orient and label one pair; None when it is not worth storing.

    A candidate found only by story words (``shares_text`` False) is aligned only if a
    cheap look finds shared wording (``shares_wording``: a derivation, even a reworded
    one, keeps some): the look costs microseconds where an alignment costs milliseconds. Its evidence is plain sentences naming
    outlets and titles: for a derived pair what was reused, which came first and why, and
    whether the copy credits its source; for any other pair only what they share (nobody
    copied, so there is no direction or credit to state).
    """
    if not shares_text and not shares_wording(first, second):
        return None
    result = judge_pair(first, second, rarity)
    if not lineage.worth_storing(result.label, result.alignment.scores):
        return None
    return result


def judge_pair(
    first: SegmentData, second: SegmentData, rarity: stories.Rarity | None = None
) -> PairResult:
    """Align two segments, decide which is the source, and how (if at all) it was reused.

    The direction is decided first: the evidence of derivation is what the later text
    took from the earlier one. With ``rarity``, ``story_similarity`` is the corpus-wide
    one of ``stories``; without, the two texts' own (``align.story_similarity``).
    """
    if second.segment_id < first.segment_id:  # one fixed order: same result whoever asks first
        first, second = second, first
    alignment = align.align_prepared(first.prepared, second.prepared, story=rarity is None)
    if rarity is not None:
        alignment.scores["story_similarity"] = round(
            stories.similarity(first.story_profile(rarity), second.story_profile(rarity)), 4
        )
    direction = lineage.decide_direction(first.facts, second.facts, alignment.scores)
    source, derived = (second, first) if direction.swapped else (first, second)
    if direction.swapped:
        alignment = alignment.swapped()
    label, _ = lineage.label(alignment)
    probability = derivation.probability(alignment.scores, DEFAULT_DERIVATION)
    if label not in DERIVED_LABELS:
        names = lineage.names_for(first.facts, second.facts)
        shared = evidence.not_derived(label, alignment.scores, first.facts, second.facts, names)
        said = [evidence.item(evidence.SHARED, shared)]
        return PairResult(
            source, derived, label, alignment, None, direction.confidence, said, probability
        )
    names = lineage.names_for(source.facts, derived.facts)
    edits = [(str(old), str(new)) for p in alignment.passages for old, new in p.edits]
    reuse = evidence.reuse(label, alignment.scores, source.facts, derived.facts, names, edits)
    said = [evidence.item(evidence.REUSE, reuse)]
    own = evidence.own_material(alignment.scores, source.facts, derived.facts, names)
    said += [evidence.item(evidence.REUSE, own)] if own else []
    said += [evidence.item(evidence.DIRECTION, reason) for reason in direction.evidence]
    found = lineage.credit_of(source.facts, derived.facts)
    credit = lineage.credit_sentence(source.facts, derived.facts, found)
    said.append(evidence.item(evidence.CREDIT, credit))
    return PairResult(
        source, derived, label, alignment, found.state, direction.confidence, said, probability
    )


def shares_wording(first: SegmentData, second: SegmentData) -> bool:
    """Whether two segments share enough word 3-grams to be worth aligning (microseconds)."""
    shared = len(np.intersect1d(first.phrases, second.phrases, assume_unique=True))
    smaller = min(len(first.phrases), len(second.phrases))
    return bool(smaller) and shared >= MIN_SHARED_PHRASE_SHARE * smaller


def story_candidate(
    first: SegmentData, second: SegmentData, rarity: stories.Rarity
) -> StoryLink | None:
    """Two segments not stored as a match, as a story candidate (with their similarity, not
    rounded) when it reaches ``story_candidate_similarity``: the lineage rebuild measures it
    again and decides the link (``story_link``)."""
    low, high = sorted((first, second), key=lambda segment: segment.segment_id)
    value = stories.similarity(low.story_profile(rarity), high.story_profile(rarity))
    if value < DEFAULT_THRESHOLDS.story_candidate_similarity:
        return None
    return StoryLink(low.segment_id, high.segment_id, value)


def story_link(first: str, second: str, similarity: float) -> StoryLink | None:
    """The same-story link of two segments (ids) at this similarity, if they report one story."""
    if similarity < DEFAULT_THRESHOLDS.same_story_similarity:
        return None
    low, high = sorted((first, second))
    return StoryLink(low, high, round(similarity, 4))


def best_candidates(
    hits: dict, settings: CandidateSettings = DEFAULT_CANDIDATES
) -> list[tuple[str, bool]]:
    """(candidate id, shares text) pairs to look at: shared text (a band of a window, or a
    short copy's fingerprints) first, then shared story words."""
    text = sorted(
        (hit for hit in hits.values() if hit.shares_text),
        key=lambda h: (-h.text_band_hits, -h.fingerprint_hits, -h.containment, h.segment_id),
    )
    story = sorted(
        (hit for hit in hits.values() if not hit.shares_text),
        key=lambda h: (-h.story_jaccard, h.segment_id),
    )[: settings.max_story_only_candidates]
    return [(hit.segment_id, hit.shares_text) for hit in text + story][
        : settings.max_aligned_candidates
    ]


def storm_candidates(
    candidates: list[tuple[str, bool]],
    published: Callable[[str], str | None],
    settings: CandidateSettings = DEFAULT_CANDIDATES,
) -> list[tuple[str, bool]]:
    """``best_candidates`` trimmed when the segment is one copy of a syndication storm.

    A segment with more than ``settings.storm_min_copies`` candidates sharing text is a
    wire story republished by dozens or hundreds of outlets: it is aligned with the
    ``storm_earliest`` earliest-published of them (the wire original is the earliest) and
    its ``storm_closest`` closest, not with every other copy, so a storm costs the same per
    copy however big it grows. Story-only candidates are kept. Otherwise unchanged.
    ``published(segment id)`` is the segment's publication date (ISO text) or None.
    """
    text = [candidate for candidate in candidates if candidate[1]]
    if len(text) <= settings.storm_min_copies:
        return candidates

    def earliest(candidate: tuple[str, bool]) -> tuple:
        date = published(candidate[0])
        return (date is None, date or "", candidate[0])

    keep = set(text[: settings.storm_closest]) | set(
        sorted(text, key=earliest)[: settings.storm_earliest]
    )
    return [candidate for candidate in candidates if not candidate[1] or candidate in keep]
