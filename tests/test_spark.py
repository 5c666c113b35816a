"""The Spark engine gives the local engine's results, row for row.

Spark runs in ``local[2]`` mode, one session for the whole test session. Tests
that need it skip, saying why, when pyspark or Java is missing; the messages a
user sees then are tested without Spark.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from datasette_provenance import ingest, parameters, spark as engine, store
from datasette_provenance.matching import lsh, update
from datasette_provenance.cli import cli
from tests.conftest import load_benchmark
from tests.db_compare import TABLES, differences

pytestmark = [pytest.mark.spark, pytest.mark.slow]

RESULT_TABLES = ("matches", "passages", "story_candidates", "story_links", "clusters", "lineage")
# The synthetic archive: 1,200 articles, mostly unrelated (as in a real archive), in
# ~130 stories. Both engines read at most ARCHIVE_BUCKET_READ members of a bucket, so ten of
# its story buckets (33-49 segments) are crowded and read truncated, as the shipped 200 crowds
# buckets of archives several times its size (that took 5,000 articles here, at four times
# the CPU, most of it Spark's).
ARCHIVE_SIZE = 1_200
ARCHIVE_UNRELATED_SHARE = 0.85
ARCHIVE_BUCKET_READ = 30
# Files read by both engines: small, because Spark reads, cleans and signs them too.
INPUT_SIZE = 120


def _spark_problem() -> str | None:
    try:
        engine.require_spark()
    except engine.SparkUnavailable as problem:
        return str(problem)
    return None


@pytest.fixture(scope="session")
def spark():
    problem = _spark_problem()
    if problem:
        pytest.skip(problem)
    session = engine.spark_session("local[2]", {
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false",
        "spark.driver.memory": "1g",
        # The JVM's quick compiler only: these jobs are short, and the optimising compiler
        # costs more CPU than it saves (this module: 164-172 CPU s with it, 177 s without).
        # One garbage collector thread, and Spark SQL's plans run without compiling
        # each into Java first (whole-stage code generation): on these small tables the
        # compiling costs more CPU than it saves (this module: 254 CPU s before, 206 after).
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        "spark.sql.codegen.wholeStage": "false",
    })
    yield session
    session.stop()


def _match_locally(path, **options) -> update.MatchSummary:
    db = store.connect(str(path))
    try:
        return update.update_matches(db, full=True, **options)
    finally:
        db.conn.close()


def _rows(path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


PARQUET_COLUMNS = {
    "matches": ["id", "source_segment_id", "derived_segment_id", "label", "source_containment",
                "derived_containment", "jaccard", "credited", "direction_confidence",
                "derivation_probability", "scores", "evidence", "credit", "relation",
                "shared_source_article_id", "shared_source_segment_id"],
    "story_links": ["segment_id", "other_segment_id", "similarity"],
    "passages": ["match_id", "kind", "source_start", "source_end", "derived_start",
                 "derived_end", "similarity", "edits"],
    "clusters": ["id", "title", "origin_article_id", "article_count", "derived_count",
                 "uncredited_count", "photo_only_count", "first_published", "last_published"],
    "lineage": ["segment_id", "article_id", "cluster_id", "parent_article_id",
                "parent_segment_id", "match_id", "label", "generation", "is_origin",
                "origin_article_id", "origin_segment_id", "credit", "evidence"],
}


def _parquet(spark, path, columns) -> list[tuple]:
    return sorted(tuple(row) for row in spark.read.parquet(str(path)).select(*columns).collect())


def _table(path, table, columns) -> list[tuple]:
    return sorted(_rows(path, f"SELECT {', '.join(columns)} FROM {table}"))


# ------------------------------------------------------------------------------
# The same results as the local engine


def test_seeds_database_gives_the_local_results(spark, seeds_db_path, tmp_path):
    local, distributed = tmp_path / "local.db", tmp_path / "spark.db"
    shutil.copy(seeds_db_path, local)
    shutil.copy(seeds_db_path, distributed)
    expected = _match_locally(local)

    out = tmp_path / "out"

    summary = engine.run(spark, db_path=str(distributed), parquet_out=str(out))

    assert differences(local, distributed, tables=RESULT_TABLES + ("segments",)) == {}
    assert (summary.pairs_compared, summary.matches_stored, summary.clusters) == (
        expected.pairs_compared, expected.matches_stored, expected.clusters
    )
    assert summary.matches_stored > 0
    # The Parquet tables hold the same rows (clusters and lineage built in Spark).
    for table, columns in PARQUET_COLUMNS.items():
        assert _parquet(spark, out / table, columns) == _table(local, table, columns), table


def test_synthetic_archive_gives_the_local_results(spark, tmp_path):
    """An archive as real ones are: mostly unrelated articles, a few hundred stories.

    A small ``CandidateSettings.max_bucket_read`` makes some buckets more crowded than it,
    where the two engines must read the same members; its stories give verbatim, edited,
    paraphrased, quote-sharing and independent articles, several to a story (it
    replaced a 1,000-article corpus of stories only: more stories, and crowding).
    """
    corpus = tmp_path / "corpus.jsonl"
    labelled = load_benchmark("synthetic").write_corpus(
        ARCHIVE_SIZE, str(corpus), None, 13, unrelated_share=ARCHIVE_UNRELATED_SHARE
    )
    _drop_dates(corpus)
    base, local, distributed = (tmp_path / f"{name}.db" for name in ("base", "local", "spark"))
    ingest.ingest(str(base), [str(corpus)], run_matching=False)
    shutil.copy(base, local)
    shutil.copy(base, distributed)
    settings = replace(parameters.DEFAULT_CANDIDATES, max_bucket_read=ARCHIVE_BUCKET_READ)
    expected = _match_locally(local, candidates=settings)

    summary = engine.run(spark, db_path=str(distributed), candidates=settings)

    found = differences(local, distributed, tables=RESULT_TABLES + ("segments",))
    assert found == {}
    counts = ("segments", "pairs_compared", "matches_stored", "clusters")
    assert [getattr(summary, c) for c in counts] == [getattr(expected, c) for c in counts]
    # Same ids too: Spark writes the matches in the local engine's order.
    ids = "SELECT id, source_segment_id, derived_segment_id FROM matches ORDER BY id"
    assert _rows(local, ids) == _rows(distributed, ids)
    # Enough to compare: derived matches for over half the labelled pairs, many clusters.
    assert expected.derived > labelled / 2
    assert expected.clusters > 100
    # The truncated reads were exercised: some band buckets (a crowded fingerprint bucket is
    # not read at all) hold more than the readable members.
    crowded = _rows(local, (
        "SELECT bucket FROM (SELECT bucket FROM lsh_index UNION ALL SELECT bucket FROM lsh_recent) "
        f"GROUP BY bucket HAVING count(*) > {ARCHIVE_BUCKET_READ}"
    ))
    assert [bucket for (bucket,) in crowded if lsh.bucket_kind(bucket) != "fingerprint"]
    # Both engines recorded the settings they matched with.
    assert _rows(local, SETTINGS_SQL) == _rows(distributed, SETTINGS_SQL)
    assert json.loads(_rows(distributed, SETTINGS_SQL)[0][0]) == settings.as_dict()


SETTINGS_SQL = "SELECT value FROM provenance_meta WHERE key = 'candidate_settings'"


def test_a_syndication_storm_is_trimmed_as_the_local_engine_trims_it(spark, tmp_path):
    """One wire story republished by more outlets than ``storm_min_copies``: each copy is
    aligned with the storm's earliest and closest copies only, in both engines."""
    synthetic = load_benchmark("synthetic")
    copies = parameters.DEFAULT_CANDIDATES.storm_min_copies + 10
    corpus = tmp_path / "storm.jsonl"
    corpus.write_text("".join(article.to_json() + "\n" for article, _ in synthetic.storm(copies)))
    base, local, distributed = (tmp_path / f"{name}.db" for name in ("base", "local", "spark"))
    ingest.ingest(str(base), [str(corpus)], run_matching=False)
    shutil.copy(base, local)
    shutil.copy(base, distributed)
    expected = _match_locally(local)

    summary = engine.run(spark, db_path=str(distributed))

    assert differences(local, distributed, tables=RESULT_TABLES + ("segments",)) == {}
    assert summary.pairs_compared == expected.pairs_compared
    every_pair = (copies + 1) * copies // 2
    assert expected.pairs_compared < every_pair / 2  # trimmed: not every copy with every other



