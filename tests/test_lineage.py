"""lineage.py: labels, direction, credit, clusters and the lineage forest."""

from __future__ import annotations

import datetime as dt

import pytest

from datasette_provenance import parameters, vocabulary
from datasette_provenance.matching import lineage
from datasette_provenance.matching.lineage import ArticleFacts, CreditFact, MatchEdge, SegmentNode

THRESHOLDS = parameters.DEFAULT_THRESHOLDS


def scores(**values) -> dict:
    """An alignment's scores with nothing shared, overridden by ``values``."""
    base = {
        "source_containment": 0.0,
        "derived_containment": 0.0,
        "source_copy_containment": 0.0,
        "derived_copy_containment": 0.0,
        "source_paraphrase_containment": 0.0,
        "derived_paraphrase_containment": 0.0,
        "source_quote_coverage": 0.0,
        "derived_quote_coverage": 0.0,
        "source_fidelity": 0.0,
        "derived_fidelity": 0.0,
        "source_matched_share": 0.0,
        "derived_matched_share": 0.0,
        "copied_tokens": 0,
        "edits_per_100_tokens": 0.0,
        "sentence_alignment": 0.0,
        "linked_sentences": 0,
        "passages_quotation": 0,
        "story_similarity": 0.0,
    }
    base.update(values)
    return base


# ----------------------------------------------------------------------------- labels


def test_nearly_unchanged_copy_is_verbatim():
    label, reasons = lineage.label(
        scores(
            derived_containment=0.95,
            source_containment=0.9,
            derived_copy_containment=0.95,
            source_copy_containment=0.9,
            copied_tokens=800,
            edits_per_100_tokens=1.1,
            derived_fidelity=0.99,
            sentence_alignment=0.7,
            linked_sentences=30,
        )
    )
    assert label == "verbatim"
    assert any("1.1 edits per 100 words" in reason for reason in reasons)


def test_copy_edited_word_by_word_is_light_edit():
    label, _ = lineage.label(
        scores(
            derived_containment=0.9,
            derived_copy_containment=0.9,
            copied_tokens=200,
            edits_per_100_tokens=12.0,
            derived_fidelity=0.75,
            sentence_alignment=0.5,
        )
    )
    assert label == "light_edit"


def test_reworded_text_following_the_source_is_paraphrase():
    label, _ = lineage.label(
        scores(
            derived_containment=0.7,
            derived_copy_containment=0.2,
            derived_paraphrase_containment=0.5,
            copied_tokens=60,
            edits_per_100_tokens=11.0,
            derived_fidelity=0.27,
            sentence_alignment=0.3,
            linked_sentences=10,
        )
    )
    assert label == "paraphrase"


def test_pure_paraphrase_without_any_copy_is_paraphrase_not_verbatim():
    label, _ = lineage.label(
        scores(
            derived_containment=0.4,
            derived_paraphrase_containment=0.4,
            sentence_alignment=0.09,
        )
    )
    assert label == "paraphrase"


def test_few_loose_sentence_matches_are_independent():
    label, reasons = lineage.label(
        scores(
            derived_containment=0.15,
            derived_paraphrase_containment=0.15,
            sentence_alignment=0.05,
            story_similarity=0.5,
        )
    )
    assert label == "independent"
    assert any("same story" in reason for reason in reasons)


def test_shared_quotations_only_are_shared_quotes():
    label, _ = lineage.label(
        scores(passages_quotation=2, derived_quote_coverage=0.1, sentence_alignment=0.02)
    )
    assert label == "shared_quotes"


def test_two_copied_sentences_in_long_articles_are_reuse():
    label, _ = lineage.label(
        scores(
            derived_containment=0.05,
            source_containment=0.04,
            derived_copy_containment=0.05,
            source_copy_containment=0.04,
            copied_tokens=60,
            derived_fidelity=1.0,
        )
    )
    assert label == "verbatim"


def test_thresholds_are_named_and_overridable():
    strict = parameters.LabelThresholds(min_sentence_alignment=0.5)
    loose_rewrite = scores(
        derived_containment=0.4, derived_paraphrase_containment=0.4, sentence_alignment=0.2
    )
    assert lineage.label(loose_rewrite)[0] == "paraphrase"
    assert lineage.label(loose_rewrite, strict)[0] == "independent"
    assert parameters.LabelThresholds.from_dict(strict.to_dict()) == strict


def test_only_derived_or_same_story_pairs_are_worth_storing():
    assert lineage.worth_storing("paraphrase", scores())
    assert not lineage.worth_storing("independent", scores(story_similarity=0.1))
    assert lineage.worth_storing("shared_quotes", scores(story_similarity=0.4))


