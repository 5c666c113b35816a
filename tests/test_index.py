"""The SQLite LSH index: params guard, incremental add/remove, candidate recall and precision."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import replace

import numpy as np
import pytest

from datasette_provenance import store
from datasette_provenance.matching import index, lsh
from datasette_provenance.matching.signatures import sign_tokens
from datasette_provenance.matching.tokens import words
from datasette_provenance.parameters import DEFAULT_CANDIDATES, DEFAULT_PARAMS, SignatureParams

from .conftest import SEEDS_DIR


def seed_text(prefix: str) -> str:
    return next(SEEDS_DIR.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def seed_paragraphs(prefix: str) -> list[str]:
    return [p.strip() for p in seed_text(prefix).split("\n") if len(p.split()) >= 20]


def pseudo_words(count: int, seed: int) -> list[str]:
    """Unrelated filler text: pronounceable pseudo-words with frequent short ones."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    vocabulary = [
        "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3)))) for _ in range(3000)
    ]
    return rng.choices(vocabulary, weights=[1 / (rank + 1) for rank in range(3000)], k=count)


@pytest.fixture
def db(tmp_path):
    database = store.connect(str(tmp_path / "index.db"))
    yield database
    database.conn.close()


def add_segment(db, segment_id: str, text_or_norms, params=DEFAULT_PARAMS, published=None):
    """Store a segment row (the index references it) and index its signatures."""
    norms = words(text_or_norms) if isinstance(text_or_norms, str) else list(text_or_norms)
    article_id, number = segment_id.split("#")
    with db.conn:
        db.conn.execute(
            "INSERT OR IGNORE INTO articles (id, raw_text, clean_text, content_hash, word_count, "
            "ingested_at) VALUES (?, '', '', '', 0, '')",
            [article_id],
        )
        db.conn.execute(
            "INSERT INTO segments (id, article_id, segment_number, start_char, end_char, "
            "clean_start, clean_end, word_count) VALUES (?, ?, ?, 0, 0, 0, 0, ?)",
            [segment_id, article_id, int(number), len(norms)],
        )
        index.check_params(db, params)
        window = lsh.story_window(published, params)
        signed = replace(sign_tokens(norms, params), story_window=window)
        index.add(db, segment_id, signed, params)
    return signed


def lookup(db, text_or_norms, params=DEFAULT_PARAMS, published=None, **options):
    norms = words(text_or_norms) if isinstance(text_or_norms, str) else list(text_or_norms)
    signed = replace(sign_tokens(norms, params), story_window=lsh.story_window(published, params))
    return index.candidates(db, signed, params, **options)


# ----------------------------------------------------------------------------- params


def test_params_are_recorded_on_first_use_and_a_mismatch_asks_for_a_rebuild(db):
    add_segment(db, "a#1", seed_text("000"))
    assert index.stored_params(db) == DEFAULT_PARAMS
    index.check_params(db, DEFAULT_PARAMS)  # same params: fine
    other = SignatureParams(window_size=120, window_step=60)
    with pytest.raises(index.IndexParamsError) as error:
        index.check_params(db, other)
    message = str(error.value)
    assert "datasette-provenance match DB --rebuild-index" in message
    assert "window_size: 100 in the database, 120 now" in message
    assert "index.db" in message


def test_unusable_recorded_params_ask_for_a_rebuild(db):
    with db.conn:
        store.set_meta(db, index.PARAMS_META_KEY, {**DEFAULT_PARAMS.as_dict(), "colour": 1})
    with pytest.raises(index.IndexParamsError, match="unknown signature params: colour"):
        index.stored_params(db)


def test_band_hashes_never_change_silently():
    """Databases keep band hashes: a change here needs a params change and a rebuild."""
    text = (
        "North Korean leader Kim Jong Un and Russian president Vladimir Putin met for a rare "
        "summit on Wednesday at which they discussed military matters."
    )
    keys = lsh.band_keys(sign_tokens(words(text)), DEFAULT_PARAMS)
    assert [key for key in keys if key[1] == 0] == [
        ("text", 0, 3050728096003141093 >> 10),  # the top 54 bits: what lsh_index keeps
        ("story", 0, -6635068844424782079 >> 10),
    ]