def _drop_dates(corpus: Path) -> None:
    """An undated archive: its story bands share one window, as before story windows, so its
    story buckets crowd (dated, its four months span five windows).
    The seeds and the input files keep their dates: dated windows are compared there."""
    articles = [json.loads(line) for line in corpus.read_text().splitlines()]
    for article in articles:
        article.pop("published", None)
    lines = [json.dumps(article, ensure_ascii=False) + "\n" for article in articles]
    corpus.write_text("".join(lines))


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """A JSONL corpus and the database ``ingest`` (with matching) makes of it."""
    folder = tmp_path_factory.mktemp("input")
    corpus = folder / "corpus.jsonl"
    load_benchmark("synthetic").write_corpus(INPUT_SIZE, str(corpus), None, 5)
    ingested = folder / "ingested.db"
    ingest.ingest(str(ingested), [str(corpus)])
    return corpus, ingested


def test_input_files_give_the_database_ingest_gives(spark, small_corpus, tmp_path):
    corpus, ingested = small_corpus
    built = tmp_path / "built.db"

    summary = engine.run(spark, db_path=str(built), inputs=[str(corpus)])

    assert summary.articles == INPUT_SIZE and summary.skipped == 0
    assert differences(ingested, built, tables=TABLES) == {}
    assert _rows(built, "SELECT count(*) FROM lsh_pending") == [(0,)]  # flushed, as by ingest


