"""Bounded work per request: what one pasted text may cost (SQL functions: their own tests).

* A pasted "word" of thousands of characters (``or.or.or…``, no space) is not sent to
  full-text search: FTS5 makes a phrase of its tokens and reads every token's list of
  articles (39 s and 3.45 GB on 3,000 articles before; it grows with the archive).
"""

from __future__ import annotations

from datasette_provenance import store
from datasette_provenance.matching import search


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
