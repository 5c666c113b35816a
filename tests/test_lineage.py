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
        "derived_phrase_overlap": 0.0,
        "source_phrase_overlap": 0.0,
        "copied_phrasing_tokens": 0,
        "longest_copied_phrasing": 0,
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
            derived_phrase_overlap=0.95,
            source_phrase_overlap=0.9,
            copied_phrasing_tokens=700,
            longest_copied_phrasing=700,
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
            derived_phrase_overlap=0.6,
            longest_copied_phrasing=40,
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
            derived_phrase_overlap=0.3,
            longest_copied_phrasing=20,
        )
    )
    assert label == "paraphrase"


def test_pure_paraphrase_without_any_copy_is_paraphrase_not_verbatim():
    label, _ = lineage.label(
        scores(
            derived_containment=0.4,
            derived_paraphrase_containment=0.4,
            sentence_alignment=0.2,
            derived_phrase_overlap=0.2,
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
            derived_phrase_overlap=0.03,
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
            derived_phrase_overlap=0.05,
            source_phrase_overlap=0.04,
            copied_phrasing_tokens=60,
            longest_copied_phrasing=60,
        )
    )
    assert label == "verbatim"


def test_thresholds_are_named_and_overridable():
    strict = parameters.LabelThresholds(min_derivation_probability=0.9)
    loose_rewrite = scores(
        derived_containment=0.4,
        derived_paraphrase_containment=0.4,
        sentence_alignment=0.2,
        derived_phrase_overlap=0.2,
    )
    assert lineage.label(loose_rewrite)[0] == "paraphrase"
    assert lineage.label(loose_rewrite, strict)[0] == "independent"
    assert parameters.LabelThresholds.from_dict(strict.to_dict()) == strict


def test_only_derived_or_same_story_pairs_are_worth_storing():
    assert lineage.worth_storing("paraphrase", scores())
    assert not lineage.worth_storing("independent", scores(story_similarity=0.05))
    assert lineage.worth_storing("shared_quotes", scores(story_similarity=0.4))


# ----------------------------------------------------------------------------- direction


def facts(article_id, **values) -> ArticleFacts:
    values.setdefault("segment_id", f"{article_id}#1")
    values.setdefault("segment_words", 500)
    values.setdefault("article_words", values["segment_words"])
    return ArticleFacts(article_id=article_id, **values)


SYMMETRIC = scores(source_containment=0.9, derived_containment=0.9)


def test_earlier_publication_is_the_source():
    early = facts("a", published="2023-09-13T08:00:00+00:00", title="The talks")
    late = facts("b", published="2023-09-13T10:30:00+00:00", title="Talks end")
    direction = lineage.decide_direction(late, early, SYMMETRIC)
    assert direction.source is early and direction.swapped
    assert direction.confidence > 0.9
    assert direction.evidence[0] == (
        "“The talks” is dated earlier (2023-09-13 08:00) than “Talks end” (2023-09-13 10:30)."
    )


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


def test_wire_original_points_to_the_agency_and_a_photo_credit_only_hints():
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
    assert direction.confidence > 0.9
    assert direction.evidence[:2] == [
        "The Reuters article is Reuters’ own: it is published by Reuters and carries its wire "
        "marker (“(Reuters)”).",
        "Vygr Media’s article uses a photo from Reuters, so it probably came later (weak "
        "evidence: the photo, not the text, is credited).",
    ]


def test_attribution_in_the_text_is_as_strong_as_a_date():
    nyt = facts("nyt", outlet="nytimes", outlet_names=("The New York Times", "nytimes.com"))
    blog = facts("blog", text="The New York Times reported Monday that the talks had failed.")
    direction = lineage.decide_direction(blog, nyt, SYMMETRIC)
    assert direction.source is nyt and direction.confidence > 0.9
    assert direction.evidence[0] == (
        "Article blog credits nytimes (“The New York Times reported Monday that the talks had "
        "failed”)."
    )


def test_a_wire_marker_alone_never_outvotes_a_date_or_an_attribution():
    nyt = facts("nyt", outlet="nytimes", outlet_names=("The New York Times",), segment_words=500)
    aggregator = facts(
        "agg",
        credits=[CreditFact("wire_marker", "AFP", "(AFP)")],
        text="(AFP) The New York Times reported Monday that the talks had failed.",
        segment_words=500,
    )
    # The marker alone would make the aggregator the original; the attribution wins.
    assert lineage.decide_direction(aggregator, nyt, SYMMETRIC).source is nyt
    # With dates: the earlier one is the source whatever the marker says.
    undated_blog = facts("agg", credits=[CreditFact("wire_marker", "AFP", "(AFP)")],
                         published="2023-09-14")
    dated_nyt = facts("nyt", published="2023-09-13")
    assert lineage.decide_direction(undated_blog, dated_nyt, SYMMETRIC).source is dated_nyt
    # With nothing else, the marker still hints at the agency's own copy.
    marked = facts("agg", credits=[CreditFact("wire_marker", "AFP", "(AFP)")])
    plain = facts("other")
    direction = lineage.decide_direction(plain, marked, SYMMETRIC)
    assert direction.source is marked and direction.confidence < 0.75
    assert "wire marker" in direction.evidence[0]


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
    original = facts("000", segment_words=900, title="Summit")
    digest = facts("003", segment_words=900, article_words=1600, segment_count=2, title="Digest")
    direction = lineage.decide_direction(digest, original, SYMMETRIC)
    assert direction.source is original
    assert direction.evidence[0] == "“Digest” adds 700 words of other stories around the shared text."


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