def test_unrecorded_params_with_existing_rows_ask_for_a_rebuild(db):
    add_segment(db, "a#1", seed_text("001"))
    with db.conn:
        db.conn.execute("DELETE FROM provenance_meta WHERE key = ?", [index.PARAMS_META_KEY])
    with pytest.raises(index.IndexParamsError, match="--rebuild-index"):
        index.check_params(db, DEFAULT_PARAMS)


def test_rebuild_resigns_everything_and_resumes_after_an_interruption(db):
    texts = {f"s{n}#1": " ".join(pseudo_words(300, seed=n)) for n in range(6)}
    for segment_id, text in texts.items():
        add_segment(db, segment_id, text)
    new_params = SignatureParams(text_bands=24, window_size=80, window_step=40)
    with pytest.raises(index.IndexParamsError):
        index.check_params(db, new_params)

    signed_ids = []

    def failing_signer(segment_id):
        if len(signed_ids) == 3:
            raise RuntimeError("power cut")
        signed_ids.append(segment_id)
        return sign_tokens(words(texts[segment_id]), new_params)

    with pytest.raises(RuntimeError):
        index.rebuild(db, new_params, failing_signer, batch_size=2)
    with pytest.raises(index.IndexParamsError, match="interrupted"):
        index.check_params(db, new_params)

    resumed = []

    def signer(segment_id):
        resumed.append(segment_id)
        return sign_tokens(words(texts[segment_id]), new_params)

    assert index.rebuild(db, new_params, signer, batch_size=2) == 4
    assert sorted(resumed) == sorted(
        set(texts) - set(signed_ids[:2])
    )  # the committed batch is kept
    index.check_params(db, new_params)
    bands = {
        row[0] for row in db.execute("SELECT DISTINCT band FROM lsh_bands WHERE kind = 'text'")
    }
    assert bands == set(range(24))
    assert set(lookup(db, texts["s4#1"], new_params)) == {"s4#1"}


# ----------------------------------------------------------------------------- writing


