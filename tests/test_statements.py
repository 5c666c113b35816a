"""matching/statements.py: which sentences attribute what they say, in many languages; and
what alignment makes of a statement two texts share."""

from __future__ import annotations

import pytest

from datasette_provenance.matching import align, statements
from datasette_provenance.matching.tokens import words


@pytest.mark.parametrize(
    "sentence",
    [
        "The ministry said in a statement that talks would resume.",
        "According to the police, two people were hurt.",
        "He wrote on Twitter that the deal was done.",
        "وزیراعظم نے کہا کہ مذاکرات جاری رہیں گے",  # Urdu: "said that"
        "وَقَالَ الوزير إن المحادثات ستستأنف",  # Arabic, vowelled
        "Министр заявила, что переговоры продолжатся",  # Russian, feminine ending
        "外交部发言人表示，会谈将继续",  # Chinese: "表示"
        "अधिकारियों के अनुसार बांध सुरक्षित है",  # Hindi: "according to"
        "Selon le ministère, les négociations reprendront",
    ],
)
def test_attributed_sentences_in_many_languages(sentence):
    assert statements.is_attributed(words(sentence))


@pytest.mark.parametrize(
    "sentence",
    [
        "The dam burst after three days of rain.",
        "The president announced new measures on Wednesday.",  # an action, not a quote
        "بارش کے بعد دریا میں طغیانی آ گئی",
    ],
)
def test_narrative_sentences_are_not_statements(sentence):
    assert not statements.is_attributed(words(sentence))


def test_a_statement_two_reports_share_is_a_quotation_not_a_copy():
    statement = (
        "the agreement will protect the coastal wetlands and the fishing villages for decades"
    )
    first = f"Environment groups welcomed the plan on Monday. The minister said {statement}."
    second = f"In a statement, the ministry said {statement}. Critics doubted the funding."
    alignment = align.align(first, second)
    assert {p.kind for p in alignment.passages} == {"quotation"}
    assert alignment.scores["copied_tokens"] == 0


def test_a_quote_running_on_over_paragraphs_is_a_quote():
    text = 'They said the memos "show the plan was sound.\n\n"The memos also show it," they added.'
    quoted = [text[start:end] for start, end in align.find_quotations(text)]
    assert quoted == ['"show the plan was sound.', '"The memos also show it,"']
