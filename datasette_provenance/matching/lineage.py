"""Judgements over alignments: labels, direction, credit, story clusters and lineage.

Pure functions: they read alignment scores and facts about articles (dates,
outlets, credit lines) and return decisions with plain-language reasons; the
labels are ``vocabulary.LABELS``, decided by ``parameters.LabelThresholds``.
``update.py`` stores them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import networkx as nx

from .. import vocabulary
from ..cleaning import find_name_credits
from ..parameters import (
    DEFAULT_DERIVATION,
    DEFAULT_LINEAGE,
    DEFAULT_THRESHOLDS,
    DerivationModel,
    LabelThresholds,
    LineageSettings,
)
from ..vocabulary import DERIVED_LABELS
from . import derivation, evidence, stories

# ------------------------------------------------------------------------------
# Labels


def label(
    alignment_or_scores,
    thresholds: LabelThresholds = DEFAULT_THRESHOLDS,
    model: DerivationModel = DEFAULT_DERIVATION,
) -> tuple[str, list[str]]:
    """The label of an aligned pair and the reasons for it (plain language).

    The scores must be oriented from the earlier text (source) to the later one
    (derived): the evidence weighs what the later text took. Accepts an
    ``align.Alignment`` or its ``scores`` dict (as stored in ``matches.scores``),
    so stored matches can be re-labelled without re-aligning.
    """
    scores = getattr(alignment_or_scores, "scores", alignment_or_scores)
    probability = derivation.probability(scores, model)
    if probability < thresholds.min_derivation_probability:
        return _not_derived(scores, thresholds, probability)
    side = reuse_side(scores)
    copy = scores[f"{side}_copy_containment"]
    paraphrased = scores[f"{side}_paraphrase_containment"]
    fidelity = scores[f"{side}_fidelity"]
    edits = scores["edits_per_100_tokens"]
    reasons = derivation_evidence(scores, probability)
    if copy > 0 and copy >= paraphrased and edits <= thresholds.verbatim_max_edits_per_100:
        reasons.append(
            f"the copied passages are nearly unchanged ({edits:.1f} edits per 100 words)"
        )
        return "verbatim", reasons
    if fidelity >= thresholds.light_edit_min_fidelity:
        reasons.append(
            f"{_percent(fidelity)} of the reused text is kept word for word, "
            f"with {edits:.1f} edits per 100 copied words"
        )
        return "light_edit", reasons
    reasons.append(
        f"only {_percent(fidelity)} of the reused text is kept word for word: it is reworded"
    )
    return "paraphrase", reasons


def reuse_side(scores: Mapping) -> str:
    """'source' or 'derived': the text more of which is reused (usually the shorter)."""
    return "derived" if scores["derived_containment"] >= scores["source_containment"] else "source"


def derivation_evidence(scores: Mapping, probability: float) -> list[str]:
    """The evidence behind a derivation probability, in plain words."""
    reasons = [f"probability of derivation {_percent(probability)}"]
    reasons.append(
        f"{_percent(scores['derived_phrase_overlap'])} of the later text's own wording "
        f"(names, numbers and statements aside) is found in the earlier one, and "
        f"{_percent(scores['source_phrase_overlap'])} of the earlier text's in the later one"
    )
    if scores["copied_phrasing_tokens"]:
        reasons.append(
            f"{scores['copied_phrasing_tokens']} words are copied (verbatim or edited), "
            f"the longest passage {scores['longest_copied_phrasing']} words"
        )
    if scores["linked_sentences"]:
        reasons.append(
            f"{scores['linked_sentences']} sentences correspond, mostly in the same order "
            f"(sentence alignment {scores['sentence_alignment']:.2f})"
        )
    return reasons


def _not_derived(
    scores: Mapping, thresholds: LabelThresholds, probability: float
) -> tuple[str, list[str]]:
    shared = max(scores["source_containment"], scores["derived_containment"])
    reasons = [
        f"probability of derivation {_percent(probability)}: too little shared wording "
        f"({_percent(shared)} at most of either text, "
        f"{_percent(scores['derived_phrase_overlap'])} of the later text's own wording)"
    ]
    if scores.get("passages_quotation", 0):
        quoted = max(scores["source_quote_coverage"], scores["derived_quote_coverage"])
        reasons.append(
            f"the overlap is {scores['passages_quotation']} shared quotation(s) "
            f"({_percent(quoted)} of the text): the same speakers quoted"
        )
        return "shared_quotes", reasons
    if is_same_story(scores, thresholds):
        reasons.append(f"same story (content-word similarity {scores['story_similarity']:.2f})")
    return "independent", reasons


def is_same_story(scores: Mapping, thresholds: LabelThresholds = DEFAULT_THRESHOLDS) -> bool:
    return scores.get("story_similarity", 0.0) >= thresholds.same_story_similarity


def worth_storing(
    label_name: str, scores: Mapping, thresholds: LabelThresholds = DEFAULT_THRESHOLDS
) -> bool:
    """Derived pairs always; the others only when they report the same story (clusters)."""
    return label_name in DERIVED_LABELS or is_same_story(scores, thresholds)


def closeness(scores: Mapping) -> float:
    """How much of the derived text this source explains, and how faithfully (0-1).

    Words kept verbatim count fully, paraphrased ones half: of two candidate
    parents, the one the copy is closer to wins.
    """
    return min(
        1.0, scores["derived_matched_share"] + 0.5 * scores["derived_paraphrase_containment"]
    )


def _percent(share: float) -> str:
    return f"{round(100 * share)}%"


# ------------------------------------------------------------------------------
# Facts about articles


@dataclass(frozen=True)
class CreditFact:
    kind: str  # vocabulary.CREDIT_KINDS: wire_marker, text_credit, attribution, photo_credit, other
    agency: str | None
    text: str
    form: str = ""


@dataclass
class ArticleFacts:
    """What direction and credit decisions need to know about one side of a pair."""

    article_id: str
    segment_id: str
    outlet: str | None = None
    published: str | None = None
    published_inferred: bool = False
    outlet_inferred: bool = False
    title: str | None = None
    credits: list[CreditFact] = field(default_factory=list)  # those that apply to this segment
    text: str = ""  # the segment's text as written (for outlet mentions)
    segment_words: int = 0
    article_words: int = 0
    segment_count: int = 1
    # Other names the outlet goes by in text: display names ("The New York Times") and
    # domains ("nytimes.com", the article URL's included).
    outlet_names: tuple[str, ...] = ()
    opening: str | None = None  # the first words of its text: names an untitled article

    @property
    def wire_agencies(self) -> set[str]:
        return {c.agency for c in self.credits if c.kind == vocabulary.WIRE_MARKER and c.agency}

    @property
    def names(self) -> list[str]:
        """Every name this article's source could be credited by: its outlet, the outlet's
        other names and the agencies whose wire markers it carries."""
        found = [self.outlet] if self.outlet else []
        return list(dict.fromkeys([*found, *self.outlet_names, *sorted(self.wire_agencies)]))


def names_for(*articles: ArticleFacts) -> evidence.Names:
    """How evidence sentences name these articles (an inferred outlet is not used)."""
    return evidence.Names(
        *articles, inferred=[a.article_id for a in articles if a.outlet_inferred]
    )


# ------------------------------------------------------------------------------
# Credit


@dataclass(frozen=True)
class CreditFinding:
    """Whether a derived text credits a source, and how."""

    state: str | None  # vocabulary.CREDIT_STATES, or None when it cannot be checked
    name: str | None = None  # the source's name as credited ("Reuters", "The New York Times")
    quote: str | None = None  # the credit as written
    kind: str | None = None  # the credit's kind (wire_marker, text_credit, attribution, photo_credit)
    others: tuple[tuple[str, bool], ...] = ()  # what it credits instead: (name, photo only)

    @property
    def credited(self) -> bool | None:
        return None if self.state is None else self.state == vocabulary.CREDITED


def credit_of(source: ArticleFacts, derived: ArticleFacts) -> CreditFinding:
    """Whether ``derived`` credits ``source`` for its text.

    Credited: a wire marker, text credit or attribution names the source (its outlet, its
    other names or domains, or the agency whose wire marker it carries). Photo only: the
    source is named, but only in a photo or video credit. Cannot be checked (state None):
    the source has no known outlet and carries no wire marker.
    """
    names = source.names
    if not names:
        return CreditFinding(None)
    best: CreditFinding | None = None
    for credit in derived.credits:
        if credit.kind not in vocabulary.TEXT_CREDIT_KINDS + (vocabulary.PHOTO_CREDIT,):
            continue
        name = _credited_name(credit, names)
        if name is None:
            continue
        found = CreditFinding(
            vocabulary.PHOTO_ONLY if credit.kind == vocabulary.PHOTO_CREDIT else vocabulary.CREDITED,
            name,
            credit.text.strip(),
            credit.kind,
        )
        if found.state == vocabulary.CREDITED:
            return found
        best = best or found
    outlet_names = [name for name in names if not vocabulary.agency_keys(name)]
    for credit in find_name_credits(derived.text, outlet_names, source.outlet or names[0]):
        found = CreditFinding(
            vocabulary.PHOTO_ONLY if credit.kind == vocabulary.PHOTO_CREDIT else vocabulary.CREDITED,
            credit.text,
            _quote(derived.text, credit.text),
            credit.kind,
        )
        if found.state == vocabulary.CREDITED:
            return found
        best = best or found
    if best:
        return best
    return CreditFinding(vocabulary.UNCREDITED, names[0], others=_other_credits(derived))


def _other_credits(article: ArticleFacts) -> tuple[tuple[str, bool], ...]:
    """What an article credits instead: (name, only for a photo)."""
    kinds: dict[str, set[str]] = {}
    for credit in article.credits:
        if credit.agency and credit.kind != vocabulary.OTHER_CREDIT:
            kinds.setdefault(credit.agency, set()).add(credit.kind)
    return tuple(
        (name, not found - {vocabulary.PHOTO_CREDIT}) for name, found in sorted(kinds.items())
    )


def _credited_name(credit: CreditFact, names: list[str]) -> str | None:
    """The source name a credit names: by agency, or written in its text."""
    for name in names:
        if credit.agency and vocabulary.same_source(credit.agency, name):
            return name
    for name in names:
        if not vocabulary.agency_keys(name) and _mentions(credit.text, name):
            return name
    return None


def _quote(text: str, name: str) -> str:
    """The sentence around a name, shortened: what a reader can search the page for."""
    position = text.find(name)
    if position < 0:
        return name
    start = max(text.rfind(".", 0, position), text.rfind("\n", 0, position)) + 1
    end_candidates = [i for i in (text.find(".", position), text.find("\n", position)) if i >= 0]
    end = min(end_candidates) if end_candidates else len(text)
    quote = " ".join(text[start:end].split())
    return quote if len(quote) <= 120 else quote[:117].rsplit(" ", 1)[0] + "…"


def _mentions(text: str, name: str) -> bool:
    """``name`` as a whole word; short all-capital names (AP, AFP) must match their case."""
    flags = 0 if (name.isupper() and len(name) <= 4) else re.IGNORECASE
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags) is not None


# ------------------------------------------------------------------------------
# Direction

# Votes, in log-odds, that a side is the source. A stated publication time and an
# explicit credit or attribution are the strongest evidence there is ("The New York Times
# reported" says the Times came first; a page's date may be its update time, so neither
# outweighs the other); a wire original is strong; a photo credit only says the picture
# came from there; the shape of the overlap is weak, because copies are both trimmed
# (shorter than the source) and padded (longer). A wire marker alone (outlet unknown) is
# a hint used only when there is no date and no credit: it never outvotes them.
WEIGHT_EARLIER = 3.0
WEIGHT_EARLIER_INFERRED = 1.5  # a guessed date counts half
WEIGHT_CREDITS_OTHER = 3.0  # B's text credits A's outlet: B took from A
WEIGHT_CREDITS_PHOTO = 0.5  # B credits A only for a photo
WEIGHT_WIRE_ORIGINAL = 1.5  # A is the agency's own copy (outlet = its wire marker)
WEIGHT_WIRE_MARKER = 0.75  # A carries a wire marker the other lacks (outlet unknown)
WEIGHT_EXCERPT = 1.0  # scaled by the containment asymmetry
WEIGHT_BUNDLED = 0.5  # the copy sits among other stories on its page
# Below this containment difference the texts are the same size in what they share.
MIN_ASYMMETRY = 0.05


@dataclass
class Direction:
    source: ArticleFacts
    derived: ArticleFacts
    confidence: float  # 0.5 = coin toss ... 1.0 = certain
    evidence: list[str]  # plain sentences, strongest first
    swapped: bool  # True when the source is the second argument given


def decide_direction(first: ArticleFacts, second: ArticleFacts, scores: Mapping) -> Direction:
    """Which of two texts is the source. ``scores`` are oriented first -> second."""
    names = names_for(first, second)
    strong: list[tuple[float, str]] = []  # positive: first is the source
    strong += _date_votes(first, second, names)
    strong += _credit_votes(first, second, names)
    strong += [(-weight, reason) for weight, reason in _credit_votes(second, first, names)]
    hints = []
    if not strong:  # a wire marker alone never outvotes a date or a credit
        hints += _marker_votes(first, second, names)
        hints += [(-weight, reason) for weight, reason in _marker_votes(second, first, names)]
    votes = strong + hints + _shape_votes(first, second, scores, names)
    total = sum(weight for weight, _ in votes)
    first_is_source = total > 0 or (total == 0 and _tie_break(first, second))
    reasons = [reason for weight, reason in sorted(votes, key=lambda v: -abs(v[0])) if weight]
    if not reasons:
        reasons = [evidence.no_direction_evidence()]
    confidence = 0.5 + 0.5 * math.tanh(abs(total) / 2)
    if first_is_source:
        return Direction(first, second, confidence, reasons, swapped=False)
    return Direction(second, first, confidence, reasons, swapped=True)


def _tie_break(first: ArticleFacts, second: ArticleFacts) -> bool:
    """No evidence either way: the longer text as source (excerpts are more common), then by id."""
    if first.segment_words != second.segment_words:
        return first.segment_words > second.segment_words
    return first.segment_id <= second.segment_id


def _date_votes(
    first: ArticleFacts, second: ArticleFacts, names: evidence.Names
) -> list[tuple[float, str]]:
    first_time, second_time = parse_published(first.published), parse_published(second.published)
    if first_time is None or second_time is None:
        return []
    order = compare_times(first_time, second_time)
    if order == 0:
        return []
    earlier, later = (first, second) if order < 0 else (second, first)
    guessed = earlier.published_inferred or later.published_inferred
    weight = WEIGHT_EARLIER_INFERRED if guessed else WEIGHT_EARLIER
    reason = evidence.dated(earlier, later, earlier.published, later.published, names, guessed)
    return [(weight if order < 0 else -weight, reason)]


def parse_published(value: str | None) -> dt.datetime | dt.date | None:
    """An ISO 8601 date or date-time; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def compare_times(first, second) -> int:
    """-1, 0 or 1, comparing at the precision both have (two dates on one day are equal)."""
    if isinstance(first, dt.datetime) and isinstance(second, dt.datetime):
        if (first.tzinfo is None) != (second.tzinfo is None):
            first, second = first.replace(tzinfo=None), second.replace(tzinfo=None)
        return (first > second) - (first < second)
    first_day = first.date() if isinstance(first, dt.datetime) else first
    second_day = second.date() if isinstance(second, dt.datetime) else second
    return (first_day > second_day) - (first_day < second_day)


