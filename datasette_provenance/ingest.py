"""Ingest orchestration: files -> cleaned articles -> SQLite rows -> matching.

The CPU work for one article (cleaning, tokenising, signing) is the pure function
``prepare_article``; ``ingest`` streams records through it and writes each batch
in one transaction, so an interrupted run leaves whole articles only and the next
run finishes the job (unchanged articles are recognised by their content hash,
unmatched segments by ``segments.match_pending``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable, Iterator, Sequence

import sqlite_utils
import xxhash

from . import store
from .cleaning import CleanedArticle, clean_article
from .matching import corpus, index, lsh
from .matching.tokens import words_in_ranges
from .matching.update import update_matches
from .matching.workers import worker_pool
from .parameters import DEFAULT_PARAMS, SignatureParams
from .readers import (
    METADATA_FIELDS,
    ArticleRecord,
    ColumnNames,
    InputError,
    directory_manifests,
    iter_records,
    outlet_domain,
    read_manifest,
    readable_name,
)

# Articles written per transaction: large enough to amortise commits, small enough
# that an interrupted ingest loses little work and memory stays flat.
BATCH_SIZE = 500

# A long ingest moves pending index rows into the index (index.flush) when at least
# this many segments are pending and they are at least as many as those flushed.
FLUSH_MIN_SEGMENTS = 50_000


class IngestAborted(Exception):
    """The run was stopped before writing anything; ``str`` is one line."""


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    segments: int = 0
    credits: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    matching: object | None = None
    notes: list[str] = field(default_factory=list)  # said before the counts
    committed: int = 0  # articles added or updated by committed batches

    def lines(self) -> list[str]:
        lines = [
            *self.notes,
            f"articles: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped",
            f"segments written: {self.segments}, credits found: {self.credits}",
        ]
        if self.matching is not None:
            lines.append(f"matching: {self.matching}")
        lines.append(f"time: {self.seconds:.2f}s")
        return lines


@dataclass
class PreparedSegment:
    segment_id: str
    number: int
    title: str | None
    start: int
    end: int
    clean_start: int  # the segment's clean text is the article's [clean_start:clean_end]
    clean_end: int
    word_count: int
    signatures: object
    buckets: object = None  # index.pending_text of lsh.buckets: made where the signing is
    story_keys: list[int] = field(default_factory=list)  # corpus.segment_story_keys


@dataclass
class PreparedArticle:
    record: ArticleRecord
    content_hash: str
    cleaned: CleanedArticle
    segments: list[PreparedSegment]
    clean_text: str  # cleaned.clean_text, computed in the (worker) process that cleans

    @property
    def id(self) -> str:
        return self.record.id


def content_hash(text: str) -> str:
    return xxhash.xxh64_hexdigest(text.encode("utf-8"))


def prepare_article(
    record: ArticleRecord, params: SignatureParams = DEFAULT_PARAMS
) -> PreparedArticle:
    """Clean, segment, tokenise and sign one article. Pure: no I/O."""
    cleaned = clean_article(record.text, title=record.title)
    clean_text = cleaned.clean_text
    window = lsh.story_window(record.published, params)
    segments = []
    bounds = _clean_bounds(cleaned, clean_text)
    for segment, (clean_start, clean_end) in zip(cleaned.segments, bounds):
        norms = words_in_ranges(record.text, cleaned.kept_ranges(segment))
        signed, found = lsh.sign_with_buckets(norms, params, window)
        segments.append(
            PreparedSegment(
                segment_id=f"{record.id}#{segment.number}",
                number=segment.number,
                title=segment.title,
                start=segment.start,
                end=segment.end,
                clean_start=clean_start,
                clean_end=clean_end,
                word_count=len(norms),
                signatures=signed,
                buckets=index.pending_text(found),
                story_keys=corpus.segment_story_keys(norms),
            )
        )
    return PreparedArticle(record, content_hash(record.text), cleaned, segments, clean_text)


def _clean_bounds(cleaned: CleanedArticle, clean_text: str) -> list[tuple[int, int]]:
    """Where each segment's clean text lies in the article's (one segment: all of it)."""
    if len(cleaned.segments) == 1:
        return [(0, len(clean_text))]
    return store.clean_bounds(clean_text, [cleaned.segment_text(s) for s in cleaned.segments])


def ingest(
    db_path: str,
    paths: Sequence[str],
    *,
    manifest: str | None = None,
    columns: ColumnNames | None = None,
    run_matching: bool = True,
    strict: bool = False,
    progress: bool = False,
    report: Callable[[str], None] | None = None,
    params: SignatureParams = DEFAULT_PARAMS,
    workers: int = 1,
    tables: Sequence[str] = (),
    absolute_paths: bool = False,
    relative_to: str | None = None,
) -> IngestSummary:
    """Ingest ``paths`` (and ``tables``, ``FILE:TABLE`` each) into the database at
    ``db_path`` and (by default) match.

    Bad records are skipped and reported through ``report`` (one line each);
    with ``strict`` any bad record stops the run before anything is written.
    Problems that make the whole run meaningless (missing path, unreadable
    manifest, a table that cannot be read) raise ``InputError`` before anything is
    written. A ``manifest.csv``/``manifest.json`` inside a directory given is that
    directory's manifest (``manifest``, when given, wins for the ids it names). Source
    paths are stored relative to the working directory, or to ``relative_to``
    (``absolute_paths``: whole). With ``workers`` > 1, cleaning and signing run in that
    many processes, and so does matching; this process stays the single writer.
    """
    started = time.perf_counter()
    summary = IngestSummary()
    say = report or (lambda line: None)
    _check_paths_exist(paths)
    found_manifests = directory_manifests(paths)
    manifest_rows: dict[str, dict] = {}
    for directory, found in found_manifests:
        summary.notes.append(f"manifest: {found} (found in {directory})")
        manifest_rows.update(read_manifest(found))
    if manifest:
        manifest_rows.update(read_manifest(manifest))
    not_articles = [found for _, found in found_manifests] + ([manifest] if manifest else [])
    manifest = manifest or (found_manifests[0][1] if found_manifests else None)
    if strict:
        input_ids = _check_all_inputs(paths, columns, not_articles, tables)
        _check_manifest_ids(db_path, manifest_rows, input_ids)
    records = _started(iter_records(paths, columns, exclude=not_articles, tables=tables))
    given = [*paths, *(spec.rpartition(":")[0] for spec in tables)]
    records = _stored_source_paths(records, given, absolute_paths, relative_to)

    db = store.connect(db_path)
    try:
        _ingest_records(db, records, manifest, manifest_rows, run_matching, progress,
                        params, workers, summary, say)  # fmt: skip
    except (sqlite3.Error, OSError, InputError) as error:
        if not summary.committed:
            raise
        # An input that cannot be read further fails the same way again: no promise a rerun
        # finishes (it skips what is kept and stops at the same place).
        again = "" if isinstance(error, InputError) else "; run the same command again to finish"
        raise store.StoppedAfterWriting(
            f"{store.first_line(error)}: stopped after {summary.committed:,} articles were written "
            f"(they are kept{again})"
        ) from error
    finally:
        db.conn.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _ingest_records(db, records, manifest, manifest_rows, run_matching, progress,
                    params, workers, summary, say) -> None:  # fmt: skip
    """Write the records in batches, then flush the index, apply the manifest, match."""
    with store.write_transaction(db):
        index.check_params(db, params)  # records the params on first use
        corpus.ensure_story_terms(db)
        store.insert_outlet_names(db, _manifest_outlet_names(manifest_rows))
    seen_ids: set[str] = set()
    records = _records_with_progress(records, progress)
    records = (_with_manifest(item, manifest_rows, seen_ids) for item in records)
    with _preparer(workers, params) as prepare:
        # While this process writes one batch, the workers prepare the next.
        previous = None  # (prepared articles when ready, unchanged records)
        try:
            for batch in batches(records, BATCH_SIZE):
                good = _report_bad_records(batch, summary, say)
                unchanged, to_prepare = _split_unchanged(db, good)
                current = (prepare(to_prepare), unchanged)
                if previous:
                    _write_prepared(db, previous, summary, params)
                previous = current
        except InputError:
            # The input broke part-way (a damaged table): what was read before is kept.
            if previous:
                _write_prepared(db, previous, summary, params)
            raise
        if previous:
            _write_prepared(db, previous, summary, params)
    index.flush(db)  # new segments become visible to lookups
    _apply_manifest_to_stored(db, manifest, manifest_rows, seen_ids, summary, say)
    if run_matching:
        summary.matching = update_matches(db, progress=progress, workers=workers)


def _report_bad_records(batch: list, summary: IngestSummary, say) -> list[ArticleRecord]:
    """The batch's good records; each bad one is counted and reported in one line."""
    good = []
    for item in batch:
        if isinstance(item, InputError):
            summary.skipped += 1
            summary.problems.append(str(item))
            say(str(item))
        else:
            good.append(item)
    return good