REUTERS = facts("000", outlet="Reuters", credits=[CreditFact("wire_marker", "Reuters", "(Reuters)")])


def test_a_photo_credit_of_the_source_credits_only_the_photo():
    derived = facts("001", credits=[CreditFact("photo_credit", "Reuters", "(Photo: Reuters)")])
    found = lineage.credit_of(REUTERS, derived)
    assert found.state == "photo_only" and found.credited is False
    assert found.quote == "(Photo: Reuters)"
    assert lineage.credit_sentence(REUTERS, derived, found) == (
        "Article 001 credits Reuters only for the photo (“(Photo: Reuters)”), not for the text."
    )


@pytest.mark.parametrize(
    "credit",
    [
        CreditFact("wire_marker", "Reuters", "WASHINGTON (Reuters) -"),
        CreditFact("text_credit", "Reuters", "Reuters contributed reporting."),
        CreditFact("attribution", "Reuters", "Reuters"),
    ],
)
def test_a_marker_credit_line_or_attribution_credits_the_text(credit):
    derived = facts("d", credits=[CreditFact("photo_credit", "Reuters", "Photo: Reuters"), credit])
    assert lineage.credit_of(REUTERS, derived).state == "credited"


def test_crediting_other_agencies_is_not_credit():
    derived = facts(
        "003",
        title="Putin and Kim",
        credits=[
            CreditFact("photo_credit", "AFP", "(AFP)"),
            CreditFact("photo_credit", "Sputnik", "Sputnik"),
            CreditFact("attribution", "AFP", "AFP"),
        ],
        text="In this pool photo distributed by Sputnik agency ... (AFP)",
    )
    found = lineage.credit_of(REUTERS, derived)
    assert found.state == "uncredited"
    assert lineage.credit_sentence(REUTERS, derived, found) == (
        "“Putin and Kim” does not credit Reuters; it credits AFP, and Sputnik for photos."
    )


def test_an_outlet_is_credited_by_its_other_names_beside_a_reporting_word():
    nyt = facts("s", outlet="nytimes", outlet_names=("The New York Times", "the Times", "nytimes.com"))
    credited = {
        "The New York Times reported on Monday that talks failed.": "credited",
        "Talks failed, according to the Times.": "credited",
        "The story was first reported by nytimes.com.": "credited",
        "More at https://www.nytimes.com/2023/09/13/world/summit.html": "credited",
        "(Photo: The New York Times)": "photo_only",
        "At times the talks were tense.": "uncredited",
        "The Financial Times reported the deal.": "uncredited",
        "He read the New York Times on the train.": "uncredited",
    }
    for text, state in credited.items():
        assert lineage.credit_of(nyt, facts("d", text=text)).state == state, text


def test_agency_codes_keep_their_case_and_forms_in_other_scripts_count():
    assert lineage.credit_of(facts("s", outlet="AP"), facts("d", credits=[
        CreditFact("attribution", "AP", "AP")])).state == "credited"
    assert lineage.credit_of(facts("s", outlet="AP"), facts("d", text="an ap tiny word")).state == (
        "uncredited"
    )
    urdu = facts("d", credits=[CreditFact("wire_marker", "APP", "(اے پی پی)")])
    assert lineage.credit_of(facts("s", outlet="APP"), urdu).state == "credited"
    sana = facts("d", credits=[CreditFact("wire_marker", "Sana News", "(ثناء نیوز)")])
    assert lineage.credit_of(facts("s", outlet="SANA"), sana).state == "credited"


def test_credit_cannot_be_checked_without_a_source_outlet():
    found = lineage.credit_of(facts("s", title="Talks"), facts("d"))
    assert found.state is None
    assert "not known" in lineage.credit_sentence(facts("s", title="Talks"), facts("d"), found)


# ----------------------------------------------------------------------------- clusters


def nodes(*ids, published=None, outlets=None) -> dict[str, SegmentNode]:
    published, outlets = published or {}, outlets or {}
    return {
        i: SegmentNode(i, i.split("#")[0], f"title {i}", published.get(i), outlets.get(i), 500, 3000)
        for i in ids
    }