def _credit_votes(
    candidate: ArticleFacts, other: ArticleFacts, names: evidence.Names
) -> list[tuple[float, str]]:
    """Votes that ``candidate`` is the source, from ``other`` crediting it and from
    ``candidate`` being an agency's own wire copy."""
    votes = []
    if candidate.outlet and not candidate.outlet_inferred:
        facts = ArticleFacts(
            candidate.article_id, candidate.segment_id, candidate.outlet,
            outlet_names=candidate.outlet_names,
        )
        found = credit_of(facts, other)  # by the candidate's own names, not its wire markers
        if found.state == vocabulary.CREDITED:
            votes.append(
                (WEIGHT_CREDITS_OTHER, evidence.credits_other(other, candidate, found.quote, names))
            )
        elif found.state == vocabulary.PHOTO_ONLY:
            votes.append(
                (
                    WEIGHT_CREDITS_PHOTO,
                    evidence.credits_other(other, candidate, found.quote, names, photo_only=True),
                )
            )
        for credit in candidate.credits:
            if (
                credit.kind == vocabulary.WIRE_MARKER
                and credit.agency
                and vocabulary.same_source(credit.agency, candidate.outlet)
            ):
                votes.append(
                    (
                        WEIGHT_WIRE_ORIGINAL,
                        evidence.wire_original(candidate, candidate.outlet, credit.text, names),
                    )
                )
                break
    return votes


