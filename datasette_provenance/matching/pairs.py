"""One candidate pair: aligned, labelled, oriented and credited (``compare_segments``),
and which of a segment's candidates are worth aligning (``best_candidates``).

Pure: both matching engines (``update`` locally, the Spark engine) verify pairs
with these, so their results agree row for row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..parameters import DEFAULT_CANDIDATES, CandidateSettings
from ..vocabulary import DERIVED_LABELS
from . import align, lineage
from .segments import SegmentData


@dataclass
class PairResult:
    """One compared pair worth storing, oriented source -> derived."""

    source: SegmentData
    derived: SegmentData
    label: str
    alignment: align.Alignment
    credited: bool | None
    direction_confidence: float
    evidence: list[str]

    @property
    def closeness(self) -> float:
        return lineage.closeness(self.alignment.scores)


def compare_segments(
    first: SegmentData, second: SegmentData, shares_text: bool = True
) -> PairResult | None:
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
    if label in DERIVED_LABELS:
        credited, credit_reason = lineage.is_credited(source.facts, derived.facts)
        evidence.append(f"credit: {credit_reason}")
    return PairResult(source, derived, label, alignment, credited, direction.confidence, evidence)


def _containment_sentence(
    source: SegmentData, derived: SegmentData, alignment: align.Alignment
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