def test_parquet_in_parquet_out(spark, small_corpus, tmp_path):
    """Parquet input, Parquet output only: clusters and lineage are built on the driver."""
    corpus, ingested = small_corpus
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    articles = tmp_path / "articles.parquet"
    spark.createDataFrame(
        rows, "id string, title string, text string, outlet string, published string"
    ).write.parquet(str(articles))
    out = tmp_path / "out"

    engine.run(spark, inputs=[str(articles)], parquet_out=str(out))

    for table, columns in PARQUET_COLUMNS.items():
        assert _parquet(spark, out / table, columns) == _table(ingested, table, columns), table


def test_bad_records_are_skipped_and_reported(spark, tmp_path):
    corpus = tmp_path / "mixed.jsonl"
    good = {"id": "a1", "text": "Some text about a thing that happened yesterday."}
    corpus.write_text(
        json.dumps(good) + "\n{not json\n" + json.dumps({"id": "a1", "text": "again"}) + "\n",
        encoding="utf-8",
    )

    summary = engine.run(spark, db_path=str(tmp_path / "out.db"), inputs=[str(corpus)])

    assert summary.skipped == 2
    assert summary.problems == [
        f"{corpus}:2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{corpus}:3: duplicate id 'a1' (first seen at {corpus}:1)",
    ]
    assert _rows(tmp_path / "out.db", "SELECT id FROM articles") == [("a1",)]


def test_the_story_jaccard_in_spark_sql_is_the_local_estimate(spark, seeds_db_path, tmp_path):
    """The one estimate mirrored in Spark SQL: ``lsh.estimate_story_jaccards``."""
    import numpy as np

    from datasette_provenance.matching import index, lsh

    # A copy: connecting and closing bumps the file's change counter, and the seeds
    # database must stay the file the ingest wrote.
    db = store.connect(str(shutil.copy(seeds_db_path, tmp_path / "seeds.db")))
    ids = [row[0] for row in db.execute("SELECT id FROM segments ORDER BY id")]
    signed = [index.load_signatures(db, i, parameters.DEFAULT_PARAMS) for i in ids]
    db.conn.close()
    segments = spark.createDataFrame(
        [(n, s.story.view(np.int32).tolist(), s.story_word_count) for n, s in enumerate(signed)],
        "sid long, story array<int>, story_words int",
    )
    every_pair = spark.createDataFrame(
        [(q, m, 0, 0, 1, 0) for q in range(len(ids)) for m in range(len(ids)) if q != m],
        "query long, member long, pool_rank int, text_hits int, story_hits int, "
        "fingerprint_hits int",
    )

    found = engine._with_story_jaccards(every_pair, segments).collect()

    assert len(found) == len(ids) * (len(ids) - 1)
    for row in found:
        query, member = signed[row.query], signed[row.member]
        expected = lsh.estimate_story_jaccards(query, [row.member], member.story[None, :])
        assert row.story_jaccard == expected.get(row.member)


def test_cli_engine_spark(spark, seeds_db_path, tmp_path):
    database = tmp_path / "seeds.db"
    shutil.copy(seeds_db_path, database)

    result = CliRunner().invoke(
        cli, ["match", str(database), "--engine", "spark", "--spark-master", "local[2]"]
    )

    assert result.exit_code == 0, result.output
    assert "matching:" in result.output
    assert not spark.sparkContext._jsc.sc().isStopped()  # a running session is left running


# ------------------------------------------------------------------------------
# Without Spark: what the user is told


def test_missing_pyspark_is_one_line(monkeypatch, seeds_db_path, tmp_path):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now fails
    database = tmp_path / "seeds.db"
    shutil.copy(seeds_db_path, database)

    result = CliRunner().invoke(cli, ["match", str(database), "--engine", "spark"])

    assert result.exit_code == 2
    assert result.output == (
        "error: the Spark engine needs pyspark: pip install 'datasette-provenance[spark]'\n"
    )


def test_missing_java_is_one_line(monkeypatch, seeds_db_path, tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    database = tmp_path / "seeds.db"
    shutil.copy(seeds_db_path, database)

    result = CliRunner().invoke(cli, ["match", str(database), "--engine", "spark"])

    assert result.exit_code == 2
    assert result.output == (
        "error: the Spark engine needs Java (17 or later): no `java` on PATH or in JAVA_HOME\n"
    )


def test_parquet_out_needs_the_spark_engine(seeds_db_path):
    result = CliRunner().invoke(cli, ["match", str(seeds_db_path), "--parquet-out", "x"])
    assert result.exit_code == 2
    assert "--parquet-out needs --engine spark" in result.output