def edge(
    match_id,
    source,
    derived,
    label="verbatim",
    closeness=0.9,
    confidence=0.9,
    credit="uncredited",
    story_similarity=0.4,
):
    return MatchEdge(
        match_id, source, derived, label, closeness, confidence, credit, story_similarity
    )


def test_origin_copies_and_independent_coverage_form_one_cluster():
    segments = nodes("000#1", "001#1", "002#1", "003#1", "004#1", published={"000#1": "2023-09-13"})
    edges = [
        edge(1, "000#1", "003#1", "verbatim", 0.95, 0.88, "uncredited"),
        edge(2, "000#1", "001#1", "paraphrase", 0.5, 0.99, "photo_only"),
        edge(3, "001#1", "003#1", "paraphrase", 0.4, 0.54, "uncredited"),  # siblings
        edge(4, "000#1", "002#1", "shared_quotes", 0.0, 0.8, None),
        edge(5, "002#1", "004#1", "independent", 0.0, 0.5, None),
    ]
    [cluster] = lineage.build_clusters(segments, edges)
    members = {m.segment_id: m for m in cluster.members}
    assert cluster.origin_article_id == "000" and cluster.title == "title 000#1"
    assert members["000#1"].is_origin and members["000#1"].generation == 0
    assert members["003#1"].parent_segment_id == "000#1" and members["003#1"].generation == 1
    assert members["001#1"].parent_segment_id == "000#1" and members["001#1"].label == "paraphrase"
    assert members["001#1"].credit == "photo_only" and members["003#1"].credit == "uncredited"
    assert {m.origin_segment_id for m in members.values() if m.generation is not None} == {"000#1"}
    for independent in ("002#1", "004#1"):
        assert (
            members[independent].parent_segment_id is None
            and members[independent].generation is None
        )
    assert (cluster.article_count, cluster.derived_count, cluster.uncredited_count) == (5, 2, 2)
    assert cluster.photo_only_count == 1
    assert cluster.first_published == cluster.last_published == "2023-09-13"
    relations = {r.match_id: r for r in cluster.relations}
    assert relations[1].relation == relations[2].relation == "copy"
    assert relations[3].relation == "siblings" and relations[3].shared_source_segment_id == "000#1"


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
    assert members["c#1"].origin_segment_id == "a#1"


def test_a_copy_is_credited_when_it_credits_its_origin_or_its_parent():
    segments = nodes("wire#1", "rewrite#1", "copy#1")
    edges = [
        edge(1, "wire#1", "rewrite#1", "paraphrase", 0.5, 0.99, "credited"),
        edge(2, "rewrite#1", "copy#1", "verbatim", 0.99, 0.9, "uncredited"),
        edge(3, "wire#1", "copy#1", "paraphrase", 0.5, 0.99, "credited"),
    ]
    [cluster] = lineage.build_clusters(segments, edges)
    copy = next(m for m in cluster.members if m.segment_id == "copy#1")
    assert copy.parent_segment_id == "rewrite#1" and copy.credit == "credited"
    assert copy.evidence == ["It credits the origin, “title wire#1”, not “title rewrite#1”."]


def passages_of(table):
    """A passage loader over {match id: [(kind, derived start, derived end, edit words)]}."""
    def load(match_ids):
        return {
            match_id: [
                lineage.PassageSpan(kind, 0, 0, start, end, edits)
                for kind, start, end, edits in table.get(match_id, [])
            ]
            for match_id in match_ids
        }
    return load


def versions(earlier, later, copy, edges, table):
    """The cluster of three versions of one story (3,000 characters = 500 words each) and
    the copy's lineage row."""
    segments = nodes(f"{earlier}#1", f"{later}#1", f"{copy}#1")
    edges = [edge(i, f"{s}#1", f"{d}#1", label, closeness, confidence)
             for i, (s, d, label, closeness, confidence) in enumerate(edges, start=1)]  # fmt: skip
    [cluster] = lineage.build_clusters(segments, edges, passages_of(table))
    return cluster, next(m for m in cluster.members if m.segment_id == f"{copy}#1")


def test_a_copy_hangs_under_the_version_holding_most_of_what_it_reused():
    # A rewrite of the wire keeps wire-only paragraphs that a shorter copy dropped: the
    # branching alone (closeness) hangs it under the shorter copy; it belongs under the wire.
    cluster, rewrite = versions("wire", "short", "rewrite", [
        ("wire", "short", "verbatim", 0.99, 0.95),
        ("short", "rewrite", "paraphrase", 0.62, 0.95),
        ("wire", "rewrite", "paraphrase", 0.6, 0.95),
    ], {
        2: [("paraphrase", 0, 1200, 0)],  # the rewrite's first part, paraphrased from both
        3: [("paraphrase", 0, 1200, 0), ("verbatim", 1500, 2700, 0)],  # + wire-only paragraphs
    })  # fmt: skip
    assert rewrite.parent_segment_id == "wire#1"
    assert rewrite.evidence == [
        "Hung under “title wire#1” rather than “title short#1”, a later version of it: it keeps "
        "200 words that only “title wire#1” has."
    ]
    relations = {r.match_id: r for r in cluster.relations}
    assert relations[1].relation == "copy" and relations[3].relation == "copy"
    assert relations[2].relation == "siblings" and relations[2].shared_source_segment_id == "wire#1"