def _write_prepared(db, batch: tuple, summary: IngestSummary, params) -> None:
    ready, unchanged = batch
    write_batch(db, ready(), summary, params, unchanged)
    flush_if_due(db)


def flush_if_due(db: sqlite_utils.Database) -> None:
    """Move pending index rows into the index once they are as many as those already in it.

    Each flush writes every index page once, so flushing when the pending part has
    doubled the index keeps the total cost of a long ingest proportional to its
    size (as in a log-structured merge), and a short one flushes only at its end.
    """
    flushed, pending = index.pending_segments(db)
    if pending >= max(FLUSH_MIN_SEGMENTS, flushed):
        index.flush(db)


def _with_manifest(item, manifest_rows: dict[str, dict], seen_ids: set[str]):
    if not isinstance(item, InputError):
        seen_ids.add(item.id)
        _apply_manifest(item, manifest_rows)
    return item


def _split_unchanged(
    db: sqlite_utils.Database, records: list[ArticleRecord]
) -> tuple[list[ArticleRecord], list[ArticleRecord]]:
    """(records whose text is stored already, records to clean and sign).

    Re-running an interrupted ingest, the documented way to finish it, then costs
    a hash per finished article instead of cleaning and signing it again.
    """
    stored = _existing_hashes(db, [record.id for record in records])
    unchanged, changed = [], []
    for record in records:
        same = stored.get(record.id) == content_hash(record.text)
        (unchanged if same else changed).append(record)
    return unchanged, changed


