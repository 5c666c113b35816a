"""Evidence sentences: outlets and titles instead of ids, shares in words, right plurals."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from datasette_provenance.matching import evidence


@dataclass(frozen=True)
class Article:
    article_id: str
    outlet: str | None = None
    title: str | None = None
    opening: str | None = None


REUTERS = Article("000", "Reuters", "Kim Jong Un Meets With Putin")
VYGR = Article("001", "Vygr Media")
UNKNOWN = Article("003", None, "Putin and North Korea’s Kim Discuss Military Matters, Ukraine War")


@pytest.mark.parametrize(
    "share, words",
    [
        (1.0, "all"), (0.93, "nearly all"), (0.85, "most (85%)"), (0.75, "three quarters"),
        (0.69, "about two thirds"), (0.5, "half"), (0.32, "about a third"), (0.26, "about a quarter"),
        (0.2, "a fifth"), (0.11, "about a tenth"), (0.06, "a small part (6%)"),
    ],
)
def test_shares_in_words(share, words):
    assert evidence.share_words(share) == words


def test_plurals():
    assert evidence.plural(1, "sentence") == "1 sentence"
    assert evidence.plural(10, "sentence") == "10 sentences"
    assert evidence.plural(1200, "word") == "1,200 words"
    assert evidence.plural(2, "quotation") == "2 quotations"


def test_articles_are_named_by_outlet_title_or_opening_never_by_id_when_avoidable():
    names = evidence.Names(REUTERS, VYGR, UNKNOWN)
    assert names.article(VYGR) == "Vygr Media’s article"
    assert names.article(REUTERS) == "Reuters’ article"
    assert names.text(REUTERS) == "the Reuters text"
    assert names.article(UNKNOWN) == "“Putin and North Korea’s Kim Discuss Military Matters…”"
    opening = Article("004", None, None, "A handshake against a backdrop of missile fire …")
    assert evidence.Names(opening).article(opening) == (
        "the article beginning “A handshake against a backdrop of missile fire …”"
    )
    assert evidence.Names(Article("x")).article(Article("x")) == "article x"
    # Two articles of one outlet: titles tell them apart.
    first, second = Article("a", "AP", "Bridge to reopen"), Article("b", "AP", "Bridge reopens")
    assert evidence.Names(first, second).article(second) == "“Bridge reopens”"
    # An outlet that is only a guess is not stated as fact.
    guessed = evidence.Names(UNKNOWN, Article("002", "The New York Times", "Putin and Kim"),
                             inferred=["002"])
    assert guessed.article(Article("002", "The New York Times", "Putin and Kim")) == "“Putin and Kim”"


def test_reuse_sentences():
    names = evidence.Names(REUTERS, VYGR)
    scores = {"source_containment": 0.32, "linked_sentences": 10, "derived_fidelity": 0.27}
    assert evidence.reuse("paraphrase", scores, REUTERS, VYGR, names) == (
        "Vygr Media’s article reuses about a third of the Reuters text, reworded; 10 of its "
        "sentences follow the Reuters sentences in order."
    )
    one = dict(scores, linked_sentences=1)
    assert "1 of its sentences follows" in evidence.reuse("paraphrase", one, REUTERS, VYGR, names)
    verbatim = {"source_containment": 0.99, "edit_count": 3}
    edits = [("U.S.", "US"), ("president", "President"), (", and", "and"), ("metre", "meter")]
    assert evidence.reuse("verbatim", verbatim, REUTERS, VYGR, names, edits) == (
        "Vygr Media’s article copies all of the Reuters text word for word, with 3 small edits "
        "(U.S. → US, metre → meter)."
    )


def test_not_derived_and_sibling_sentences_carry_no_direction():
    names = evidence.Names(REUTERS, VYGR)
    said = evidence.not_derived("shared_quotes", {"passages_quotation": 1}, REUTERS, VYGR, names)
    assert said == (
        "Reuters’ article and Vygr Media’s article quote the same words (1 quotation); apart from "
        "quotations they share little text: separate reporting of the same story."
    )
    assert "copies" not in said and "derives" not in said


def test_check_sentences_describe_the_pasted_text():
    assert evidence.check_kind("paraphrase", ["quotation", "paraphrase"], 0.0) == "quotation"
    assert evidence.check_kind("verbatim", ["verbatim", "quotation"], 1.0) == "verbatim"
    assert evidence.check_kind("paraphrase", ["quotation"], 0.0, in_quotation_marks=False) == (
        "statement"
    )
    assert evidence.check_kind("shared_quotes", ["quotation"], 0.5) == "shared_quotes"
    assert evidence.check_kind("shared_quotes", ["quotation"], 0.5, False) == "statement"
    assert evidence.check_kind("verbatim", ["verbatim", "quotation"], 1.0, False) == "verbatim"
    assert evidence.check_sentence("quotation", {"passages_quotation": 1}) == (
        "Your text quotes the same words as this article (1 quotation); quoting the same speaker "
        "is not copying."
    )
    assert evidence.check_sentence(
        "quotation", {"passages_quotation": 1, "passages_statement": 2}
    ) == (
        "Your text quotes the same words as this article (1 quotation and 2 attributed "
        "statements); quoting the same speaker is not copying."
    )
    assert evidence.check_sentence("statement", {"passages_statement": 1}) == (
        "Your text reports the same statement as this article (1 statement, words it attributes "
        "to someone without quotation marks); reporting what someone said is not copying."
    )
    assert evidence.check_sentence("verbatim", {"derived_containment": 1.0}) == (
        "All of your text is in this article word for word."
    )


def test_stored_evidence_reads_old_and_new_forms():
    stored = [{"about": "reuse", "text": "A."}, {"about": "credit", "text": "B."}, "C."]
    assert evidence.texts(stored) == ["A.", "B.", "C."]
    assert evidence.texts(stored, ["credit"]) == ["B.", "C."]  # old plain strings: any topic