def _marker_votes(
    candidate: ArticleFacts, other: ArticleFacts, names: evidence.Names
) -> list[tuple[float, str]]:
    """With its outlet unknown, an article carrying a wire marker the other lacks may be
    the agency's copy (a known outlet carrying another's marker is a republisher)."""
    if candidate.outlet and not candidate.outlet_inferred:
        return []
    own = candidate.wire_agencies - other.wire_agencies
    if not own:
        return []
    return [(WEIGHT_WIRE_MARKER, evidence.wire_marker(candidate, own, other, names))]


def _shape_votes(
    first: ArticleFacts, second: ArticleFacts, scores: Mapping, names: evidence.Names
) -> list[tuple[float, str]]:
    votes = []
    first_found = scores["source_containment"]  # share of first found in second
    second_found = scores["derived_containment"]
    asymmetry = second_found - first_found
    if abs(asymmetry) >= MIN_ASYMMETRY:
        excerpt, whole = (second, first) if asymmetry > 0 else (first, second)
        share = max(first_found, second_found)
        other_share = min(first_found, second_found)
        votes.append(
            (WEIGHT_EXCERPT * asymmetry, evidence.excerpt(excerpt, whole, share, other_share, names))
        )
    for candidate, other, sign in ((first, second, 1), (second, first, -1)):
        extra = candidate.article_words - candidate.segment_words
        if (
            candidate.segment_count > 1
            and other.segment_count == 1
            and extra > candidate.segment_words // 2
        ):
            votes.append((-sign * WEIGHT_BUNDLED, evidence.bundled(candidate, extra, names)))
    return votes


