"""matching/stories.py: same-story similarity with corpus-wide rarity, and story clusters."""

from __future__ import annotations

from collections import Counter

from datasette_provenance.matching import lineage, stories
from datasette_provenance.matching.lineage import MatchEdge, SegmentNode
from datasette_provenance.matching.tokens import words
from datasette_provenance.parameters import DEFAULT_THRESHOLDS

LINKAGE = DEFAULT_THRESHOLDS.story_linkage


def test_content_terms_are_stems_and_character_pairs():
    terms = stories.story_terms(words("The ministers discussed discussions in 北京会谈"))
    assert terms["minis"] == 1 and terms["discu"] == 2  # stems of five letters
    assert "the" not in terms and "in" not in terms  # short words are every story's
    assert terms["北京"] == 1 and terms["京会"] == 1  # unspaced: pairs of characters


def rarity(texts: list[str]) -> stories.Rarity:
    counts = Counter(key for text in texts for key in set(stories.term_keys(terms(text))))
    return stories.Rarity.from_counts(len(texts), counts)


def terms(text: str) -> Counter:
    return stories.story_terms(words(text))


def test_words_every_report_uses_weigh_less_than_what_two_share():
    corpus = [
        "flood dam river villagers evacuated governor",
        "flood dam river engineers warned cracks concrete",
        "flood dam river villagers evacuated shelters",
        "election ballots counted parliament coalition",
    ]
    weights = rarity(corpus)
    profile = weights.profile(terms(corpus[0]))
    assert profile["villa"] > profile["flood"]  # in two reports, not in all three
    same = stories.similarity(profile, weights.profile(terms(corpus[2])))
    other = stories.similarity(profile, weights.profile(terms(corpus[3])))
    assert same > 0.3 and other == 0.0


def test_average_linkage_keeps_a_chain_of_similar_events_apart():
    # a1-a2 and b1-b2 are two events; a2 and b1 are alike, but the events on average are not.
    links = [("a1", "a2", 0.5), ("b1", "b2", 0.5), ("a2", "b1", 0.3)]
    groups = stories.cluster(["a1", "a2", "b1", "b2"], [], links, LINKAGE)
    assert sorted(map(sorted, groups)) == [["a1", "a2"], ["b1", "b2"]]
    assert len(stories.cluster(["a1", "a2", "b1", "b2"], [], links, 0.05)) == 1  # loosely: one


def test_copies_of_one_text_count_as_one_report():
    # Three copies of w; x is linked to one of them only: as one unit, they are x's story.
    copies = [("w", "c1"), ("w", "c2")]
    groups = stories.cluster(["w", "c1", "c2", "x"], copies, [("c1", "x", 0.3)], LINKAGE)
    assert sorted(map(sorted, groups)) == [["c1", "c2", "w", "x"]]


def test_small_groups_are_completed_with_the_pairs_never_compared():
    measured = []

    def similarity(first: str, second: str) -> float:
        measured.append((first, second))
        return 0.4

    completed = stories.complete_links([("a", "b"), ("b", "c")], similarity, 0.15)
    assert completed == [("a", "c", 0.4)] and measured == [("a", "c")]
    assert stories.complete_links([("a", "b")], similarity, 0.15) == []  # two: nothing missing


def test_a_borrowed_paragraph_links_two_stories_without_merging_them():
    nodes = {i: SegmentNode(i, i.split("#")[0]) for i in ("a#1", "b#1", "c#1", "d#1")}
    edges = [
        MatchEdge(1, "a#1", "b#1", "independent", 0.0, 0.5, None, 0.5),
        MatchEdge(2, "c#1", "d#1", "independent", 0.0, 0.5, None, 0.5),
        # b reuses a background paragraph of c: derived, but c explains little of b.
        MatchEdge(3, "c#1", "b#1", "paraphrase", 0.1, 0.9, False, 0.1),
    ]
    clusters = lineage.build_clusters(nodes, edges)
    assert sorted(sorted(m.segment_id for m in c.members) for c in clusters) == [
        ["a#1", "b#1"],
        ["c#1", "d#1"],
    ]