# ----------------------------------------------------------------------------- direction


def facts(article_id, **values) -> ArticleFacts:
    values.setdefault("segment_id", f"{article_id}#1")
    values.setdefault("segment_words", 500)
    values.setdefault("article_words", values["segment_words"])
    return ArticleFacts(article_id=article_id, **values)


SYMMETRIC = scores(source_containment=0.9, derived_containment=0.9)


def test_earlier_publication_is_the_source():
    early = facts("a", published="2023-09-13T08:00:00+00:00")
    late = facts("b", published="2023-09-13T10:30:00+00:00")
    direction = lineage.decide_direction(late, early, SYMMETRIC)
    assert direction.source is early and direction.swapped
    assert direction.confidence > 0.9
    assert "a is dated earlier" in direction.evidence[0]


def test_same_day_dates_do_not_decide():
    direction = lineage.decide_direction(
        facts("a", published="2023-09-13"), facts("b", published="2023-09-13T09:00"), SYMMETRIC
    )
    assert direction.confidence == 0.5


def test_inferred_dates_count_less():
    known = lineage.decide_direction(
        facts("a", published="2023-09-12"), facts("b", published="2023-09-13"), SYMMETRIC
    )
    guessed = lineage.decide_direction(
        facts("a", published="2023-09-12", published_inferred=True),
        facts("b", published="2023-09-13"),
        SYMMETRIC,
    )
    assert known.source.article_id == guessed.source.article_id == "a"
    assert known.confidence > guessed.confidence > 0.5


def test_wire_original_and_credit_point_to_the_agency():
    reuters = facts(
        "000", outlet="Reuters", credits=[CreditFact("wire_marker", "Reuters", "(Reuters)")]
    )
    rewrite = facts(
        "001",
        outlet="Vygr Media",
        credits=[CreditFact("photo_credit", "Reuters", "(Photo: Reuters)")],
    )
    direction = lineage.decide_direction(
        rewrite, reuters, scores(source_containment=0.7, derived_containment=0.3)
    )
    assert direction.source is reuters
    assert direction.confidence > 0.95
    text = " ".join(direction.evidence)
    assert "001 credits Reuters" in text and "wire original" in text


def test_excerpt_is_the_derived_side_when_nothing_else_is_known():
    whole, excerpt = facts("long", segment_words=900), facts("short", segment_words=300)
    direction = lineage.decide_direction(
        whole, excerpt, scores(source_containment=0.3, derived_containment=0.95)
    )
    assert direction.source is whole and 0.5 < direction.confidence < 0.8


def test_no_evidence_is_reported_as_a_guess():
    direction = lineage.decide_direction(facts("a"), facts("b"), SYMMETRIC)
    assert direction.confidence == 0.5
    assert "guess" in direction.evidence[0]


def test_bundled_page_is_more_likely_the_copy():
    original = facts("000", segment_words=900)
    digest = facts("003", segment_words=900, article_words=1600, segment_count=2)
    direction = lineage.decide_direction(digest, original, SYMMETRIC)
    assert direction.source is original
    assert "003 adds 700 words of other stories" in direction.evidence[0]


def test_parse_and_compare_times():
    assert lineage.parse_published("2023-09-13") == dt.date(2023, 9, 13)
    assert lineage.parse_published("2023-09-13T10:00:00Z").tzinfo is not None
    assert lineage.parse_published("13/09/2023") is None
    assert (
        lineage.compare_times(
            lineage.parse_published("2023-09-13"), lineage.parse_published("2023-09-13T23:00")
        )
        == 0
    )
    assert (
        lineage.compare_times(
            lineage.parse_published("2023-09-13T10:00:00+00:00"),
            lineage.parse_published("2023-09-13T11:00:00"),
        )
        == -1
    )


# ----------------------------------------------------------------------------- credit


def test_photo_credit_of_the_source_outlet_is_credit():
    source = facts(
        "000", outlet="Reuters", credits=[CreditFact("wire_marker", "Reuters", "(Reuters)")]
    )
    derived = facts("001", credits=[CreditFact("photo_credit", "Reuters", "(Photo: Reuters)")])
    credited, reason = lineage.is_credited(source, derived)
    assert credited is True and "(Photo: Reuters)" in reason


def test_crediting_other_agencies_is_not_credit():
    source = facts(
        "000", outlet="Reuters", credits=[CreditFact("wire_marker", "Reuters", "(Reuters)")]
    )
    derived = facts(
        "003",
        credits=[
            CreditFact("photo_credit", "AFP", "(AFP)"),
            CreditFact("photo_credit", "Sputnik", "Sputnik"),
        ],
        text="In this pool photo distributed by Sputnik agency ... (AFP)",
    )
    credited, reason = lineage.is_credited(source, derived)
    assert credited is False
    assert reason == "003 does not credit Reuters (it credits AFP, Sputnik)"