def credit_sentence(source: ArticleFacts, derived: ArticleFacts, found: CreditFinding) -> str:
    """The credit finding in plain words."""
    return evidence.credit(
        found.state, derived, source, names_for(source, derived), found.name, found.quote,
        found.kind, found.others,
    )


# ------------------------------------------------------------------------------
# Clusters and lineage


@dataclass(frozen=True)
class SegmentNode:
    segment_id: str
    article_id: str
    title: str | None = None
    published: str | None = None
    outlet: str | None = None
    word_count: int = 0
    chars: int = 0  # characters of its clean text: turns passage lengths into words
    opening: str | None = None  # the first words of its text: names an untitled article


@dataclass(frozen=True)
class MatchEdge:
    match_id: int
    source_segment_id: str
    derived_segment_id: str
    label: str
    closeness: float
    direction_confidence: float
    credit: str | None  # vocabulary.CREDIT_STATES: whether the derived side credits the source
    story_similarity: float = 0.0

    @property
    def credited(self) -> bool | None:
        return None if self.credit is None else self.credit == vocabulary.CREDITED


@dataclass(frozen=True)
class PassageSpan:
    """One shared passage of a match, as stored (offsets into each raw text)."""

    kind: str  # verbatim, edited, paraphrase, quotation
    source_start: int
    source_end: int
    derived_start: int
    derived_end: int
    edit_words: int = 0  # derived-side words changed by the passage's edits


# Passages of the given matches, by match id (the lineage needs a few, not all).
PassageLoader = Callable[[Iterable[int]], Mapping[int, Sequence[PassageSpan]]]


