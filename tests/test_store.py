"""The schema: a database written by an earlier release is upgraded in place, losing nothing.

Version 1 (the first release) kept every index row in lsh_index, had no lsh_recent
table nor idx_segments_seq index, and its lsh_bands view read lsh_index and
lsh_pending only. ``as_version_1`` turns a database written now back into that
layout, the way the first release left it.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing

import numpy as np
import pytest
from click.testing import CliRunner

from datasette_provenance import ingest, store
from datasette_provenance.cleaning import clean_article
from datasette_provenance.matching import index, search, update
from datasette_provenance.matching.signatures import pack, text_windows
from datasette_provenance.parameters import DEFAULT_PARAMS
from datasette_provenance.cli import cli
from tests.plugin_support import page, serve

from .conftest import SEEDS_DIR

VERSION_1_LSH_BANDS = """
    CREATE VIEW lsh_bands (kind, band, hash, segment_id) AS
    SELECT CASE WHEN b.bucket & 1 THEN 'story' ELSE 'text' END, (b.bucket >> 1) & 511,
           b.bucket >> 10, s.id
    FROM (SELECT bucket, segment FROM lsh_index
          UNION ALL SELECT j.value, p.segment FROM lsh_pending p, json_each(p.buckets) j) b
    JOIN segments s ON s.seq = b.segment
"""


def downgraded(path, *steps) -> None:
    """Run the downgrade steps on the database at ``path`` in one transaction."""
    with closing(sqlite3.connect(path)) as conn:
        with conn:
            for step in steps:
                step(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file, as immutable serving needs


def as_version_1(path) -> None:
    downgraded(path, _downgrade_to_2, _downgrade)


def as_version_2(path) -> None:
    downgraded(path, _downgrade_to_2)


# Version 2 credit kinds, from the form version 3 keeps.
VERSION_2_KINDS = """
    UPDATE article_credits SET kind = CASE
      WHEN form = 'reporting' THEN 'reporting_credit'
      WHEN form = 'copyright' THEN 'copyright'
      WHEN kind = 'other' THEN form
      WHEN kind = 'text_credit' THEN 'wire_marker'
      ELSE kind END
