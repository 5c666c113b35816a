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
from typing import Iterable, Mapping

import networkx as nx

from ..parameters import DEFAULT_THRESHOLDS, LabelThresholds
from ..vocabulary import CREDITING_KINDS, DERIVED_LABELS, canonical_agency

# ------------------------------------------------------------------------------
# Labels


def label(
    alignment_or_scores, thresholds: LabelThresholds = DEFAULT_THRESHOLDS
) -> tuple[str, list[str]]:
    """The label of an aligned pair and the reasons for it (plain language).

    Accepts an ``align.Alignment`` or its ``scores`` dict (as stored in
    ``matches.scores``), so stored matches can be re-labelled without re-aligning.
    """
    scores = getattr(alignment_or_scores, "scores", alignment_or_scores)
    side = reuse_side(scores)
    evidence = _reuse_evidence(scores, thresholds)
    if not evidence:
        return _not_derived(scores, thresholds)
    copy = scores[f"{side}_copy_containment"]
    paraphrased = scores[f"{side}_paraphrase_containment"]
    fidelity = scores[f"{side}_fidelity"]
    edits = scores["edits_per_100_tokens"]
    reasons = evidence
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


def _reuse_evidence(scores: Mapping, thresholds: LabelThresholds) -> list[str]:
    """Reasons to think one text reuses the other; empty if there are none."""
    reasons = []
    copy = max(scores["source_copy_containment"], scores["derived_copy_containment"])
    if copy >= thresholds.min_copy_share:
        reasons.append(f"{_percent(copy)} of one text is copied in the other (verbatim or edited)")
    elif scores["copied_tokens"] >= thresholds.min_copied_tokens:
        reasons.append(f"{scores['copied_tokens']} words are copied (verbatim or edited)")
    alignment = scores["sentence_alignment"]
    if alignment >= thresholds.min_sentence_alignment:
        reasons.append(
            f"{scores['linked_sentences']} sentences correspond, mostly in the same order "
            f"(sentence alignment {alignment:.2f}, independent texts stay below "
            f"{thresholds.min_sentence_alignment:.3f})"
        )
    return reasons