@dataclass
class LineageMember:
    segment_id: str
    article_id: str
    parent_segment_id: str | None = None
    parent_article_id: str | None = None
    match_id: int | None = None
    label: str | None = None
    generation: int | None = None
    is_origin: bool = False
    credit: str | None = None  # copies: credits its origin or parent, only a photo, or neither
    origin_segment_id: str | None = None  # the root of its lineage tree
    origin_article_id: str | None = None
    evidence: list[str] = field(default_factory=list)  # why this parent, credit, in words

    @property
    def credited(self) -> bool | None:
        return None if self.credit is None else self.credit == vocabulary.CREDITED


@dataclass(frozen=True)
class Relation:
    """How the two sides of a derived match stand in the lineage."""

    match_id: int
    relation: str  # vocabulary.COPY or vocabulary.SIBLINGS
    shared_source_segment_id: str | None = None  # siblings: the version both copy
    shared_source_article_id: str | None = None


@dataclass
class Cluster:
    members: list[LineageMember]
    title: str | None
    origin_article_id: str | None
    first_published: str | None
    last_published: str | None
    relations: list[Relation] = field(default_factory=list)

    @property
    def article_count(self) -> int:
        return len({member.article_id for member in self.members})

    @property
    def derived_count(self) -> int:
        return sum(member.parent_segment_id is not None for member in self.members)

    @property
    def uncredited_count(self) -> int:
        """Copies whose text does not credit where it comes from (photo-only credits too)."""
        return sum(
            member.parent_segment_id is not None
            and member.credit in vocabulary.NOT_CREDITED_STATES
            for member in self.members
        )

    @property
    def photo_only_count(self) -> int:
        return sum(
            member.parent_segment_id is not None and member.credit == vocabulary.PHOTO_ONLY
            for member in self.members
        )


# How much of a copy's word a passage accounts for: copied words fully, paraphrased ones
# half; a shared quotation says nothing about who copied whom.
PASSAGE_WEIGHT = {"verbatim": 1.0, "edited": 1.0, "paraphrase": 0.5, "quotation": 0.0}


def build_clusters(
    nodes: Mapping[str, SegmentNode],
    edges: Iterable[MatchEdge],
    passages: PassageLoader | None = None,
    settings: LineageSettings = DEFAULT_LINEAGE,
    story_links: Iterable[tuple[str, str, float]] = (),
    thresholds: LabelThresholds = DEFAULT_THRESHOLDS,
) -> list[Cluster]:
    """Story clusters (``stories.cluster``) with their lineage forests.

    Stories are the derivation groups merged by average same-story linkage over the
    stored matches and ``story_links`` (same-story links of pairs not aligned, and of
    pairs never compared: ``update.complete_story_links``); a segment left alone is no
    story. Inside a cluster every derived segment gets one parent: first the maximum
    branching (Edmonds) over derived edges weighted by closeness x direction confidence,
    so each copy hangs under the version it is closest to and no cycle can form; then each
    copy is moved down the versions of its tree from the earliest only while it carries
    the next one's own text (``LineageSettings``; ``passages`` gives the stored passages
    this needs: without it the branching stands). Roots with descendants are origins
    (generation 0); members linked only by same-story or shared-quote matches are
    independent coverage. Every derived match gets a relation: a copy (one side descends
    from the other) or siblings (both copy a third version and neither carries the
    other's own text).
    """
    edges = [
        edge
        for edge in edges
        if edge.source_segment_id in nodes and edge.derived_segment_id in nodes
    ]
    story_links = [link for link in story_links if link[0] in nodes and link[1] in nodes]
    linked = {segment for e in edges for segment in (e.source_segment_id, e.derived_segment_id)}
    linked |= {segment for link in story_links for segment in link[:2]}
    copies = [
        e for e in edges
        if e.label in DERIVED_LABELS and e.closeness >= thresholds.story_copy_closeness
    ]  # fmt: skip
    groups = stories.cluster(
        sorted(linked),
        [(e.source_segment_id, e.derived_segment_id) for e in copies],
        [(e.source_segment_id, e.derived_segment_id, _story_weight(e)) for e in edges]
        + story_links,
        thresholds.story_linkage,
    )
    stories_of = {segment: number for number, group in enumerate(groups) for segment in group}
    inside: dict[int, list[MatchEdge]] = {}  # each story's edges, in the order given
    for e in edges:
        number = stories_of[e.source_segment_id]
        if number == stories_of[e.derived_segment_id]:
            inside.setdefault(number, []).append(e)
    clusters = [
        _cluster(group, inside.get(number, []), nodes, passages, settings)
        for number, group in enumerate(groups)
        if len(group) >= 2
    ]
    return sorted(clusters, key=cluster_order)


def _story_weight(edge: MatchEdge) -> float:
    """How strongly a match links two reports: their story similarity, or for a derivation
    the share of the copy its source explains, if higher."""
    if edge.label in DERIVED_LABELS:
        return max(edge.story_similarity, edge.closeness)
    return edge.story_similarity


