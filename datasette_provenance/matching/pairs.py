"""One candidate pair: aligned, labelled, oriented and credited (``compare_segments``),
and which of a segment's candidates are worth aligning (``best_candidates``).

Pure: both matching engines (``update`` locally, the Spark engine) verify pairs
with these, so their results agree row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..parameters import DEFAULT_CANDIDATES, CandidateSettings
from ..vocabulary import CREDITED, DERIVED_LABELS
from . import align, evidence, lineage
from .segments import SegmentData


@dataclass
class PairResult:
    """One compared pair worth storing, oriented source -> derived."""

    source: SegmentData
    derived: SegmentData
    label: str
    alignment: align.Alignment
    credit: str | None  # vocabulary.CREDIT_STATES; None when not derived or not checkable
    direction_confidence: float
    evidence: list[dict]  # {"about": ..., "text": ...}: see matching.evidence

    @property
    def credited(self) -> bool | None:
        return None if self.credit is None else self.credit == CREDITED

    @property
    def closeness(self) -> float:
        return lineage.closeness(self.alignment.scores)


def compare_segments(
    first: SegmentData, second: SegmentData, shares_text: bool = True
) -> PairResult | None:
    """Align, label and orient one pair; None when it is not worth storing.

    A candidate found only by story words (``shares_text`` False) is aligned only
    if the two are about the same story: a paraphrase always is, and checking
    costs a fifth of an alignment. Its evidence is plain sentences naming outlets and
    titles: for a derived pair what was reused, which came first and why, and whether
    the copy credits its source; for any other pair only what they share (nobody
    copied, so there is no direction or credit to state).
    """
    if second.segment_id < first.segment_id:  # one fixed order: same result whoever asks first
        first, second = second, first
    if not shares_text and not lineage.is_same_story(
        {"story_similarity": align.story_similarity(first.prepared, second.prepared)}
    ):
        return None
    alignment = align.align_prepared(first.prepared, second.prepared)
    label, _ = lineage.label(alignment)
    if not lineage.worth_storing(label, alignment.scores):
        return None
    direction = lineage.decide_direction(first.facts, second.facts, alignment.scores)
    source, derived = (second, first) if direction.swapped else (first, second)
    if direction.swapped:
        alignment = alignment.swapped()
    if label not in DERIVED_LABELS:
        names = lineage.names_for(first.facts, second.facts)
        shared = evidence.not_derived(label, alignment.scores, first.facts, second.facts, names)
        said = [evidence.item(evidence.SHARED, shared)]
        return PairResult(source, derived, label, alignment, None, direction.confidence, said)
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
    return PairResult(source, derived, label, alignment, found.state, direction.confidence, said)


def best_candidates(
    hits: dict, settings: CandidateSettings = DEFAULT_CANDIDATES
) -> list[tuple[str, bool]]:
    """(candidate id, shares text) pairs to align: shared text first, then shared story words."""
    text = sorted(
        (hit for hit in hits.values() if hit.text_band_hits),
        key=lambda h: (-h.text_band_hits, -h.containment, h.segment_id),
    )
    story = sorted(
        (hit for hit in hits.values() if not hit.text_band_hits),
        key=lambda h: (-h.story_jaccard, h.segment_id),
    )[: settings.max_story_only_candidates]
    return [(hit.segment_id, bool(hit.text_band_hits)) for hit in text + story][
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