def _not_derived(scores: Mapping, thresholds: LabelThresholds) -> tuple[str, list[str]]:
    shared = max(scores["source_containment"], scores["derived_containment"])
    reasons = [
        f"little shared text: {_percent(shared)} at most of either text, "
        f"sentence alignment {scores['sentence_alignment']:.2f}"
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
    kind: str  # wire_marker, photo_credit, reporting_credit, attribution, dateline, byline, ...
    agency: str | None
    text: str


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

    @property
    def wire_agencies(self) -> set[str]:
        return {c.agency for c in self.credits if c.kind == "wire_marker" and c.agency}


# ------------------------------------------------------------------------------
# Direction

# Votes, in log-odds, that a side is the source. A publication time is the
# strongest evidence there is; an explicit credit or a wire original nearly as
# strong; the shape of the overlap is weak, because copies are both trimmed
# (shorter than the source) and padded (longer).
WEIGHT_EARLIER = 3.0
WEIGHT_EARLIER_INFERRED = 1.5  # a guessed date counts half
WEIGHT_CREDITS_OTHER = 2.5  # B credits A's outlet: B took from A
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
    evidence: list[str]
    swapped: bool  # True when the source is the second argument given


def decide_direction(first: ArticleFacts, second: ArticleFacts, scores: Mapping) -> Direction:
    """Which of two texts is the source. ``scores`` are oriented first -> second."""
    votes: list[tuple[float, str]] = []  # positive: first is the source
    votes += _date_votes(first, second)
    votes += _credit_votes(first, second)
    votes += [(-weight, reason) for weight, reason in _credit_votes(second, first)]
    votes += _shape_votes(first, second, scores)
    total = sum(weight for weight, _ in votes)
    first_is_source = total > 0 or (total == 0 and _tie_break(first, second))
    evidence = [reason for weight, reason in sorted(votes, key=lambda v: -abs(v[0])) if weight]
    if not evidence:
        evidence = ["nothing tells the two apart: the direction is a guess"]
    confidence = 0.5 + 0.5 * math.tanh(abs(total) / 2)
    if first_is_source:
        return Direction(first, second, confidence, evidence, swapped=False)
    return Direction(second, first, confidence, evidence, swapped=True)


def _tie_break(first: ArticleFacts, second: ArticleFacts) -> bool:
    """No evidence either way: the longer text as source (excerpts are more common), then by id."""
    if first.segment_words != second.segment_words:
        return first.segment_words > second.segment_words
    return first.segment_id <= second.segment_id


def _date_votes(first: ArticleFacts, second: ArticleFacts) -> list[tuple[float, str]]:
    first_time, second_time = parse_published(first.published), parse_published(second.published)
    if first_time is None or second_time is None:
        return []
    order = compare_times(first_time, second_time)
    if order == 0:
        return []
    earlier, later = (first, second) if order < 0 else (second, first)
    weight = (
        WEIGHT_EARLIER_INFERRED
        if earlier.published_inferred or later.published_inferred
        else WEIGHT_EARLIER
    )
    guessed = " (a date that is only inferred)" if weight == WEIGHT_EARLIER_INFERRED else ""
    reason = (
        f"{earlier.article_id} is dated earlier ({earlier.published}) "
        f"than {later.article_id} ({later.published}){guessed}"
    )
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


def _credit_votes(candidate: ArticleFacts, other: ArticleFacts) -> list[tuple[float, str]]:
    """Votes that ``candidate`` is the source, from outlets and credit lines."""
    votes = []
    outlet = candidate.outlet
    outlet_known = bool(outlet) and not candidate.outlet_inferred
    if outlet_known:
        credit = credits_outlet(other, outlet)
        if credit:
            votes.append(
                (
                    WEIGHT_CREDITS_OTHER,
                    f"{other.article_id} {credit}, the outlet of {candidate.article_id}",
                )
            )
        if any(_same_name(agency, outlet) for agency in candidate.wire_agencies):
            votes.append(
                (
                    WEIGHT_WIRE_ORIGINAL,
                    f"{candidate.article_id} carries a {outlet} wire marker and is published "
                    f"by {outlet}: a wire original",
                )
            )
            return votes
    own_markers = candidate.wire_agencies - other.wire_agencies
    # With its outlet unknown, an article carrying a wire marker is likely the agency's copy
    # (a known outlet carrying another's marker is a republisher: no vote).
    if own_markers and not outlet_known:
        names = ", ".join(sorted(own_markers))
        votes.append(
            (
                WEIGHT_WIRE_MARKER,
                f"{candidate.article_id} carries a {names} wire marker "
                f"that {other.article_id} lacks",
            )
        )
    return votes


def _shape_votes(
    first: ArticleFacts, second: ArticleFacts, scores: Mapping
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
            (
                WEIGHT_EXCERPT * asymmetry,
                f"{_percent(share)} of {excerpt.article_id} is found in {whole.article_id}, "
                f"but only {_percent(other_share)} of {whole.article_id} in {excerpt.article_id}: "
                f"{excerpt.article_id} looks like the excerpt",
            )
        )
    for candidate, other, sign in ((first, second, 1), (second, first, -1)):
        extra = candidate.article_words - candidate.segment_words
        if (
            candidate.segment_count > 1
            and other.segment_count == 1
            and extra > candidate.segment_words // 2
        ):
            votes.append(
                (
                    -sign * WEIGHT_BUNDLED,
                    f"{candidate.article_id} adds {extra:,} words of other stories "
                    "around the shared text",
                )
            )
    return votes


# ------------------------------------------------------------------------------
# Credit


def is_credited(source: ArticleFacts, derived: ArticleFacts) -> tuple[bool | None, str]:
    """Whether the derived text credits the source's outlet or wire agency, and why.

    None when it cannot be told: the source's outlet is unknown and it carries
    no wire marker of its own.
    """
    names = list(
        dict.fromkeys(([source.outlet] if source.outlet else []) + sorted(source.wire_agencies))
    )
    if not names:
        return None, f"the outlet of {source.article_id} is unknown, so a credit cannot be checked"
    for name in names:
        credit = credits_outlet(derived, name)
        if credit:
            return True, f"{derived.article_id} {credit}"
    other_credits = sorted(
        {c.agency for c in derived.credits if c.agency and c.kind in CREDITING_KINDS}
    )
    also = f" (it credits {', '.join(other_credits)})" if other_credits else ""
    return False, f"{derived.article_id} does not credit {' or '.join(names)}{also}"


def credits_outlet(article: ArticleFacts, outlet: str) -> str | None:
    """How ``article`` credits ``outlet`` ("credits Reuters (“(Photo: Reuters)”)"), or None."""
    for credit in article.credits:
        if credit.kind in CREDITING_KINDS and credit.agency and _same_name(credit.agency, outlet):
            return f"credits {outlet} (“{credit.text.strip()}”)"
    if article.text and _mentions(article.text, outlet):
        return f"names {outlet} in its text"
    return None


def _same_name(first: str, second: str) -> bool:
    """Same outlet or agency, spelled either way ("Agence France-Presse" = "AFP")."""
    return _name_key(first) == _name_key(second)


def _name_key(name: str) -> str:
    return canonical_agency(name) or " ".join(name.split()).casefold()


def _mentions(text: str, name: str) -> bool:
    """``name`` as a whole word; short all-capital names (AP, AFP) must match their case."""
    flags = 0 if (name.isupper() and len(name) <= 4) else re.IGNORECASE
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags) is not None