@contextmanager
def _preparer(workers: int, params: SignatureParams):
    """``prepare(records)`` starts preparing a batch and returns a function that gives
    the prepared articles, in order: in this process when it is called, or in a pool
    of ``workers`` processes that start at once and run while this one writes."""
    prepare_one = partial(prepare_article, params=params)
    if workers <= 1:
        yield lambda items: lambda: [prepare_one(item) for item in items]
        return
    # Records are small and preparation is pure CPU: a process pool scales it, while
    # this process remains the only writer (SQLite allows one writer at a time).
    with worker_pool(workers) as pool:
        yield lambda items: pool.map_async(prepare_one, items, chunksize=32).get


def _stored_source_paths(
    records: Iterator, given: Sequence[str], absolute: bool, base: str | None = None
) -> Iterator:
    """Source paths as stored: relative to the working directory, so that a published
    database shows no local folders (``absolute``: whole paths). Messages keep the paths
    as they were typed."""
    prefixes = sorted(
        ((_without_trailing_slash(path), _stored_path(path, absolute, base)) for path in given),
        key=lambda pair: -len(pair[0]),
    )
    for item in records:
        if isinstance(item, ArticleRecord) and item.source_path:
            for shown, stored in prefixes:
                rest = item.source_path[len(shown) :]
                if item.source_path.startswith(shown) and rest[:1] in ("", os.sep, ":"):
                    if rest[:1] == os.sep:  # "seeds//000.txt", as typed with a slash
                        rest = os.sep + rest.lstrip(os.sep)
                    item.source_path = stored + rest
                    break
        yield item


def _without_trailing_slash(path) -> str:
    """A path as typed, for matching the files found under it: ``seeds/`` names them
    ``seeds/000.txt`` as ``seeds`` does."""
    shown = readable_name(os.fspath(path))
    return shown.rstrip(os.sep) or shown


def _stored_path(path: str, absolute: bool, base: str | None = None) -> str:
    path = readable_name(os.fspath(path))
    if absolute:
        return os.path.abspath(path)
    try:
        return os.path.relpath(path, base)
    except ValueError:  # on another drive (Windows) there is no relative path
        return os.path.abspath(path)


def _check_paths_exist(paths: Sequence[str]) -> None:
    """A mistyped path stops the run before the database is even created."""
    for path in paths:
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file or directory")


def _check_all_inputs(
    paths: Sequence[str],
    columns: ColumnNames | None,
    exclude: Sequence[str],
    tables: Sequence[str] = (),
) -> set[str]:
    """Strict mode: read everything once, refuse the run at the first bad record; the ids."""
    ids = set()
    for item in iter_records(paths, columns, exclude=exclude, tables=tables):
        if isinstance(item, InputError):
            raise IngestAborted(f"{item} (strict mode: nothing was written)")
        ids.add(item.id)
    return ids


