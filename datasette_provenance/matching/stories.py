"""Stories: which articles report the same event.

Two kinds of link make a story:

* **derivation** - a copy and what it was made from are one story, whatever else
  the copy adds (where the source makes up at least half of the copy; a borrowed
  background paragraph is a link like any other);
* **same story** - independent reports of one event share its distinctive words.
  ``similarity`` is the cosine of two texts' content-word profiles, each word
  weighted by its rarity in the whole corpus (inverse document frequency over
  every segment, kept current as articles are added: ``story_terms`` in the
  database) and by the logarithm of how often the text uses it. Rarity must be
  corpus-wide: within two texts about Kim Jong Un, "Kim" and "North Korea" look
  rare, while across the corpus they are what every Korea story shares. The
  logarithm keeps the protagonists a story repeats (Trump, Kim) from making
  every story about them alike.

``cluster`` builds stories from both: the groups of segments connected by
derivation are the units; units merge by average linkage (UPGMA) over same-story
similarity, a pair never compared counting zero, while the average reaches
``LabelThresholds.story_linkage``; reports are linked from
``LabelThresholds.same_story_similarity``. Average rather than single linkage, so that one chain of
pairwise similar reports (a Pompeo-meets-Kim story, a Korea-summit story, a
nuclear-test story) does not join different events into one.

Content words are the story signatures' (``signatures._story_hashes``): words of
at least ``STORY_MIN_CHARS`` characters, cut to their first ``STEM_CHARS`` (a crude
stemmer that works in most alphabets), and in scripts written without spaces
pairs of adjacent characters.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import xxhash

from .tokens import unspaced_mask

STORY_MIN_CHARS = 4
STEM_CHARS = 5
# Rarity is measured as if the corpus held this many more segments, none using the word:
# in a corpus of a few articles on one event (the seeds: five reports of one summit and
# an unrelated story), the event's own words are in nearly every segment, and raw
# inverse document frequency would call them common. Past a few hundred segments the
# prior no longer matters.
RARITY_PRIOR_SEGMENTS = 10


def story_terms(norms: Sequence[str]) -> Counter:
    """The content terms of a text (normalised tokens in order) with their counts."""
    # Tokens of unspaced scripts are single characters, shorter than STORY_MIN_CHARS.
    terms = Counter([norm[:STEM_CHARS] for norm in norms if len(norm) >= STORY_MIN_CHARS])
    if norms and not "".join(norms).isascii():
        unspaced = unspaced_mask(norms)
        pairs = np.flatnonzero(unspaced[:-1] & unspaced[1:])
        terms.update(norms[i] + norms[i + 1] for i in pairs.tolist())
    return terms


def term_keys(terms: Iterable[str]) -> list[int]:
    """Each term's key in ``story_terms``: its 64-bit xxhash as a signed integer (as SQLite
    stores integers)."""
    hashes = np.fromiter(
        map(xxhash.xxh64_intdigest, map(str.encode, terms)), dtype=np.uint64
    )
    return hashes.view(np.int64).tolist()


@dataclass(frozen=True)
class Rarity:
    """Document frequencies of content terms over a corpus of ``segments`` segments."""

    segments: int
    frequency: Callable[[Sequence[int]], Mapping[int, int]]  # term keys -> segments holding them

    @classmethod
    def from_counts(cls, segments: int, counts: Mapping[int, int]) -> "Rarity":
        """Frequencies held in memory (a mapping of term key -> segments)."""
        return cls(segments, _Counts(counts))

    def profile(self, terms: Counter) -> dict[str, float]:
        """Weighted profile: (1 + log count) x log((N + 1 + prior) / (df + 0.5)) per term."""
        if not terms:
            return {}
        keys = term_keys(terms)
        found = self.frequency(keys)
        rarity = self._weights.rarity
        return {
            term: _repeats(count) * rarity(found.get(key, 0))
            for (term, count), key in zip(terms.items(), keys)
        }

    @functools.cached_property
    def _weights(self) -> "_RarityWeights":
        return _RarityWeights(max(self.segments, 1) + RARITY_PRIOR_SEGMENTS)


@functools.cache
def _repeats(count: int) -> float:
    """How much a term used ``count`` times in a text weighs (a few counts are common)."""
    return 1.0 + math.log(count)


class _RarityWeights:
    """Each segment frequency's rarity weight over ``total`` segments, made once: a
    lineage rebuild weighs every linked segment's terms, whose frequencies repeat."""

    def __init__(self, total: int):
        self.total, self.made = total, {}

    def rarity(self, frequency: int) -> float:
        weight = self.made.get(frequency)
        if weight is None:
            weight = self.made[frequency] = math.log((self.total + 1) / (frequency + 0.5))
        return weight