# ------------------------------------------------------------------------------
# Clusters and lineage


@dataclass(frozen=True)
class SegmentNode:
    segment_id: str
    article_id: str
    title: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class MatchEdge:
    match_id: int
    source_segment_id: str
    derived_segment_id: str
    label: str
    closeness: float
    direction_confidence: float
    credited: bool | None


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
    credited: bool | None = None


@dataclass
class Cluster:
    members: list[LineageMember]
    title: str | None
    origin_article_id: str | None
    first_published: str | None
    last_published: str | None

    @property
    def article_count(self) -> int:
        return len({member.article_id for member in self.members})

    @property
    def derived_count(self) -> int:
        return sum(member.parent_segment_id is not None for member in self.members)

    @property
    def uncredited_count(self) -> int:
        return sum(
            member.parent_segment_id is not None and member.credited is False
            for member in self.members
        )


def build_clusters(nodes: Mapping[str, SegmentNode], edges: Iterable[MatchEdge]) -> list[Cluster]:
    """Story clusters (connected components of stored matches) with their lineage forests.

    Inside a cluster every derived segment gets one parent: the maximum
    branching (Edmonds) over derived edges weighted by closeness x direction
    confidence, so each copy hangs under the version it is closest to and no
    cycle can form. Roots with descendants are origins (generation 0); members
    linked only by same-story or shared-quote matches are independent coverage.
    """
    edges = [
        edge
        for edge in edges
        if edge.source_segment_id in nodes and edge.derived_segment_id in nodes
    ]
    story_graph = nx.Graph()
    story_graph.add_edges_from((e.source_segment_id, e.derived_segment_id) for e in edges)
    clusters = []
    for component in nx.connected_components(story_graph):
        component_edges = [e for e in edges if e.source_segment_id in component]
        clusters.append(_cluster(component, component_edges, nodes))
    return sorted(clusters, key=cluster_order)


def _cluster(
    component: set[str], edges: list[MatchEdge], nodes: Mapping[str, SegmentNode]
) -> Cluster:
    parents = _best_parents(edges)
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
            member.credited = edge.credited
        members[segment_id] = member
    origins = [s for s in sorted(component) if s not in parents and s in children]
    for origin in origins:
        _set_generations(origin, children, members)
    origin = _main_origin(origins, children, nodes)
    published = sorted(p for p in (nodes[s].published for s in component) if p)
    title_node = nodes[origin] if origin else _earliest(component, nodes)
    return Cluster(
        members=list(members.values()),
        title=title_node.title,
        origin_article_id=nodes[origin].article_id if origin else None,
        first_published=published[0] if published else None,
        last_published=published[-1] if published else None,
    )


def _best_parents(edges: list[MatchEdge]) -> dict[str, MatchEdge]:
    derived_graph = nx.DiGraph()
    for edge in edges:
        if edge.label not in DERIVED_LABELS:
            continue
        weight = edge.closeness * edge.direction_confidence + 1e-9
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
    origin: str, children: dict[str, list[str]], members: dict[str, LineageMember]
) -> None:
    members[origin].is_origin = True
    members[origin].generation = 0
    queue = [origin]
    while queue:
        parent = queue.pop(0)
        for child in sorted(children.get(parent, ())):
            members[child].generation = members[parent].generation + 1
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