"""


def _downgrade_to_2(conn) -> None:
    """Version 2 had no outlet names, credit forms, credit states, relations, lineage
    origins or photo-only counts."""
    _downgrade_to_3(conn)
    conn.execute(VERSION_2_KINDS)
    conn.execute("DROP TABLE outlet_names")
    for table, column in (
        ("article_credits", "form"), ("matches", "credit"), ("matches", "relation"),
        ("matches", "shared_source_article_id"), ("matches", "shared_source_segment_id"),
        ("clusters", "photo_only_count"), ("lineage", "origin_article_id"),
        ("lineage", "origin_segment_id"), ("lineage", "credit"), ("lineage", "evidence"),
    ):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("UPDATE provenance_meta SET value = '2' WHERE key = 'schema_version'")


def _downgrade(conn) -> None:
    conn.execute("INSERT INTO lsh_index SELECT bucket, segment FROM lsh_recent")
    conn.execute("DROP TABLE lsh_recent")
    conn.execute("DROP INDEX idx_segments_seq")
    conn.execute("DROP VIEW lsh_bands")
    conn.execute(VERSION_1_LSH_BANDS)
    conn.execute("DELETE FROM provenance_meta WHERE key = 'lsh_index_merged_through'")
    conn.execute("UPDATE provenance_meta SET value = '1' WHERE key = 'schema_version'")


# The columns matches had in versions 1 and 2 (version 3 added credit and relation ones).
VERSION_2_MATCHES = (
    "SELECT id, source_article_id, derived_article_id, source_segment_id, derived_segment_id, "
    "label, source_containment, derived_containment, jaccard, credited, direction_confidence, "
    "scores, evidence, computed_at FROM matches"
)


def _downgrade_to_6(conn) -> None:
    """Version 6 kept no story candidates: its story links were made when pairs were matched."""
    conn.execute("DROP TABLE story_candidates")
    conn.execute("UPDATE provenance_meta SET value = '6' WHERE key = 'schema_version'")


def as_version_6(path) -> None:
    downgraded(path, _downgrade_to_6)


def _downgrade_to_5(conn) -> None:
    """Version 5 stored every token window of a segment, not its shingle hashes."""
    _downgrade_to_6(conn)
    shingles: dict[str, list[bytes]] = {}
    for segment_id, blob in conn.execute(
        "SELECT segment_id, hashvalues FROM signatures WHERE kind = 'shingles' "
        "ORDER BY segment_id, window"
    ):
        shingles.setdefault(segment_id, []).append(blob)
    for segment_id, blobs in shingles.items():
        values = np.frombuffer(b"".join(blobs), dtype="<u4").astype(np.uint32)
        windows, counts = text_windows(values, DEFAULT_PARAMS)
        conn.executemany(
            "INSERT INTO signatures (segment_id, window, kind, shingle_count, hashvalues) "
            "VALUES (?, ?, 'text', ?, ?)",
            [(segment_id, number, int(counts[number]), pack(windows[number]))
             for number in range(1, len(windows))],
        )  # fmt: skip
    conn.execute("DELETE FROM signatures WHERE kind = 'shingles'")
    conn.execute("UPDATE provenance_meta SET value = '5' WHERE key = 'schema_version'")


def as_version_5(path) -> None:
    downgraded(path, _downgrade_to_5)


def _downgrade_to_4(conn) -> None:
    """Version 4 stored each story's clean text in segments, not its place in the article's."""
    _downgrade_to_5(conn)
    conn.execute("DROP VIEW segment_texts")
    conn.execute("ALTER TABLE segments ADD COLUMN clean_text TEXT NOT NULL DEFAULT ''")
    conn.execute(
        "UPDATE segments SET clean_text = (SELECT substr(a.clean_text, segments.clean_start + 1, "
        "segments.clean_end - segments.clean_start) FROM articles a WHERE a.id = article_id)"
    )
    conn.execute("ALTER TABLE segments DROP COLUMN clean_start")
    conn.execute("ALTER TABLE segments DROP COLUMN clean_end")
    conn.execute("UPDATE provenance_meta SET value = '4' WHERE key = 'schema_version'")


def as_version_4(path) -> None:
    downgraded(path, _downgrade_to_4)


def _downgrade_to_3(conn) -> None:
    """What version 3 had: no derivation probability, no story tables."""
    _downgrade_to_4(conn)
    conn.execute("ALTER TABLE matches DROP COLUMN derivation_probability")
    conn.execute("DROP TABLE story_links")
    conn.execute("DROP TABLE story_terms")
    conn.execute("DELETE FROM provenance_meta WHERE key = 'story_terms_counted'")
    conn.execute("UPDATE provenance_meta SET value = '3' WHERE key = 'schema_version'")


def as_version_3(path) -> None:
    downgraded(path, _downgrade_to_3)


def table_rows(path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return sorted(conn.execute(query).fetchall())


@pytest.fixture
def version_1_db(seeds_db_copy):
    as_version_1(seeds_db_copy)
    return seeds_db_copy


def test_a_version_1_database_is_upgraded_on_open_with_every_row_kept(version_1_db):
    before = {
        query: table_rows(version_1_db, query)
        # (fingerprints, under the text kind's band 511, have their own kind name since 3)
        for query in (
            "SELECT band, hash, segment_id FROM lsh_bands",
            VERSION_2_MATCHES,
            "SELECT * FROM articles",
        )
    }
    db = store.connect(str(version_1_db))
    try:
        assert store.schema_version(db) == store.SCHEMA_VERSION
        merged = store.get_meta(db, index.MERGED_META_KEY)
        assert merged == db.execute("SELECT max(seq) FROM segments").fetchone()[0]
    finally:
        db.conn.close()
    for query, rows in before.items():
        assert table_rows(version_1_db, query) == rows, query
    view = table_rows(version_1_db, "SELECT sql FROM sqlite_master WHERE name = 'lsh_bands'")
    assert "lsh_recent" in view[0][0]


def test_a_version_3_database_gains_the_derivation_probability_and_story_tables(
    seeds_db_copy,
):
    as_version_3(seeds_db_copy)
    labels = table_rows(seeds_db_copy, "SELECT id, label FROM matches")
    db = store.connect(str(seeds_db_copy))
    try:
        assert store.schema_version(db) == store.SCHEMA_VERSION
        probabilities = db.execute("SELECT DISTINCT derivation_probability FROM matches")
        assert probabilities.fetchall() == [(None,)]  # labelled by a release before it
        assert db.execute("SELECT count(*) FROM story_terms").fetchone() == (0,)
        update.update_matches(db, full=True)  # counts the story terms, labels again
        assert db.execute("SELECT count(*) FROM story_terms").fetchone()[0] > 100
        assert db.execute("SELECT count(*) FROM matches WHERE derivation_probability IS NULL"
                          ).fetchone() == (0,)  # fmt: skip
    finally:
        db.conn.close()
    assert table_rows(seeds_db_copy, "SELECT id, label FROM matches") == labels
    view = table_rows(seeds_db_copy, "SELECT sql FROM sqlite_master WHERE name = 'lsh_bands'")
    assert "fingerprint" in view[0][0]


SEGMENT_TEXTS = "SELECT id, article_id, segment_number, title, clean_text FROM segments"


def test_a_version_4_database_keeps_each_story_text_once_and_shows_it_as_before(
    seeds_db_copy,
):
    as_version_4(seeds_db_copy)
    texts = table_rows(seeds_db_copy, SEGMENT_TEXTS)
    assert len(texts) == 6 and all(text for *_, text in texts)  # 003 holds two stories
    db = store.connect(str(seeds_db_copy))
    try:
        assert store.schema_version(db) == store.SCHEMA_VERSION
        assert "clean_text" not in db["segments"].columns_dict
    finally:
        db.conn.close()
    assert table_rows(seeds_db_copy, SEGMENT_TEXTS.replace("segments", "segment_texts")) == texts


def test_a_version_5_database_reads_its_stored_windows_and_signs_new_segments_anew(
    seeds_db_copy, tmp_path
):
    def signed(path) -> dict:
        db = store.connect(str(path))
        try:
            ids = [row[0] for row in db.execute("SELECT id FROM segments ORDER BY id")]
            loaded = {i: index.load_signatures(db, i, DEFAULT_PARAMS) for i in ids}
            return {i: (s.text.tobytes(), s.text_shingle_counts.tolist(), s.story.tobytes(),
                        s.fingerprints.tobytes(), s.story_window) for i, s in loaded.items()}  # fmt: skip
        finally:
            db.conn.close()

    expected = signed(seeds_db_copy)
    as_version_5(seeds_db_copy)
    windows = "SELECT count(*) FROM signatures WHERE kind = 'text' AND window > 0"
    assert table_rows(seeds_db_copy, windows)[0][0] > 6
    assert signed(seeds_db_copy) == expected  # upgraded to 6, the stored windows read as they are
    assert table_rows(seeds_db_copy, windows)[0][0] > 6
    more = tmp_path / "more"
    more.mkdir()
    text = next(SEEDS_DIR.glob("000_*.txt")).read_text(encoding="utf-8")
    (more / "000-again.txt").write_text(text, encoding="utf-8")
    ingest.ingest(str(seeds_db_copy), [str(more)], run_matching=True)
    shingles = "SELECT count(DISTINCT segment_id) FROM signatures WHERE kind = 'shingles'"
    assert table_rows(seeds_db_copy, shingles) == [(1,)]  # the new segment, in the new layout
    copies = (
        "SELECT label FROM matches WHERE '000-again' IN (source_article_id, derived_article_id) "
        "AND '000_5bbc07b3f689fc76' IN (source_article_id, derived_article_id)"
    )
    assert table_rows(seeds_db_copy, copies) == [("verbatim",)]


STORY_LINKS = "SELECT segment_id, other_segment_id, similarity FROM story_links"


def test_a_version_6_database_keeps_its_story_links_as_candidates(seeds_db_copy):
    links = table_rows(seeds_db_copy, STORY_LINKS)
    clusters = table_rows(seeds_db_copy, "SELECT segment_id, cluster_id FROM lineage")
    as_version_6(seeds_db_copy)
    db = store.connect(str(seeds_db_copy))
    try:
        assert store.schema_version(db) == store.SCHEMA_VERSION
        candidates = db.execute("SELECT segment_id, other_segment_id FROM story_candidates")
        assert sorted(candidates) == [link[:2] for link in links] and len(links) == 3
        assert store.get_meta(db, store.LINEAGE_STALE_KEY) is True
        update.update_matches(db)  # nothing to match: the rebuild measures the candidates
    finally:
        db.conn.close()
    assert table_rows(seeds_db_copy, STORY_LINKS) == links
    assert table_rows(seeds_db_copy, "SELECT segment_id, cluster_id FROM lineage") == clusters


def test_an_upgrade_refuses_to_break_a_view_that_reads_the_old_story_texts(seeds_db_copy):
    as_version_4(seeds_db_copy)
    with closing(sqlite3.connect(seeds_db_copy)) as conn, conn:
        conn.execute("CREATE VIEW mine AS SELECT id, clean_text FROM segments")
    with pytest.raises(store.SchemaError, match="view mine.*segment_texts.clean_text has it"):
        store.connect(str(seeds_db_copy))
    assert table_rows(
        seeds_db_copy, "SELECT value FROM provenance_meta WHERE key = 'schema_version'"
    ) == [("4",)]
    assert len(table_rows(seeds_db_copy, "SELECT clean_text FROM mine")) == 6


def test_segment_texts_are_the_story_texts_the_cleaner_gives(seeds_db):
    expected = {}
    for path in SEEDS_DIR.glob("*.txt"):
        cleaned = clean_article(path.read_text(encoding="utf-8"))
        for segment in cleaned.segments:
            expected[f"{path.stem}#{segment.number}"] = cleaned.segment_text(segment)
    stored = dict(seeds_db.execute("SELECT id, clean_text FROM segment_texts").fetchall())
    assert stored == expected and len(stored) == 6


def test_an_upgrade_on_an_old_sqlite_says_what_it_needs_and_changes_nothing(
    seeds_db_copy, monkeypatch
):
    as_version_4(seeds_db_copy)
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    with pytest.raises(store.SchemaError, match="needs SQLite 3.35 or newer"):
        store.connect(str(seeds_db_copy))
    assert table_rows(
        seeds_db_copy, "SELECT value FROM provenance_meta WHERE key = 'schema_version'"
    ) == [("4",)]
    assert len(table_rows(seeds_db_copy, "SELECT clean_text FROM segments")) == 6


@pytest.mark.parametrize(
    "clean_text, stories, bounds",
    [
        ("One story.", ["One story."], [(0, 10)]),
        ("Same.\n\nSame.", ["Same.", "Same."], [(0, 5), (7, 12)]),  # found in order
        ("First.\n\n", ["First.", ""], [(0, 6), (6, 6)]),  # a story all boilerplate
        # not found whole (no cleaner rule does this today): what lies between its neighbours
        ("A.\n\nB C.\n\nD.", ["A.", "B X.", "D."], [(0, 2), (4, 8), (10, 12)]),
    ],
)
def test_clean_bounds_place_each_story_text_in_the_article_text(clean_text, stories, bounds):
    assert store.clean_bounds(clean_text, stories) == bounds


def test_an_upgraded_database_takes_new_articles_and_finds_them(version_1_db, tmp_path):
    extra = tmp_path / "extra.txt"
    paragraphs = (SEEDS_DIR / "000_5bbc07b3f689fc76.txt").read_text(encoding="utf-8")
    extra.write_text("A reprint.\n\n" + paragraphs, encoding="utf-8")
    ingest.ingest(str(version_1_db), [str(extra)])
    db = store.connect(str(version_1_db))
    try:
        derived = db.execute(
            "SELECT label FROM matches WHERE source_article_id LIKE '000%' "
            "AND derived_article_id = 'extra'"
        ).fetchall()
        found = search.find_sources(db, paragraphs[:3000])
    finally:
        db.conn.close()
    assert derived and derived[0][0] == "verbatim"
    assert {result.article_id for result in found} >= {"extra"}
    bands = table_rows(
        version_1_db, "SELECT count(*) FROM lsh_bands WHERE segment_id LIKE 'extra#%'"
    )
    assert bands[0][0] > 0


def test_upgrade_command_upgrades_once_and_refuses_other_databases(version_1_db, tmp_path):
    first = CliRunner().invoke(cli, ["upgrade", str(version_1_db)])
    assert first.exit_code == 0 and "schema version 1 upgraded to" in first.output
    again = CliRunner().invoke(cli, ["upgrade", str(version_1_db)])
    assert again.exit_code == 0 and "already at schema version" in again.output
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE t (x)")
    refused = CliRunner().invoke(cli, ["upgrade", str(other)])
    assert refused.exit_code == 2 and "not a datasette-provenance database" in refused.output
    assert table_rows(other, "SELECT name FROM sqlite_master") == [("t",)]


@pytest.mark.asyncio
@pytest.mark.parametrize("downgrade", [as_version_1, as_version_2])
async def test_a_served_older_database_asks_for_an_upgrade_and_its_tables_stay_browsable(
    seeds_db_copy, tmp_path, downgrade
):
    served = tmp_path / "provenance.db"  # the name the page helpers use
    shutil.copy(seeds_db_copy, served)
    downgrade(served)
    ds = await serve(served)
    for path in (page(), page("check"), page("check", format="json")):
        response = await ds.client.get(path)
        assert response.status_code == 409, path
        assert "datasette-provenance upgrade provenance.db" in response.text
        assert str(tmp_path) not in response.text  # the file name, not where it lives
    articles = await ds.client.get("/provenance/articles.json?_facet_provenance_credit=id")
    assert articles.status_code == 200  # no provenance facets until upgraded, no error either
    CliRunner().invoke(cli, ["upgrade", str(served)])
    ds = await serve(served)
    assert (await ds.client.get(page("check"))).status_code == 200
    assert (await ds.client.get(page())).status_code == 200


def test_a_later_version_1_database_keeps_its_merge_mark(seeds_db_copy):
    """Builds between the first release and version 2 had lsh_recent and the merge mark."""
    as_version_2(seeds_db_copy)
    with closing(sqlite3.connect(seeds_db_copy)) as conn, conn:
        conn.execute(
            "INSERT OR REPLACE INTO provenance_meta VALUES ('lsh_index_merged_through', '2')"
        )
        conn.execute("UPDATE provenance_meta SET value = '1' WHERE key = 'schema_version'")
    db = store.connect(str(seeds_db_copy))
    try:
        assert store.schema_version(db) == store.SCHEMA_VERSION
        assert store.get_meta(db, index.MERGED_META_KEY) == 2
    finally:
        db.conn.close()


def test_a_failed_upgrade_leaves_the_database_as_it_was(version_1_db, monkeypatch):
    monkeypatch.setattr(
        store, "SCHEMA_STATEMENTS", store.SCHEMA_STATEMENTS + ("CREATE TABLE broken (",)
    )
    with pytest.raises(sqlite3.OperationalError):
        store.connect(str(version_1_db))
    assert table_rows(version_1_db, "SELECT sql FROM sqlite_master WHERE name = 'lsh_bands'") == [
        (VERSION_1_LSH_BANDS.strip(),)
    ]
    assert table_rows(
        version_1_db, "SELECT value FROM provenance_meta WHERE key = 'schema_version'"
    ) == [("1",)]


def test_upgrade_writes_nothing_to_a_current_database(seeds_db_copy):
    before = seeds_db_copy.read_bytes()
    result = CliRunner().invoke(cli, ["upgrade", str(seeds_db_copy)])
    assert result.exit_code == 0 and "already at schema version" in result.output
    assert seeds_db_copy.read_bytes() == before


@pytest.mark.parametrize("content", ["", ", content='articles'"], ids=["standalone", "quoted"])
def test_search_index_replaces_and_drops_an_index_made_by_hand(seeds_db_copy, content):
    """sqlite-utils recognises only an index whose content= names the table ("articles" or
    [articles]); these it does not see were once refused, and --drop left them in place."""
    with closing(sqlite3.connect(seeds_db_copy)) as conn, conn:
        conn.execute(f"CREATE VIRTUAL TABLE articles_fts USING fts5(title, clean_text{content})")
    db = store.connect(str(seeds_db_copy))
    try:
        assert store.enable_search(db) == 5
        assert db["articles"].detect_fts() == store.SEARCH_TABLE
        with closing(sqlite3.connect(seeds_db_copy)) as conn, conn:
            conn.execute("DROP TRIGGER articles_ai")  # half of what sqlite-utils made
            conn.execute("CREATE VIRTUAL TABLE articles_fts2 USING fts5(x)")  # not ours
            conn.execute("DROP TABLE articles_fts")
            conn.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title)")
        store.disable_search(db)
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    finally:
        db.conn.close()
    assert store.SEARCH_TABLE not in names and "articles_fts2" in names
    assert not {"articles_ai", "articles_ad", "articles_au"} & names


@pytest.mark.asyncio
async def test_a_schema_version_edited_into_nonsense_is_one_line_everywhere(seeds_db_copy, tmp_path):
    served = tmp_path / "provenance.db"  # the name the page helpers use
    shutil.copy(seeds_db_copy, served)
    with closing(sqlite3.connect(served)) as conn, conn:
        conn.execute("UPDATE provenance_meta SET value = 'two' WHERE key = 'schema_version'")
    result = CliRunner().invoke(cli, ["upgrade", str(served)])
    assert result.exit_code == 2 and "schema_version 'two', not a number" in result.output
    ds = await serve(served)
    for path in (page(), page("check", format="json")):
        response = await ds.client.get(path)
        assert response.status_code == 409 and "not a number" in response.text, path


def test_schema_version_only_reads_a_missing_table_as_not_provenance():
    """A locked or read-only file must not be reported as "not a provenance database"."""

    class Locked:
        def execute(self, *args):
            raise sqlite3.OperationalError("database is locked")

    class Empty:
        def execute(self, *args):
            raise sqlite3.OperationalError("no such table: provenance_meta")

    assert store.schema_version(Empty()) is None
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.schema_version(Locked())


def test_search_index_repairs_an_index_set_up_otherwise(seeds_db_copy):
    """A title-only index without triggers (made by hand) becomes the full, kept-current one."""
    db = store.connect(str(seeds_db_copy))
    try:
        db["articles"].enable_fts(["title"], fts_version="FTS5")
        store.enable_search(db)
        columns = [column.name for column in db[store.SEARCH_TABLE].columns]
        triggers = [trigger.name for trigger in db["articles"].triggers]
    finally:
        db.conn.close()
    assert columns == list(store.SEARCH_COLUMNS)
    assert len(triggers) == 3  # insert, update, delete


def test_a_version_2_database_gets_credit_kinds_and_states_and_a_stale_lineage(seeds_db_copy):
    as_version_2(seeds_db_copy)
    articles_before = table_rows(seeds_db_copy, "SELECT * FROM articles")
    db = store.connect(str(seeds_db_copy))
    try:
        kinds = dict(db.execute(
            "SELECT matched_text, kind || '/' || coalesce(form, '') FROM article_credits"
        ).fetchall())
        states = db.execute(
            "SELECT credited, credit FROM matches WHERE credited IS NOT NULL"
        ).fetchall()
        stale = store.get_meta(db, store.LINEAGE_STALE_KEY)
    finally:
        db.conn.close()
    assert table_rows(seeds_db_copy, "SELECT * FROM articles") == articles_before
    assert kinds["(Reuters)"] == "wire_marker/"
    assert kinds["(Photo: Reuters)"] == "photo_credit/"
    assert kinds["September 13, 2023"] == "other/dateline"
    assert kinds["TT"] == "other/signoff"
    assert kinds["© Copyright 2023. All Rights Reserved Powered by Vygr Media."] == (
        "text_credit/copyright"
    )
    assert {(1, "credited"), (0, "uncredited")} >= set(states)
    assert stale is True
    db = store.connect(str(seeds_db_copy))
    try:
        update.update_matches(db)  # nothing to match: the lineage is rebuilt
        lineage_credits = db.execute(
            "SELECT count(*) FROM lineage WHERE label IS NOT NULL AND credit IS NOT NULL"
        ).fetchone()[0]
    finally:
        db.conn.close()
    assert lineage_credits == 2
