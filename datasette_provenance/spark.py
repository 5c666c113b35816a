"""The Spark engine: the local engine's matching, distributed with Apache Spark.

    datasette-provenance match news.db --engine spark [--spark-master URL] [--parquet-out DIR]
    python -m datasette_provenance.spark --input 'articles/*.parquet' --parquet-out out/ [--db news.db]
    spark-submit ... datasette_provenance/spark.py --input s3a://bucket/articles/*.parquet ...

Spark only moves data; every decision is made by the functions the local engine
calls, run inside ``mapPartitions``:

1. prepare     ``ingest.prepare_article`` cleans, segments and signs each article;
               ``segments.segment_data`` builds what alignment needs from the rows
               ingest would store; ``lsh.band_keys`` gives each segment's LSH keys.
2. buckets     a join on (kind, band, hash) stands for the ``lsh_bands`` lookups. Each
               bucket offers its first ``CandidateSettings.max_bucket_read`` members in
               segment id order, as ``index.candidates`` reads them; every (query,
               member) pair counts the text and story keys it shares (own article
               excluded). Story buckets are read from the windows a lookup reads
               (``lsh.story_lookup_buckets``: its own, both neighbours, the undated).
3. candidates  per query segment: ``lsh.rank_band_hits`` and ``scoring_pool``; story
               signatures joined in, ``estimate_story_jaccards`` and ``choose_for_scoring``;
               text windows joined in, ``score_candidates``; ``pairs.best_candidates``.
4. pairs       each unordered pair is compared once, from the query the local engine
               reaches first (it matches segments in id order), with that query's
               ``shares_text`` and at that query's place in the order of results.
5. verify      ``pairs.compare_segments``, then ``update.match_row``/``passage_rows``.
6. write       Parquet; SQLite through ``store.store_match`` in the local engine's order,
               so match ids agree, then ``update.rebuild_lineage``.

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
    # names (store, ingest, matching, ...) must not shadow anything imported by name.
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
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import islice
from typing import Iterable, Iterator

import numpy as np

from datasette_provenance import ingest, readers, store
from datasette_provenance.matching import corpus, index, lineage, lsh, stories, update
from datasette_provenance.matching.pairs import (
    StoryLink,
    best_candidates,
    compare_segments,
    storm_candidates,
    story_candidate,
    story_link,
)
from datasette_provenance.matching.segments import (
    PREPARED_CACHE_SIZE,
    SegmentData,
    SegmentFields,
    opening,
    segment_data,
)
from datasette_provenance.parameters import (
    DEFAULT_CANDIDATES,
    DEFAULT_PARAMS,
    CandidateSettings,
    SignatureParams,
    check_matching_settings,
)
from datasette_provenance.options import column_names, column_options, one_line_errors
from datasette_provenance.vocabulary import DERIVED_LABELS

DEFAULT_MASTER = "local[*]"
INSTALL_HINT = "pip install 'datasette-provenance[spark]'"
# Session settings unless the caller sets them: no progress bars (the summary says
# what happened), and adaptive execution, which sizes shuffles to the data.
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
class SparkSummary(update.MatchSummary):
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
    with _session(master, config) as session:
        return run(session, db_path=db_path, parquet_out=parquet_out)


@contextmanager
def _session(master: str | None, config: dict | None):
    """A session for one command, stopped afterwards unless it was running already."""
    require_spark()
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    session = spark_session(master, config)
    try:
        yield session
    finally:
        if running is None:
            session.stop()


def run(
    spark,
    *,
    db_path: str | None = None,
    inputs: Iterable[str] = (),
    parquet_out: str | None = None,
    columns: readers.ColumnNames | None = None,
    candidates: CandidateSettings = DEFAULT_CANDIDATES,
) -> SparkSummary:
    """Match every article of the database at ``db_path``, or of ``inputs``, on ``spark``.

    With ``inputs`` (Parquet, JSONL or any file kind ``ingest`` reads; local paths or
    URIs Spark can read) the articles are also written to ``db_path`` when given, with
    ingest's own row writer; the database must not hold other articles. Results go to
    ``parquet_out`` and/or ``db_path`` (replacing every stored match). ``candidates``
    decide which segments are compared, as for ``update.update_matches``. Raises
    ``InputError`` for a request that cannot be met, before anything is written.
    """
    inputs = list(inputs)
    check_request(db_path, inputs, parquet_out)
    summary = SparkSummary()
    timer = _StageTimer(summary.stage_seconds)
    started = time.perf_counter()
    db = store.connect(db_path) if db_path else None
    cached: list = []  # everything persisted, released at the end
    try:
        params = _signature_params(db)
        with timer("prepare"):
            segments = _prepared_segments(spark, db, db_path, inputs, columns, params, summary,
                                          cached)
        with timer("candidates"):
            lookups = _story_lookups(spark, segments)
            hits = _persist(_band_hits(_keys_frame(segments), lookups, candidates), cached)
            hits.count()
            found = _persist(_candidate_lists(spark, hits, segments, candidates), cached)
            found.count()
        with timer("compare"):
            rarity = _story_rarity(spark, segments)
            pairs = _persist(_pairs_to_compare(found), cached)
            numbered = _numbered_results(
                spark, _compared_pairs(spark, pairs, segments, rarity, summary, cached), cached
            )
            story_candidates = _persist(
                _story_candidates(spark, pairs, segments, rarity, numbered), cached
            )
            story_candidates.count()
            links = _same_story(story_candidates)
        if parquet_out:
            with timer("write parquet"):
                links.write.mode("overwrite").parquet(f"{parquet_out}/story_links")
                summary.clusters = _write_parquet(
                    spark, numbered, links, segments, rarity, parquet_out
                )
        if db is not None:
            with timer("write sqlite"):
                _write_matches(db, numbered, segments, candidates)
                _write_story_candidates(db, story_candidates)
                summary.clusters = update.rebuild_lineage(db)
    finally:
        for data in cached:
            data.unpersist()
        if db is not None:
            db.conn.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _prepared_segments(spark, db, db_path, inputs, columns, params, summary, cached):
    """Read, clean, segment and sign every article: one row per segment, numbered."""
    reading: list = []
    if inputs:
        records = _input_records(spark, inputs, columns, summary, reading)
    else:
        records = _database_records(spark, db)
    summary.articles = records.count()
    articles = records.map(partial(ingest.prepare_article, params=params))
    if inputs and db is not None:  # ingest's writer needs the prepared articles too
        articles = _persist(articles, reading)
        _refuse_other_articles(spark, db, db_path, articles)
        _write_articles(db, articles, params)
    names = _outlet_names(db, records)
    prepared = _persist(_segments_frame(spark, articles, params, names), reading)
    summary.segments = prepared.count()
    segments = _persist(_with_ordinals(prepared), cached)
    segments.count()
    for data in reading:
        data.unpersist()
    return segments


def _outlet_names(db, records) -> dict[str, tuple[str, ...]]:
    """Other names of each outlet, as the local engine reads them from ``outlet_names``: the
    stored ones (manifest, URLs) and the URL domains of the records read now."""
    names: dict[str, set[str]] = {}
    if db is not None:
        for outlet, name in db.execute("SELECT outlet, name FROM outlet_names"):
            names.setdefault(outlet, set()).add(name)
    for outlet, domain in (
        records.map(lambda r: (r.outlet, readers.outlet_domain(r.url) if r.outlet else None))
        .filter(lambda pair: pair[1] and pair[1] != pair[0].casefold())
        .distinct()
        .collect()
    ):
        names.setdefault(outlet, set()).add(domain)
    return {outlet: tuple(sorted(found)) for outlet, found in names.items()}


def _compared_pairs(spark, pairs, segments, rarity, summary, cached):
    """Each pair compared once; the rows worth storing (with counts in ``summary``)."""
    summary.pairs_compared = pairs.count()
    results = _persist(_compared(spark, pairs, segments, rarity), cached)
    labels = dict(results.groupBy("label").count().collect())
    summary.matches_stored = sum(labels.values())
    summary.derived = sum(labels.get(label, 0) for label in DERIVED_LABELS)
    return results


def check_request(db_path: str | None, inputs: list[str], parquet_out: str | None) -> None:
    """Refuse, before Spark starts, a run without input or output, or with a missing path."""
    if not db_path and not inputs:
        raise readers.InputError("nothing to match: give a database or --input paths")
    if not db_path and not parquet_out:
        raise readers.InputError("no output: give a database (--db) or --parquet-out")
    if db_path and not inputs and not os.path.exists(db_path):
        raise readers.InputError(f"{db_path}: no such file or directory")
    for path in inputs:
        local = "://" not in path and not any(char in path for char in "*?[")
        if local and not os.path.exists(path):
            raise readers.InputError(f"{path}: no such file or directory")


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


def _signature_params(db) -> SignatureParams:
    """The database's params (recorded on first use), as ``update.update_matches`` takes them."""
    if db is None:
        return DEFAULT_PARAMS
    params = index.stored_params(db) or DEFAULT_PARAMS
    with db.conn:
        index.check_params(db, params)
    return params