class _Counts:
    """Term frequencies from a mapping (picklable, for worker processes)."""

    def __init__(self, counts: Mapping[int, int]):
        self.counts = counts

    def __call__(self, keys: Sequence[int]) -> dict[int, int]:
        return {key: self.counts.get(key, 0) for key in keys}


def similarity(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    """Cosine of two weighted profiles."""
    if len(second) < len(first):
        first, second = second, first
    dot = sum(weight * second[term] for term, weight in first.items() if term in second)
    if not dot:
        return 0.0
    norms = math.sqrt(sum(w * w for w in first.values())) * math.sqrt(
        sum(w * w for w in second.values())
    )
    return dot / norms if norms else 0.0


# ------------------------------------------------------------------------------
# Clusters


# Groups of at most this many linked segments get the similarity of every pair of their
# members, not only of the pairs the index made candidates: average linkage needs it (a
# pair never compared counts zero). Bigger groups are syndicated copies, which
# derivation already holds together, or chains too long to complete cheaply.
COMPLETION_MAX_SEGMENTS = 60


def complete_links(
    pairs: Iterable[tuple[str, str]],
    similarity_of: Callable[[str, str], float],
    floor: float,
) -> list[tuple[str, str, float]]:
    """Same-story links (similarity from ``floor``) of the pairs not in ``pairs`` inside
    each group of segments that ``pairs`` connect, for groups of 3 to
    COMPLETION_MAX_SEGMENTS segments; ``similarity_of(a, b)`` measures one pair."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    pairs = list(pairs)
    for first, second in pairs:
        parent[root(first)] = root(second)
    compared = {frozenset(pair) for pair in pairs}
    groups: dict[str, list[str]] = {}
    for node in sorted(parent):
        groups.setdefault(root(node), []).append(node)
    completed = []
    for members in groups.values():
        if not 3 <= len(members) <= COMPLETION_MAX_SEGMENTS:
            continue
        for position, first in enumerate(members):
            for second in members[position + 1 :]:
                if frozenset((first, second)) in compared:
                    continue
                value = similarity_of(first, second)
                if value >= floor:
                    completed.append((first, second, round(value, 4)))
    return completed


def cluster(
    nodes: Iterable[str],
    derivation_links: Iterable[tuple[str, str]],
    story_links: Iterable[tuple[str, str, float]],
    linkage: float,
) -> list[set[str]]:
    """Stories: derivation groups, merged by average same-story linkage.

    ``story_links`` are (a, b, similarity) of compared pairs; a pair of units linked
    several times counts its strongest link. Sparse UPGMA: each unit keeps the sum
    of its links to each neighbour, merging the best pair first.
    """
    parent: dict[str, str] = {node: node for node in nodes}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for first, second in derivation_links:
        if first in parent and second in parent:
            parent[root(first)] = root(second)
    members: dict[str, set[str]] = {}
    for node in parent:
        members.setdefault(root(node), set()).add(node)
    unit_of = {node: root(node) for node in parent}
    # Strongest link between two units, then the sums UPGMA works with.
    best: dict[tuple[str, str], float] = {}
    for first, second, value in story_links:
        if first not in unit_of or second not in unit_of:
            continue
        a, b = sorted((unit_of[first], unit_of[second]))
        if a != b and value > best.get((a, b), 0.0):
            best[(a, b)] = value
    links: dict[str, dict[str, float]] = {unit: {} for unit in members}
    for (a, b), value in best.items():
        links[a][b] = links[b][a] = value
    size = {unit: 1 for unit in members}  # a derivation group counts as one report
    heap = [(-value, a, b) for (a, b), value in best.items()]
    heapq.heapify(heap)
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in links or b not in links[a]:
            continue  # merged away since
        average = links[a][b] / (size[a] * size[b])
        if abs(average + negative) > 1e-12:  # a stale entry: the sums changed since
            continue
        if average < linkage:
            break
        _merge(a, b, links, size, members, heap)
    return sorted(members.values(), key=lambda group: min(group))


def _merge(a, b, links, size, members, heap) -> None:
    """Merge unit b into a; re-queue a's links with their new averages."""
    members[a] |= members.pop(b)
    for neighbour, value in links.pop(b).items():
        del links[neighbour][b]
        if neighbour != a:
            links[a][neighbour] = links[a].get(neighbour, 0.0) + value
            links[neighbour][a] = links[a][neighbour]
    links[a].pop(a, None)
    size[a] += size.pop(b)
    for neighbour, value in links[a].items():
        heapq.heappush(heap, (-value / (size[a] * size[neighbour]), a, neighbour))