def test_outlet_named_in_the_text_is_credit_but_short_codes_need_their_case():
    source = facts("s", outlet="AP")
    assert lineage.is_credited(source, facts("d", text="the AP reported on Monday"))[0] is True
    assert lineage.is_credited(source, facts("d", text="an ap tiny word"))[0] is False
    assert (
        lineage.is_credited(facts("s", outlet="Reuters"), facts("d", text="as reuters said"))[0]
        is True
    )


def test_credit_cannot_be_checked_without_a_source_outlet():
    credited, reason = lineage.is_credited(facts("s"), facts("d"))
    assert credited is None and "unknown" in reason


# ----------------------------------------------------------------------------- clusters


def nodes(*ids, published=None) -> dict[str, SegmentNode]:
    published = published or {}
    return {i: SegmentNode(i, i.split("#")[0], f"title {i}", published.get(i)) for i in ids}


def edge(
    match_id, source, derived, label="verbatim", closeness=0.9, confidence=0.9, credited=False
):
    return MatchEdge(match_id, source, derived, label, closeness, confidence, credited)


def test_origin_copies_and_independent_coverage_form_one_cluster():
    segments = nodes("000#1", "001#1", "002#1", "003#1", "004#1", published={"000#1": "2023-09-13"})
    edges = [
        edge(1, "000#1", "003#1", "verbatim", 0.95, 0.88, False),
        edge(2, "000#1", "001#1", "paraphrase", 0.5, 0.99, True),
        edge(3, "001#1", "003#1", "paraphrase", 0.4, 0.54, False),  # siblings, via the origin
        edge(4, "000#1", "002#1", "shared_quotes", 0.0, 0.8, None),
        edge(5, "002#1", "004#1", "independent", 0.0, 0.5, None),
    ]
    [cluster] = lineage.build_clusters(segments, edges)
    members = {m.segment_id: m for m in cluster.members}
    assert cluster.origin_article_id == "000" and cluster.title == "title 000#1"
    assert members["000#1"].is_origin and members["000#1"].generation == 0
    assert members["003#1"].parent_segment_id == "000#1" and members["003#1"].generation == 1
    assert members["001#1"].parent_segment_id == "000#1" and members["001#1"].label == "paraphrase"
    for independent in ("002#1", "004#1"):
        assert (
            members[independent].parent_segment_id is None
            and members[independent].generation is None
        )
    assert (cluster.article_count, cluster.derived_count, cluster.uncredited_count) == (5, 2, 1)
    assert cluster.first_published == cluster.last_published == "2023-09-13"


def test_copy_of_a_copy_hangs_under_the_closer_version():
    segments = nodes("a#1", "b#1", "c#1")
    edges = [
        edge(1, "a#1", "b#1", closeness=0.9),
        edge(2, "b#1", "c#1", closeness=0.99),
        edge(3, "a#1", "c#1", closeness=0.85),
    ]
    [cluster] = lineage.build_clusters(segments, edges)
    members = {m.segment_id: m for m in cluster.members}
    assert members["c#1"].parent_segment_id == "b#1" and members["c#1"].generation == 2


def test_contradictory_directions_never_make_a_cycle():
    segments = nodes("a#1", "b#1", "c#1")
    edges = [
        edge(1, "a#1", "b#1", closeness=0.9),
        edge(2, "b#1", "c#1", closeness=0.8),
        edge(3, "c#1", "a#1", closeness=0.7),
    ]
    [cluster] = lineage.build_clusters(segments, edges)
    parents = {m.segment_id: m.parent_segment_id for m in cluster.members}
    assert parents == {"a#1": None, "b#1": "a#1", "c#1": "b#1"}


def test_unlinked_stories_are_separate_clusters_and_all_independent_has_no_origin():
    segments = nodes("a#1", "b#1", "c#1", "d#1")
    edges = [edge(1, "a#1", "b#1"), edge(2, "c#1", "d#1", label="independent", credited=None)]
    clusters = lineage.build_clusters(segments, edges)
    assert len(clusters) == 2
    independent = next(c for c in clusters if c.origin_article_id is None)
    assert {m.segment_id for m in independent.members} == {"c#1", "d#1"}
    assert independent.derived_count == 0 and independent.title == "title c#1"


@pytest.mark.parametrize("label_name", vocabulary.LABELS)
def test_every_label_is_known(label_name):
    assert (label_name in vocabulary.DERIVED_LABELS) != (label_name in vocabulary.NOT_DERIVED_LABELS)