def _check_manifest_ids(db_path: str, manifest_rows: dict[str, dict], input_ids: set[str]) -> None:
    """Strict mode: a manifest row for an article neither read now nor stored stops the run
    (otherwise it is reported and ignored, after the articles are written)."""
    unknown = [article_id for article_id in manifest_rows if article_id not in input_ids]
    if unknown and os.path.exists(db_path):
        try:  # read without writing (a file that is no provenance database holds none:
            # opening it for the ingest then says why)
            with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
                stored = _stored_ids(conn, unknown)
        except sqlite3.Error:
            stored = set()
        unknown = [article_id for article_id in unknown if article_id not in stored]
    if unknown:
        where = manifest_rows[unknown[0]].get("source_path")
        raise IngestAborted(
            f"{where}: manifest names unknown article id {unknown[0]!r} "
            "(strict mode: nothing was written)"
        )


def _stored_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """Which of ``ids`` the database holds (in chunks: SQLite limits a query's variables)."""
    return {
        row[0]
        for chunk in batches(ids, 500)
        for row in conn.execute(
            f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
    }


def _started(records: Iterator) -> Iterator:
    """The records, with the first one read already: the reader checks every given path
    when it starts, so a path that stops the run does so before the database is opened."""
    first = next(records, None)
    return records if first is None else itertools.chain([first], records)


def _records_with_progress(records: Iterator, progress: bool) -> Iterator:
    if not progress:
        return records
    from tqdm import tqdm

    return tqdm(records, unit=" articles", desc="ingest", leave=False)


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply_manifest(record: ArticleRecord, manifest_rows: dict[str, dict]) -> None:
    """Manifest values fill in or override what the input itself said.

    A field the manifest states, without marking it inferred, is no longer a guess.
    """
    extra = manifest_rows.get(record.id)
    if not extra:
        return
    current = {name: getattr(record, name) for name in METADATA_FIELDS}
    values, record.inferred_fields = _manifest_applied(current, record.inferred_fields, extra)
    for name, value in values.items():
        setattr(record, name, value)


def _manifest_applied(
    values: dict, inferred: Iterable[str], extra: dict
) -> tuple[dict, list[str]]:
    """(metadata, inferred field names) once a manifest row ``extra`` is applied."""
    values, guessed = dict(values), set(inferred)
    for name in METADATA_FIELDS:
        if extra.get(name):
            values[name] = extra[name]
            guessed.discard(name)
    return values, sorted(guessed | set(extra.get("inferred_fields") or ()))


def write_batch(
    db: sqlite_utils.Database,
    prepared: list[PreparedArticle],
    summary: IngestSummary,
    params: SignatureParams,
    unchanged: Sequence[ArticleRecord] = (),
) -> None:
    """Write one batch of articles in a single transaction.

    ``unchanged`` are records whose text is already stored: only their metadata
    is refreshed. Index rows are appended as pending: a writer other than ``ingest``
    (the Spark engine) calls ``flush_if_due`` after each batch and ``index.flush`` at
    the end, as ``ingest`` does.
    """
    if not prepared and not unchanged:
        return
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    to_index = []
    with store.write_transaction(db):
        # Read under the write lock: another ingest may have stored these ids meanwhile.
        existing = _existing_hashes(db, [article.id for article in prepared])
        store.insert_outlet_names(
            db, _url_outlet_names([*unchanged, *(article.record for article in prepared)])
        )
        for record in unchanged:
            summary.unchanged += _update_metadata_only(db, record)
        for article in prepared:
            old_hash = existing.get(article.id)
            if old_hash == article.content_hash:
                summary.unchanged += _update_metadata_only(db, article.record)
                continue
            if old_hash is not None:
                _delete_article(db, article.id)
                summary.updated += 1
            else:
                summary.added += 1
            store.insert_article(db, article, now)
            to_index += article.segments
            summary.segments += len(article.segments)
            summary.credits += len(article.cleaned.credits)
        corpus.count_story_terms(db, [segment.story_keys for segment in to_index])
        # One sorted append for the whole batch (matching/index.py: lsh_pending).
        index.add_many(
            db,
            [(segment.segment_id, segment.signatures) for segment in to_index],
            params,
            deferred=True,
            precomputed_buckets=[segment.buckets for segment in to_index],
        )
    summary.committed = summary.added + summary.updated


def _manifest_outlet_names(manifest_rows: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(outlet, name, kind, source) rows for the other names a manifest gives its outlets."""
    rows = []
    for row in manifest_rows.values():
        outlet = row.get("outlet")
        if outlet:
            rows += [(outlet, name, "name", "manifest") for name in row.get("outlet_names", ())]
            rows += [(outlet, name, "domain", "manifest") for name in row.get("outlet_domains", ())]
    return rows


def _url_outlet_names(records: Iterable[ArticleRecord]) -> list[tuple[str, str, str, str]]:
    """(outlet, domain, 'domain', 'url') for articles whose URL names their outlet's site."""
    rows = []
    for record in records:
        domain = outlet_domain(record.url) if record.outlet else None
        if domain and domain.casefold() != record.outlet.casefold():
            rows.append((record.outlet, domain, "domain", "url"))
    return rows


def _existing_hashes(db: sqlite_utils.Database, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT id, content_hash FROM articles WHERE id IN ({marks})", ids)
    return dict(rows.fetchall())


def _delete_article(db: sqlite_utils.Database, article_id: str) -> None:
    """Remove an article and everything derived from it (text changed on re-ingest).

    Segments of articles that were matched against it are marked pending, so the
    next matching run re-examines them against the new text.
    """
    conn = db.conn
    conn.execute(
        "UPDATE segments SET match_pending = 1 WHERE id IN ("
        " SELECT derived_segment_id FROM matches WHERE source_article_id = :id"
        " UNION SELECT source_segment_id FROM matches WHERE derived_article_id = :id)",
        {"id": article_id},
    )
    segments = corpus.stored_segment_norms(db, article_id)
    corpus.count_story_terms(db, [corpus.segment_story_keys(n) for n in segments.values()], -1)
    index.remove(db, list(segments))
    conn.execute("DELETE FROM articles WHERE id = ?", [article_id])


def _update_metadata_only(db: sqlite_utils.Database, record: ArticleRecord) -> int:
    """Same text as stored: refresh metadata; re-match if direction evidence changed."""
    new = {name: getattr(record, name) for name in ("outlet", "url", "published", "language")}
    new["inferred_fields"] = json.dumps(sorted(record.inferred_fields))
    if record.title:
        new["title"] = record.title
    old = db.execute(
        f"SELECT {', '.join(new)} FROM articles WHERE id = ?", [record.id]
    ).fetchone()
    changed = {name: value for (name, value), before in zip(new.items(), old) if value != before}
    changed = {name: value for name, value in changed.items() if value is not None}
    if changed:
        db.conn.execute(
            f"UPDATE articles SET {', '.join(f'{name} = ?' for name in changed)} WHERE id = ?",
            [*changed.values(), record.id],
        )
        db.conn.execute("UPDATE segments SET match_pending = 1 WHERE article_id = ?", [record.id])
        if "published" in changed:
            _follow_new_date(db, record.id)
    return 1


def _follow_new_date(db: sqlite_utils.Database, article_id: str) -> None:
    """A changed publication date moves the article's story buckets to its new window."""
    params = index.stored_params(db) or DEFAULT_PARAMS
    published = db.execute("SELECT published FROM articles WHERE id = ?", [article_id])
    segment_ids = db.execute("SELECT id FROM segments WHERE article_id = ?", [article_id])
    window = lsh.story_window(published.fetchone()[0], params)
    index.move_story_window(db, [row[0] for row in segment_ids], window, params)


def _apply_manifest_to_stored(db, manifest_path, manifest_rows, seen_ids, summary, say) -> None:
    """Manifest rows for articles already in the database but not in this run."""
    leftovers = [article_id for article_id in manifest_rows if article_id not in seen_ids]
    if not leftovers:
        return
    with store.write_transaction(db):
        stored = _stored_ids(db.conn, leftovers)
        for article_id in leftovers:
            extra = manifest_rows[article_id]
            if article_id not in stored:
                where = extra.get("source_path") or str(manifest_path)
                message = f"{where}: manifest names unknown article id {article_id!r}; row ignored"
                summary.problems.append(message)
                say(message)
                continue
            updates = _manifest_changes(db, article_id, extra)
            if updates:  # only a real change is written, and makes the article re-matched
                db.conn.execute(
                    f"UPDATE articles SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ?",
                    [*updates.values(), article_id],
                )
                db.conn.execute(
                    "UPDATE segments SET match_pending = 1 WHERE article_id = ?", [article_id]
                )
                if "published" in updates:
                    _follow_new_date(db, article_id)


def _manifest_changes(db: sqlite_utils.Database, article_id: str, extra: dict) -> dict:
    """The columns of a stored article that a manifest row changes, merged as for an
    article read in the same run (so re-running the same ingest changes nothing)."""
    row = db.execute(
        f"SELECT {', '.join(METADATA_FIELDS)}, inferred_fields FROM articles WHERE id = ?",
        [article_id],
    ).fetchone()
    current = dict(zip(METADATA_FIELDS, row))
    stored_inferred = json.loads(row[-1] or "[]")
    values, inferred = _manifest_applied(current, stored_inferred, extra)
    changes = {name: value for name, value in values.items() if value != current[name]}
    if inferred != sorted(stored_inferred):
        changes["inferred_fields"] = json.dumps(inferred)
    return changes
