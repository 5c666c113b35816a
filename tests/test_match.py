"""matching/update.py and search.py: matching stored through the real ingest; the seeds
acceptance test; settings recorded with the matches they made."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import unicodedata
from collections import Counter
from contextlib import closing
from dataclasses import replace

import pytest
import sqlite_utils

from click.testing import CliRunner

from datasette_provenance import ingest, parameters, store, vocabulary
from datasette_provenance.cli import cli
from datasette_provenance.matching import index, search, update
from datasette_provenance.matching.tokens import words

from .conftest import load_benchmark
from .test_align import MULTILINGUAL

DERIVED = set(vocabulary.DERIVED_LABELS)


def rows(db, sql, params=()):
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def pair(db, source_article, derived_article):
    found = rows(
        db,
        "SELECT * FROM matches WHERE source_article_id = ? AND derived_article_id = ?",
        [source_article, derived_article],
    )
    assert (
        len(found) == 1
    ), f"expected one match {source_article} -> {derived_article}, found {found}"
    return found[0]


def matches_of(db, article_id):
    return rows(
        db,
        "SELECT * FROM matches WHERE source_article_id = ? OR derived_article_id = ?",
        [article_id] * 2,
    )


def snapshot(db) -> dict:
    """Everything matching produces, without row ids and timestamps."""
    matches = rows(db, "SELECT * FROM matches ORDER BY source_segment_id, derived_segment_id")
    by_id = {m["id"]: (m["source_segment_id"], m["derived_segment_id"]) for m in matches}
    passages = sorted(
        (
            by_id[p["match_id"]],
            p["kind"],
            p["source_start"],
            p["source_end"],
            p["derived_start"],
            p["derived_end"],
            p["similarity"],
            p["edits"],
        )
        for p in rows(db, "SELECT * FROM passages")
    )
    lineage_rows = sorted(
        (
            r["segment_id"],
            r["parent_segment_id"],
            by_id.get(r["match_id"]),
            r["label"],
            r["generation"],
            r["is_origin"],
        )
        for r in rows(db, "SELECT * FROM lineage")
    )
    clusters = sorted(
        tuple(v for k, v in c.items() if k != "id") for c in rows(db, "SELECT * FROM clusters")
    )
    for m in matches:
        del m["id"], m["computed_at"]
    return {"matches": matches, "passages": passages, "lineage": lineage_rows, "clusters": clusters}


# ----------------------------------------------------------------------------- seeds acceptance


def test_copy_derives_from_the_reuters_original_uncredited(seeds_db, seed_ids):
    copy = pair(seeds_db, seed_ids["reuters"], seed_ids["copy"])
    assert copy["source_segment_id"] == f"{seed_ids['reuters']}#1"
    assert copy["derived_segment_id"] == f"{seed_ids['copy']}#1"
    assert copy["label"] in ("verbatim", "light_edit")
    assert 0.85 <= copy["source_containment"] <= 1.0  # all of the story but a dropped clause
    assert copy["credited"] == 0 and copy["credit"] == "uncredited"
    assert copy["relation"] == "copy"
    assert copy["direction_confidence"] >= 0.8
    evidence = {item["about"]: item["text"] for item in json.loads(copy["evidence"])}
    assert evidence["reuse"].startswith(
        "“Putin and North Korea’s Kim Discuss Military Matters…” copies all of the Reuters text "
        "word for word, with 9 small edits"
    )
    assert "U.S. → US" in evidence["reuse"]
    assert evidence["credit"] == (
        "“Putin and North Korea’s Kim Discuss Military Matters…” does not credit Reuters; it "
        "credits AFP and Sputnik, for photos only."
    )
    member = rows(seeds_db, "SELECT * FROM lineage WHERE article_id = ?", [seed_ids["copy"]])[0]
    assert member["credit"] == "uncredited" and member["origin_article_id"] == seed_ids["reuters"]


def test_copy_passages_are_mostly_verbatim_with_house_style_edits(seeds_db, seed_ids):
    copy = pair(seeds_db, seed_ids["reuters"], seed_ids["copy"])
    passages = rows(seeds_db, "SELECT * FROM passages WHERE match_id = ?", [copy["id"]])
    kinds = [p["kind"] for p in passages]
    assert kinds.count("verbatim") >= kinds.count("edited") > 0
    edits = [edit for p in passages for edit in json.loads(p["edits"])]
    assert ["U.S.", "US"] in edits and ["metre", "meter"] in edits
    texts = dict(seeds_db.execute("SELECT id, raw_text FROM articles").fetchall())
    source, derived = texts[seed_ids["reuters"]], texts[seed_ids["copy"]]
    for passage in passages:
        assert 0 <= passage["source_start"] < passage["source_end"] <= len(source)
        assert 0 <= passage["derived_start"] < passage["derived_end"] <= len(derived)
        if passage["kind"] == "verbatim":
            assert words(source[passage["source_start"] : passage["source_end"]]) == words(
                derived[passage["derived_start"] : passage["derived_end"]]
            )


def test_appended_unrelated_story_matches_nothing(seeds_db, seed_ids):
    canada = f"{seed_ids['copy']}#2"
    assert (
        seeds_db.execute("SELECT title FROM segments WHERE id = ?", [canada])
        .fetchone()[0]
        .startswith("Canada")
    )
    assert not rows(
        seeds_db,
        "SELECT id FROM matches WHERE source_segment_id = ? OR derived_segment_id = ?",
        [canada, canada],
    )
    assert not rows(seeds_db, "SELECT * FROM lineage WHERE segment_id = ?", [canada])


def test_rewrite_is_a_paraphrase_crediting_reuters_only_for_the_photo(seeds_db, seed_ids):
    rewrite = pair(seeds_db, seed_ids["reuters"], seed_ids["paraphrase"])
    assert rewrite["label"] == "paraphrase"
    assert rewrite["credit"] == "photo_only" and rewrite["credited"] == 0
    assert rewrite["derived_containment"] >= 0.6
    assert rewrite["jaccard"] < 0.1
    evidence = {item["about"]: item["text"] for item in json.loads(rewrite["evidence"])}
    assert evidence["reuse"] == (
        "Vygr Media’s article reuses about a third of the Reuters text, reworded; 10 of its "
        "sentences follow the Reuters sentences in order."
    )
    assert evidence["credit"] == (
        "Vygr Media’s article credits Reuters only for the photo (“(Photo: Reuters)”), not for "
        "the text."
    )
    member = rows(seeds_db, "SELECT * FROM lineage WHERE article_id = ?", [seed_ids["paraphrase"]])
    assert member[0]["credit"] == "photo_only"


def test_the_copy_and_the_rewrite_are_siblings_not_a_copy_of_each_other(seeds_db, seed_ids):
    [sibling] = [
        m for m in matches_of(seeds_db, seed_ids["copy"])
        if seed_ids["paraphrase"] in (m["source_article_id"], m["derived_article_id"])
    ]
    assert sibling["relation"] == "siblings" and sibling["credited"] is None
    assert sibling["shared_source_article_id"] == seed_ids["reuters"]
    assert sibling["shared_source_segment_id"] == f"{seed_ids['reuters']}#1"


def test_matches_that_are_not_copies_carry_no_direction_or_credit_words(seeds_db):
    for match_row in rows(seeds_db, "SELECT * FROM matches WHERE label NOT IN "
                                    "('verbatim', 'light_edit', 'paraphrase')"):
        evidence = json.loads(match_row["evidence"])
        assert [item["about"] for item in evidence] == ["shared"]
        assert match_row["credit"] is None and match_row["relation"] is None


@pytest.mark.parametrize("role", ["nyt", "french"])
def test_independent_coverage_is_never_derived_but_in_the_cluster(seeds_db, seed_ids, role):
    article = seed_ids[role]
    found = matches_of(seeds_db, article)
    assert found and not [m for m in found if m["label"] in DERIVED]
    with_original = [
        m for m in found if seed_ids["reuters"] in (m["source_article_id"], m["derived_article_id"])
    ]
    assert all(m["label"] in ("shared_quotes", "independent") for m in with_original)
    assert all(m["credited"] is None for m in found)
    member = rows(seeds_db, "SELECT * FROM lineage WHERE article_id = ?", [article])[0]
    assert (
        member["parent_segment_id"] is None
        and member["generation"] is None
        and not member["is_origin"]
    )
    [original] = rows(seeds_db, "SELECT * FROM lineage WHERE article_id = ?", [seed_ids["reuters"]])
    assert member["cluster_id"] == original["cluster_id"]  # the same story


def test_cluster_and_lineage_forest(seeds_db, seed_ids):
    [cluster] = rows(seeds_db, "SELECT * FROM clusters")
    assert cluster["origin_article_id"] == seed_ids["reuters"]
    assert cluster["title"].startswith("Kim Jong Un Meets With Putin")
    assert (cluster["article_count"], cluster["derived_count"], cluster["uncredited_count"]) == (
        5,
        2,
        2,
    )
    assert cluster["photo_only_count"] == 1
    members = {r["article_id"]: r for r in rows(seeds_db, "SELECT * FROM lineage")}
    assert (
        members[seed_ids["reuters"]]["is_origin"] == 1
        and members[seed_ids["reuters"]]["generation"] == 0
    )
    for role in ("copy", "paraphrase"):
        assert members[seed_ids[role]]["parent_article_id"] == seed_ids["reuters"]
        assert members[seed_ids[role]]["generation"] == 1


def test_no_segment_is_compared_with_its_own_article(seeds_db):
    assert not rows(seeds_db, "SELECT id FROM matches WHERE source_article_id = derived_article_id")


def test_every_match_is_stored_once_per_pair(seeds_db):
    pairs = [
        frozenset((m["source_segment_id"], m["derived_segment_id"]))
        for m in rows(seeds_db, "SELECT * FROM matches")
    ]
    assert len(pairs) == len(set(pairs))


# ----------------------------------------------------------------------------- update_matches


def test_running_again_changes_nothing(seeds_db_copy):
    db = store.connect(str(seeds_db_copy))
    before = rows(db, "SELECT * FROM matches")
    summary = update.update_matches(db)
    assert summary.segments == 0 and summary.pairs_compared == 0
    assert rows(db, "SELECT * FROM matches") == before
    db.conn.close()


def test_full_rematch_reproduces_every_result(seeds_db_copy):
    db = store.connect(str(seeds_db_copy))
    before = snapshot(db)
    summary = update.update_matches(db, full=True)
    assert summary.segments == 6 and "clusters" in str(summary)
    assert snapshot(db) == before
    db.conn.close()


def test_interrupted_run_is_completed_by_the_next(seeds_db_copy, monkeypatch):
    db = store.connect(str(seeds_db_copy))
    expected = snapshot(db)
    with db.conn:
        db.conn.execute("UPDATE segments SET match_pending = 1")
    monkeypatch.setattr(update, "CHUNK_SIZE", 2)
    real_write = update._write_chunk
    calls = []

    def crash_after_first_chunk(*args):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real_write(*args)

    monkeypatch.setattr(update, "_write_chunk", crash_after_first_chunk)
    with pytest.raises(KeyboardInterrupt):
        update.update_matches(db)
    assert db.execute("SELECT count(*) FROM segments WHERE match_pending = 1").fetchone()[0] == 4
    monkeypatch.setattr(update, "_write_chunk", real_write)
    update.update_matches(db)
    assert db.execute("SELECT count(*) FROM segments WHERE match_pending = 1").fetchone()[0] == 0
    assert snapshot(db) == expected
    db.conn.close()


def test_rows_inserted_directly_are_indexed_and_matched(tmp_path):
    """A database built without the pipeline: the contract other writers rely on."""
    db = store.connect(str(tmp_path / "direct.db"))
    texts = MULTILINGUAL["ru"]
    with db.conn:
        for article_id in ("source", "copy", "independent"):
            raw = texts[article_id]
            db.conn.execute(
                "INSERT INTO articles "
                "(id, raw_text, clean_text, content_hash, word_count, ingested_at) "
                "VALUES (?, ?, ?, '', ?, '2024-01-01')",
                [article_id, raw, raw, len(raw.split())],
            )
            db.conn.execute(
                "INSERT INTO segments (id, article_id, segment_number, start_char, end_char, "
                "clean_start, clean_end, word_count) "
                "VALUES (?, ?, 1, 0, ?, 0, ?, ?)",
                [f"{article_id}#1", article_id, len(raw), len(raw), len(raw.split())],
            )
        index.index_segments(
            db, [index.SegmentToIndex(f"{a}#1", a, texts[a], [(0, len(texts[a]))]) for a in texts]
        )
    summary = update.update_matches(db)
    assert summary.segments == 3 and summary.derived == 1
    [derived] = rows(
        db, "SELECT * FROM matches WHERE label IN ('verbatim', 'light_edit', 'paraphrase')"
    )
    assert {derived["source_article_id"], derived["derived_article_id"]} == {"source", "copy"}
    db.conn.close()


@pytest.mark.parametrize("language", sorted(MULTILINGUAL))
def test_non_latin_copy_is_found_through_the_pipeline(tmp_path, language):
    folder = tmp_path / language
    folder.mkdir()
    for name, text in MULTILINGUAL[language].items():
        (folder / f"{language}_{name}.txt").write_text(text, encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        f"id,published\n{language}_source,2023-09-13\n{language}_copy,2023-09-14\n",
        encoding="utf-8",
    )
    db_path = str(tmp_path / "db.db")
    ingest.ingest(db_path, [str(folder)], manifest=str(manifest))
    db = sqlite_utils.Database(db_path)
    copy = pair(db, f"{language}_source", f"{language}_copy")
    assert copy["label"] in ("verbatim", "light_edit")
    assert "dated earlier" in copy["evidence"]
    assert not [m for m in matches_of(db, f"{language}_independent") if m["label"] in DERIVED]
    db.conn.close()


# ----------------------------------------------------------------------------- find_sources


def file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def read_only_seeds(seeds_db_path, tmp_path):
    """The seeds database opened immutable: any write would fail."""
    path = tmp_path / "seeds.db"
    shutil.copy(seeds_db_path, path)
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    yield sqlite_utils.Database(conn), path
    conn.close()


def test_find_sources_names_the_original_of_a_pasted_copy(read_only_seeds, seed_ids, seeds_db):
    db, path = read_only_seeds
    digest = file_digest(path)
    copy_text = seeds_db.execute(
        "SELECT raw_text FROM articles WHERE id = ?", [seed_ids["copy"]]
    ).fetchone()[0]
    pasted = copy_text[copy_text.index("North Korean leader") : copy_text.index("Canada Liberals")]
    results = search.find_sources(db, pasted)
    assert results[0].label in ("verbatim", "light_edit")
    assert {results[0].article_id, results[1].article_id} == {seed_ids["reuters"], seed_ids["copy"]}
    best = next(r for r in results if r.article_id == seed_ids["reuters"])
    assert best.derived_containment > 0.9 and best.passages
    for passage in best.passages:
        assert 0 <= passage.derived_start < passage.derived_end <= len(pasted)
    assert not [
        r
        for r in results
        if r.article_id in (seed_ids["nyt"], seed_ids["french"]) and r.label in DERIVED
    ]
    assert file_digest(path) == digest


def test_find_sources_recognises_a_paraphrase_and_ignores_unrelated_text(
    read_only_seeds, seed_ids, seeds_db
):
    db, _ = read_only_seeds
    rewrite = seeds_db.execute(
        "SELECT raw_text FROM articles WHERE id = ?", [seed_ids["paraphrase"]]
    ).fetchone()[0]
    results = search.find_sources(db, rewrite, limit=3)
    assert len(results) <= 3
    assert any(r.article_id == seed_ids["reuters"] and r.label == "paraphrase" for r in results)
    assert (
        search.find_sources(
            db, "The weather in Lisbon was sunny and warm all weekend, forecasters said."
        )
        == []
    )
    assert search.find_sources(db, "   ") == []


def _reuters_words(seeds_db, seed_ids, start: str, words: int) -> str:
    text = seeds_db.execute(
        "SELECT raw_text FROM articles WHERE id = ?", [seed_ids["reuters"]]
    ).fetchone()[0]
    return " ".join(text[text.index(start) :].split()[:words]).rstrip(".,")


def test_a_short_phrase_found_whole_is_a_phrase_not_a_paraphrase(
    searchable_seeds_db_path, seed_ids, seeds_db
):
    """Six words pasted from the Reuters story are in it word for word: alignment alone (a
    copied stretch needs MIN_COPY_TOKENS) called them "reworded, 0%"; five words found nothing."""
    db = sqlite_utils.Database(searchable_seeds_db_path)
    try:
        for start, words in (("the secretive communist", 6), ("asked detailed questions", 5)):
            pasted = _reuters_words(seeds_db, seed_ids, start, words)
            results = {r.article_id: r for r in search.find_sources(db, pasted)}
            found = results[seed_ids["reuters"]]
            assert (found.kind, found.label, found.derived_containment) == ("phrase", "verbatim", 1.0)
            (passage,) = found.passages
            assert (passage.kind, passage.derived_start, passage.derived_end) == (
                "verbatim", 0, len(pasted)
            )
            assert "word for word" in found.evidence[0] and "not who wrote it first" in found.evidence[0]
        quoted = search.find_sources(db, "the heroic Russian army and people")
        assert {r.kind for r in quoted} == {"quotation"}  # inside Kim's quote in every article
        assert all(r.label == "shared_quotes" for r in quoted)
        four_words = search.find_sources(db, "communist state's satellite program")
        assert all(r.kind != "phrase" for r in four_words)  # under MIN_QUOTE_RUN_TOKENS
    finally:
        db.conn.close()


def test_a_shared_statement_without_quotation_marks_is_not_called_a_quotation(
    searchable_seeds_db_path, seed_ids, seeds_db
):
    """A sentence the Reuters story attributes ("Kim ... asked ...") shared with nothing around
    it is a report of the same statement; the check page said "quotes the same words" of it."""
    db = sqlite_utils.Database(searchable_seeds_db_path)
    pasted = _reuters_words(seeds_db, seed_ids, "Kim, who arrived by train", 11)
    try:
        results = search.find_sources(db, pasted)
    finally:
        db.conn.close()
    found = {r.article_id: r for r in results}[seed_ids["reuters"]]
    assert (found.kind, found.label) == ("statement", "shared_quotes")
    assert found.scores["passages_statement"] == 1 and found.scores["passages_quotation"] == 0
    assert "same statement" in found.evidence[0] and "quotes" not in found.evidence[0]


def test_rebuilt_index_gives_the_same_results(seeds_db_copy):
    db = store.connect(str(seeds_db_copy))
    expected = snapshot(db)
    progress = []
    assert update.rebuild_index(db) == 6
    summary = update.update_matches(db, progress=progress.append)
    assert summary.segments == 6 and sum(progress) == 6
    assert snapshot(db) == expected
    db.conn.close()


# ------------------------------------------------------------------------------
# Short excerpts and full-text search


@pytest.fixture(scope="module")
def archive_with_search(tmp_path_factory):
    """A 600-article synthetic archive (no matching run), with and without full-text search."""
    folder = tmp_path_factory.mktemp("search")
    corpus = folder / "corpus.jsonl"
    load_benchmark("synthetic").write_corpus(600, str(corpus), None, 7)
    plain, searchable = folder / "plain.db", folder / "searchable.db"
    ingest.ingest(str(plain), [str(corpus)], run_matching=False)
    shutil.copy(plain, searchable)
    db = store.connect(str(searchable))
    store.enable_search(db)
    db.conn.close()
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    return plain, searchable, records


def _excerpts(records, words: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(words)
    chosen = rng.sample(records, count)
    excerpts = []
    for record in chosen:
        tokens = record["text"].split()
        start = rng.randrange(0, len(tokens) - words)
        excerpts.append((record["id"], " ".join(tokens[start : start + words])))
    return excerpts


def _found(path, excerpts) -> int:
    db = sqlite_utils.Database(path)
    try:
        return sum(
            any(r.article_id == article_id for r in search.find_sources(db, text))
            for article_id, text in excerpts
        )
    finally:
        db.conn.close()


def test_full_text_search_finds_short_excerpts_the_similarity_index_misses(archive_with_search):
    plain, searchable, records = archive_with_search
    excerpts = _excerpts(records, 12, 20)
    without, with_search = _found(plain, excerpts), _found(searchable, excerpts)
    print(f"12-word excerpts found: {without}/20 without full-text search, {with_search}/20 with")
    assert with_search >= 19 and without < with_search


def test_full_text_search_finds_excerpts_with_edited_words(archive_with_search):
    """Two longer words changed (as in a style edit): the all-words query finds nothing,
    the any-group query still does."""
    _, searchable, records = archive_with_search
    edit = load_benchmark("excerpts").edit
    rng = random.Random(5)
    excerpts = [(article_id, edit(text, rng)) for article_id, text in _excerpts(records, 20, 20)]
    texts = {record["id"]: record["text"] for record in records}
    assert all(text not in texts[article_id] for article_id, text in excerpts)
    assert _found(searchable, excerpts) >= 18


def test_search_words_keep_inner_punctuation_and_drop_the_rest():
    words = search._search_words('MOSCOW (Reuters) - U.S. Don’t __ → a_b said:"hi" 1,000 x İstanbul')
    assert words == {
        "moscow", "reuters", "u.s", "don’t", "a_b", 'said:"hi', "1,000", "İstanbul".lower()
    }  # fmt: skip


def test_control_characters_end_search_words():
    """FTS5 treats them as separators, and a NUL inside a quoted phrase is a syntax error
    to it ("unterminated string": found by the property tests)."""
    assert search._search_words("Kim\x00Jong Un\x01Putin 0\x000 ok\x7fgo") == {
        "kim", "jong", "un", "putin", "ok", "go"
    }  # fmt: skip


def test_a_pasted_text_with_a_nul_inside_a_word_is_searched(archive_with_search):
    _, searchable, records = archive_with_search
    (article_id, text), = _excerpts(records, 12, 1)
    db = sqlite_utils.Database(searchable)
    try:
        assert search.find_sources(db, "0\x000") == []
        words = text.split()
        pasted = " ".join(words[:6] + ["\x00".join(words[6:8])] + words[8:])
        assert any(r.article_id == article_id for r in search.find_sources(db, pasted))
    finally:
        db.conn.close()


FRENCH = (
    "Le président de la République a annoncé mercredi une série de mesures économiques "
    "destinées à soutenir les ménages les plus modestes. Selon l'Élysée, ces décisions "
    "représentent un effort budgétaire considérable, évalué à près de douze milliards d'euros."
)
CHINESE = (
    "俄罗斯总统普京与朝鲜最高领导人金正恩于周三在俄罗斯远东地区的东方航天发射场举行会晤。"
    "双方讨论了军事合作、乌克兰战争以及朝鲜卫星发展的可能合作。\n\n"
    "会晤结束后，两国领导人共进午餐，并互赠礼物。克里姆林宫发言人说，会谈富有成效。"
)


@pytest.fixture(scope="module")
def accents_and_cjk_db(tmp_path_factory):
    """A French and a Chinese article with full-text search."""
    folder = tmp_path_factory.mktemp("scripts")
    for name, text in (("fr.txt", FRENCH), ("zh.txt", CHINESE)):
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "scripts.db"
    ingest.ingest(str(path), [str(folder / "fr.txt"), str(folder / "zh.txt")])
    db = store.connect(str(path))
    store.enable_search(db)
    yield db
    db.conn.close()


@pytest.mark.parametrize(
    "pasted, article",
    [
        (unicodedata.normalize("NFD", FRENCH[:59]), "fr"),  # decomposed accents (macOS)
        ("".join(c for c in unicodedata.normalize("NFD", FRENCH[:59])
                 if not unicodedata.combining(c)), "fr"),  # fmt: skip
        ("会晤结束后，两国领导人共进午餐，并互赠礼物。", "zh"),  # a sentence has no spaces
    ],
    ids=["nfd", "no accents", "chinese sentence"],
)
def test_search_compares_words_as_the_aligner_does(accents_and_cjk_db, pasted, article):
    """Full-text search finds these articles; the words-in-common filter used to drop them
    (raw lower-cased words: accents kept, a Chinese sentence one word)."""
    found = search.find_sources(accents_and_cjk_db, pasted)
    assert [r.article_id for r in found] == [article]
    assert found[0].label in ("verbatim", "light_edit")


def test_an_index_that_cannot_take_phrases_falls_back_to_the_similarity_index(seeds_db_copy):
    """An articles_fts made by hand with detail=none answers phrase queries with an error:
    the check then works as without full-text search, instead of failing."""
    db = store.connect(str(seeds_db_copy))
    try:
        db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, clean_text, detail=none)")
        pasted = (  # 48 words: under SHORT_TEXT_WORDS, so full-text search is tried too
            "Putin showed Kim around Russia's most advanced space rocket launch site in Russia's "
            "Far East and discussed the possibility of sending a North Korean cosmonaut into "
            "space. Kim, who arrived by train from North Korea, asked detailed questions about "
            "rockets as Putin showed him around the Vostochny Cosmodrome."
        )
        with_index = [r.article_id for r in search.find_sources(db, pasted)]
        without = [r.article_id for r in search.find_sources(db, pasted, use_search=False)]
    finally:
        db.conn.close()
    assert with_index == without and with_index


def test_every_kind_of_search_word_matches_its_own_text_in_full_text_search(tmp_path):
    """Each word is a quoted phrase FTS5 tokenizes as it did the article."""
    text = 'U.S. don’t snake_case said:"hi" 1,000 İstanbul Café naïve хорошо 東京'
    article = tmp_path / "a.txt"
    article.write_text(text + "\n\n" + "Filler words for the article body. " * 5)
    ingest.ingest(str(tmp_path / "words.db"), [str(article)], run_matching=False)
    db = store.connect(str(tmp_path / "words.db"))
    try:
        store.enable_search(db)
        for word in search._search_words(text):
            query = search._all_words_query([word])
            hits = db.execute(
                "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [query]
            ).fetchone()[0]
            assert hits == 1, word
    finally:
        db.conn.close()


def test_an_excerpt_with_underscores_is_still_found_by_all_its_words(archive_with_search):
    """A run of underscores is no FTS5 token: as a quoted phrase it would match nothing."""
    _, searchable, records = archive_with_search
    (article_id, text), = _excerpts(records, 12, 1)
    words = text.split()
    pasted = " ".join(words[:6] + ["__"] + words[6:])
    db = sqlite_utils.Database(searchable)
    try:
        assert any(r.article_id == article_id for r in search.find_sources(db, pasted))
        query = search._all_words_query(sorted(search._search_words(pasted)))
        assert db.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [query]
        ).fetchone()[0] >= 1
    finally:
        db.conn.close()


def test_full_text_search_reads_the_pasted_text_as_cleaning_keeps_it(
    seeds_db_copy, seed_ids, monkeypatch
):
    """The index holds clean texts: a pasted dateline and credit would match no article."""
    pasted = (
        "MOSCOW, Sept 13 (Reuters) - Putin showed Kim around Russia's most advanced space "
        "rocket launch site"
    )
    searched = []
    real_search = search._searched_segments
    monkeypatch.setattr(
        search,
        "_searched_segments",
        lambda db, text: searched.append(text) or real_search(db, text),
    )
    db = store.connect(str(seeds_db_copy))
    try:
        store.enable_search(db)
        results = search.find_sources(db, pasted)
    finally:
        db.conn.close()
    assert searched == ["Putin showed Kim around Russia's most advanced space rocket launch site"]
    assert seed_ids["reuters"] in {result.article_id for result in results}


def test_search_index_follows_later_ingests_and_can_be_dropped(archive_with_search, tmp_path):
    _, searchable, _ = archive_with_search
    path = tmp_path / "copy.db"
    shutil.copy(searchable, path)
    article = tmp_path / "late.txt"
    article.write_text("Zanzibar clove harvest doubles after record rains, growers say.\n\n"
                       + "The cooperative weighed the harvest in Pemba on Tuesday. " * 8,
                       encoding="utf-8")  # fmt: skip
    ingest.ingest(str(path), [str(article)], run_matching=False)
    db = store.connect(str(path))
    try:
        hits = db.execute(
            f"SELECT rowid FROM {store.SEARCH_TABLE} WHERE {store.SEARCH_TABLE} MATCH 'zanzibar'"
        ).fetchall()
        assert len(hits) == 1
        store.disable_search(db)
        assert not store.has_search(db)
        assert db["articles"].count == 601
    finally:
        db.conn.close()


def test_an_article_deleted_behind_the_index_is_skipped_not_an_error(seeds_db_copy):
    """Deleted with foreign keys off (the sqlite3 shell's default; Datasette 1.0's row
    delete API): its segment is still in the similarity index."""
    reuters = "000_5bbc07b3f689fc76"
    with closing(sqlite3.connect(seeds_db_copy)) as conn, conn:
        text = conn.execute("SELECT raw_text FROM articles WHERE id = ?", [reuters]).fetchone()[0]
        conn.execute("DELETE FROM articles WHERE id = ?", [reuters])
    db = sqlite_utils.Database(seeds_db_copy)
    try:
        found = {r.article_id for r in search.find_sources(db, text[:3000])}
    finally:
        db.conn.close()
    assert reuters not in found and found  # the verbatim copy 003 is still found


# ----------------------------------------------------------------------------- settings


def test_matches_made_with_other_settings_are_never_mixed_with_new_ones(seeds_db_copy):
    """A database labelled under other thresholds (an older release's, say) says so, names
    the value, and is relabelled by `match --full`, which records the current settings."""
    db = store.connect(str(seeds_db_copy))
    try:
        thresholds = store.get_meta(db, parameters.LABEL_THRESHOLDS_KEY)
        assert thresholds == parameters.DEFAULT_THRESHOLDS.to_dict()
        candidates = store.get_meta(db, parameters.CANDIDATE_SETTINGS_KEY)
        assert candidates == parameters.DEFAULT_CANDIDATES.as_dict()
        with db.conn:
            store.set_meta(db, parameters.LABEL_THRESHOLDS_KEY, {**thresholds, "light_edit_min_fidelity": 0.7})
        with pytest.raises(parameters.SettingsError) as refused:
            update.update_matches(db)
        assert "light_edit_min_fidelity: 0.7 in the database, 0.6 now" in str(refused.value)
    finally:
        db.conn.close()

    result = CliRunner().invoke(cli, ["match", str(seeds_db_copy)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "datasette-provenance match DB --full" in result.stderr
    result = CliRunner().invoke(cli, ["match", str(seeds_db_copy), "--full", "--quiet"])
    assert result.exit_code == 0, result.output

    db = store.connect(str(seeds_db_copy))
    try:
        assert store.get_meta(db, parameters.LABEL_THRESHOLDS_KEY) == thresholds
        update.update_matches(db)  # recorded again: no refusal
    finally:
        db.conn.close()


def test_a_database_matched_before_settings_were_recorded_records_them(seeds_db_copy):
    db = store.connect(str(seeds_db_copy))
    try:
        with db.conn:
            for key in (parameters.LABEL_THRESHOLDS_KEY, parameters.CANDIDATE_SETTINGS_KEY):
                db.conn.execute("DELETE FROM provenance_meta WHERE key = ?", [key])
        update.update_matches(db)
        assert store.get_meta(db, parameters.LABEL_THRESHOLDS_KEY) == (
            parameters.DEFAULT_THRESHOLDS.to_dict()
        )
    finally:
        db.conn.close()


def test_a_setting_added_by_a_later_release_is_recorded_not_refused(seeds_db_copy):
    """A database matched before a setting existed (the storm settings, say) keeps its
    matches; the new setting is recorded and used for new ones."""
    db = store.connect(str(seeds_db_copy))
    try:
        candidates = store.get_meta(db, parameters.CANDIDATE_SETTINGS_KEY)
        older = {k: v for k, v in candidates.items() if not k.startswith("storm_")}
        with db.conn:
            store.set_meta(db, parameters.CANDIDATE_SETTINGS_KEY, older)
        update.update_matches(db)
        assert store.get_meta(db, parameters.CANDIDATE_SETTINGS_KEY) == candidates
        with db.conn:  # a value that differs is still refused
            store.set_meta(db, parameters.CANDIDATE_SETTINGS_KEY, {**older, "max_bucket_read": 5})
        with pytest.raises(parameters.SettingsError):
            update.update_matches(db)
    finally:
        db.conn.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_candidate_settings_given_are_used_and_recorded(
    seeds_db_path, tmp_path, monkeypatch, workers
):
    """Settings other than the shipped ones (one candidate aligned per segment) reach every
    process; the database records them, and refuses matching with the shipped ones after."""
    monkeypatch.setattr(update, "CHUNK_SIZE", 2)  # chunks for the worker processes
    path = shutil.copy(seeds_db_path, tmp_path / "seeds.db")
    settings = replace(parameters.DEFAULT_CANDIDATES, max_aligned_candidates=1)
    db = store.connect(str(path))
    try:
        shipped = update.update_matches(db, full=True)
        summary = update.update_matches(db, full=True, workers=workers, candidates=settings)
        assert 0 < summary.pairs_compared < shipped.pairs_compared
        assert store.get_meta(db, parameters.CANDIDATE_SETTINGS_KEY) == settings.as_dict()
        with pytest.raises(parameters.SettingsError, match="max_aligned_candidates: 1 in the"):
            update.update_matches(db)
    finally:
        db.conn.close()


# ----------------------------------------------------------------------------- worker processes


@pytest.fixture(scope="module")
def storm_archive(tmp_path_factory):
    """300 synthetic articles and a syndication storm of 40 copies, ingested, not matched."""
    synthetic = load_benchmark("synthetic")
    folder = tmp_path_factory.mktemp("storm")
    corpus = folder / "corpus.jsonl"
    synthetic.write_corpus(300, str(corpus), None, 11)
    with open(corpus, "a", encoding="utf-8") as out:
        for article, _ in synthetic.storm(40):
            out.write(article.to_json() + "\n")
    path = folder / "archive.db"
    ingest.ingest(str(path), [str(corpus)], run_matching=False)
    return path


@pytest.mark.slow
def test_workers_store_exactly_what_one_process_stores(storm_archive, tmp_path):
    from .db_compare import differences

    for workers in (1, 2):
        shutil.copy(storm_archive, tmp_path / f"w{workers}.db")
        db = store.connect(str(tmp_path / f"w{workers}.db"))
        summary = update.update_matches(db, workers=workers)
        db.conn.close()
        assert summary.matches_stored > 100
    assert differences(tmp_path / "w1.db", tmp_path / "w2.db") == {}


def test_workers_store_the_same_matches_and_story_links_as_one_process(
    seeds_db_path, tmp_path, monkeypatch
):
    """Chunks of two segments, so the seeds go through the worker processes: the story links
    (found with the corpus's word rarity, which each worker reads) come back with the pairs."""
    from .db_compare import differences

    monkeypatch.setattr(update, "CHUNK_SIZE", 2)
    for workers in (1, 2):
        path = shutil.copy(seeds_db_path, tmp_path / f"w{workers}.db")
        db = store.connect(str(path))
        try:
            with db.conn:
                db.conn.execute("DELETE FROM story_links")
            update.update_matches(db, full=True, workers=workers)
            assert db.execute("SELECT count(*) FROM story_links").fetchone()[0] > 0
        finally:
            db.conn.close()
    assert differences(tmp_path / "w1.db", tmp_path / "w2.db") == {}
    assert differences(seeds_db_path, tmp_path / "w2.db") == {}


def test_a_storm_copy_is_aligned_with_the_wire_and_a_few_copies_only(storm_archive, tmp_path):
    path = shutil.copy(storm_archive, tmp_path / "storm.db")
    db = store.connect(str(path))
    try:
        with db.conn:
            db.conn.execute(
                "UPDATE segments SET match_pending = article_id LIKE 'storm-%'"
            )
        summary = update.update_matches(db)
        settings = parameters.DEFAULT_CANDIDATES
        most = settings.storm_earliest + settings.storm_closest
        assert summary.pairs_compared <= 41 * most  # not 41 * 40 / 2 = 820
        sources = dict(db.execute(
            "SELECT derived_article_id, count(*) FROM matches "
            "WHERE source_article_id = 'storm-wire' GROUP BY 1"
        ).fetchall())  # fmt: skip
        assert len(sources) == 40  # every copy derives from the wire, which is the earliest
        origins = db.execute(
            "SELECT DISTINCT c.origin_article_id FROM clusters c JOIN lineage l "
            "ON l.cluster_id = c.id WHERE l.article_id LIKE 'storm-%'"
        ).fetchall()
        assert origins == [("storm-wire",)]
    finally:
        db.conn.close()


def test_a_small_story_is_not_a_storm():
    from datasette_provenance.matching.pairs import storm_candidates

    candidates = [(f"copy{n}#1", True) for n in range(30)] + [("story#1", False)]
    assert storm_candidates(candidates, lambda segment_id: None) == candidates
    bigger = [(f"copy{n:02d}#1", True) for n in range(40)] + [("story#1", False)]
    dates = {f"copy{n:02d}#1": f"2024-01-{40 - n:02d}" if n > 9 else None for n in range(40)}
    kept = storm_candidates(bigger, dates.get)
    assert kept == [
        ("copy00#1", True), ("copy01#1", True), ("copy02#1", True),  # the closest
        ("copy37#1", True), ("copy38#1", True), ("copy39#1", True),  # the earliest
        ("story#1", False),
    ]  # fmt: skip


def test_the_lookup_cache_changes_no_candidate(storm_archive):
    db = store.connect(str(storm_archive))
    try:
        params = index.stored_params(db)
        cache = index.LookupCache(limit=50)  # small: entries are dropped and read again
        for segment_id in [r[0] for r in db.execute("SELECT id FROM segments ORDER BY id")][::7]:
            query = index.load_signatures(db, segment_id, params)
            plain = index.candidates(db, query, params, [segment_id])
            assert index.candidates(db, query, params, [segment_id], cache=cache) == plain
            assert index.candidates(db, query, params, [segment_id], cache=cache) == plain
    finally:
        db.conn.close()


@pytest.mark.parametrize("enough", [3, 10, 100])
def test_scoring_best_first_until_enough_changes_no_aligned_candidate(storm_archive, enough):
    """A lookup that scores candidates sharing text only until ``enough`` pass gives the
    same best candidates as one that scores them all; a storm's copy scores fewer."""
    from datasette_provenance.matching.pairs import best_candidates

    settings = replace(parameters.DEFAULT_CANDIDATES, max_aligned_candidates=enough)
    db = store.connect(str(storm_archive))
    try:
        params = index.stored_params(db)
        ids = [r[0] for r in db.execute("SELECT id FROM segments ORDER BY id")]
        storm = [segment_id for segment_id in ids if segment_id.startswith("storm-")]
        for segment_id in ids[::9] + storm[::5]:
            query = index.load_signatures(db, segment_id, params)
            every = index.candidates(db, query, params, [segment_id], settings)
            some = index.candidates(db, query, params, [segment_id], settings, enough=enough)
            assert best_candidates(some, settings) == best_candidates(every, settings)
            assert all(every[segment_id] == hit for segment_id, hit in some.items())
            if segment_id in storm and enough < 40:
                assert len(some) < len(every)
    finally:
        db.conn.close()


def test_each_candidate_is_scored_by_its_first_best_window_pair():
    """The best window pair of every candidate's block, found for all at once, is the one
    ``np.argmax`` finds in its block (ties: the first in row order)."""
    import numpy as np

    from datasette_provenance.matching.lsh import CandidateHit, score_candidates

    rng = np.random.default_rng(5)
    values = rng.integers(0, 3, (4, 128)).astype(np.uint32)  # few values: many ties
    query = replace(
        sign_text_for_test("query words " * 40),
        text=values[:2], text_shingle_counts=np.array([90, 40]),
    )  # fmt: skip
    windows = {
        f"s{n}#1": (rng.integers(0, 3, (width, 128)).astype(np.uint32),
                    np.full(width, 60, dtype=np.int64))
        for n, width in enumerate([1, 3, 2, 5, 1])
    }  # fmt: skip
    windows["s9#1"] = (np.vstack([values[1], values[0], values[1]]), np.full(3, 60))
    counts = Counter({segment_id: 1 for segment_id in windows})
    settings = replace(parameters.DEFAULT_CANDIDATES, text_min_jaccard=0.0)
    hits = score_candidates(query, windows, counts, Counter(), {}, settings)
    for segment_id, (stored, _) in windows.items():
        block = (query.text[:, None, :] == stored[None, :, :]).sum(axis=2) / 128
        first = np.unravel_index(int(np.argmax(block)), block.shape)
        assert isinstance(hits[segment_id], CandidateHit)
        assert hits[segment_id].best_windows == tuple(int(n) for n in first)
        assert hits[segment_id].best_window_jaccard == float(block[first])
    assert hits["s9#1"].best_windows == (0, 1) and hits["s9#1"].best_window_jaccard == 1.0


def sign_text_for_test(text: str):
    from datasette_provenance.matching.signatures import sign_text

    return sign_text(text, [(0, len(text))], parameters.DEFAULT_PARAMS)