def test_a_copy_of_a_rewrite_stays_under_the_rewrite():
    _, copy = versions("wire", "rewrite", "copy", [
        ("wire", "rewrite", "paraphrase", 0.5, 0.99),
        ("rewrite", "copy", "verbatim", 0.98, 0.9),
        ("wire", "copy", "paraphrase", 0.5, 0.99),
    ], {2: [("verbatim", 0, 2900, 0)], 3: [("paraphrase", 0, 2900, 0)]})  # fmt: skip
    assert copy.parent_segment_id == "rewrite#1"
    assert copy.evidence == [
        "Hung under “title rewrite#1” rather than “title wire#1”, the version it comes from: it "
        "carries 242 words found only in “title rewrite#1” (its rewording, edits or additions)."
    ]


def test_a_copy_carrying_a_light_edits_changes_stays_under_it():
    # The light edit changed 60 words of the wire; the copy has all of them.
    _, copy = versions("wire", "edit", "copy", [
        ("wire", "edit", "light_edit", 0.95, 0.99),
        ("edit", "copy", "verbatim", 0.99, 0.9),
        ("wire", "copy", "light_edit", 0.95, 0.99),
    ], {2: [("verbatim", 0, 3000, 0)], 3: [("edited", 0, 3000, 60)]})  # fmt: skip
    assert copy.parent_segment_id == "edit#1"


def test_siblings_with_noisy_alignments_hang_under_the_wire():
    # Two paraphrases of the wire, each aligned a little differently: the branching prefers
    # the sibling by a hair; neither carries the other's own text, so the wire is the parent.
    cluster, two = versions("wire", "one", "two", [
        ("wire", "one", "paraphrase", 0.5, 0.99),
        ("one", "two", "paraphrase", 0.53, 0.96),
        ("wire", "two", "paraphrase", 0.5, 0.99),
    ], {
        2: [("paraphrase", 0, 2400, 0), ("verbatim", 2400, 2500, 0)],
        3: [("paraphrase", 0, 2300, 0), ("verbatim", 2600, 2700, 0)],
    })  # fmt: skip
    assert two.parent_segment_id == "wire#1"
    assert {r.match_id: r.relation for r in cluster.relations}[2] == "siblings"


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
    edges = [edge(1, "a#1", "b#1"), edge(2, "c#1", "d#1", label="independent", credit=None)]
    clusters = lineage.build_clusters(segments, edges)
    assert len(clusters) == 2
    independent = next(c for c in clusters if c.origin_article_id is None)
    assert {m.segment_id for m in independent.members} == {"c#1", "d#1"}
    assert independent.derived_count == 0 and independent.title == "title c#1"


@pytest.mark.parametrize("label_name", vocabulary.LABELS)
def test_every_label_is_known(label_name):
    assert (label_name in vocabulary.DERIVED_LABELS) != (label_name in vocabulary.NOT_DERIVED_LABELS)


def test_own_text_weighs_each_stretch_by_the_best_span_covering_it():
    """``_excess`` (spans marking the intervals they cover) against the definition: every
    interval between span ends, the best weight of the spans covering it on each side."""
    import random

    from datasette_provenance.matching.lineage import _excess

    def by_definition(mine, theirs):
        points = sorted({p for start, end, _ in (*mine, *theirs) for p in (start, end)})
        total = 0.0
        for left, right in zip(points, points[1:]):
            covering = [w for s, e, w in mine if s <= left and right <= e]
            best_mine = max(covering, default=0.0)
            if best_mine:
                best_theirs = max((w for s, e, w in theirs if s <= left and right <= e),
                                  default=0.0)  # fmt: skip
                total += max(0.0, best_mine - best_theirs) * (right - left)
        return total

    rng = random.Random(7)

    def spans():
        starts = [rng.randrange(300) for _ in range(rng.randrange(8))]
        return [(s, s + rng.randrange(80), rng.choice([1.0, 0.5, rng.random(), 0.0]))
                for s in starts]  # fmt: skip

    for _ in range(2000):
        mine, theirs = spans(), spans()
        assert _excess(mine, theirs) == by_definition(mine, theirs)
    assert _excess([(0, 10, 1.0), (5, 20, 0.5)], [(0, 8, 0.5)]) == 0.5 * 8 + 1.0 * 2 + 0.5 * 10
