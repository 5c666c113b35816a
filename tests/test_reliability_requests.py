"""Bounded work per request: what one pasted text may cost (SQL functions: their own tests).

* A pasted "word" of thousands of characters (``or.or.or…``, no space) is not sent to
  full-text search: FTS5 makes a phrase of its tokens and reads every token's list of
  articles (39 s and 3.45 GB on 3,000 articles before; it grows with the archive).
* A pair of texts too long for sentence alignment (its tables are sized from the counts
  first) gets its copy passages only: two 1 MB near-duplicates took 5.95 GB and two minutes.
* A caller's budget (the check page's) is looked at inside an alignment: before, it was
  looked at only by SQLite, between alignments, so one long alignment ran to its end.
"""

from __future__ import annotations

import pytest

from datasette_provenance import store
from datasette_provenance.matching import align, budget, search

from .test_align import seed_text


def test_a_paste_of_one_endless_word_sends_no_huge_phrase_to_full_text_search(seeds_db_copy):
    db = store.connect(str(seeds_db_copy))
    try:
        store.enable_search(db)
        searched = []
        db.conn.set_trace_callback(lambda sql: searched.append(sql) if " MATCH " in sql else None)
        search.find_sources(db, "or." * 20_000 + " Kim Jong Un rode an armoured train to Vostochny")
    finally:
        db.conn.close()
    assert searched, "the real words of the paste are still searched for"
    assert max(len(sql) for sql in searched) < 2_000
    assert all("or.or" not in sql for sql in searched)


def test_a_pair_too_long_for_sentence_alignment_gets_copy_passages_only(monkeypatch):
    """Sentence tables are sized from the counts before they are made: above
    MAX_SENTENCE_ALIGNMENT_BYTES a pair is not sentence-aligned (two 1 MB near-duplicates
    took 5.95 GB and two minutes), and its copies are still found."""
    source, paraphrase = seed_text("000"), seed_text("001")
    copy = source + "\n\nOne more paragraph the copy adds at its end, about the weather."
    prepared = align.prepare(source)
    assert align.sentence_alignment_bytes(prepared, align.prepare(paraphrase)) > 0
    assert align.align(source, paraphrase).scores["paraphrase_sentences"] >= 6
    monkeypatch.setattr(align, "MAX_SENTENCE_ALIGNMENT_BYTES", 0)
    assert align.align(source, paraphrase).scores["paraphrase_sentences"] == 0
    copied = align.align(source, copy)
    kinds = {passage.kind for passage in copied.passages}
    assert kinds and kinds <= {"verbatim", "edited", "quotation"}, kinds
    assert copied.scores["derived_containment"] > 0.9


def test_a_spent_budget_stops_an_alignment_midway():
    source = "\n\n".join(seed_text(number) for number in ("000", "001", "002", "003", "004"))
    edited = source.replace(" the ", " a ")  # one long copy with hundreds of edits
    looks = []

    def spent_after_three_looks() -> bool:
        looks.append(True)
        return len(looks) > 3

    with budget.within(budget.Budget(spent_after_three_looks)):
        with pytest.raises(budget.Spent):
            align.align(source, edited)
    assert len(looks) == 4  # it stopped at the first look past the budget
    assert align.align(source, edited).passages  # without a budget, the same pair aligns


def test_a_budget_may_allow_less_memory_per_alignment_than_ingest():
    source, paraphrase = seed_text("000"), seed_text("001")
    needed = align.sentence_alignment_bytes(align.prepare(source), align.prepare(paraphrase))
    assert budget.alignment_bytes(align.MAX_SENTENCE_ALIGNMENT_BYTES) > needed
    with budget.within(budget.Budget(lambda: False, alignment_bytes=needed - 1)):
        assert align.align(source, paraphrase).scores["paraphrase_sentences"] == 0
    with budget.within(budget.Budget(lambda: False, alignment_bytes=needed)):
        assert align.align(source, paraphrase).scores["paraphrase_sentences"] >= 6
