"""End-to-end ingest: counts, idempotency, updates, manifests, strict mode.

Killed ingests: test_reliability_crash.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from datasette_provenance import ingest
from datasette_provenance.readers import InputError

from .conftest import SEEDS_DIR, seed_paths

TABLES = ("articles", "segments", "article_credits", "boilerplate_spans", "signatures",
          "lsh_bands", "matches", "passages", "clusters", "lineage")


def table_counts(path) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    try:
        return {table: db[table].count for table in TABLES}
    finally:
        db.conn.close()


def dump(path, table, order_by) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        # computed_at/ingested_at are timestamps of the run, not results.
        keep = [c for c in columns if c not in ("id", "computed_at", "ingested_at", "match_id")]
        return conn.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY {order_by}").fetchall()
    finally:
        conn.close()


def test_seeds_ingest_counts(seeds_db):
    assert seeds_db["articles"].count == 5
    # 003 holds a second, unrelated article: 6 segments in all.
    assert seeds_db["segments"].count == 6
    assert seeds_db["article_credits"].count > 0
    pending = seeds_db.execute("SELECT count(*) FROM segments WHERE match_pending = 1").fetchone()
    assert pending == (0,)


def test_seeds_manifest_applied(seeds_db, seed_ids):
    reuters = seeds_db["articles"].get(seed_ids["reuters"])
    assert reuters["outlet"] == "Reuters"
    assert reuters["published"].startswith("2023-09-13")
    nyt = seeds_db["articles"].get(seed_ids["nyt"])
    assert nyt["outlet"] == "The New York Times"
    assert json.loads(nyt["inferred_fields"]) == ["outlet"]


def test_raw_text_kept_exactly(seeds_db, seed_ids):
    for path in seed_paths():
        article_id = Path(path).stem
        stored = seeds_db["articles"].get(article_id)["raw_text"]
        assert stored == Path(path).read_text(encoding="utf-8")


def test_second_ingest_adds_nothing(seeds_db_copy):
    before = table_counts(seeds_db_copy)
    matches_before = dump(seeds_db_copy, "matches", "source_segment_id, derived_segment_id")
    summary = ingest.ingest(str(seeds_db_copy), seed_paths(),
                              manifest=str(SEEDS_DIR / "manifest.csv"))
    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 5)
    assert table_counts(seeds_db_copy) == before
    assert dump(seeds_db_copy, "matches", "source_segment_id, derived_segment_id") == matches_before


def test_changed_text_replaces_article(seeds_db_copy, tmp_path, seed_ids):
    changed = tmp_path / f"{seed_ids['french']}.txt"
    changed.write_text("A completely different story about tomato harvests in Spain. " * 20,
                       encoding="utf-8")
    summary = ingest.ingest(str(seeds_db_copy), [str(changed)])
    assert (summary.added, summary.updated) == (0, 1)
    db = sqlite_utils.Database(seeds_db_copy)
    assert "tomato" in db["articles"].get(seed_ids["french"])["raw_text"]
    orphans = db.execute(
        "SELECT count(*) FROM signatures WHERE segment_id NOT IN (SELECT id FROM segments)"
    ).fetchone()[0]
    assert orphans == 0
    # The new text shares nothing with the summit story any more.
    linked = db.execute(
        "SELECT count(*) FROM matches WHERE ? IN (source_article_id, derived_article_id) "
        "AND label != 'independent'", [seed_ids["french"]]
    ).fetchone()[0]
    assert linked == 0


def test_unknown_manifest_id_is_reported_not_fatal(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("id,outlet\n000_5bbc07b3f689fc76,Reuters\nnot_an_article,Nobody\n",
                        encoding="utf-8")
    problems = []
    summary = ingest.ingest(str(tmp_path / "p.db"), seed_paths()[:1], manifest=str(manifest),
                              run_matching=False, report=problems.append)
    assert summary.added == 1
    assert len(problems) == 1
    assert "manifest.csv:3" in problems[0] and "not_an_article" in problems[0]


def test_a_manifest_row_for_a_stored_article_is_merged_and_idempotent(tmp_path):
    """Re-running with only some of the articles: the manifest row of one not read this
    time merges as it did when it was read (its outlet stays a guess), and changes nothing
    the second time (no re-matching)."""
    page = tmp_path / "a.html"
    page.write_text(
        '<html><head><title>Harbour plan</title><meta property="og:site_name" '
        'content="Daily Bugle"></head><body><article><p>The mayor said on Friday that the '
        "harbour would be dredged next summer at a cost of four million dollars, after years "
        "of complaints from fishermen.</p></article></body></html>", encoding="utf-8",
    )  # fmt: skip
    other = tmp_path / "b.txt"
    other.write_text("A ferry timetable for Oslo, changed from Monday.", encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("id,title\na,Harbour plan (edited)\n", encoding="utf-8")
    db_path = str(tmp_path / "p.db")

    def stored():
        with sqlite3.connect(db_path) as conn:
            return conn.execute(
                "select title, outlet, inferred_fields from articles where id = 'a'"
            ).fetchone()

    ingest.ingest(db_path, [str(page), str(other)], manifest=str(manifest))
    first = stored()
    assert first == ("Harbour plan (edited)", "Daily Bugle", '["outlet"]')
    for _ in range(2):
        summary = ingest.ingest(db_path, [str(other)], manifest=str(manifest))
        assert stored() == first and summary.matching.segments == 0


def test_a_manifest_beside_the_articles_is_not_read_as_one(tmp_path):
    """`ingest db seeds/ --manifest seeds/manifest.csv`: the manifest is metadata, not an article."""
    problems = []
    summary = ingest.ingest(str(tmp_path / "p.db"), [str(SEEDS_DIR)],
                              manifest=str(SEEDS_DIR / "manifest.csv"), run_matching=False,
                              report=problems.append, strict=True)  # fmt: skip
    assert (summary.added, summary.skipped, problems) == (5, 0, [])


def test_strict_mode_writes_nothing(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary\x00" * 50)
    db_path = tmp_path / "strict.db"
    with pytest.raises(ingest.IngestAborted) as raised:
        ingest.ingest(str(db_path), seed_paths() + [str(bad)], strict=True)
    assert "bad.txt" in str(raised.value)
    assert not db_path.exists() or table_counts(db_path)["articles"] == 0


def test_missing_path_stops_before_writing(tmp_path):
    db_path = tmp_path / "missing.db"
    with pytest.raises(InputError) as raised:
        ingest.ingest(str(db_path), [str(tmp_path / "nope.jsonl")])
    assert "nope.jsonl" in str(raised.value)


def test_skipped_inputs_keep_good_rows(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("A short but perfectly good article about harbour cranes.", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    problems = []
    summary = ingest.ingest(str(tmp_path / "mixed.db"), [str(good), str(empty)],
                              report=problems.append)
    assert summary.added == 1 and summary.skipped == 1
    assert len(problems) == 1 and "empty.txt" in problems[0] and "\n" not in problems[0]


@pytest.mark.parametrize("through", ["the article", "a manifest"])
def test_a_new_publication_date_moves_the_story_buckets(tmp_path, through):
    """An article read again with another date (same text) has its story bands keyed by
    the new date, as if it had been ingested with it."""
    text = next(SEEDS_DIR.glob("000_*.txt")).read_text(encoding="utf-8")

    def ingest_dated(db_path, published, with_manifest):
        article = {"id": "wire", "text": text}
        if not with_manifest:
            article["published"] = published
        path = tmp_path / "wire.jsonl"
        path.write_text(json.dumps(article) + "\n", encoding="utf-8")
        manifest = tmp_path / "manifest.csv"
        manifest.write_text(f"id,published\nwire,{published}\n", encoding="utf-8")
        ingest.ingest(db_path, [str(path)], manifest=str(manifest) if with_manifest else None)

    moved, fresh = str(tmp_path / "moved.db"), str(tmp_path / "fresh.db")
    ingest_dated(moved, "2024-01-10", through == "a manifest")
    ingest_dated(moved, "2024-06-10", through == "a manifest")
    ingest_dated(fresh, "2024-06-10", through == "a manifest")
    for table, order in (("lsh_bands", "kind, band, hash"), ("signatures", "kind, window")):
        assert dump(moved, table, order) == dump(fresh, table, order)
