"""The Spark engine: the local engine's matching, distributed with Apache Spark.

    datasette-provenance match news.db --engine spark [--spark-master URL] [--parquet-out DIR]
    python -m datasette_provenance.spark --input 'articles/*.parquet' --parquet-out out/ [--db news.db]
    spark-submit ... datasette_provenance/spark.py --input s3a://bucket/articles/*.parquet ...

Spark only moves data; every decision is made by the functions the local engine
calls, run inside ``mapPartitions``:

1. prepare     ``pipeline.prepare_article`` cleans, segments and signs each article;
               ``match.segment_data`` builds what alignment needs from the rows ingest
               would store; ``index.band_keys`` gives each segment's LSH keys.
2. buckets     a join on (kind, band, hash) stands for the ``lsh_bands`` lookups. Each
               bucket offers its first ``index.MAX_BUCKET_READ`` members in segment id
               order, as ``index._bucket_members`` reads them; every (query, member) pair
               counts the text and story keys it shares (own article excluded).
3. candidates  per query segment: ``index.rank_band_hits`` and ``scoring_pool``; story
               signatures joined in, ``estimate_story_jaccards`` and ``choose_for_scoring``;
               text windows joined in, ``score_candidates``; ``match.best_candidates``.
4. pairs       each unordered pair is compared once, from the query the local engine
               reaches first (it matches segments in id order), with that query's
               ``shares_text`` and at that query's place in the order of results.
5. verify      ``match.compare_segments``, then ``match.match_row``/``passage_rows``.
6. write       Parquet; SQLite through ``match.store_match`` in the local engine's order,
               so match ids agree, then ``match.rebuild_lineage``.

So a run equals ``datasette-provenance match DB --full`` row for row (tests/test_spark.py).
pyspark is imported only inside functions: the package imports without it.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and os.path.abspath(sys.path[0] or ".") == os.path.dirname(
    os.path.abspath(__file__)
):
    # Run as a file (spark-submit's main file): its directory holds modules whose
    # names (index, match, store) must not shadow anything imported by name.
    del sys.path[0]

import datetime as dt
import json
import pickle
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Iterable, Iterator

import numpy as np

from datasette_provenance import index, lineage, match, pipeline, signatures, sources, store

DEFAULT_MASTER = "local[*]"
INSTALL_HINT = "pip install 'datasette-provenance[spark]'"
# Session settings unless the caller sets them: quiet, and no recomputation of Python
# stages because a shuffle's data was dropped from memory.
SESSION_DEFAULTS = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
}
# Articles read from a database are shipped in slices of about this many: small
# enough to spread cleaning and signing over every core.
ARTICLES_PER_SLICE = 200
# Matches written to SQLite per transaction (as the local engine commits chunks).
MATCHES_PER_TRANSACTION = 500
# Skipped inputs reported by name; the rest are counted.
PROBLEMS_REPORTED = 50


class SparkUnavailable(Exception):
    """pyspark or Java is missing; ``str`` is one line saying what to install."""


# ------------------------------------------------------------------------------
# Session


def require_spark() -> None:
    """Raise ``SparkUnavailable`` unless pyspark imports and a usable Java is found."""
    try:
        import pyspark
    except ImportError:
        raise SparkUnavailable(f"the Spark engine needs pyspark: {INSTALL_HINT}") from None
    java = _java_command()
    if java is None:
        raise SparkUnavailable(
            "the Spark engine needs Java (17 or later): no `java` on PATH or in JAVA_HOME"
        )
    needed = 17 if int(pyspark.__version__.split(".")[0]) >= 4 else 8
    found = _java_major_version(java)
    if found is not None and found < needed:
        raise SparkUnavailable(
            f"pyspark {pyspark.__version__} needs Java {needed} or later, {java} is Java {found}"
        )


def _java_command() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


def _java_major_version(java: str) -> int | None:
    """17 from 'openjdk version "17.0.15"', 8 from '"1.8.0_392"'; None if unreadable."""
    try:
        output = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def spark_session(master: str | None = DEFAULT_MASTER, config: dict | None = None):
    """A SparkSession (the running one under spark-submit); ``master`` None keeps Spark's."""
    require_spark()
    from pyspark.sql import SparkSession

    if master is None or master.startswith("local"):
        # Local workers must run this interpreter, which has this package installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("datasette-provenance")
    if master:
        builder = builder.master(master)
    for key, value in {**SESSION_DEFAULTS, **(config or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# ------------------------------------------------------------------------------
# Entry points


@dataclass
class SparkSummary(match.MatchSummary):
    articles: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        stages = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.stage_seconds.items())
        return [
            f"articles: {self.articles} read, {self.skipped} skipped",
            f"matching: {self}",
            f"stages: {stages}",
        ]


def match_database(
    db_path: str,
    *,
    master: str = DEFAULT_MASTER,
    parquet_out: str | None = None,
    config: dict | None = None,
) -> SparkSummary:
    """``match DB --engine spark``: recompute every match of the database on Spark."""
    session = spark_session(master, config)
    try:
        return run(session, db_path=db_path, parquet_out=parquet_out)
    finally:
        session.stop()


def run(
    spark,
    *,
    db_path: str | None = None,
    inputs: Iterable[str] = (),
    parquet_out: str | None = None,
    columns: sources.ColumnNames | None = None,
) -> SparkSummary:
    """Match every article of the database at ``db_path``, or of ``inputs``, on ``spark``.

    With ``inputs`` (Parquet, JSONL or any file kind ``ingest`` reads; local paths or
    URIs Spark can read) the articles are also written to ``db_path`` when given, with
    ingest's own row writer; the database must not hold other articles. Results go to
    ``parquet_out`` and/or ``db_path`` (replacing every stored match). Raises
    ``InputError`` for a request that cannot be met, before anything is written.
    """
    inputs = list(inputs)
    if not db_path and not inputs:
        raise sources.InputError("nothing to match: give a database or --input paths")
    if not db_path and not parquet_out:
        raise sources.InputError("no output: give a database (--db) or --parquet-out")
    summary = SparkSummary()
    timer = _StageTimer(summary.stage_seconds)
    started = time.perf_counter()
    db = store.connect(db_path) if db_path else None
    cached: list = []
    try:
        params = _signature_params(db)
        read: list = []
        with timer("read"):
            if inputs:
                records = _input_records(spark, inputs, columns, summary, read)
            else:
                records = _database_records(spark, db)
        articles = _persist(records.map(partial(pipeline.prepare_article, params=params)), cached)
        with timer("prepare"):
            summary.articles = articles.count()
            for data in read:
                data.unpersist()
        if inputs and db is not None:
            with timer("write articles"):
                _refuse_other_articles(spark, db, db_path, articles)
                _write_articles(db, articles, params)
        with timer("segments"):
            segments = _persist(_segments_frame(spark, articles, params), cached)
            summary.segments = segments.count()
            articles.unpersist()
            keys = _persist(_keys_frame(segments), cached)
            keys.count()
        with timer("candidates"):
            candidates = _persist(_candidate_lists(spark, _band_hits(keys), segments), cached)
            candidates.count()
        with timer("compare"):
            pairs = _persist(_pairs_to_compare(candidates), cached)
            summary.pairs_compared = pairs.count()
            results = _persist(_compared(spark, pairs, segments), cached)
            results.count()  # before sorting: a sort samples its input, which would compare twice
            numbered = _persist(_numbered_results(spark, results), cached)
            counts = dict(numbered.groupBy("label").count().collect())
            summary.matches_stored = sum(counts.values())
            summary.derived = sum(counts.get(label, 0) for label in lineage.DERIVED_LABELS)
        if parquet_out:
            with timer("write parquet"):
                _write_results_parquet(numbered, segments, parquet_out)
        if db is not None:
            with timer("write sqlite"):
                _write_matches(db, numbered, segments)
                summary.clusters = match.rebuild_lineage(db)
        with timer("lineage"):
            if parquet_out:
                summary.clusters = _write_lineage_parquet(spark, db, numbered, segments, parquet_out)
    finally:
        for frame in cached:
            frame.unpersist()
        if db is not None:
            db.conn.close()
    summary.seconds = time.perf_counter() - started
    return summary


class _StageTimer:
    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds

    @contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def _persist(data, cached: list):
    """Keep a frame/RDD that later steps reuse: its Python stages must run only once."""
    from pyspark import StorageLevel

    data.persist(StorageLevel.MEMORY_AND_DISK)
    cached.append(data)
    return data


def _signature_params(db) -> signatures.SignatureParams:
    """The database's params (recorded on first use), as ``match.update_matches`` takes them."""
    if db is None:
        return signatures.DEFAULT_PARAMS
    params = index.stored_params(db) or signatures.DEFAULT_PARAMS
    with db.conn:
        index.check_params(db, params)
    return params


# ------------------------------------------------------------------------------
# 1. Reading and preparing articles


def _database_records(spark, db):
    """The stored articles as records (metadata as stored, manifest edits included)."""
    records = [
        sources.ArticleRecord(
            id=article_id,
            text=raw_text,
            title=title,
            outlet=outlet,
            url=url,
            published=published,
            language=language,
            inferred_fields=json.loads(inferred or "[]"),
            source_path=source_path,
        )
        for article_id, raw_text, title, outlet, url, published, language, inferred, source_path in (
            db.execute(
                "SELECT id, raw_text, title, outlet, url, published, language, inferred_fields, "
                "source_path FROM articles ORDER BY id"
            )
        )
    ]
    slices = max(spark.sparkContext.defaultParallelism, -(-len(records) // ARTICLES_PER_SLICE))
    return spark.sparkContext.parallelize(records, min(slices, max(len(records), 1)))


def _input_records(spark, inputs: list[str], columns, summary: SparkSummary, cached: list):
    """Records from Parquet datasets and from files ``ingest`` reads; skipped ones reported.

    A path ending in ``.parquet`` (a file, directory or glob) is read as Parquet, one
    record per row; any other path is read file by file with ``sources.read_file``.
    An id seen twice keeps its first place (by file, then line), as ``ingest`` does.
    """
    for path in inputs:
        if "://" not in path and not any(char in path for char in "*?[") and not os.path.exists(path):
            raise sources.InputError(f"{path}: no such file or directory")
    from pyspark.sql import functions as F

    context = spark.sparkContext
    parts = []
    for path in inputs:
        if path.rstrip("/").endswith(".parquet"):
            rows = spark.read.parquet(path).withColumn(SOURCE_FILE_COLUMN, F.input_file_name())
            parts.append(rows.rdd.mapPartitionsWithIndex(partial(_parquet_records, columns=columns)))
        else:
            parts.append(context.binaryFiles(path).flatMap(partial(_file_records, columns=columns)))
    items = _persist(context.union(parts), cached)
    problems = items.filter(lambda item: isinstance(item[1], str))
    summary.skipped = problems.count()
    summary.problems = [message for _, message in problems.sortByKey().take(PROBLEMS_REPORTED)]
    records = items.filter(lambda item: not isinstance(item[1], str))
    firsts = (
        records.map(lambda item: (item[1].id, (item[0], 1)))
        .reduceByKey(lambda a, b: (min(a[0], b[0]), a[1] + b[1]))
        .filter(lambda entry: entry[1][1] > 1)
        .collectAsMap()
    )
    if not firsts:
        return records.values()
    first_place = {article_id: place for article_id, (place, _) in firsts.items()}
    repeats = records.filter(
        lambda item: item[1].id in first_place and item[0] != first_place[item[1].id]
    ).collect()
    for place, record in sorted(repeats, key=lambda item: item[0]):
        summary.skipped += 1
        if len(summary.problems) < PROBLEMS_REPORTED:
            first = first_place[record.id]
            summary.problems.append(
                f"{_where(place)}: duplicate id {record.id!r} (first seen at {_where(first)})"
            )
    return records.filter(
        lambda item: item[1].id not in first_place or item[0] == first_place[item[1].id]
    ).values()


def _where(place: tuple[str, int]) -> str:
    path, line = place
    return f"{path}:{line}" if line else path


SOURCE_FILE_COLUMN = "__source_file"


def _file_records(item: tuple[str, bytes], columns) -> list[tuple]:
    """((path, line), record or problem line) for one file, read by the ingest readers.

    The readers open files by path, so a remote file is read from a local copy
    (named with its own extension, which chooses the reader).
    """
    uri, data = item
    extension = os.path.splitext(uri.rstrip("/"))[1].lower()
    if extension not in sources.ARTICLE_EXTENSIONS:
        return []
    display = uri[len("file:"):] if uri.startswith("file:") else uri
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "input" + extension)
        with open(copy, "wb") as handle:
            handle.write(data)
        return [_placed(result, display) for result in sources.read_file(copy, display, columns)]


def _placed(result, display: str) -> tuple:
    """((path, line), record or problem line): the place orders problems and repeated ids."""
    if isinstance(result, sources.InputError):
        return (display, result.line or 0), str(result)
    line = (result.source_path or "").rsplit(":", 1)[-1]
    return (display, int(line) if line.isdigit() else 0), result


def _parquet_records(partition: int, rows: Iterator, columns) -> Iterator[tuple]:
    """((file, partition and row), record or problem line) for Parquet rows."""
    for number, row in enumerate(rows, start=1):
        fields = row.asDict()
        path = fields.pop(SOURCE_FILE_COLUMN)
        fields = {key: _text_value(value) for key, value in fields.items()}
        result = sources.record_from_mapping(fields, columns, path)
        place = (path, partition * 10**9 + number)
        yield place, (result if isinstance(result, sources.ArticleRecord) else str(result))


def _text_value(value):
    """Parquet dates and timestamps as the ISO text the readers expect."""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _refuse_other_articles(spark, db, db_path: str, articles) -> None:
    """Input mode writes into the database: it must hold no article outside the input."""
    stored = [row[0] for row in db.execute("SELECT id FROM articles")]
    if not stored:
        return
    others = spark.sparkContext.parallelize(stored).subtract(articles.map(lambda a: a.id))
    example = others.take(1)
    if example:
        raise sources.InputError(
            f"{db_path}: holds articles that are not in the input (e.g. {example[0]!r}); "
            "use a new database, or `ingest` the input and run `match --engine spark` on it"
        )


def _write_articles(db, articles, params) -> None:
    """Store the prepared articles with ingest's batch writer (index rows included)."""
    ingest_summary = pipeline.IngestSummary()
    for batch in pipeline._batches(articles.toLocalIterator(), pipeline.BATCH_SIZE):
        pipeline._write_batch(db, batch, ingest_summary, params)


def _dumps(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(data: bytes | bytearray):
    return pickle.loads(bytes(data))


def _segment_rows(article: pipeline.PreparedArticle, params) -> list[tuple]:
    """One row per segment: its stored fields, signatures, LSH keys and what alignment reads.

    ``pipeline._article_row`` gives the article row ingest writes, so the facts
    (title, word count, inferred fields) are those the local engine reads back.
    """
    stored = pipeline._article_row(article, now="")
    removed = [(span.start, span.end) for span in article.cleaned.removed]
    spans = [(segment.start, segment.end) for segment in article.segments]
    credits = [(c.kind, c.agency, c.text, c.start, c.end) for c in article.cleaned.credits]
    rows = []
    for segment in article.segments:
        fields = match.SegmentFields(
            article.id, segment.start, segment.end, segment.word_count, segment.title,
            stored["raw_text"], stored["outlet"], stored["published"], stored["inferred_fields"],
            stored["title"], stored["word_count"],
        )
        data = match.segment_data(segment.segment_id, fields, removed, spans, credits)
        signed = segment.signatures
        keys = index.band_keys(signed, params)
        rows.append((
            segment.segment_id, article.id, segment.number, segment.title, segment.start,
            segment.end, segment.word_count, stored["title"] or segment.title,
            stored["published"], _dumps(signed), signed.story.astype(np.uint32).tobytes(),
            int(signed.story_word_count), _dumps(data),
            [kind == "text" for kind, _, _ in keys], [band for _, band, _ in keys],
            [hash_ for _, _, hash_ in keys],
        ))
    return rows


# Python hands Spark arrays rather than many small rows, and Spark hands Python
# arrays rather than arrays of structs: converting rows costs about three times more.
SEGMENT_SCHEMA = (
    "segment_id string, article_id string, number int, title string, start_char int, "
    "end_char int, word_count int, node_title string, published string, signatures binary, "
    "story binary, story_words int, matcher binary, "
    "key_is_text array<boolean>, key_band array<int>, key_hash array<long>"
)


def _segments_frame(spark, articles, params):
    return spark.createDataFrame(
        articles.flatMap(partial(_segment_rows, params=params)), SEGMENT_SCHEMA, verifySchema=False
    )


def _keys_frame(segments):
    """One row per (segment, LSH key): kind 'text' or 'story', as in ``lsh_bands``."""
    from pyspark.sql import functions as F

    return segments.select(
        "segment_id", "article_id",
        F.inline(F.arrays_zip(
            F.col("key_is_text").alias("is_text"), F.col("key_band").alias("band"),
            F.col("key_hash").alias("hash"),
        )),
    ).select(
        F.when(F.col("is_text"), "text").otherwise("story").alias("kind"), "band", "hash",
        "segment_id", "article_id",
    )


# ------------------------------------------------------------------------------
# 2-3. Buckets and candidates


def _band_hits(keys):
    """(query_id, member_id, text_hits, story_hits) for every pair sharing a readable bucket."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    bucket = Window.partitionBy("kind", "band", "hash")
    shared = keys.withColumn("bucket_size", F.count("*").over(bucket)).where("bucket_size > 1")
    readable = shared.withColumn(
        "position", F.row_number().over(bucket.orderBy("segment_id"))
    ).where(F.col("position") <= index.MAX_BUCKET_READ)
    queries = shared.select(
        "kind", "band", "hash", F.col("segment_id").alias("query_id"),
        F.col("article_id").alias("query_article"),
    )
    members = readable.select(
        "kind", "band", "hash", F.col("segment_id").alias("member_id"),
        F.col("article_id").alias("member_article"),
    )
    return (
        queries.join(members, ["kind", "band", "hash"])
        .where(F.col("query_article") != F.col("member_article"))
        .groupBy("query_id", "member_id")
        .agg(
            F.sum(F.when(F.col("kind") == "text", 1).otherwise(0)).alias("text_hits"),
            F.sum(F.when(F.col("kind") == "story", 1).otherwise(0)).alias("story_hits"),
        )
    )


def _candidate_lists(spark, hits, segments):
    """(query_id, rank, member_id, shares_text): each query's ``match.best_candidates``."""
    from pyspark.sql import functions as F

    query_signatures = segments.select(
        F.col("segment_id").alias("query_id"), F.col("signatures").alias("query_signatures")
    )
    by_query = _grouped_arrays(hits, ["member_id", "text_hits", "story_hits"])
    pools = _exploded(spark.createDataFrame(
        by_query.rdd.map(_scoring_pool),
        "query_id string, member_id array<string>, text_hits array<int>, story_hits array<int>",
        verifySchema=False,
    ), "pool_rank")
    stories = segments.select(F.col("segment_id").alias("member_id"), "story", "story_words")
    pools_with_stories = _grouped_arrays(
        pools.join(stories, "member_id"),
        ["pool_rank", "member_id", "text_hits", "story_hits", "story", "story_words"],
    ).join(query_signatures, "query_id")
    chosen = _exploded(spark.createDataFrame(
        pools_with_stories.rdd.map(_chosen_for_scoring),
        "query_id string, member_id array<string>, text_hits array<int>, "
        "story_hits array<int>, story_jaccard array<double>",
        verifySchema=False,
    ), "chosen_rank")
    windows = segments.select(
        F.col("segment_id").alias("member_id"), F.col("signatures").alias("member_signatures")
    )
    chosen_with_windows = _grouped_arrays(
        chosen.join(windows, "member_id"),
        ["chosen_rank", "member_id", "text_hits", "story_hits", "story_jaccard",
         "member_signatures"],
    ).join(query_signatures, "query_id")
    return _exploded(spark.createDataFrame(
        chosen_with_windows.rdd.map(_best_candidates),
        "query_id string, member_id array<string>, shares_text array<boolean>",
        verifySchema=False,
    ), "rank")


def _grouped_arrays(frame, columns: list[str]):
    """One row per query_id with one array per column, all in the same (arbitrary) order."""
    from pyspark.sql import functions as F

    grouped = frame.groupBy("query_id").agg(F.collect_list(F.struct(*columns)).alias("items"))
    return grouped.select(
        "query_id", *(F.col("items").getField(column).alias(column) for column in columns)
    )


def _exploded(frame, rank_column: str):
    """The reverse: one row per array position, the position as ``rank_column``."""
    from pyspark.sql import functions as F

    arrays = [column for column in frame.columns if column != "query_id"]
    return frame.select(
        "query_id",
        F.posexplode(F.arrays_zip(*arrays)).alias(rank_column, "item"),
    ).select("query_id", rank_column, *(F.col("item").getField(c).alias(c) for c in arrays))


def _scoring_pool(row) -> tuple:
    """The members whose story signature ``index.candidates`` would read, in its order."""
    text_hits = Counter({m: hits for m, hits in zip(row.member_id, row.text_hits) if hits})
    story_hits = Counter({m: hits for m, hits in zip(row.member_id, row.story_hits) if hits})
    pool = index.scoring_pool(*index.rank_band_hits(text_hits, story_hits))
    return (
        row.query_id, pool, [text_hits[m] for m in pool], [story_hits[m] for m in pool],
    )


def _chosen_for_scoring(row) -> tuple:
    """The members whose text windows ``index.candidates`` would score, in its order."""
    query = _loads(row.query_signatures)
    order = sorted(range(len(row.pool_rank)), key=row.pool_rank.__getitem__)
    pool = [row.member_id[i] for i in order]
    text_hits = {row.member_id[i]: row.text_hits[i] for i in order}
    story_hits = {row.member_id[i]: row.story_hits[i] for i in order}
    worded = [i for i in order if row.story_words[i] > 0]  # _story_jaccards reads only these
    stories = np.frombuffer(b"".join(row.story[i] for i in worded), dtype=np.uint32)
    jaccards = index.estimate_story_jaccards(
        query, [row.member_id[i] for i in worded], stories.reshape(len(worded), -1)
    )
    text_first = [m for m in pool if text_hits[m]]
    story_only = [m for m in pool if not text_hits[m]]
    chosen = index.choose_for_scoring(text_first, story_only, jaccards)
    return (
        row.query_id, chosen, [text_hits[m] for m in chosen], [story_hits[m] for m in chosen],
        [jaccards.get(m, 0.0) for m in chosen],
    )


def _best_candidates(row) -> tuple:
    """``index.score_candidates`` then ``match.best_candidates`` for one query segment."""
    query = _loads(row.query_signatures)
    order = sorted(range(len(row.chosen_rank)), key=row.chosen_rank.__getitem__)
    windows = {}
    for i in order:
        signed = _loads(row.member_signatures[i])
        windows[row.member_id[i]] = (signed.text, signed.text_shingle_counts)
    hits = index.score_candidates(
        query,
        windows,
        Counter(dict(zip(row.member_id, row.text_hits))),
        Counter(dict(zip(row.member_id, row.story_hits))),
        dict(zip(row.member_id, row.story_jaccard)),
    )
    best = match.best_candidates(hits)
    return row.query_id, [m for m, _ in best], [shares_text for _, shares_text in best]


# ------------------------------------------------------------------------------
# 4-5. Pairs and verification


def _pairs_to_compare(candidates):
    """Each unordered pair once: from the smaller segment id's list when it is there.

    The local engine matches segments in id order and skips pairs already compared,
    so a pair is compared when the first of its two segments lists it.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pair = Window.partitionBy("first_id", "second_id").orderBy("query_id")
    return (
        candidates.withColumn("first_id", F.least("query_id", "member_id"))
        .withColumn("second_id", F.greatest("query_id", "member_id"))
        .withColumn("turn", F.row_number().over(pair))
        .where("turn = 1")
        .select("query_id", "rank", "member_id", "shares_text")
    )


MATCH_COLUMNS = (
    "source_article_id", "derived_article_id", "source_segment_id", "derived_segment_id",
    "label", "source_containment", "derived_containment", "jaccard", "credited",
    "direction_confidence", "scores", "evidence", "computed_at",
)
PASSAGE_COLUMNS = (
    "kind", "source_start", "source_end", "derived_start", "derived_end", "similarity", "edits",
)
RESULT_SCHEMA = (
    "query_id string, rank int, source_article_id string, derived_article_id string, "
    "source_segment_id string, derived_segment_id string, label string, "
    "source_containment double, derived_containment double, jaccard double, credited int, "
    "direction_confidence double, scores string, evidence string, computed_at string, "
    "passages array<struct<kind: string, source_start: int, source_end: int, "
    "derived_start: int, derived_end: int, similarity: double, edits: string>>"
)


def _compared(spark, pairs, segments):
    """Compare every pair with ``match.compare_segments``: one row per pair worth storing."""
    from pyspark.sql import functions as F

    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    query_data = segments.select(
        F.col("segment_id").alias("query_id"), F.col("matcher").alias("query_matcher")
    )
    member_data = segments.select(
        F.col("segment_id").alias("member_id"), F.col("matcher").alias("member_matcher")
    )
    joined = (
        pairs.join(query_data, "query_id")
        .join(member_data, "member_id")
        .sortWithinPartitions("member_id", "query_id")  # a segment's pairs in a row: prepared once
    )
    return spark.createDataFrame(
        joined.rdd.mapPartitions(partial(_compare_partition, now=now)),
        RESULT_SCHEMA,
        verifySchema=False,
    )


def _compare_partition(rows: Iterator, now: str) -> Iterator[tuple]:
    segments: OrderedDict[str, match._SegmentData] = OrderedDict()

    def segment(segment_id: str, data: bytes):
        """Unpickled once while in use, so its alignment preparation is reused, as locally."""
        if segment_id in segments:
            segments.move_to_end(segment_id)
        else:
            segments[segment_id] = _loads(data)
            if len(segments) > match.PREPARED_CACHE_SIZE:
                segments.popitem(last=False)
        return segments[segment_id]

    for row in rows:
        result = match.compare_segments(
            segment(row.query_id, row.query_matcher),
            segment(row.member_id, row.member_matcher),
            row.shares_text,
        )
        if result is None:
            continue
        stored = match.match_row(result, now)
        if set(stored) != set(MATCH_COLUMNS):
            raise RuntimeError(f"match.match_row columns changed: {sorted(stored)}")
        passages = [
            tuple(_plain(passage[column]) for column in PASSAGE_COLUMNS)
            for passage in match.passage_rows(result)
        ]
        yield (row.query_id, row.rank, *(_plain(stored[c]) for c in MATCH_COLUMNS), passages)


def _plain(value):
    """numpy scalars as Python ones (Spark's converters take only those)."""
    return value.item() if isinstance(value, np.generic) else value


def _numbered_results(spark, results):
    """Results in the local engine's write order, numbered from 1 as SQLite numbers them."""
    ordered = results.orderBy("query_id", "rank")
    schema = "id long, " + RESULT_SCHEMA
    return spark.createDataFrame(
        ordered.rdd.zipWithIndex().map(lambda pair: (pair[1] + 1, *pair[0])),
        schema,
        verifySchema=False,
    )


# ------------------------------------------------------------------------------
# 6. Writing


def _write_results_parquet(numbered, segments, out: str) -> None:
    from pyspark.sql import functions as F

    numbered.select("id", *MATCH_COLUMNS).write.mode("overwrite").parquet(f"{out}/matches")
    numbered.select(F.col("id").alias("match_id"), F.posexplode("passages")).select(
        "match_id", "pos", "col.*"
    ).withColumnRenamed("pos", "position").write.mode("overwrite").parquet(f"{out}/passages")
    segments.select(
        F.col("segment_id").alias("id"), "article_id", F.col("number").alias("segment_number"),
        "title", "start_char", "end_char", "word_count",
    ).write.mode("overwrite").parquet(f"{out}/segments")


def _write_matches(db, numbered, segments) -> None:
    """Replace the stored matches with the numbered results, in their order (ids agree)."""
    with db.conn:
        db.conn.execute("DELETE FROM lineage")
        db.conn.execute("DELETE FROM clusters")
        store.clear_matches(db)
        store.set_meta(db, match.LINEAGE_STALE_KEY, True)
    rows = numbered.orderBy("id").toLocalIterator()
    while True:
        chunk = list(islice(rows, MATCHES_PER_TRANSACTION))
        if not chunk:
            break
        with db.conn:
            for row in chunk:
                passages = [dict(zip(PASSAGE_COLUMNS, passage)) for passage in row.passages]
                stored_id = match.store_match(db, {c: row[c] for c in MATCH_COLUMNS}, passages)
                if stored_id != row.id:
                    raise RuntimeError(f"match {row.id} was stored as {stored_id}")
    matched = (row.segment_id for row in segments.select("segment_id").toLocalIterator())
    while True:
        chunk = list(islice(matched, 500))
        if not chunk:
            break
        with db.conn:
            marks = ",".join("?" * len(chunk))
            db.conn.execute(f"UPDATE segments SET match_pending = 0 WHERE id IN ({marks})", chunk)


CLUSTER_SCHEMA = (
    "id long, title string, origin_article_id string, article_count long, "
    "derived_count long, uncredited_count long, first_published string, last_published string"
)
LINEAGE_SCHEMA = (
    "segment_id string, article_id string, cluster_id long, parent_article_id string, "
    "parent_segment_id string, match_id long, label string, generation long, is_origin long"
)


def _write_lineage_parquet(spark, db, numbered, segments, out: str) -> int:
    """Clusters and lineage as Parquet: read back from SQLite, else built on the driver.

    Without a database, ``lineage.build_clusters`` runs on the matches' edges as
    ``match.rebuild_lineage`` would run it (the graph is one row per match).
    """
    if db is not None:
        clusters = [tuple(row) for row in db.execute(
            "SELECT id, title, origin_article_id, article_count, derived_count, "
            "uncredited_count, first_published, last_published FROM clusters ORDER BY id"
        )]
        members = [tuple(row) for row in db.execute(
            "SELECT segment_id, article_id, cluster_id, parent_article_id, parent_segment_id, "
            "match_id, label, generation, is_origin FROM lineage ORDER BY segment_id"
        )]
    else:
        clusters, members = _lineage_on_driver(numbered, segments)
    spark.createDataFrame(clusters, CLUSTER_SCHEMA).write.mode("overwrite").parquet(
        f"{out}/clusters"
    )
    spark.createDataFrame(members, LINEAGE_SCHEMA).write.mode("overwrite").parquet(
        f"{out}/lineage"
    )
    return len(clusters)


def _lineage_on_driver(numbered, segments) -> tuple[list[tuple], list[tuple]]:
    from pyspark.sql import functions as F

    edges = [
        match.match_edge(*row)
        for row in numbered.orderBy("id").select(
            "id", "source_segment_id", "derived_segment_id", "label", "scores",
            "direction_confidence", "credited",
        ).toLocalIterator()
    ]
    matched = (
        numbered.select(F.col("source_segment_id").alias("segment_id"))
        .union(numbered.select(F.col("derived_segment_id").alias("segment_id")))
        .distinct()
    )
    nodes = {
        row.segment_id: lineage.SegmentNode(
            row.segment_id, row.article_id, row.node_title, row.published
        )
        for row in segments.join(matched, "segment_id")
        .select("segment_id", "article_id", "node_title", "published")
        .toLocalIterator()
    }
    clusters, members = [], []
    for cluster_id, cluster in enumerate(lineage.build_clusters(nodes, edges), start=1):
        cluster_row, member_rows = match.cluster_rows(cluster_id, cluster)
        clusters.append(tuple(cluster_row.values()))
        members += [tuple(member.values()) for member in member_rows]
    return clusters, members


# ------------------------------------------------------------------------------
# spark-submit / python -m entry point


def main(argv: list[str] | None = None) -> None:
    """``python -m datasette_provenance.spark`` and the spark-submit main file."""
    import click

    from datasette_provenance import cli

    @click.command(name="datasette_provenance.spark")
    @click.option("--db", type=click.Path(dir_okay=False),
                  help="SQLite database: read articles from it, or (with --input) write them "
                       "to it; matches, clusters and lineage are written to it")
    @click.option("--input", "inputs", multiple=True, metavar="PATH",
                  help="Articles: *.parquet (file, directory, glob), or files ingest reads "
                       "(.jsonl, .csv, .txt, .html); local paths or URIs (s3a://, hdfs://)")
    @click.option("--parquet-out", metavar="DIR",
                  help="Write matches, passages, segments, clusters and lineage here as Parquet")
    @click.option("--master", default=None,
                  help="Spark master URL [default: spark-submit's, else local[*]]")
    @click.option("--conf", "settings", multiple=True, metavar="KEY=VALUE",
                  help="Spark setting, repeatable (e.g. spark.sql.shuffle.partitions=400)")
    @cli._column_options
    def command(db, inputs, parquet_out, master, settings, **column_options):
        """Match articles on Apache Spark: the same results as `datasette-provenance match`."""
        columns = sources.ColumnNames(
            **{name[: -len("_column")]: value for name, value in column_options.items()}
        )
        config = dict(setting.split("=", 1) for setting in settings)
        with cli._one_line_errors():
            session = spark_session(master, config)
            try:
                summary = run(session, db_path=db, inputs=inputs, parquet_out=parquet_out,
                              columns=columns)
            finally:
                session.stop()
        for problem in summary.problems:
            click.echo(f"skipped: {problem}", err=True)
        for line in summary.lines():
            click.echo(line)
        if summary.skipped:
            sys.exit(1)

    command.main(args=argv, prog_name="python -m datasette_provenance.spark")


if __name__ == "__main__":
    # Re-import under the package name: functions shipped to workers are then
    # pickled by reference to the installed module, not by value from __main__.
    from datasette_provenance.spark import main as package_main

    package_main()