def _cluster(
    component: set[str],
    edges: list[MatchEdge],
    nodes: Mapping[str, SegmentNode],
    passages: PassageLoader | None,
    settings: LineageSettings,
) -> Cluster:
    versions = _Versions(edges, nodes, passages, settings)
    parents = versions.parents()
    children: dict[str, list[str]] = {}
    for child, edge in parents.items():
        children.setdefault(edge.source_segment_id, []).append(child)
    members = {}
    for segment_id in sorted(component):
        node = nodes[segment_id]
        member = LineageMember(segment_id, node.article_id)
        edge = parents.get(segment_id)
        if edge is not None:
            member.parent_segment_id = edge.source_segment_id
            member.parent_article_id = nodes[edge.source_segment_id].article_id
            member.match_id = edge.match_id
            member.label = edge.label
        members[segment_id] = member
    origins = [s for s in sorted(component) if s not in parents and s in children]
    for origin in origins:
        _set_generations(origin, children, members, nodes)
    above = {segment: edge.source_segment_id for segment, edge in parents.items()}
    for member in members.values():
        if member.parent_segment_id is not None:
            member.credit = versions.credit(member.segment_id, parents, above)
            member.evidence = versions.notes.get(member.segment_id, [])
            member.evidence += versions.credit_notes(member.segment_id, parents, above)
    origin = _main_origin(origins, children, nodes)
    published = sorted(p for p in (nodes[s].published for s in component) if p)
    title_node = nodes[origin] if origin else _earliest(component, nodes)
    return Cluster(
        members=list(members.values()),
        title=title_node.title,
        origin_article_id=nodes[origin].article_id if origin else None,
        first_published=published[0] if published else None,
        last_published=published[-1] if published else None,
        relations=versions.relations(parents),
    )