def test_add_writes_signature_rows_and_distinct_band_rows(db):
    signed = add_segment(db, "a#1", seed_text("000"))
    rows = db.execute(
        "SELECT kind, count(*), min(window), max(window) FROM signatures "
        "GROUP BY kind ORDER BY kind"
    ).fetchall()
    shingle_rows = -(-signed.shingle_count // index.SHINGLES_PER_ROW)
    assert signed.window_count > 1 and rows == [
        ("fingerprint", 1, 0, 0),
        ("shingles", shingle_rows, 0, shingle_rows - 1),  # the token windows are made from them
        ("story", 1, 0, 0),
        ("text", 1, 0, 0),  # window 0
    ]
    bands = db.execute("SELECT kind, band, hash FROM lsh_bands WHERE segment_id = 'a#1'").fetchall()
    assert sorted(bands) == sorted(lsh.band_keys(signed, DEFAULT_PARAMS))
    text_bands = [row for row in bands if row[0] == "text"]
    assert len(text_bands) <= signed.window_count * DEFAULT_PARAMS.text_bands
    assert len([row for row in bands if row[0] == "story"]) == DEFAULT_PARAMS.story_bands
    hashes = np.array([row[2] for row in bands])
    assert hashes.min() < 0 < hashes.max()  # full signed 64-bit range, as SQLite stores it
    loaded = index.load_signatures(db, "a#1", DEFAULT_PARAMS)
    assert np.array_equal(loaded.text, signed.text) and np.array_equal(loaded.story, signed.story)
    assert list(loaded.text_shingle_counts) == list(signed.text_shingle_counts)
    assert loaded.token_count == signed.token_count
    assert np.array_equal(loaded.fingerprints, signed.fingerprints)
    assert np.array_equal(loaded.shingles, signed.shingles)
    fingerprint_bands = [row for row in bands if row[0] == "fingerprint"]
    assert len(fingerprint_bands) == len(signed.fingerprints) > signed.token_count // 20


def test_token_windows_stored_as_windows_read_and_score_as_their_shingles_do(db, tmp_path):
    """Signatures written before schema 6 (every window a row) and after (window 0 and the
    shingle hashes) load the same and give the same candidates, scores included."""
    older = store.connect(str(tmp_path / "older.db"))
    texts = {"a#1": seed_text("000"), "b#1": seed_text("001"), "c#1": seed_text("003")}
    for segment_id, text in texts.items():
        add_segment(db, segment_id, text)
        add_segment(older, segment_id, "placeholder words only")
        with older.conn:  # the windows without their shingles: the older layout
            signed = replace(sign_tokens(words(text)), shingles=None)
            index.add(older, segment_id, signed, DEFAULT_PARAMS)
    assert older.execute("SELECT count(*) FROM signatures WHERE kind = 'shingles'").fetchone() == (0,)
    for segment_id in texts:
        new, old = (index.load_signatures(d, segment_id, DEFAULT_PARAMS) for d in (db, older))
        assert np.array_equal(new.text, old.text) and new.window_count > 1
        assert list(new.text_shingle_counts) == list(old.text_shingle_counts)
        assert old.shingles is None and len(new.shingles) == new.shingle_count
    for text in texts.values():
        assert lookup(db, text) == lookup(older, text) and len(lookup(db, text)) > 1
    older.conn.close()


def test_short_segments_keep_window_0_only(db):
    signed = add_segment(db, "a#1", pseudo_words(60, seed=2))
    assert signed.window_count == 0
    kinds = db.execute("SELECT kind FROM signatures ORDER BY kind").fetchall()
    assert kinds == [("fingerprint",), ("story",), ("text",)]
    assert np.array_equal(index.load_signatures(db, "a#1", DEFAULT_PARAMS).text, signed.text)


def test_adding_again_replaces_and_remove_deletes(db):
    add_segment(db, "a#1", seed_text("000"))
    add_segment(db, "b#1", seed_text("001"))
    replacement = pseudo_words(400, seed=1)
    with db.conn:
        index.add(db, "a#1", sign_tokens(replacement), DEFAULT_PARAMS)
    assert "a#1" in lookup(db, replacement)
    assert "a#1" not in lookup(db, seed_text("000"))
    with db.conn:
        index.remove(db, ["a#1"])
    assert db.execute("SELECT count(*) FROM lsh_bands WHERE segment_id = 'a#1'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM signatures WHERE segment_id = 'a#1'").fetchone()[0] == 0
    assert index.load_signatures(db, "a#1", DEFAULT_PARAMS) is None
    assert "b#1" in lookup(db, seed_text("001"))


def test_deferred_rows_are_found_once_flushed_and_removed_either_way(db):
    add_segment(db, "a#1", seed_text("000"))
    add_segment(db, "b#1", "placeholder words only")
    signed = sign_tokens(words(seed_text("001")))
    with db.conn:
        index.add_many(db, [("b#1", signed)], DEFAULT_PARAMS, deferred=True)
    pending = db.execute("SELECT json_array_length(buckets) FROM lsh_pending").fetchone()[0]
    assert pending == len(lsh.band_keys(signed, DEFAULT_PARAMS))
    assert "b#1" not in lookup(db, seed_text("001"))  # lookups read lsh_index only
    bands = db.execute("SELECT kind, band, hash FROM lsh_bands WHERE segment_id = 'b#1'")
    assert sorted(bands.fetchall()) == sorted(lsh.band_keys(signed, DEFAULT_PARAMS))
    assert index.flush(db) == pending
    assert db.execute("SELECT count(*) FROM lsh_pending").fetchone()[0] == 0
    assert "b#1" in lookup(db, seed_text("001"))
    with db.conn:  # pending again, then removed before any flush
        index.add_many(db, [("b#1", signed)], DEFAULT_PARAMS, deferred=True)
        index.remove(db, ["b#1"])
    assert db.execute("SELECT count(*) FROM lsh_pending").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM lsh_bands WHERE segment_id = 'b#1'").fetchone()[0] == 0
    assert "a#1" in lookup(db, seed_text("000"))


def test_flushed_rows_wait_in_lsh_recent_until_it_is_a_quarter_of_the_index(db, monkeypatch):
    add_segment(db, "a#1", seed_text("000"))  # straight into lsh_index
    for number, prefix in enumerate(("001", "002", "003"), start=2):
        add_segment(db, f"s{number}#1", "placeholder words only")
        with db.conn:
            index.add_many(
                db, [(f"s{number}#1", sign_tokens(words(seed_text(prefix))))], DEFAULT_PARAMS,
                deferred=True,
            )  # fmt: skip
        index.flush(db)
    recent = db.execute("SELECT count(DISTINCT segment) FROM lsh_recent").fetchone()[0]
    assert recent == 3  # fewer than MERGE_MIN_SEGMENTS: not merged
    assert "s3#1" in lookup(db, seed_text("002")) and "a#1" in lookup(db, seed_text("000"))
    monkeypatch.setattr(index, "MERGE_MIN_SEGMENTS", 2)
    index.flush(db)  # nothing pending; the merge is due
    assert db.execute("SELECT count(*) FROM lsh_recent").fetchone()[0] == 0
    assert db.execute("SELECT count(DISTINCT segment) FROM lsh_index").fetchone()[0] == 4
    assert store.get_meta(db, index.MERGED_META_KEY) == 4
    assert "s3#1" in lookup(db, seed_text("002"))


def _pend_and_flush(db, count: int) -> int:
    """Index ``count`` long pseudo-text segments as ingest does (pending, then flushed);
    the free pages left in the file."""
    for number in range(count):
        add_segment(db, f"p{number}#1", "placeholder words only")
    with db.conn:
        index.add_many(
            db, [(f"p{number}#1", sign_tokens(pseudo_words(600, number))) for number in range(count)],
            DEFAULT_PARAMS, deferred=True,
        )  # fmt: skip
    index.flush(db)
    return db.execute("PRAGMA freelist_count").fetchone()[0]


def test_a_flush_gives_the_pending_rows_pages_back_to_the_file(db):
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    assert _pend_and_flush(db, 40) == 0
    in_use = db.execute("SELECT sum(pgsize) FROM dbstat").fetchone()[0]
    size = db.execute("PRAGMA page_count").fetchone()[0] * 4096
    assert size - in_use < 4096 * 8  # only the pointer-map pages besides the tables
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "p7#1" in lookup(db, pseudo_words(600, 7))


def test_an_older_database_keeps_its_free_pages_for_later_writes(tmp_path):
    path = str(tmp_path / "older.db")
    with sqlite3.connect(path) as conn:  # created before auto_vacuum was set
        conn.execute("CREATE TABLE user_notes (note TEXT)")
    db = store.connect(path)
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    assert _pend_and_flush(db, 40) > 0
    assert "p7#1" in lookup(db, pseudo_words(600, 7))
    db.conn.close()


def test_crowded_buckets_count_members_in_both_tables(db):
    reading_two = replace(DEFAULT_CANDIDATES, max_bucket_read=2, max_fingerprint_members=2)
    text = seed_text("000")
    for number in range(3):  # one member in lsh_index, two in lsh_recent
        add_segment(db, f"c{number}#1", text if number == 0 else "placeholder words")
        if number:
            with db.conn:
                index.add_many(db, [(f"c{number}#1", sign_tokens(words(text)))],
                               DEFAULT_PARAMS, deferred=True)  # fmt: skip
    index.flush(db)
    assert set(lookup(db, text, settings=reading_two)) == {"c0#1", "c1#1"}  # first two by id


def test_index_rows_are_compact_integers(db):
    signed = add_segment(db, "a#1", seed_text("000"))
    rows = db.execute("SELECT bucket, segment FROM lsh_index").fetchall()
    seq = db.execute("SELECT seq FROM segments WHERE id = 'a#1'").fetchone()[0]
    assert {segment for _, segment in rows} == {seq}
    assert sorted(bucket for bucket, _ in rows) == sorted(
        lsh.buckets(signed, DEFAULT_PARAMS).tolist()
    )


def test_empty_segments_are_stored_but_never_candidates(db):
    add_segment(db, "empty#1", [])
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0
    assert lookup(db, []) == {}


# ----------------------------------------------------------------------------- recall


def test_incremental_adds_find_earlier_copies(db):
    original = seed_text("000")
    assert lookup(db, original) == {}
    add_segment(db, "reuters#1", original)
    add_segment(db, "unrelated#1", " ".join(pseudo_words(700, seed=3)))
    hits = lookup(db, original)
    assert set(hits) == {"reuters#1"}
    hit = hits["reuters#1"]
    assert hit.best_window_jaccard == 1.0 and hit.containment == 1.0
    assert hit.text_band_hits > 100 and hit.story_jaccard == 1.0
    add_segment(db, "copy#1", seed_text("003").split("Canada Liberals Vote")[0])
    assert {"reuters#1", "copy#1"} <= set(lookup(db, original))
    assert set(lookup(db, original, exclude_segment_ids=["reuters#1"])) == {"copy#1"}


def test_a_short_excerpt_in_a_long_unrelated_article_is_found_both_ways(db):
    excerpt = words(seed_text("000"))[120:270]  # 150 words of the wire story
    host = pseudo_words(1200, seed=7)
    wrapping = host[:500] + excerpt + host[500:]
    add_segment(db, "long#1", wrapping)
    hits = lookup(db, excerpt)  # the short side asks
    assert set(hits) == {"long#1"}
    assert hits["long#1"].containment > 0.8  # the excerpt is whole inside a window pair
    add_segment(db, "short#1", excerpt)
    assert "short#1" in lookup(db, wrapping, exclude_segment_ids=["long#1"])  # the long side asks


def test_the_long_side_finds_a_short_wire_item_it_wraps(db):
    wire = words(seed_text("000"))[300:400]  # a 100-word item
    add_segment(db, "wire#1", wire)
    host = pseudo_words(1500, seed=8)
    for position in (0, 333, 777, 1500):  # any alignment with the windows
        assert "wire#1" in lookup(db, host[:position] + wire + host[position:])


def test_light_edits_are_still_found(db):
    original = words(seed_text("000"))
    add_segment(db, "reuters#1", original)
    edited = [f"changed{n}" if n % 20 == 19 else word for n, word in enumerate(original)]
    hits = lookup(db, edited)
    assert "reuters#1" in hits
    assert 0.5 < hits["reuters#1"].best_window_jaccard < 0.9
    excerpt = edited[400:560]  # a lightly edited excerpt on its own
    assert "reuters#1" in lookup(db, excerpt)


def test_unrelated_texts_are_not_candidates(db):
    copy_with_canada = seed_text("003")
    split = copy_with_canada.index("Canada Liberals Vote")
    add_segment(db, "reuters#1", seed_text("000"))
    add_segment(db, "canada#2", copy_with_canada[split:])
    for seed in range(3):
        add_segment(db, f"filler{seed}#1", " ".join(pseudo_words(600, seed=seed)))
    assert set(lookup(db, seed_text("000"))) == {"reuters#1"}
    assert set(lookup(db, copy_with_canada[split:])) == {"canada#2"}
    assert lookup(db, " ".join(pseudo_words(600, seed=99))) == {}


# ----------------------------------------------------------------------------- story path


def test_story_candidates_link_the_seed_rewrites_but_not_the_canada_story(db):
    copy_with_canada = seed_text("003")
    split = copy_with_canada.index("Canada Liberals Vote")
    add_segment(db, "000#1", seed_text("000"))
    add_segment(db, "001#1", seed_text("001"))
    add_segment(db, "002#1", seed_text("002"))
    add_segment(db, "003#1", copy_with_canada[:split])
    add_segment(db, "003#2", copy_with_canada[split:])
    add_segment(db, "004#1", seed_text("004"))
    hits = lookup(db, seed_text("000"), exclude_segment_ids=["000#1"])
    assert set(hits) == {"001#1", "002#1", "003#1", "004#1"}
    assert hits["004#1"].text_band_hits == 0  # translated from French: found by story words
    canada_hits = lookup(db, copy_with_canada[split:], exclude_segment_ids=["003#2"])
    assert canada_hits == {}


def test_story_window_is_the_publication_window_and_zero_when_undated():
    weeks = replace(DEFAULT_PARAMS, story_window_days=7)
    monday = lsh.story_window("2024-05-06", weeks)
    assert monday > 0
    assert lsh.story_window("2024-05-06T23:30:00-05:00", weeks) == monday  # the day as written
    assert lsh.story_window("2024-05-20", weeks) == monday + 2
    for undated in (None, "", "2024", "2024-05", "May 2024"):
        assert lsh.story_window(undated, weeks) == 0
    assert lsh.story_window("2024-05-06", replace(weeks, story_window_days=0)) == 0


def test_story_candidates_are_read_in_their_window_and_both_neighbours(db):
    # The seeds' French report shares no wording with the Reuters story: story words only.
    published = dt.date(2024, 5, 6)
    add_segment(db, "000#1", seed_text("000"), published=published.isoformat())

    def found_days_later(days):
        later = (published + dt.timedelta(days=days)).isoformat() if days is not None else None
        hits = lookup(db, seed_text("004"), published=later)
        return "000#1" in hits and hits["000#1"].text_band_hits == 0

    reach = DEFAULT_PARAMS.story_window_days  # the least a neighbouring window reaches
    assert found_days_later(0) and found_days_later(reach) and found_days_later(-reach)
    assert not found_days_later(3 * reach) and not found_days_later(-3 * reach)
    assert found_days_later(None)  # an undated text (the check page's) reads every window
    assert index.story_windows(db) == [lsh.story_window(published.isoformat(), DEFAULT_PARAMS)]


def test_undated_reports_are_read_by_dated_lookups(db):
    add_segment(db, "000#1", seed_text("000"))
    assert "000#1" in lookup(db, seed_text("004"), published="2031-01-01")


def test_copies_are_found_across_any_stretch_of_time(db):
    add_segment(db, "000#1", seed_text("000"), published="2024-05-06")
    hits = lookup(db, seed_text("003"), published="2029-05-06")
    assert hits["000#1"].text_band_hits > 0


def test_a_new_date_moves_the_story_buckets_and_remove_finds_them(db):
    add_segment(db, "000#1", seed_text("000"), published="2024-05-06")
    later = lsh.story_window("2025-09-01", DEFAULT_PARAMS)
    with db.conn:
        index.move_story_window(db, ["000#1"], later, DEFAULT_PARAMS)
    assert index.load_signatures(db, "000#1", DEFAULT_PARAMS).story_window == later
    assert "000#1" in lookup(db, seed_text("004"), published="2025-09-01")
    assert "000#1" not in lookup(db, seed_text("004"), published="2024-05-06")
    with db.conn:
        index.remove(db, ["000#1"])
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0


def test_a_database_signed_before_story_windows_keeps_one_window(db):
    older = {k: v for k, v in DEFAULT_PARAMS.as_dict().items() if k != "story_window_days"}
    assert SignatureParams.from_dict(older).story_window_days == 0
    with db.conn:
        store.set_meta(db, index.PARAMS_META_KEY, older)
    index.check_params(db, index.stored_params(db))  # matching goes on as it was signed
    with pytest.raises(index.IndexParamsError, match="story_window_days: 0 in the database"):
        index.check_params(db, DEFAULT_PARAMS)


def test_story_path_finds_paraphrases_of_a_paragraph(db):
    paragraphs = seed_paragraphs("000")
    for number, paragraph in enumerate(paragraphs, start=1):
        add_segment(db, f"reuters#{number}", paragraph)
    toast = next(n for n, p in enumerate(paragraphs, start=1) if p.startswith("Kim raised a toast"))
    tour = next(n for n, p in enumerate(paragraphs, start=1) if p.startswith("After the tour"))
    # Hand-written: no five-word run in common with the original.
    own_paraphrase = (
        "Lifting a glass of wine from Russia, the North Korean leader drank to the health of "
        "Putin and to friendship between Korea and Russia, saying he expected Moscow to win its "
        "sacred fight against the West over Ukraine and wishing victory to a great Russia."
    )
    rewrite_in_001 = next(p for p in seed_paragraphs("001") if p.startswith("Following the tour"))
    for paraphrase, expected in ((own_paraphrase, toast), (rewrite_in_001, tour)):
        hits = lookup(db, paraphrase)
        hit = hits[f"reuters#{expected}"]
        assert hit.text_band_hits == 0 and hit.story_jaccard >= DEFAULT_CANDIDATES.story_min_jaccard
        assert max(hits.values(), key=lambda h: h.story_jaccard).segment_id == f"reuters#{expected}"


# ----------------------------------------------------------------------------- other scripts

ARABIC_BANK = (
    "أعلن البنك المركزي يوم الثلاثاء رفع سعر الفائدة الرئيسي بمقدار نصف نقطة مئوية، "
    "في خطوة تهدف إلى كبح التضخم الذي بلغ أعلى مستوياته منذ عشر سنوات. وقال محافظ "
    "البنك في مؤتمر صحفي إن ارتفاع أسعار الغذاء والطاقة يضغط على الأسر ذات الدخل "
    "المحدود، وإن السياسة النقدية ستبقى متشددة حتى تعود الأسعار إلى الاستقرار. وتوقع "
    "خبراء اقتصاديون أن يؤدي القرار إلى تباطؤ الإقراض العقاري خلال الأشهر المقبلة، "
    "بينما رحبت غرفة التجارة بالخطوة واعتبرتها ضرورية لحماية قيمة العملة الوطنية. "
    "وأشار البيان إلى أن اللجنة ستعقد اجتماعها المقبل في نهاية الشهر القادم لمراجعة "
    "البيانات الجديدة."
)
ARABIC_STORM = (
    "اجتاحت عاصفة ثلجية قوية المناطق الجبلية في شمال البلاد مساء الأحد، ما أدى إلى "
    "إغلاق عدد من الطرق الرئيسية وانقطاع التيار الكهربائي عن آلاف المنازل. وقالت هيئة "
    "الأرصاد الجوية إن درجات الحرارة انخفضت إلى ما دون الصفر في معظم القرى، ودعت "
    "السكان إلى تجنب السفر إلا للضرورة. وعملت فرق الدفاع المدني طوال الليل على فتح "
    "الطرق وإجلاء العائلات العالقة، فيما أعلنت وزارة التربية تعليق الدراسة في المدارس "
    "يومين متتاليين. ويتوقع أن تتحسن الأحوال الجوية تدريجيا مع نهاية الأسبوع."
)
RUSSIAN_BANK = (
    "Центральный банк во вторник повысил ключевую ставку на половину процентного "
    "пункта, стремясь сдержать инфляцию, которая достигла самого высокого уровня за "
    "последние десять лет. Глава регулятора заявил на пресс-конференции, что рост цен "
    "на продукты и энергию сильнее всего бьёт по семьям с небольшими доходами, а "
    "денежно-кредитная политика останется жёсткой до тех пор, пока цены не "
    "стабилизируются. Экономисты ожидают, что решение замедлит ипотечное кредитование "
    "в ближайшие месяцы, тогда как торговая палата назвала этот шаг необходимым для "
    "защиты национальной валюты. Следующее заседание совета директоров пройдёт в "
    "конце будущего месяца."
)
RUSSIAN_STORM = (
    "Сильная снежная буря обрушилась в воскресенье вечером на горные районы на севере "
    "страны, из-за чего были закрыты несколько крупных дорог, а тысячи домов остались "
    "без электричества. Метеорологи сообщили, что в большинстве деревень температура "
    "опустилась ниже нуля, и призвали жителей без крайней необходимости не "
    "отправляться в поездки. Спасатели всю ночь расчищали трассы и эвакуировали "
    "застрявшие семьи, а министерство образования отменило занятия в школах на два "
    "дня. К концу недели погода, как ожидается, постепенно улучшится."
)
CHINESE_BANK = (
    "中国人民银行周二宣布将主要利率上调零点五个百分点，以遏制创下十年来新高的通货膨胀"
    "。央行行长在新闻发布会上表示，食品和能源价格上涨给低收入家庭带来了沉重压力，在物"
    "价恢复稳定之前，货币政策将继续保持从紧。经济学家预计，这一决定将在未来几个月内减"
    "缓住房贷款的增长，而商会则认为此举对于保护本国货币的价值十分必要。声明指出，货币"
    "政策委员会将于下月底召开下一次会议，审议最新的经济数据。"
)
CHINESE_STORM = (
    "一场强烈的暴风雪周日晚间袭击了北部山区，多条主要道路被迫关闭，数千户家庭停电。气"
    "象部门表示，大部分村庄的气温已降至零度以下，并呼吁居民除非必要不要出行。救援队伍"
    "整夜清理道路并疏散被困家庭，教育部门宣布全区中小学停课两天。预计到周末天气将逐渐"
    "好转。"
)


@pytest.mark.parametrize(
    "bank, storm",
    [(ARABIC_BANK, ARABIC_STORM), (RUSSIAN_BANK, RUSSIAN_STORM), (CHINESE_BANK, CHINESE_STORM)],
    ids=["arabic", "russian", "chinese"],
)
def test_non_latin_copies_are_found_and_unrelated_texts_are_not(db, bank, storm):
    bank_norms, storm_norms = words(bank), words(storm)
    assert len(bank_norms) > 60 and sign_tokens(bank_norms).story_word_count >= 20
    add_segment(db, "storm#1", storm_norms)
    assert lookup(db, bank_norms) == {}
    # The bank story reprinted after the storm story, with a word or two changed.
    reprint = storm_norms + [word if n % 25 else "تعديل" for n, word in enumerate(bank_norms, 1)]
    add_segment(db, "reprint#1", reprint)
    assert set(lookup(db, bank_norms)) == {"reprint#1"}
    add_segment(db, "bank#1", bank_norms)
    assert "bank#1" in lookup(db, reprint, exclude_segment_ids=["reprint#1"])
    assert "bank#1" not in lookup(db, storm_norms)


# ----------------------------------------------------------------------------- bounded work


def test_crowded_buckets_are_read_only_in_part(db):
    boilerplate = words(seed_text("001"))
    for number in range(8):
        add_segment(db, f"outlet{number}#1", boilerplate)
    assert set(lookup(db, boilerplate)) == {f"outlet{number}#1" for number in range(8)}
    crowded = replace(DEFAULT_CANDIDATES, max_bucket_read=3, max_fingerprint_members=3)
    hits = lookup(db, boilerplate, settings=crowded)
    assert set(hits) == {
        "outlet0#1",
        "outlet1#1",
        "outlet2#1",
    }  # the same first members of every bucket
    assert all(hit.text_band_hits > 20 for hit in hits.values())


def test_scored_candidates_are_capped_strongest_first(db):
    original = words(seed_text("000"))
    add_segment(db, "exact#1", original)
    add_segment(db, "edited#1", [w if n % 10 else "x" for n, w in enumerate(original)])
    one_scored = replace(DEFAULT_CANDIDATES, max_scored_candidates=1)
    assert set(lookup(db, original, settings=one_scored)) == {"exact#1"}


def test_every_key_of_a_long_segment_is_looked_up(db):
    original = words(seed_text("002")) * 3  # over 999 keys (SQLite's old variable limit)
    assert len(lsh.buckets(sign_tokens(original), DEFAULT_PARAMS)) > 999
    add_segment(db, "nyt#1", original)
    hit = lookup(db, original)["nyt#1"]
    assert hit.text_band_hits == len(
        [k for k in lsh.band_keys(sign_tokens(original), DEFAULT_PARAMS) if k[0] == "text"]
    )


# ----------------------------------------------------------------------------- fingerprints


def test_a_short_copy_inside_long_texts_is_found_by_its_fingerprints(db):
    """Fifty copied words inside two long texts share several winnowing fingerprints,
    whether or not a window's band happens to see them."""
    passage = words(seed_text("000"))[200:250]
    source = pseudo_words(1000, seed=3) + passage + pseudo_words(1000, seed=5)
    copy = pseudo_words(700, seed=4) + passage + pseudo_words(1300, seed=6)
    add_segment(db, "source#1", source)
    add_segment(db, "unrelated#1", pseudo_words(2000, seed=7))
    hits = lookup(db, copy)
    assert set(hits) == {"source#1"}
    hit = hits["source#1"]
    assert hit.fingerprint_hits >= DEFAULT_CANDIDATES.min_fingerprint_hits and hit.shares_text


def test_a_fingerprint_in_many_segments_is_not_read(db):
    stock = words(seed_text("000"))[200:250]
    for number in range(4):
        add_segment(db, f"s{number}#1", pseudo_words(800, seed=number) + stock)
    query = pseudo_words(900, seed=99) + stock
    few = replace(DEFAULT_CANDIDATES, max_fingerprint_members=3)
    assert not any(hit.fingerprint_hits for hit in lookup(db, query, settings=few).values())
    assert all(hit.fingerprint_hits for hit in lookup(db, query).values())