# ------------------------------------------------------------------------------
# 1. Reading and preparing articles


def _database_records(spark, db):
    """The stored articles as records (metadata as stored, manifest edits included)."""
    records = [
        readers.ArticleRecord(
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
    record per row; any other path is read file by file with ``readers.read_file``.
    An id seen twice keeps its first place (by file, then line), as ``ingest`` does.
    """
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
    extension = readers.paths.extension(uri.rstrip("/"))
    if extension not in readers.READERS:
        return []
    display = uri[len("file:"):] if uri.startswith("file:") else uri
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "input" + extension)
        with open(copy, "wb") as handle:
            handle.write(data)
        results = list(readers.read_file(copy, display, columns))
    if uri.startswith("file:"):  # a local file is stored relative to here, as ingest does
        stored = os.path.relpath(display)
        for result in results:
            if isinstance(result, readers.ArticleRecord) and result.source_path:
                result.source_path = stored + result.source_path[len(display) :]
    return [_placed(result, display) for result in results]


def _placed(result, display: str) -> tuple:
    """((path, line), record or problem line): the place orders problems and repeated ids."""
    if isinstance(result, readers.InputError):
        return (display, result.line or 0), str(result)
    line = (result.source_path or "").rsplit(":", 1)[-1]
    return (display, int(line) if line.isdigit() else 0), result


def _parquet_records(partition: int, rows: Iterator, columns) -> Iterator[tuple]:
    """((file, partition and row), record or problem line) for Parquet rows."""
    for number, row in enumerate(rows, start=1):
        fields = row.asDict()
        path = fields.pop(SOURCE_FILE_COLUMN)
        fields = {key: _text_value(value) for key, value in fields.items()}
        result = readers.record_from_mapping(fields, columns, path)
        place = (path, partition * 10**9 + number)
        yield place, (result if isinstance(result, readers.ArticleRecord) else str(result))


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
        raise readers.InputError(
            f"{db_path}: holds articles that are not in the input (e.g. {example[0]!r}); "
            "use a new database, or `ingest` the input and run `match --engine spark` on it"
        )


def _write_articles(db, articles, params) -> None:
    """Store the prepared articles with ingest's batch writer, index rows flushed as ingest does."""
    with store.write_transaction(db):
        corpus.ensure_story_terms(db)  # as ingest does: the writer then counts every new segment
    ingest_summary = ingest.IngestSummary()
    for batch in ingest.batches(articles.toLocalIterator(), ingest.BATCH_SIZE):
        ingest.write_batch(db, batch, ingest_summary, params)
        ingest.flush_if_due(db)
    index.flush(db)


def _dumps(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(data: bytes | bytearray):
    return pickle.loads(bytes(data))


def _segment_rows(
    article: ingest.PreparedArticle, params, outlet_names: dict[str, tuple[str, ...]]
) -> list[tuple]:
    """One row per segment: its stored fields, signatures, LSH keys and what alignment reads.

    ``store.article_row`` gives the article row ingest writes, so the facts
    (title, word count, inferred fields) are those the local engine reads back.
    """
    stored = store.article_row(article, now="")
    removed = [(span.start, span.end) for span in article.cleaned.removed]
    spans = [(segment.start, segment.end) for segment in article.segments]
    credits = [
        (c.kind, c.agency, c.text, c.start, c.end, c.form) for c in article.cleaned.credits
    ]
    names = _names_of(outlet_names, stored["outlet"])
    rows = []
    for segment in article.segments:
        fields = SegmentFields(
            article.id, segment.start, segment.end, segment.word_count, segment.title,
            stored["raw_text"], stored["outlet"], stored["published"], stored["inferred_fields"],
            stored["title"], stored["word_count"], stored["url"],
        )
        data = segment_data(segment.segment_id, fields, removed, spans, credits, names)
        signed = segment.signatures
        keys = lsh.band_keys(signed, params)
        undated = lsh.buckets(replace(signed, story_window=0), params)
        rows.append((
            segment.segment_id, article.id, segment.number, segment.title, segment.start,
            segment.end, segment.word_count, stored["title"] or segment.title,
            stored["published"], _dumps(signed),
            signed.story.astype(np.uint32).view(np.int32).tolist(), int(signed.story_word_count),
            _dumps(data),
            [band + (STORY_BAND_OFFSET if kind == "story" else 0) for kind, band, _ in keys],
            [hash_ for _, _, hash_ in keys],
            stored["outlet"], segment.clean_end - segment.clean_start,
            article.clean_text[segment.clean_start : segment.clean_end][:200],
            sorted(set(segment.story_keys)),
            signed.story_window, undated[lsh.story_mask(undated)].tolist(),
        ))
    return rows


def _names_of(outlet_names: dict[str, tuple[str, ...]], outlet: str | None) -> tuple[str, ...]:
    """An outlet's other names in the local engine's order (``SegmentStore.outlet_names``)."""
    return tuple(outlet_names.get(outlet, ())) if outlet else ()


# A story band's number plus this is its key band: one int column tells kind and band.
STORY_BAND_OFFSET = 1 << 16
# Python hands Spark arrays, not many small rows, and Spark hands Python arrays, not
# arrays of structs: converting rows between them costs more than the work on them.
SEGMENT_SCHEMA = (
    "segment_id string, article_id string, number int, title string, start_char int, "
    "end_char int, word_count int, node_title string, published string, signatures binary, "
    "story array<int>, story_words int, matcher binary, key_band array<int>, key_hash array<long>, "
    "outlet string, chars int, opening string, story_keys array<long>, "
    "story_window int, undated_story_buckets array<long>"
)


def _segments_frame(spark, articles, params, outlet_names):
    rows = articles.flatMap(partial(_segment_rows, params=params, outlet_names=outlet_names))
    return spark.createDataFrame(rows, SEGMENT_SCHEMA, verifySchema=False)


def _with_ordinals(segments):
    """Segments numbered in segment id order (``sid``), with their article's number (``aid``).

    Joins, windows and sorts then run on longs; every order the local engine
    takes from segment ids (bucket members, ties, pair turns, result order) is
    the order of ``sid``, which ``monotonically_increasing_id`` keeps after a sort.
    """
    from pyspark.sql import functions as F

    numbered = (
        segments.select("segment_id", "article_id")
        .orderBy("segment_id")
        .withColumn("sid", F.monotonically_increasing_id())
    )
    articles = numbered.groupBy("article_id").agg(F.min("sid").alias("aid"))
    return segments.join(numbered.select("segment_id", "sid"), "segment_id").join(
        articles, "article_id"
    )


def _keys_frame(segments):
    """One row per (segment, LSH key), as ``lsh_bands`` holds them."""
    from pyspark.sql import functions as F

    return segments.select(
        "sid", "aid",
        F.inline(F.arrays_zip(F.col("key_band").alias("band"), F.col("key_hash").alias("hash"))),
    )


# ------------------------------------------------------------------------------
# 2-3. Buckets and candidates


def _story_lookups(spark, segments):
    """One row per (segment, story bucket its lookup reads): ``lsh.story_lookup_buckets``,
    its own publication window and both neighbours, or every window when undated."""
    from pyspark.sql import functions as F

    windows = sorted(row[0] for row in segments.select("story_window").distinct().collect())
    found = spark.createDataFrame(
        segments.select("sid", "aid", "undated_story_buckets", "story_window").rdd.map(
            partial(_story_lookup_row, windows=windows)
        ),
        "sid long, aid long, buckets array<long>",
    )
    return found.select("sid", "aid", F.explode("buckets").alias("bucket")).select(
        F.struct("sid", "aid").alias("q"),
        (F.shiftright("bucket", 1).bitwiseAND(511) + STORY_BAND_OFFSET).alias("band"),
        F.shiftright("bucket", lsh.BUCKET_LOW_BITS).alias("hash"),
    )


def _story_lookup_row(segment, windows: list[int]) -> tuple:
    undated = np.array(segment.undated_story_buckets, dtype=np.int64)
    found = lsh.story_lookup_buckets(undated, segment.story_window, windows)
    return segment.sid, segment.aid, found.tolist()


def _band_hits(keys, story_lookups, settings: CandidateSettings = DEFAULT_CANDIDATES):
    """(query, member, text_hits, story_hits, fingerprint_hits) for every pair sharing a
    readable bucket.

    Each bucket is one row, its members sorted by ``sid``; the first
    ``settings.max_bucket_read`` are readable members, as ``index.candidates``
    reads them. Every member of a text bucket is a query (a self-join with a window costs
    twice as much); a story bucket's queries are the ``story_lookups`` that read it, from
    its publication window and both neighbours. A fingerprint bucket is read whole or,
    past ``max_fingerprint_members``, not at all; a pair counts its fingerprints from
    ``min_fingerprint_hits`` (``lsh``).
    """
    from pyspark.sql import functions as F

    is_fingerprint = F.col("band") == lsh.FINGERPRINT_BAND
    is_story = F.col("band") >= STORY_BAND_OFFSET
    buckets = (
        keys.groupBy("band", "hash")
        .agg(F.collect_list(F.struct("sid", "aid")).alias("members"))
        .select("band", "hash", F.sort_array("members").alias("members"))
    )
    readable = F.slice("members", 1, settings.max_bucket_read).alias("readable")
    text_pairs = (
        buckets.where(~is_fingerprint & ~is_story & (F.size("members") > 1))
        .select("band", F.explode("members").alias("q"), readable)
    )  # a segment alone in its text bucket meets nobody there
    story_pairs = story_lookups.join(buckets.where(is_story), ["band", "hash"]).select(
        "band", "q", readable
    )
    pairs = text_pairs.unionByName(story_pairs).select(
        "band", "q", F.explode("readable").alias("m")
    )
    bands = (
        pairs.where(F.col("q.aid") != F.col("m.aid"))  # never the query's own article
        .groupBy(F.col("q.sid").alias("query"), F.col("m.sid").alias("member"))
        .agg(
            F.sum(F.when(is_story, 0).otherwise(1)).alias("text_hits"),
            F.sum(F.when(is_story, 1).otherwise(0)).alias("story_hits"),
        )
    )
    shared = (
        buckets.where(is_fingerprint & (F.size("members") > 1))
        .where(F.size("members") <= settings.max_fingerprint_members)
        .select(F.explode("members").alias("q"), "members")
        .select("q", F.explode("members").alias("m"))
        .where(F.col("q.aid") != F.col("m.aid"))
        .groupBy(F.col("q.sid").alias("query"), F.col("m.sid").alias("member"))
        .agg(F.count(F.lit(1)).alias("fingerprint_hits"))
        .where(F.col("fingerprint_hits") >= settings.min_fingerprint_hits)
    )
    return bands.join(shared, ["query", "member"], "full_outer").fillna(
        0, ["text_hits", "story_hits", "fingerprint_hits"]
    )


def _with_story_jaccards(pools, segments):
    """Each pool row with ``story_jaccard``: ``lsh.estimate_story_jaccards`` in Spark SQL.

    Equal slots / num_perm, null unless both segments have story words (the only
    estimate mirrored rather than called: shipping each member's story signature
    to Python costs more than the count; tests/test_spark.py checks they agree).
    """
    from pyspark.sql import functions as F

    stories = segments.select("sid", "story", "story_words")
    query_story = stories.select(
        F.col("sid").alias("query"), F.col("story").alias("qs"), F.col("story_words").alias("qw")
    )
    member_story = stories.select(
        F.col("sid").alias("member"), F.col("story").alias("ms"), F.col("story_words").alias("mw")
    )
    equal_slots = F.expr(
        "aggregate(zip_with(qs, ms, (q, m) -> IF(q = m, 1, 0)), 0, (total, x) -> total + x)"
    )
    return (
        pools.join(member_story, "member")
        .join(query_story, "query")
        .select(
            "query", "member", "pool_rank", "text_hits", "story_hits", "fingerprint_hits",
            F.when((F.col("qw") > 0) & (F.col("mw") > 0), equal_slots / F.size("qs"))
            .alias("story_jaccard"),
        )
    )


def _candidate_lists(spark, hits, segments, settings: CandidateSettings = DEFAULT_CANDIDATES):
    """(query, rank, member, shares_text): each query's ``best_candidates``.

    Three Python steps per query, with Spark joins between them bringing what the
    next one reads, as ``index.candidates`` reads it from SQLite: the scoring pool
    (story signatures joined in), the members chosen for scoring (text windows
    joined in), then the scored candidates.
    """
    from pyspark.sql import functions as F

    hit_columns = ["member", "text_hits", "story_hits", "fingerprint_hits"]
    pools = _exploded(spark.createDataFrame(
        _grouped_arrays(hits, hit_columns).rdd.map(partial(_scoring_pool, settings=settings)),
        "query long, member array<long>, text_hits array<int>, story_hits array<int>, "
        "fingerprint_hits array<int>",
        verifySchema=False,
    ), "pool_rank")
    pools_with_jaccards = _grouped_arrays(
        _with_story_jaccards(pools, segments), ["pool_rank", *hit_columns, "story_jaccard"]
    )
    chosen = _exploded(spark.createDataFrame(
        pools_with_jaccards.rdd.map(partial(_chosen_for_scoring, settings=settings)),
        "query long, member array<long>, text_hits array<int>, story_hits array<int>, "
        "fingerprint_hits array<int>, story_jaccard array<double>",
        verifySchema=False,
    ), "chosen_rank")
    windows = segments.select(
        F.col("sid").alias("member"), F.col("signatures").alias("member_signatures"),
        F.col("published").alias("member_published"),
    )
    query_signatures = segments.select(
        F.col("sid").alias("query"), F.col("signatures").alias("query_signatures")
    )
    chosen_with_windows = _grouped_arrays(
        chosen.join(windows, "member"),
        ["chosen_rank", *hit_columns, "story_jaccard", "member_signatures", "member_published"],
    ).join(query_signatures, "query")
    return _exploded(spark.createDataFrame(
        chosen_with_windows.rdd.map(partial(_best_candidates, settings=settings)),
        "query long, member array<long>, shares_text array<boolean>",
        verifySchema=False,
    ), "rank")


def _grouped_arrays(frame, columns: list[str]):
    """One row per query with one array per column, all in the same (arbitrary) order."""
    from pyspark.sql import functions as F

    grouped = frame.groupBy("query").agg(F.collect_list(F.struct(*columns)).alias("items"))
    return grouped.select(
        "query", *(F.col("items").getField(column).alias(column) for column in columns)
    )


def _exploded(frame, rank_column: str):
    """The reverse: one row per array position, the position as ``rank_column``."""
    from pyspark.sql import functions as F

    arrays = [column for column in frame.columns if column != "query"]
    return frame.select(
        "query", F.posexplode(F.arrays_zip(*arrays)).alias(rank_column, "item")
    ).select("query", rank_column, *(F.col("item").getField(c).alias(c) for c in arrays))


def _scoring_pool(row, settings: CandidateSettings) -> tuple:
    """The members whose story signature ``index.candidates`` would read, in its order."""
    fingerprint_hits = Counter(
        {m: hits for m, hits in zip(row.member, row.fingerprint_hits) if hits}
    )
    # As index.candidates: a member sharing only fingerprints has text hits, 0 of them.
    text_hits = Counter(
        {m: hits for m, hits in zip(row.member, row.text_hits) if hits or m in fingerprint_hits}
    )
    story_hits = Counter({m: hits for m, hits in zip(row.member, row.story_hits) if hits})
    pool = lsh.scoring_pool(*lsh.rank_band_hits(text_hits, story_hits, fingerprint_hits), settings)
    return (
        row.query, pool, [text_hits[m] for m in pool], [story_hits[m] for m in pool],
        [fingerprint_hits[m] for m in pool],
    )


def _chosen_for_scoring(row, settings: CandidateSettings) -> tuple:
    """The members whose text windows ``index.candidates`` would score, in its order.

    The pool holds every text-hit member before any story-only one (or only the
    first ``MAX_SCORED_CANDIDATES`` of them), and story-only members outside it
    have no estimate, so the pool alone decides as the full lists would.
    """
    order = sorted(range(len(row.pool_rank)), key=row.pool_rank.__getitem__)
    pool = [row.member[i] for i in order]
    text_hits = dict(zip(row.member, row.text_hits))
    story_hits = dict(zip(row.member, row.story_hits))
    fingerprint_hits = dict(zip(row.member, row.fingerprint_hits))
    jaccards = {m: j for m, j in zip(row.member, row.story_jaccard) if j is not None}
    text_first = [m for m in pool if text_hits[m] or fingerprint_hits[m]]
    story_only = [m for m in pool if not (text_hits[m] or fingerprint_hits[m])]
    chosen = lsh.choose_for_scoring(text_first, story_only, jaccards, settings)
    return (
        row.query, chosen, [text_hits[m] for m in chosen], [story_hits[m] for m in chosen],
        [fingerprint_hits[m] for m in chosen], [jaccards.get(m, 0.0) for m in chosen],
    )


def _best_candidates(row, settings: CandidateSettings) -> tuple:
    """``lsh.score_candidates``, ``best_candidates`` then ``storm_candidates`` (a copy of a
    syndication storm is aligned with a few of its copies) for one query segment."""
    query = _loads(row.query_signatures)
    order = sorted(range(len(row.chosen_rank)), key=row.chosen_rank.__getitem__)
    windows = {}
    for i in order:
        signed = _loads(row.member_signatures[i])
        windows[row.member[i]] = (signed.text, signed.text_shingle_counts)
    hits = lsh.score_candidates(
        query,
        windows,
        Counter(dict(zip(row.member, row.text_hits))),
        Counter(dict(zip(row.member, row.story_hits))),
        dict(zip(row.member, row.story_jaccard)),
        settings,
        fingerprint_hits=Counter({m: h for m, h in zip(row.member, row.fingerprint_hits) if h}),
    )
    best = best_candidates(hits, settings)
    published = dict(zip(row.member, row.member_published))
    best = storm_candidates(best, published.get, settings)
    return row.query, [m for m, _ in best], [shares_text for _, shares_text in best]


# ------------------------------------------------------------------------------
# 4-5. Pairs and verification


def _pairs_to_compare(candidates):
    """Each unordered pair once: from the smaller segment id's list when it is there.

    The local engine matches segments in id order and skips pairs already compared,
    so a pair is compared when the first of its two segments lists it.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pair = Window.partitionBy("first", "second").orderBy("query")
    return (
        candidates.withColumn("first", F.least("query", "member"))
        .withColumn("second", F.greatest("query", "member"))
        .withColumn("turn", F.row_number().over(pair))
        .where("turn = 1")
        .select("query", "rank", "member", "shares_text")
    )


MATCH_COLUMNS = (
    "source_article_id", "derived_article_id", "source_segment_id", "derived_segment_id",
    "label", "source_containment", "derived_containment", "jaccard", "credited",
    "direction_confidence", "derivation_probability", "scores", "evidence", "computed_at",
    "credit", "relation",
)
# Set on the matches by the lineage (siblings), as update.rebuild_lineage does.
RELATION_COLUMNS = ("relation", "shared_source_article_id", "shared_source_segment_id", "credited")
PASSAGE_COLUMNS = (
    "kind", "source_start", "source_end", "derived_start", "derived_end", "similarity", "edits",
)
RESULT_SCHEMA = (
    "query long, rank int, source long, derived long, source_article_id string, derived_article_id string, "
    "source_segment_id string, derived_segment_id string, label string, "
    "source_containment double, derived_containment double, jaccard double, credited int, "
    "direction_confidence double, derivation_probability double, scores string, "
    "evidence string, computed_at string, credit string, relation string, "
    "passages array<struct<kind: string, source_start: int, source_end: int, "
    "derived_start: int, derived_end: int, similarity: double, edits: string>>"
)


def _story_rarity(spark, segments):
    """The corpus's story-term frequencies (``corpus``'s story_terms, counted in Spark),
    broadcast: (segments, broadcast mapping of term key -> segments using it)."""
    from pyspark.sql import functions as F

    counts = dict(
        segments.select(F.explode("story_keys").alias("term")).groupBy("term").count().collect()
    )
    return segments.count(), spark.sparkContext.broadcast(counts)


def _rarity(rarity) -> stories.Rarity:
    total, counts = rarity
    return stories.Rarity.from_counts(total, counts.value)


def _compared(spark, pairs, segments, rarity):
    """Compare every pair with ``compare_segments``: one row per pair worth storing."""
    from pyspark.sql import functions as F

    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    query_data = segments.select(
        F.col("sid").alias("query"), F.col("matcher").alias("query_matcher")
    )
    member_data = segments.select(
        F.col("sid").alias("member"), F.col("matcher").alias("member_matcher")
    )
    joined = (
        pairs.join(query_data, "query")
        .join(member_data, "member")
        .sortWithinPartitions("member", "query")  # a segment's pairs in a row: prepared once
    )
    return spark.createDataFrame(
        joined.rdd.mapPartitions(partial(_compare_partition, now=now, rarity=rarity)),
        RESULT_SCHEMA,
        verifySchema=False,
    )


def _compare_partition(rows: Iterator, now: str, rarity) -> Iterator[tuple]:
    segments: OrderedDict[int, SegmentData] = OrderedDict()
    rarity = _rarity(rarity)

    def segment(ordinal: int, data: bytes):
        """Unpickled once while in use, so its alignment preparation is reused, as locally."""
        if ordinal in segments:
            segments.move_to_end(ordinal)
        else:
            segments[ordinal] = _loads(data)
            if len(segments) > PREPARED_CACHE_SIZE:
                segments.popitem(last=False)
        return segments[ordinal]

    for row in rows:
        query = segment(row.query, row.query_matcher)
        result = compare_segments(
            query, segment(row.member, row.member_matcher), row.shares_text, rarity
        )
        if result is None:
            continue
        source, derived = (
            (row.query, row.member) if result.source is query else (row.member, row.query)
        )
        stored = update.match_row(result, now)
        if set(stored) != set(MATCH_COLUMNS):
            raise RuntimeError(f"update.match_row columns changed: {sorted(stored)}")
        passages = [
            tuple(_plain(passage[column]) for column in PASSAGE_COLUMNS)
            for passage in update.passage_rows(result)
        ]
        yield (
            row.query, row.rank, source, derived,
            *(_plain(stored[c]) for c in MATCH_COLUMNS), passages,
        )


LINK_SCHEMA = "a long, b long, segment_id string, other_segment_id string, similarity double"


def _story_candidates(spark, pairs, segments, rarity, numbered):
    """The story candidates of the compared pairs not stored as a match
    (``pairs.story_candidate``), as the local engine keeps them; ``numbered``: the matches."""
    from pyspark.sql import functions as F

    query_data = segments.select(
        F.col("sid").alias("query"), F.col("matcher").alias("query_matcher")
    )
    member_data = segments.select(
        F.col("sid").alias("member"), F.col("matcher").alias("member_matcher")
    )
    joined = (
        pairs.join(query_data, "query")
        .join(member_data, "member")
        .sortWithinPartitions("member", "query")
    )
    found = spark.createDataFrame(
        joined.rdd.mapPartitions(partial(_candidate_partition, rarity=rarity)),
        LINK_SCHEMA + ", same_story boolean",
        verifySchema=False,
    )
    matched = numbered.select(  # ordinals follow segment ids: a < b as in a candidate
        F.least("source", "derived").alias("a"), F.greatest("source", "derived").alias("b")
    )
    return found.join(matched, ["a", "b"], "left_anti")


def _candidate_partition(rows: Iterator, rarity) -> Iterator[tuple]:
    rarity = _rarity(rarity)
    for row in rows:
        query, member = _loads(row.query_matcher), _loads(row.member_matcher)
        found = story_candidate(query, member, rarity)
        if found is not None:
            ordinals = {query.segment_id: row.query, member.segment_id: row.member}
            link = story_link(found.segment_id, found.other_segment_id, found.similarity)
            yield (
                ordinals[found.segment_id], ordinals[found.other_segment_id],
                found.segment_id, found.other_segment_id, round(found.similarity, 4),
                link is not None,
            )


def _same_story(story_candidates):
    """The candidates that are same-story links: in one run over every article, the rarity
    they were measured with is the one the lineage rebuild measures them with."""
    from pyspark.sql import functions as F

    return story_candidates.where(F.col("same_story")).drop("same_story")


def _write_story_candidates(db, story_candidates) -> None:
    """Replace the stored story candidates with these (the lineage rebuild links them)."""
    rows = [
        (row.segment_id, row.other_segment_id)
        for row in story_candidates.orderBy("segment_id", "other_segment_id").toLocalIterator()
    ]
    with db.conn:
        db.conn.execute("DELETE FROM story_candidates")
        update.store_story_candidates(db, [StoryLink(*row, 0.0) for row in rows])


def _plain(value):
    """numpy scalars as Python ones (Spark's converters take only those)."""
    return value.item() if isinstance(value, np.generic) else value


def _numbered_results(spark, results, cached: list):
    """Results in the local engine's write order, numbered from 1 as SQLite numbers them.

    ``results`` must be persisted: a sort samples its input first, which would
    otherwise compare every pair twice.
    """
    ordered = results.orderBy("query", "rank")
    numbered = spark.createDataFrame(
        ordered.rdd.zipWithIndex().map(lambda pair: (pair[1] + 1, *pair[0])),
        "id long, " + RESULT_SCHEMA,
        verifySchema=False,
    )
    _persist(numbered, cached).count()
    return numbered


# ------------------------------------------------------------------------------
# 6. Writing


def _write_results_parquet(numbered, segments, relations, out: str) -> None:
    """Matches (with the relations the lineage gave them), passages and segments."""
    from pyspark.sql import functions as F

    matches = (
        numbered.withColumnRenamed("relation", "stored_relation")
        .withColumnRenamed("credited", "stored_credited")
        .join(relations.withColumnRenamed("match_id", "id"), "id", "left")
        .withColumn("relation", F.coalesce("relation", "stored_relation"))
        .withColumn(
            "credited",
            F.when(F.col("relation") == "siblings", F.lit(None).cast("int")).otherwise(
                F.col("stored_credited")
            ),
        )
    )
    matches.select("id", *MATCH_COLUMNS, *RELATION_COLUMNS[1:3]).write.mode("overwrite").parquet(
        f"{out}/matches"
    )
    numbered.select(F.col("id").alias("match_id"), F.posexplode("passages")).select(
        "match_id", "pos", "col.*"
    ).withColumnRenamed("pos", "position").write.mode("overwrite").parquet(f"{out}/passages")
    segments.select(
        F.col("segment_id").alias("id"), "article_id", F.col("number").alias("segment_number"),
        "title", "start_char", "end_char", "word_count",
    ).write.mode("overwrite").parquet(f"{out}/segments")


def _write_matches(db, numbered, segments, candidates: CandidateSettings) -> None:
    """Replace the stored matches with the numbered results, in their order (ids agree)."""
    with db.conn:
        db.conn.execute("DELETE FROM lineage")
        db.conn.execute("DELETE FROM clusters")
        store.clear_matches(db)
        store.set_meta(db, store.LINEAGE_STALE_KEY, True)
        check_matching_settings(db, candidates, recompute=True)  # every match is made again
    rows = numbered.orderBy("id").toLocalIterator()
    while True:
        chunk = list(islice(rows, MATCHES_PER_TRANSACTION))
        if not chunk:
            break
        with db.conn:
            for row in chunk:
                passages = [dict(zip(PASSAGE_COLUMNS, passage)) for passage in row.passages]
                stored_id = store.store_match(db, {c: row[c] for c in MATCH_COLUMNS}, passages)
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
    "derived_count long, uncredited_count long, photo_only_count long, first_published string, "
    "last_published string"
)
LINEAGE_SCHEMA = (
    "segment_id string, article_id string, cluster_id long, parent_article_id string, "
    "parent_segment_id string, match_id long, label string, generation long, is_origin long, "
    "origin_article_id string, origin_segment_id string, credit string, evidence string"
)
RELATION_SCHEMA = (
    "match_id long, relation string, shared_source_segment_id string, "
    "shared_source_article_id string"
)
EDGE_COLUMNS = (
    "id", "source_segment_id", "derived_segment_id", "label", "scores",
    "direction_confidence", "credit", "passages",
)
NODE_COLUMNS = (
    "segment_id", "article_id", "node_title", "published", "outlet", "word_count", "chars",
    "opening", "profile",
)
LINK_COLUMNS = ("segment_id", "other_segment_id", "similarity")


def _write_parquet(spark, numbered, links, segments, rarity, out: str) -> int:
    """Every result table as Parquet: clusters and lineage first, built component by
    component, then the matches with the relations the lineage gave them."""
    cached: list = []
    try:
        count, relations = _write_lineage_parquet(
            spark, numbered, links, segments, rarity, out, cached
        )
        _write_results_parquet(numbered, segments, relations, out)
    finally:
        for data in cached:
            data.unpersist()
    return count


def _write_lineage_parquet(spark, numbered, links, segments, rarity, out: str, cached: list):
    """Clusters and lineage as Parquet, built component by component; (the number of
    clusters, each derived match's relation as a frame).

    ``lineage.build_clusters`` on one connected component of the matches and story
    links (completed as ``update.complete_story_links`` completes them) gives that
    component's clusters as ``update.rebuild_lineage`` gives them, so the graph never
    has to fit on one machine; clusters are then numbered in
    ``lineage.cluster_order``, as there.
    """
    from pyspark.sql import functions as F

    components = _connected_components(
        numbered.select(F.col("source").alias("a"), F.col("derived").alias("b")).union(
            links.select("a", "b")
        )
    )
    edges = _grouped_by_component(
        numbered.join(components.withColumnRenamed("node", "source"), "source"),
        EDGE_COLUMNS, "edge_",
    )
    link_rows = _grouped_by_component(
        links.join(components.withColumnRenamed("node", "a"), "a"), LINK_COLUMNS, "link_"
    )
    profiles = spark.createDataFrame(
        segments.select("sid", "matcher").rdd.map(partial(_story_profile, rarity=rarity)),
        "sid long, profile binary",
        verifySchema=False,
    )
    nodes = _grouped_by_component(
        segments.join(profiles, "sid").join(components.withColumnRenamed("node", "sid"), "sid"),
        NODE_COLUMNS, "node_",
    )
    clusters = _persist(
        nodes.join(edges, "component", "left")
        .join(link_rows, "component", "left")
        .rdd.flatMap(_component_clusters),
        cached,
    )
    numbered_clusters = clusters.sortBy(lambda item: item[0]).zipWithIndex()
    rows = numbered_clusters.map(lambda item: update.cluster_rows(item[1] + 1, _loads(item[0][1])))
    rows = _persist(rows, cached)
    spark.createDataFrame(
        rows.map(lambda pair: tuple(pair[0].values())), CLUSTER_SCHEMA, verifySchema=False
    ).write.mode("overwrite").parquet(f"{out}/clusters")
    spark.createDataFrame(
        rows.flatMap(lambda pair: [tuple(member.values()) for member in pair[1]]),
        LINEAGE_SCHEMA,
        verifySchema=False,
    ).write.mode("overwrite").parquet(f"{out}/lineage")
    relations = spark.createDataFrame(
        clusters.flatMap(lambda item: [
            (r.match_id, r.relation, r.shared_source_segment_id, r.shared_source_article_id)
            for r in _loads(item[1]).relations
        ]),
        RELATION_SCHEMA,
        verifySchema=False,
    )
    return rows.count(), _persist(relations, cached)


def _story_profile(row, rarity) -> tuple:
    return row.sid, _dumps(_loads(row.matcher).story_profile(_rarity(rarity)))


def _connected_components(links):
    """(node, component): every node of the (a, b) links labelled with its component's smallest node.

    Label propagation: each round a node takes the smallest label among its
    neighbours'; story clusters are a few links across, so few rounds are needed.
    """
    from pyspark.sql import functions as F

    both = links.union(links.select(F.col("b").alias("a"), F.col("a").alias("b")))
    neighbours = both.distinct().localCheckpoint()
    labels = (
        neighbours.groupBy("a")
        .agg(F.least(F.col("a"), F.min("b")).alias("label"))
        .withColumnRenamed("a", "node")
        .localCheckpoint()  # each round's plan starts here, not from the first round
    )
    while True:
        offered = (
            neighbours.join(labels.withColumnRenamed("node", "b"), "b")
            .groupBy("a")
            .agg(F.min("label").alias("offered"))
            .withColumnRenamed("a", "node")
        )
        updated = (
            labels.join(offered, "node")
            .select("node", F.least("label", "offered").alias("label"),
                    F.col("label").alias("previous"))
            .localCheckpoint()
        )
        if updated.where("label != previous").isEmpty():
            return updated.select("node", F.col("label").alias("component"))
        labels = updated.select("node", "label")


def _grouped_by_component(frame, columns, prefix: str):
    """One row per component, an array per column (named ``prefix`` + column)."""
    from pyspark.sql import functions as F

    grouped = frame.groupBy("component").agg(F.collect_list(F.struct(*columns)).alias("items"))
    return grouped.select(
        "component", *(F.col("items").getField(c).alias(prefix + c) for c in columns)
    )


def _component_clusters(row) -> list[tuple]:
    """(cluster order, pickled cluster) of each cluster of one component, as
    ``update.rebuild_lineage`` builds them (``lineage.build_clusters``)."""
    nodes = {
        segment_id: lineage.SegmentNode(
            segment_id, article_id, title, published, outlet, words, chars,
            opening(text, [(0, len(text))]) if text else None,
        )
        for segment_id, article_id, title, published, outlet, words, chars, text in zip(
            row.node_segment_id, row.node_article_id, row.node_node_title, row.node_published,
            row.node_outlet, row.node_word_count, row.node_chars, row.node_opening,
        )
    }
    profiles = {
        segment_id: _loads(profile)
        for segment_id, profile in zip(row.node_segment_id, row.node_profile)
    }
    edges = sorted(
        (update.match_edge(*values) for values in zip(
            row.edge_id or [], row.edge_source_segment_id or [], row.edge_derived_segment_id or [],
            row.edge_label or [], row.edge_scores or [], row.edge_direction_confidence or [],
            row.edge_credit or [],
        )),
        key=lambda edge: edge.match_id,  # build_clusters reads edges in match id order
    )
    passages = {
        match_id: [
            update.passage_span(p.kind, p.source_start, p.source_end, p.derived_start,
                                p.derived_end, p.edits)
            for p in found
        ]
        for match_id, found in zip(row.edge_id or [], row.edge_passages or [])
    }
    links = sorted(zip(
        row.link_segment_id or [], row.link_other_segment_id or [], row.link_similarity or []
    ))
    links += update.completed_links(edges, links, profiles.__getitem__)
    clusters = lineage.build_clusters(
        nodes, edges, lambda ids: {i: passages.get(i, []) for i in ids}, story_links=links
    )
    return [(lineage.cluster_order(cluster), _dumps(cluster)) for cluster in clusters]


# ------------------------------------------------------------------------------
# spark-submit / python -m entry point


def main(argv: list[str] | None = None) -> None:
    """``python -m datasette_provenance.spark`` and the spark-submit main file."""
    import click

    @click.command(name="datasette_provenance.spark")
    @click.option("--db", type=click.Path(dir_okay=False),
                  help="SQLite database: read articles from it, or (with --input) write them "
                       "to it; matches, clusters and lineage are written to it")
    @click.option("--input", "inputs", multiple=True, metavar="PATH",
                  help="Articles: *.parquet (file, directory, glob), or files ingest reads "
                       f"({', '.join(readers.READERS)}); local paths or URIs (s3a://, hdfs://)")
    @click.option("--parquet-out", metavar="DIR",
                  help="Write matches, passages, segments, clusters and lineage here as Parquet")
    @click.option("--master", default=None,
                  help="Spark master URL [default: spark-submit's, else local[*]]")
    @click.option("--conf", "settings", multiple=True, metavar="KEY=VALUE",
                  help="Spark setting, repeatable (e.g. spark.sql.shuffle.partitions=400)")
    @column_options
    def command(db, inputs, parquet_out, master, settings, **column_values):
        """Match articles on Apache Spark: the same results as `datasette-provenance match`."""
        columns = column_names(column_values)
        config = dict(setting.split("=", 1) for setting in settings)
        with one_line_errors(SparkUnavailable):
            check_request(db, list(inputs), parquet_out)
        with one_line_errors(SparkUnavailable), _session(master, config) as session:
            summary = run(
                session, db_path=db, inputs=inputs, parquet_out=parquet_out, columns=columns
            )
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