class _Versions:
    """The derived matches of one story, and the decisions made over them."""

    def __init__(
        self,
        edges: list[MatchEdge],
        nodes: Mapping[str, SegmentNode],
        passages: PassageLoader | None,
        settings: LineageSettings,
    ):
        self.nodes = nodes
        self.settings = settings
        self.load_passages = passages
        self.derived = [edge for edge in edges if edge.label in DERIVED_LABELS]
        # into[child][source]: the derived match that says ``child`` copies ``source``
        self.into: dict[str, dict[str, MatchEdge]] = {}
        for edge in self.derived:
            current = self.into.setdefault(edge.derived_segment_id, {}).get(edge.source_segment_id)
            if current is None or _edge_weight(current) < _edge_weight(edge):
                self.into[edge.derived_segment_id][edge.source_segment_id] = edge
        self.notes: dict[str, list[str]] = {}
        self._passages: dict[int, Sequence[PassageSpan]] = {}

    # ----- parent choice

    def parents(self) -> dict[str, MatchEdge]:
        """Each copy's parent: the maximum branching, then, copy by copy from the top of
        each tree, the stemma walk of ``_version_copied``."""
        provisional = _best_parents(self.derived)
        if self.load_passages is None:
            return provisional
        above = {child: edge.source_segment_id for child, edge in provisional.items()}
        parents = dict(provisional)
        for child in _top_down(above):
            candidates = [
                version
                for version in self.into.get(child, {})
                if not _descends(version, child, above)  # never under its own copy: no cycle
            ]
            if len(candidates) < 2:
                continue
            chosen = self._version_copied(child, candidates, above)
            above[child] = chosen
            parents[child] = self.into[child][chosen]
        return parents

    def _version_copied(self, child: str, candidates: list[str], above: dict[str, str]) -> str:
        """The version a copy copied: start from the earliest candidate version and move
        down to a later one only while the copy carries that version's own text (its
        rewording, edits or additions: see ``LineageSettings``)."""
        self._need([self.into[child][version].match_id for version in candidates])
        depth = {version: len(_chain(version, above)) for version in candidates}
        current = min(
            candidates, key=lambda v: (depth[v], -_edge_weight(self.into[child][v]), v)
        )
        note = None
        while True:
            later = [v for v in candidates if v != current and current in _chain(v, above)]
            tried = [(self.own_text(child, v, current), self.own_text(child, current, v), v)
                     for v in later]
            passing = [
                (gained - lost, gained, lost, v)
                for gained, lost, v in tried
                if self._carries(gained, lost)
            ]
            if not passing:
                if tried:
                    gained, lost, v = max(tried, key=lambda t: t[0] - t[1])
                    note = note or self._kept_note(child, current, v, gained, lost)
                break
            _, gained, _, chosen = max(passing)
            note = self._moved_note(child, chosen, current, gained)
            current = chosen
        if note:
            self.notes[child] = [note]
        return current

    def _moved_note(self, child: str, later: str, earlier: str, gained: float) -> str:
        names = self._names(child, later, earlier)
        return evidence.sentence(
            f"Hung under {names.article(self.nodes[later])} rather than "
            f"{names.article(self.nodes[earlier])}, the version it comes from: it carries "
            f"{evidence.plural(round(gained), 'word')} found only in {names.article(self.nodes[later])} "
            "(its rewording, edits or additions)"
        )

    def _kept_note(self, child: str, earlier: str, later: str, gained: float, lost: float) -> str:
        names = self._names(child, earlier, later)
        said = (
            f"Hung under {names.article(self.nodes[earlier])} rather than "
            f"{names.article(self.nodes[later])}, a later version of it: "
        )
        if lost >= self.settings.min_own_text_words:
            said += (
                f"it keeps {evidence.plural(round(lost), 'word')} that only "
                f"{names.article(self.nodes[earlier])} has"
            )
        else:
            said += (
                f"what it reused is in {names.article(self.nodes[earlier])} too (it carries "
                f"{evidence.plural(round(gained), 'word')} found only in the later version, too few to "
                "say it copied that one)"
            )
        return evidence.sentence(said)

    def _carries(self, gained: float, lost: float) -> bool:
        """Does a copy carry a version's own text: ``gained`` words only that version
        accounts for, against ``lost`` words only the other one does?"""
        return (
            gained - lost >= self.settings.min_own_text_words
            and gained >= self.settings.own_text_ratio * lost
        )

    def own_text(self, child: str, version: str, other: str) -> float:
        """Words of ``child`` that ``version`` accounts for better than ``other`` does."""
        node = self.nodes[child]
        words_per_char = node.word_count / node.chars if node.chars else 0.2
        mine = self._levels(self.into[child][version], child, words_per_char)
        theirs = self._levels(self.into[child][other], child, words_per_char)
        return _excess(mine, theirs) * words_per_char

    def _levels(
        self, edge: MatchEdge, segment: str, words_per_char: float
    ) -> list[tuple[int, int, float]]:
        """(start, end, weight) of the passages of ``edge`` on ``segment``'s side."""
        spans = []
        for passage in self._passages.get(edge.match_id, ()):
            if segment == edge.derived_segment_id:
                start, end = passage.derived_start, passage.derived_end
            else:
                start, end = passage.source_start, passage.source_end
            weight = PASSAGE_WEIGHT.get(passage.kind, 0.0)
            if passage.kind == "edited" and end > start:
                words = max(1.0, (end - start) * words_per_char)
                weight = max(0.0, 1.0 - passage.edit_words / words)
            if end > start and weight:
                spans.append((start, end, weight))
        return spans

    def _need(self, match_ids: Iterable[int]) -> None:
        wanted = [match_id for match_id in match_ids if match_id not in self._passages]
        if wanted and self.load_passages is not None:
            found = self.load_passages(wanted)
            for match_id in wanted:
                self._passages[match_id] = found.get(match_id, ())

    def _names(self, *segments: str) -> evidence.Names:
        return evidence.Names(*(self.nodes[segment] for segment in segments))

    # ----- relations between versions

    def relations(self, parents: dict[str, MatchEdge]) -> list[Relation]:
        above = {child: edge.source_segment_id for child, edge in parents.items()}
        lineage_edges = {edge.match_id for edge in parents.values()}
        found = []
        for edge in self.derived:
            source, derived = edge.source_segment_id, edge.derived_segment_id
            if edge.match_id in lineage_edges:
                found.append(Relation(edge.match_id, vocabulary.COPY))
                continue
            source_chain, derived_chain = _chain(source, above), _chain(derived, above)
            if source in derived_chain or derived in source_chain:
                found.append(Relation(edge.match_id, vocabulary.COPY))
                continue
            shared = next((version for version in derived_chain if version in source_chain), None)
            if shared is None or self._carries_own_text(edge, shared):
                found.append(Relation(edge.match_id, vocabulary.COPY))
                continue
            found.append(
                Relation(
                    edge.match_id, vocabulary.SIBLINGS, shared, self.nodes[shared].article_id
                )
            )
        return found

    def _carries_own_text(self, edge: MatchEdge, shared: str) -> bool:
        """Does either side of ``edge`` carry the other's own text, beyond what both took
        from ``shared``? Only asked when the pair is closer than each is to ``shared``."""
        for side, other in (
            (edge.derived_segment_id, edge.source_segment_id),
            (edge.source_segment_id, edge.derived_segment_id),
        ):
            from_shared = self.into.get(side, {}).get(shared)
            if from_shared is None or self.load_passages is None:
                continue
            if edge.closeness <= from_shared.closeness:
                continue
            self._need([edge.match_id, from_shared.match_id])
            node = self.nodes[side]
            words_per_char = node.word_count / node.chars if node.chars else 0.2
            pair = self._levels(edge, side, words_per_char)
            common = self._levels(from_shared, side, words_per_char)
            gained = _excess(pair, common) * words_per_char
            lost = _excess(common, pair) * words_per_char
            if self._carries(gained, lost):
                return True
        return False

    # ----- credit

    def credit(
        self, child: str, parents: dict[str, MatchEdge], above: Mapping[str, str]
    ) -> str | None:
        """A copy is credited when it credits its parent or any version up to its origin
        (never judged by a sibling); photo only when the best it does is a photo credit.
        ``above``: each copy's parent segment (from ``parents``, made once per story)."""
        states = [parents[child].credit]
        states += [
            self.into[child][version].credit
            for version in _chain(child, above)[1:]
            if version in self.into.get(child, {})
        ]
        known = [state for state in states if state is not None]
        if not known:
            return None
        return max(known, key=vocabulary.CREDIT_STATES[::-1].index)

    def credit_notes(
        self, child: str, parents: dict[str, MatchEdge], above: Mapping[str, str]
    ) -> list[str]:
        """Said when the copy's credit of its origin differs from that of its parent."""
        chain = _chain(child, above)
        origin = chain[-1]
        parent_edge = parents[child]
        origin_edge = self.into.get(child, {}).get(origin)
        if origin == parent_edge.source_segment_id or origin_edge is None:
            return []
        if origin_edge.credit == parent_edge.credit or origin_edge.credit is None:
            return []
        names = self._names(child, parent_edge.source_segment_id, origin)
        origin_name = names.article(self.nodes[origin])
        parent_name = names.article(self.nodes[parent_edge.source_segment_id])
        if origin_edge.credit == vocabulary.CREDITED:
            return [evidence.sentence(f"It credits the origin, {origin_name}, not {parent_name}")]
        if parent_edge.credit == vocabulary.CREDITED:
            return [evidence.sentence(f"It credits {parent_name}, not the origin, {origin_name}")]
        return []


def _edge_weight(edge: MatchEdge) -> float:
    return edge.closeness * edge.direction_confidence + 1e-9


def _descends(segment: str, ancestor: str, above: Mapping[str, str]) -> bool:
    """Is ``segment`` ``ancestor`` itself or below it?"""
    return segment == ancestor or ancestor in _chain(segment, above)


def _top_down(above: Mapping[str, str]) -> list[str]:
    """The copies of a forest, parents before their children."""
    return sorted(above, key=lambda child: (len(_chain(child, above)), child))


def _chain(segment: str, above: Mapping[str, str]) -> list[str]:
    """The versions above ``segment``, nearest first, up to its root (cycle-safe)."""
    chain, seen = [], {segment}
    while segment in above and above[segment] not in seen:
        segment = above[segment]
        seen.add(segment)
        chain.append(segment)
    return chain


def _excess(
    mine: Sequence[tuple[int, int, float]], theirs: Sequence[tuple[int, int, float]]
) -> float:
    """Characters weighted by how much better ``mine`` accounts for them than ``theirs``
    (each a list of (start, end, weight) that may overlap: the best weight counts)."""
    points = sorted({p for start, end, _ in (*mine, *theirs) for p in (start, end)})
    best_mine, best_theirs = _best_weights(mine, points), _best_weights(theirs, points)
    total = 0.0
    for number, (left, right) in enumerate(zip(points, points[1:])):
        if best_mine[number]:
            total += max(0.0, best_mine[number] - best_theirs[number]) * (right - left)
    return total


def _best_weights(spans: Sequence[tuple[int, int, float]], points: list[int]) -> list[float]:
    """The best weight of the spans covering each interval between consecutive ``points``
    (0 where none does); every span starts and ends on a point. Each span marks the
    intervals it covers: a long copy has hundreds of passages, and asking every span about
    every interval was the lineage rebuild's biggest cost."""
    best: list[float | None] = [None] * max(0, len(points) - 1)
    position = {point: number for number, point in enumerate(points)}
    for start, end, weight in spans:
        for number in range(position[start], position[end]):
            if best[number] is None or weight > best[number]:
                best[number] = weight
    return [0.0 if weight is None else weight for weight in best]


def _best_parents(edges: list[MatchEdge]) -> dict[str, MatchEdge]:
    derived_graph = nx.DiGraph()
    for edge in edges:
        if edge.label not in DERIVED_LABELS:
            continue
        weight = _edge_weight(edge)
        current = derived_graph.get_edge_data(edge.source_segment_id, edge.derived_segment_id)
        if current is None or current["weight"] < weight:
            derived_graph.add_edge(
                edge.source_segment_id, edge.derived_segment_id, weight=weight, match=edge
            )
    if not derived_graph.number_of_edges():
        return {}
    branching = nx.algorithms.tree.branchings.maximum_branching(
        derived_graph, attr="weight", preserve_attrs=True
    )
    return {child: derived_graph[parent][child]["match"] for parent, child in branching.edges()}


def _set_generations(
    origin: str,
    children: dict[str, list[str]],
    members: dict[str, LineageMember],
    nodes: Mapping[str, SegmentNode],
) -> None:
    members[origin].is_origin = True
    members[origin].generation = 0
    members[origin].origin_segment_id = origin
    members[origin].origin_article_id = nodes[origin].article_id
    queue = [origin]
    while queue:
        parent = queue.pop(0)
        for child in sorted(children.get(parent, ())):
            members[child].generation = members[parent].generation + 1
            members[child].origin_segment_id = origin
            members[child].origin_article_id = nodes[origin].article_id
            queue.append(child)


def _main_origin(
    origins: list[str], children: dict[str, list[str]], nodes: Mapping[str, SegmentNode]
) -> str | None:
    """The origin with the most descendants (then the earliest, then by id)."""
    if not origins:
        return None

    def descendants(segment_id: str) -> int:
        return sum(1 + descendants(child) for child in children.get(segment_id, ()))

    return min(origins, key=lambda s: (-descendants(s), nodes[s].published or "9999", s))


def _earliest(component: set[str], nodes: Mapping[str, SegmentNode]) -> SegmentNode:
    return nodes[min(component, key=lambda s: (nodes[s].published or "9999", s))]


def cluster_order(cluster: Cluster) -> tuple:
    """Clusters are numbered in this order: earliest first, then by smallest segment id."""
    return (cluster.first_published or "9999", min(member.segment_id for member in cluster.members))
