"""The database schema, the only module that creates or alters tables, and the row
writers the ingest and both matching engines share.

Every other module reads and writes rows through sqlite-utils (or plain SQL) but
never issues DDL. ``ensure_schema`` is idempotent: it creates what is missing,
upgrades an older schema version in place, and refuses a database written by a
newer version of this package with a clear message.

Character offsets (``start_char``/``end_char`` and the ``*_start``/``*_end``
columns of ``passages``) always point into ``articles.raw_text``, which is never
modified, so any span can be shown in the original text. The one exception is
``segments.clean_start``/``clean_end``: where the story's clean text lies in
``articles.clean_text`` (text is stored once; the ``segment_texts`` view slices it).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import sqlite_utils

SCHEMA_VERSION = 7

# Page cache of a writing connection, in KiB (see connect).
CACHE_KIB = 64 * 1024
# Size the WAL file is truncated to after a checkpoint (see connect).
WAL_LIMIT_BYTES = 64 * 1024 * 1024
# How long a writer waits for another process's write transaction: SQLite has one writer at
# a time, so concurrent ingests and matches take turns rather than fail.
BUSY_TIMEOUT_SECONDS = 600


class SchemaError(Exception):
    """The database cannot be used by this version of datasette-provenance."""


class StoppedAfterWriting(Exception):
    """A run failed after part of its work was committed (a full disk, say): what was
    written is kept, and running the same command again completes it. ``str`` is one line
    saying how much was written."""


def first_line(error: BaseException) -> str:
    """An error in one line: its message's first line, or its type when it has none."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


# Pairs of segments compared by matching and not stored as a match, whose story similarity
# then reached LabelThresholds.story_candidate_similarity (segment_id < other_segment_id).
# The lineage rebuild measures them again with the corpus's word rarity as it stands then
# and keeps those that report one story as story_links: which stories exist does not depend
# on the order articles arrived in.
STORY_CANDIDATES_TABLE = """
    CREATE TABLE IF NOT EXISTS story_candidates (
        segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        other_segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        PRIMARY KEY (segment_id, other_segment_id)
    ) WITHOUT ROWID
    """

# Each statement is run with IF NOT EXISTS, so running the list twice is harmless.
SCHEMA_STATEMENTS: tuple[str, ...] = (
    # Key/value settings: schema version, signature parameters, corpus stats.
    """
    CREATE TABLE IF NOT EXISTS provenance_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS articles (
        id TEXT PRIMARY KEY,
        title TEXT,
        outlet TEXT,
        url TEXT,
        published TEXT,            -- ISO 8601 date or date-time, as precise as known
        language TEXT,             -- BCP 47 code when known
        inferred_fields TEXT NOT NULL DEFAULT '[]',  -- JSON list of fields that are guesses
        raw_text TEXT NOT NULL,    -- exactly as read; never modified
        clean_text TEXT NOT NULL,  -- boilerplate, credits, datelines removed
        content_hash TEXT NOT NULL,  -- xxh64 of raw_text: detects changed text on re-ingest
        word_count INTEGER NOT NULL,
        source_path TEXT,          -- where the text was read from
        ingested_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_articles_outlet ON articles(outlet)",
    "CREATE INDEX IF NOT EXISTS idx_articles_published ON articles(published)",
    # One article holds one or more segments (stories); matching works on segments.
    """
    CREATE TABLE IF NOT EXISTS segments (
        id TEXT PRIMARY KEY,       -- '<article id>#<segment number>', numbered from 1
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        segment_number INTEGER NOT NULL,
        title TEXT,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        clean_start INTEGER NOT NULL,  -- the story's clean text is articles.clean_text
        clean_end INTEGER NOT NULL,    -- [clean_start:clean_end] (see segment_texts)
        word_count INTEGER NOT NULL,
        match_pending INTEGER NOT NULL DEFAULT 1,  -- 1 until matching has run for this segment
        seq INTEGER,               -- stable integer key of the segment in the LSH index (index.py)
        UNIQUE (article_id, segment_number)
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_segments_article ON segments(article_id)",
    # seq -> id for LSH lookups, covering (a crowded bucket reads hundreds of members: 5x
    # faster than an index on seq alone plus a row read each). seq is unique: it is assigned
    # as max(seq) + 1 inside the writing transaction.
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_segments_seq ON segments(seq, id)",
    "CREATE INDEX IF NOT EXISTS idx_segments_pending ON segments(match_pending) WHERE match_pending = 1",
    # Each story's clean text, sliced from its article's (SQLite's substr counts characters
    # from 1, as Python's str counts code points from 0).
    """
    CREATE VIEW IF NOT EXISTS segment_texts (id, article_id, segment_number, title, clean_text) AS
    SELECT s.id, s.article_id, s.segment_number, s.title,
           substr(a.clean_text, s.clean_start + 1, s.clean_end - s.clean_start)
    FROM segments s JOIN articles a ON a.id = s.article_id
    """,
    # Credits found in the raw text: wire markers, credit lines, attributions, photo credits.
    """
    CREATE TABLE IF NOT EXISTS article_credits (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,        -- wire_marker, text_credit, attribution, photo_credit or other (vocabulary.CREDIT_KINDS)
        agency TEXT,               -- normalised agency/outlet name, e.g. 'Reuters'
        matched_text TEXT NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        form TEXT                  -- how it was written: dateline, sign_off, reporting, caption, video ...
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_credits_article ON article_credits(article_id)",
    "CREATE INDEX IF NOT EXISTS idx_credits_agency ON article_credits(agency)",
    # Other names an outlet goes by in text (from the manifest and article URLs), so a copy
    # saying "The New York Times reported" credits the outlet "nytimes".
    """
    CREATE TABLE IF NOT EXISTS outlet_names (
        outlet TEXT NOT NULL,      -- articles.outlet as given
        name TEXT NOT NULL,        -- a display name ("The New York Times") or a domain ("nytimes.com")
        kind TEXT NOT NULL,        -- 'name' or 'domain'
        source TEXT NOT NULL,      -- 'manifest' or 'url'
        PRIMARY KEY (outlet, name)
    ) WITHOUT ROWID
    """,
    # Text left out of clean_text: ads, comment forms, repeated captions ...
    """
    CREATE TABLE IF NOT EXISTS boilerplate_spans (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,        -- advertisement, comment_form, copyright, repeated_caption, repeated_paragraph, credit_line, dateline, byline, ...
        matched_text TEXT NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_boilerplate_article ON boilerplate_spans(article_id)",
    # MinHash signatures of a segment (matching/index.py): its text (window 0 = the whole
    # segment; a segment short enough to have no token windows, or signed before schema 6,
    # has them as windows 1, 2, ...), its story words and its winnowing fingerprints. A
    # longer one keeps the hashes of its word shingles instead of its token windows (kind
    # 'shingles', 256 to a row): the windows are their MinHash, a third of the bytes.
    """
    CREATE TABLE IF NOT EXISTS signatures (
        segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        window INTEGER NOT NULL,   -- text: 0 = whole segment, then token windows; shingles: row number; story: publication window
        kind TEXT NOT NULL DEFAULT 'text',  -- 'text' (word shingles), 'shingles' (their hashes), 'story' (topic words) or 'fingerprint' (winnowed shingle hashes, uint64)
        shingle_count INTEGER NOT NULL,  -- shingles: hashes in the row
        hashvalues BLOB NOT NULL,  -- little-endian uint32 array, num_perm long (shingles: shingle_count long)
        PRIMARY KEY (segment_id, kind, window)
    )
    """,
    # LSH buckets (matching/index.py). One row per distinct (kind, band, band hash) of a segment,
    # folded into one integer: bucket = (hash >> 10 << 10) | band << 1 | (kind = 'story').
    # Segments sharing a bucket are candidates for each other. Compact on purpose (about
    # 20 bytes a row, hundreds of rows per article): no foreign key (index.remove deletes a
    # segment's rows by their keys, recomputed from its stored signatures) and no second
    # index. Ingest appends one lsh_pending row per new segment (cheap), and index.flush
    # moves its buckets into lsh_recent in bucket order (one sorted pass instead of
    # hundreds of random B-tree inserts per article), and lsh_recent into lsh_index once it
    # holds a quarter as many segments (so adding articles to a big archive rewrites the
    # small table, not the big one); lookups read lsh_index and lsh_recent.
    """
    CREATE TABLE IF NOT EXISTS lsh_index (
        bucket INTEGER NOT NULL,
        segment INTEGER NOT NULL,  -- segments.seq
        PRIMARY KEY (bucket, segment)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS lsh_recent (
        bucket INTEGER NOT NULL,
        segment INTEGER NOT NULL,  -- segments.seq
        PRIMARY KEY (bucket, segment)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS lsh_pending (
        segment INTEGER PRIMARY KEY,  -- segments.seq
        buckets TEXT NOT NULL         -- JSON array of the segment's lsh_index buckets
    )
    """,
    # How many segments use each content term (matching/stories.py): corpus-wide rarity,
    # kept current by ingest. The key is the term's 64-bit hash (stories.term_keys).
    """
    CREATE TABLE IF NOT EXISTS story_terms (
        term INTEGER PRIMARY KEY,
        segments INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    # Two segments reporting one story that share no wording worth aligning, with their
    # corpus-wide story similarity: one row per pair, segment_id < other_segment_id.
    # Made by the lineage rebuild from story_candidates, with the corpus's rarity then.
    """
    CREATE TABLE IF NOT EXISTS story_links (
        segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        other_segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        similarity REAL NOT NULL,
        PRIMARY KEY (segment_id, other_segment_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS idx_story_links_other ON story_links(other_segment_id)",
    STORY_CANDIDATES_TABLE,
    "CREATE INDEX IF NOT EXISTS idx_story_candidates_other ON story_candidates(other_segment_id)",
    # The buckets readably: (kind, band, hash, segment_id), flushed or not. Fingerprints
    # (matching/lsh.py) use the text kind's last band number, 511.
    """
    CREATE VIEW IF NOT EXISTS lsh_bands (kind, band, hash, segment_id) AS
    SELECT CASE WHEN b.bucket & 1 THEN 'story' WHEN (b.bucket >> 1) & 511 = 511
                THEN 'fingerprint' ELSE 'text' END, (b.bucket >> 1) & 511,
           b.bucket >> 10, s.id
    FROM (SELECT bucket, segment FROM lsh_index UNION ALL SELECT bucket, segment FROM lsh_recent
          UNION ALL SELECT j.value, p.segment FROM lsh_pending p, json_each(p.buckets) j) b
    JOIN segments s ON s.seq = b.segment
    """,
    # One row per verified pair of segments, oriented source -> derived.
    """
    CREATE TABLE IF NOT EXISTS matches (
        id INTEGER PRIMARY KEY,
        source_article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        derived_article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        source_segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        derived_segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        label TEXT NOT NULL,       -- verbatim, light_edit, paraphrase, shared_quotes, independent
        source_containment REAL NOT NULL,   -- share of the source found in the derived text
        derived_containment REAL NOT NULL,  -- share of the derived text found in the source
        jaccard REAL NOT NULL,
        credited INTEGER,          -- 1: the derived text credits the source (credit = 'credited'); 0: it does not; NULL: not derived, siblings or unknown
        direction_confidence REAL NOT NULL,  -- 0.5 = a coin toss, 1.0 = certain
        derivation_probability REAL,  -- calibrated P(derived) from the evidence in scores (NULL: labelled by a release before it)
        scores TEXT NOT NULL DEFAULT '{}',   -- JSON: every score the label was decided from
        evidence TEXT NOT NULL DEFAULT '[]', -- JSON list of plain-language reasons
        computed_at TEXT NOT NULL,
        credit TEXT,               -- credited, photo_only (names the source only for a photo) or uncredited; NULL when it cannot be told or does not apply
        relation TEXT,             -- derived pairs, from the lineage: copy (derived copies source, directly or not) or siblings (both copy shared_source_*)
        shared_source_article_id TEXT REFERENCES articles(id) ON DELETE SET NULL,
        shared_source_segment_id TEXT REFERENCES segments(id) ON DELETE SET NULL,
        UNIQUE (source_segment_id, derived_segment_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_matches_source ON matches(source_article_id)",
    "CREATE INDEX IF NOT EXISTS idx_matches_derived ON matches(derived_article_id)",
    "CREATE INDEX IF NOT EXISTS idx_matches_label ON matches(label)",
    """
    CREATE TABLE IF NOT EXISTS passages (
        id INTEGER PRIMARY KEY,
        match_id INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,        -- verbatim, edited, paraphrase, quotation
        source_start INTEGER NOT NULL,
        source_end INTEGER NOT NULL,
        derived_start INTEGER NOT NULL,
        derived_end INTEGER NOT NULL,
        similarity REAL NOT NULL,
        edits TEXT NOT NULL DEFAULT '[]'  -- JSON list of [source words, derived words] changes
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_passages_match ON passages(match_id)",
    # Story clusters: segments about the same event, linked by any verified match.
    """
    CREATE TABLE IF NOT EXISTS clusters (
        id INTEGER PRIMARY KEY,
        title TEXT,
        origin_article_id TEXT REFERENCES articles(id) ON DELETE SET NULL,
        article_count INTEGER NOT NULL,
        derived_count INTEGER NOT NULL,
        uncredited_count INTEGER NOT NULL,   -- copies whose text does not credit their source (photo-only credits included)
        first_published TEXT,
        last_published TEXT,
        photo_only_count INTEGER NOT NULL DEFAULT 0  -- of those, copies that credit the source only for a photo
    )
    """,
    # Lineage forest inside each cluster, one row per clustered segment.
    """
    CREATE TABLE IF NOT EXISTS lineage (
        segment_id TEXT PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
        parent_article_id TEXT REFERENCES articles(id) ON DELETE SET NULL,
        parent_segment_id TEXT REFERENCES segments(id) ON DELETE SET NULL,
        match_id INTEGER REFERENCES matches(id) ON DELETE SET NULL,
        label TEXT,                -- how this segment derives from its parent (NULL for origins and independents)
        generation INTEGER,        -- 0 for origins, 1 for a direct copy, ...; NULL for independent coverage
        is_origin INTEGER NOT NULL DEFAULT 0,
        origin_article_id TEXT REFERENCES articles(id) ON DELETE SET NULL,  -- root of this copy's lineage tree
        origin_segment_id TEXT REFERENCES segments(id) ON DELETE SET NULL,
        credit TEXT,               -- copies: credited (names its origin or parent), photo_only or uncredited; NULL if unknown
        evidence TEXT NOT NULL DEFAULT '[]'  -- JSON list: why this parent, and the credit, in plain words
    )
    """,
    "CREATE INDEX IF NOT EXISTS idx_lineage_article ON lineage(article_id)",
    "CREATE INDEX IF NOT EXISTS idx_lineage_cluster ON lineage(cluster_id)",
    "CREATE INDEX IF NOT EXISTS idx_lineage_parent ON lineage(parent_article_id)",
)

# provenance_meta key: segments (by seq) whose index rows are in lsh_index, the rest being
# in lsh_recent or pending (matching/index.py keeps it; a migration below sets it).
LSH_MERGED_META_KEY = "lsh_index_merged_through"
# provenance_meta key, set while stored matches and the clusters/lineage built from them
# disagree (matching/update.py).
LINEAGE_STALE_KEY = "lineage_stale"


def clean_bounds(clean_text: str, segment_texts: Sequence[str]) -> list[tuple[int, int]]:
    """Where each of an article's story texts lies in its clean text, in order: (start,
    end) in code points, so that ``clean_text[start:end]`` is the story's text.

    The cleaner tidies an article and its stories alike, so each story's text is found
    whole, after the previous one. Should one not be (a cleaner rule that joined two
    stories' lines), it gets what lies between its neighbours, without the blank lines."""
    found: list[tuple[int, int] | None] = []
    position = 0
    for text in segment_texts:
        at = clean_text.find(text, position)
        found.append(None if at < 0 else (at, at + len(text)))
        position = position if at < 0 else at + len(text)
    bounds = []
    for number, place in enumerate(found):
        if place is None:
            start = bounds[-1][1] if bounds else 0
            end = next((later[0] for later in found[number + 1 :] if later), len(clean_text))
            gap = clean_text[start:end]
            start += len(gap) - len(gap.lstrip())
            place = (start, start + len(gap.strip()))
        bounds.append(place)
    return bounds


def _locate_segment_texts(conn: sqlite3.Connection) -> None:
    """Fill clean_start/clean_end of a version 4 database from its stored story texts:
    any place in the article's clean text holding the story's text shows the same text
    (instr, in C); the rare one not found whole is placed by ``clean_bounds``."""
    conn.execute(
        "UPDATE segments SET clean_start = (SELECT instr(a.clean_text, segments.clean_text) - 1 "
        "FROM articles a WHERE a.id = segments.article_id)"
    )
    conn.execute("UPDATE segments SET clean_end = clean_start + length(clean_text)")
    unplaced = [row[0] for row in conn.execute(
        "SELECT DISTINCT article_id FROM segments WHERE clean_start < 0"
    )]  # fmt: skip
    for article_id in unplaced:
        clean_text = conn.execute(
            "SELECT clean_text FROM articles WHERE id = ?", [article_id]
        ).fetchone()[0]
        segments = conn.execute(
            "SELECT id, clean_text FROM segments WHERE article_id = ? ORDER BY segment_number",
            [article_id],
        ).fetchall()
        bounds = clean_bounds(clean_text, [text for _, text in segments])
        conn.executemany(
            "UPDATE segments SET clean_start = ?, clean_end = ? WHERE id = ?",
            [(start, end, segment_id) for (segment_id, _), (start, end) in zip(segments, bounds)],
        )


def _drop_segment_texts(conn: sqlite3.Connection) -> None:
    if sqlite3.sqlite_version_info < (3, 35):  # no ALTER TABLE ... DROP COLUMN before
        raise SchemaError(
            f"upgrading this database to schema version {SCHEMA_VERSION} needs SQLite 3.35 or "
            f"newer (Python here uses {sqlite3.sqlite_version}); new databases work with it"
        )
    try:
        conn.execute("ALTER TABLE segments DROP COLUMN clean_text")
    except sqlite3.OperationalError as problem:  # a view or trigger of the user's reads it
        raise SchemaError(
            f"cannot upgrade: {first_line(problem)}; segments.clean_text is no longer stored "
            "(segment_texts.clean_text has it): change or drop what reads it and run again"
        ) from problem


def _candidates_from_story_links(conn: sqlite3.Connection) -> None:
    """The story links matching stored (before version 4 there were none) as candidates."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'story_links'").fetchone():
        conn.execute(
            "INSERT OR IGNORE INTO story_candidates (segment_id, other_segment_id) "
            "SELECT segment_id, other_segment_id FROM story_links"
        )


# Upgrades from version N to N+1, applied in order, each followed by SCHEMA_STATEMENTS
# (which create whatever new tables and indexes version N lacked). A step is SQL or a
# function of the connection.
MIGRATIONS: dict[int, tuple] = {
    # 2 added lsh_recent and idx_segments_seq (created by SCHEMA_STATEMENTS) and reads
    # lsh_recent in the lsh_bands view: CREATE VIEW IF NOT EXISTS would keep the old one.
    1: (
        "DROP VIEW IF EXISTS lsh_bands",
        # The first release kept every flushed row in lsh_index: record that they are
        # merged, so the first flush does not merge for nothing. Later version-1 builds
        # had lsh_recent and record it themselves.
        "INSERT OR IGNORE INTO provenance_meta (key, value) "
        f"SELECT '{LSH_MERGED_META_KEY}', coalesce((SELECT min(segment) - 1 FROM lsh_pending), "
        "(SELECT max(seq) FROM segments), 0)",
    ),
    # 3: credit kinds (wire marker, text credit, attribution, photo credit, other) with the
    # old kind kept as the form; credit states and sibling relations on matches; origin and
    # credit on lineage rows (filled by the next lineage rebuild, marked stale here).
    2: (
        "ALTER TABLE article_credits ADD COLUMN form TEXT",
        "UPDATE article_credits SET form = kind, kind = CASE "
        "WHEN kind = 'reporting_credit' THEN 'text_credit' "
        "WHEN kind = 'copyright' THEN 'text_credit' "
        "WHEN kind = 'byline' AND agency IS NOT NULL THEN 'wire_marker' "
        "WHEN kind IN ('dateline', 'byline', 'signoff') THEN 'other' ELSE kind END",
        "UPDATE article_credits SET form = CASE form WHEN 'reporting_credit' THEN 'reporting' "
        "WHEN 'attribution' THEN 'sentence' WHEN 'wire_marker' THEN NULL "
        "WHEN 'photo_credit' THEN NULL ELSE form END",
        "ALTER TABLE matches ADD COLUMN credit TEXT",
        "ALTER TABLE matches ADD COLUMN relation TEXT",
        "ALTER TABLE matches ADD COLUMN shared_source_article_id TEXT "
        "REFERENCES articles(id) ON DELETE SET NULL",
        "ALTER TABLE matches ADD COLUMN shared_source_segment_id TEXT "
        "REFERENCES segments(id) ON DELETE SET NULL",
        "UPDATE matches SET credit = CASE credited WHEN 1 THEN 'credited' "
        "WHEN 0 THEN 'uncredited' END",
        "ALTER TABLE clusters ADD COLUMN photo_only_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE lineage ADD COLUMN origin_article_id TEXT "
        "REFERENCES articles(id) ON DELETE SET NULL",
        "ALTER TABLE lineage ADD COLUMN origin_segment_id TEXT "
        "REFERENCES segments(id) ON DELETE SET NULL",
        "ALTER TABLE lineage ADD COLUMN credit TEXT",
        "ALTER TABLE lineage ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]'",
        "INSERT INTO provenance_meta (key, value) "
        f"VALUES ('{LINEAGE_STALE_KEY}', 'true') ON CONFLICT(key) DO UPDATE SET value = 'true'",
    ),
    # 4 added matches.derivation_probability (labels are cut from it), story_terms and
    # story_links (created by SCHEMA_STATEMENTS; story_terms is counted by the next
    # ingest or match, the links made by re-matching, which the changed label settings
    # ask for).
    3: (
        "ALTER TABLE matches ADD COLUMN derivation_probability REAL",
        "DROP VIEW IF EXISTS lsh_bands",  # names the fingerprint buckets
    ),
    # 5 stores each story's clean text once, as its place in the article's (the
    # segment_texts view, created by SCHEMA_STATEMENTS, shows it as before).
    4: (
        "ALTER TABLE segments ADD COLUMN clean_start INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE segments ADD COLUMN clean_end INTEGER NOT NULL DEFAULT 0",
        _locate_segment_texts,
        _drop_segment_texts,
    ),
    # 6 stores a long segment's shingle hashes (signatures kind 'shingles') instead of its
    # token windows, which are made from them when read. Nothing to change: the windows
    # stored before are read as they are (`match --rebuild-index` re-signs them in the new
    # layout); the version tells an older release, which would read only window 0 of new
    # segments, to refuse the database.
    5: (),
    # 7 keeps story candidates (story_candidates), from which each lineage rebuild makes
    # the story links: the stored links are the first candidates (measured again by the
    # next rebuild, which this marks due).
    6: (
        STORY_CANDIDATES_TABLE,
        _candidates_from_story_links,
        "INSERT INTO provenance_meta (key, value) "
        f"VALUES ('{LINEAGE_STALE_KEY}', 'true') ON CONFLICT(key) DO UPDATE SET value = 'true'",
    ),
}


PROVENANCE_TABLES = (
    "provenance_meta",
    "articles",
    "segments",
    "segment_texts",
    "article_credits",
    "outlet_names",
    "boilerplate_spans",
    "signatures",
    "lsh_index",
    "lsh_recent",
    "lsh_pending",
    "lsh_bands",
    "story_terms",
    "story_candidates",
    "story_links",
    "matches",
    "passages",
    "clusters",
    "lineage",
)


# Optional full-text search over articles (`datasette-provenance search-index DB`): Datasette
# finds it by name and puts a search box on the articles table, and the check page uses it
# for excerpts too short for the similarity index. Triggers keep it current on ingest.
SEARCH_TABLE = "articles_fts"
SEARCH_COLUMNS = ("title", "clean_text")


# The index and its triggers exactly as sqlite-utils' enable_fts writes them (Datasette and
# detect_fts find the index by its content= table), but run here in one transaction:
# sqlite-utils runs them as a script, committing statement by statement, and a kill between
# two left an index without the triggers that keep it current.
SEARCH_TRIGGERS = ("articles_ai", "articles_ad", "articles_au")
_COLUMNS = ", ".join(f'"{column}"' for column in SEARCH_COLUMNS)
_NEW = ", ".join(f'new."{column}"' for column in SEARCH_COLUMNS)
_OLD = ", ".join(f'old."{column}"' for column in SEARCH_COLUMNS)
_INSERT_NEW = f'INSERT INTO "{SEARCH_TABLE}" (rowid, {_COLUMNS}) VALUES (new.rowid, {_NEW});'
_DELETE_OLD = (
    f'INSERT INTO "{SEARCH_TABLE}" ("{SEARCH_TABLE}", rowid, {_COLUMNS}) '
    f"VALUES('delete', old.rowid, {_OLD});"
)
SEARCH_STATEMENTS: tuple[str, ...] = (
    f'CREATE VIRTUAL TABLE "{SEARCH_TABLE}" USING FTS5 (\n    {_COLUMNS},\n    content="articles"\n)',
    f'INSERT INTO "{SEARCH_TABLE}" (rowid, {_COLUMNS}) SELECT rowid, {_COLUMNS} FROM "articles"',
    f'CREATE TRIGGER "articles_ai" AFTER INSERT ON "articles" BEGIN\n  {_INSERT_NEW}\nEND',
    f'CREATE TRIGGER "articles_ad" AFTER DELETE ON "articles" BEGIN\n  {_DELETE_OLD}\nEND',
    f'CREATE TRIGGER "articles_au" AFTER UPDATE ON "articles" BEGIN\n  {_DELETE_OLD}\n'
    f"  {_INSERT_NEW}\nEND",
)


def enable_search(db: sqlite_utils.Database) -> int:
    """Build (or rebuild) the FTS5 index of article titles and clean texts; returns its rows.

    One transaction (FTS5 tables and triggers are transactional): killed at any point, the
    database has the index it had (or none), or the new one with its triggers."""
    with write_transaction(db):
        _drop_search_index(db)  # whatever was there: made by hand, other columns, no triggers
        for statement in SEARCH_STATEMENTS:
            db.conn.execute(statement)
    return db[SEARCH_TABLE].count


def disable_search(db: sqlite_utils.Database) -> None:
    """Drop the full-text index and its triggers (articles are untouched)."""
    with write_transaction(db):
        _drop_search_index(db)


def search_index_problem(conn) -> str | None:
    """Why the full-text index would miss articles (None: it would not): it lacks a trigger
    that keeps it current. Takes a plain connection, as the plugin pages have."""
    names = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'"
        )
    }
    missing = [name for name in SEARCH_TRIGGERS if name not in names]
    if not missing:
        return None
    return (
        f"full-text index has no update triggers ({', '.join(missing)}): articles added or "
        "changed since it was built are not in it; run `datasette-provenance search-index` again"
    )


def _drop_search_index(db: sqlite_utils.Database) -> None:
    """By name (sqlite-utils only recognises an index whose content= names the table), in
    the caller's transaction."""
    for trigger in SEARCH_TRIGGERS:  # sqlite-utils' names
        db.conn.execute(f"DROP TRIGGER IF EXISTS [{trigger}]")
    kind = db.conn.execute(
        "SELECT type FROM sqlite_master WHERE name = ?", [SEARCH_TABLE]
    ).fetchone()
    if kind:
        db.conn.execute(f"DROP {kind[0].upper()} IF EXISTS [{SEARCH_TABLE}]")


def has_search(db: sqlite_utils.Database) -> bool:
    return db[SEARCH_TABLE].exists()


def connect(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) a provenance database in WAL mode, schema ready."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    # A new file gives freed pages back (release_free_pages). Only an empty file takes
    # this (before WAL writes its header); an older database keeps its mode.
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    # The LSH band index takes hundreds of random-key inserts per article; with
    # SQLite's default 2 MB cache a 5,000-article ingest spends a third of its
    # time re-reading B-tree pages. 64 MB (negative = KiB) keeps them in memory.
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    # A flush of the LSH index (index.flush) can write a large transaction; the WAL
    # file is cut back to this size after each checkpoint instead of staying that big.
    db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
    ensure_schema(db)
    return db


def release_free_pages(db: sqlite_utils.Database) -> None:
    """Give the file's free pages back to the file system, outside any transaction.

    Moving the similarity index's pending rows into it (matching/index.py: flush) frees
    as many pages as the rows took, scattered between the articles' pages: as much again
    as the index itself. With ``auto_vacuum = INCREMENTAL`` (a database this release
    created) the pages at the end of the file move into those holes and the file is cut;
    an older database keeps its free pages for later writes (``VACUUM`` returns them)."""
    if db.conn.in_transaction or db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
        return
    if db.execute("PRAGMA freelist_count").fetchone()[0]:
        # sqlite3_exec runs the pragma to the end: a Python cursor frees one page a step.
        db.conn.executescript("PRAGMA incremental_vacuum")


def database_file(db: sqlite_utils.Database) -> str:
    """The database's file path ("" for an in-memory or temporary database)."""
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or ""
    return ""


def database_name(db: sqlite_utils.Database) -> str:
    """The database's file, for messages ("in-memory database" when it has none)."""
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or "in-memory database"
    return "database"


def schema_version(db: sqlite_utils.Database | sqlite3.Connection) -> int | None:
    """The schema version the database was written with (None: not a provenance database).

    Takes a plain connection too, as the plugin pages have (they read it, never write)."""
    try:
        row = db.execute(
            "SELECT value FROM provenance_meta WHERE key = 'schema_version'"
        ).fetchone()
    except sqlite3.OperationalError as problem:
        if "no such table" in str(problem):
            return None
        raise  # locked, read-only, unreadable: not to be mistaken for "not provenance"
    if not row:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):  # edited by hand
        raise SchemaError(f"provenance_meta has schema_version {row[0]!r}, not a number")


def upgrade(path: str) -> int:
    """Upgrade the provenance database at ``path`` in place; returns the version it had.

    Ingest and match upgrade too (through connect); this is for a database that is only
    served, whose pages need the new tables."""
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            found = schema_version(conn)
        finally:
            conn.close()
        if found is None:
            raise SchemaError(f"{path} is not a datasette-provenance database (no provenance_meta)")
        if found != SCHEMA_VERSION:  # nothing to write otherwise
            connect(path).conn.close()
    except sqlite3.OperationalError as problem:  # read-only, locked: say which file
        raise sqlite3.OperationalError(f"{path}: {problem}") from problem
    return found


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or upgrade the schema; refuse databases from a newer release.

    All in one write transaction, begun before the version is read: a failed upgrade
    leaves the database as it was, and two processes cannot both upgrade it. (Python's
    sqlite3 would run the DDL outside any transaction.)"""
    with write_transaction(db):
        found = schema_version(db)
        if found is not None and found > SCHEMA_VERSION:
            raise SchemaError(
                f"database schema version {found} is newer than this datasette-provenance "
                f"supports ({SCHEMA_VERSION}); upgrade the package"
            )
        _refuse_early_index_layout(db)
        for version in range(found or SCHEMA_VERSION, SCHEMA_VERSION):
            for statement in MIGRATIONS.get(version, ()):
                if callable(statement):  # a step SQL alone cannot take
                    statement(db.conn)
                else:
                    db.conn.execute(statement)
        for statement in SCHEMA_STATEMENTS:
            db.conn.execute(statement)
        set_meta(db, "schema_version", SCHEMA_VERSION)


def _refuse_early_index_layout(db: sqlite_utils.Database) -> None:
    """Databases written before the LSH index keyed segments by ``segments.seq`` (development
    builds, still schema version 1) have no upgrade path yet: say so before changing anything,
    rather than fail on the first insert with "no column named seq"."""
    columns = [row[1] for row in db.execute("PRAGMA table_info(segments)").fetchall()]
    if columns and "seq" not in columns:
        raise SchemaError(
            "this database was written by an earlier development version of "
            "datasette-provenance (old similarity-index layout) and cannot be upgraded in place; "
            "ingest the articles into a new database"
        )


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction that holds SQLite's write lock from its first statement.

    What it reads, it reads under that lock: no other process commits between a read and
    the write that depends on it (Python's sqlite3 begins a transaction only at the first
    write, after the reads). Inside a transaction the caller opened, it is part of that one.
    """
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


def in_one_snapshot(conn, fn, *args):
    """``fn(conn, *args)`` inside one read transaction.

    A page or a check reads several tables with several queries; while an ingest writes
    to a served database (WAL mode), each query on its own could see a different commit -
    a segment's cluster from before a lineage rebuild, the cluster itself from after it.
    One transaction sees each commit whole or not at all.
    """
    if conn.in_transaction:
        return fn(conn, *args)
    conn.execute("BEGIN")
    try:
        return fn(conn, *args)
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")  # nothing was written: this only ends the snapshot


def get_meta(db: sqlite_utils.Database, key: str, default=None):
    """Read a JSON value from provenance_meta."""
    row = db.execute("SELECT value FROM provenance_meta WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else default


def set_meta(db: sqlite_utils.Database, key: str, value) -> None:
    """Write a JSON value to provenance_meta (caller owns the transaction)."""
    db.conn.execute(
        "INSERT INTO provenance_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value)],
    )


def clear_matches(db: sqlite_utils.Database, segment_ids: Iterable[str] | None = None) -> None:
    """Delete stored matches (and their passages) for these segments, or all of them."""
    if segment_ids is None:
        db.conn.execute("DELETE FROM passages")
        db.conn.execute("DELETE FROM matches")
        return
    ids = list(segment_ids)
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        marks = ",".join("?" * len(chunk))
        db.conn.execute(
            f"DELETE FROM matches WHERE source_segment_id IN ({marks}) "
            f"OR derived_segment_id IN ({marks})",
            chunk + chunk,
        )


# ------------------------------------------------------------------------------ row writers
# All in the caller's transaction: the ingest and both matching engines (local, Spark)
# write articles and matches with these, so their rows agree column for column.


def article_row(article, now: str) -> dict:
    """The ``articles`` row of a prepared article (``ingest.PreparedArticle``)."""
    record = article.record
    cleaned = article.cleaned
    title = record.title or getattr(cleaned, "title", None)
    if not title and article.segments:
        title = article.segments[0].title
    return {
        "id": record.id,
        "title": title,
        "outlet": record.outlet,
        "url": record.url,
        "published": record.published,
        "language": record.language,
        "inferred_fields": json.dumps(sorted(record.inferred_fields)),
        "raw_text": record.text,
        "clean_text": article.clean_text,
        "content_hash": article.content_hash,
        "word_count": sum(segment.word_count for segment in article.segments),
        "source_path": record.source_path,
        "ingested_at": now,
    }


def insert_outlet_names(db: sqlite_utils.Database, rows: Iterable[tuple[str, str, str, str]]) -> None:
    """Add (outlet, name, kind, source) rows to ``outlet_names``; a name already known for
    an outlet is kept as it was. The caller owns the transaction."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO outlet_names (outlet, name, kind, source) VALUES (?, ?, ?, ?)",
        list(dict.fromkeys(rows)),
    )


def insert_article(db: sqlite_utils.Database, article, now: str) -> None:
    """Insert a prepared article with its segments, credits and boilerplate spans."""
    conn = db.conn
    row = article_row(article, now)
    conn.execute(
        f"INSERT INTO articles ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    conn.executemany(  # seq: the segment's key in the LSH index, the next free one
        "INSERT INTO segments (id, article_id, segment_number, title, start_char, end_char, "
        "clean_start, clean_end, word_count, match_pending, seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, (SELECT coalesce(max(seq), 0) + 1 FROM segments))",
        [
            (s.segment_id, article.id, s.number, s.title, s.start, s.end, s.clean_start,
             s.clean_end, s.word_count)
            for s in article.segments
        ],  # fmt: skip
    )
    conn.executemany(
        "INSERT INTO article_credits "
        "(article_id, kind, form, agency, matched_text, start_char, end_char) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (article.id, c.kind, c.form, c.agency, c.text, c.start, c.end)
            for c in article.cleaned.credits
        ],
    )
    conn.executemany(
        "INSERT INTO boilerplate_spans (article_id, kind, matched_text, start_char, end_char) "
        "VALUES (?, ?, ?, ?, ?)",
        [(article.id, s.kind, s.text, s.start, s.end) for s in article.cleaned.removed],
    )


def store_match(db: sqlite_utils.Database, row: dict, passages: list[dict]) -> int:
    """Insert (or replace) a match row and its passages; the match's id."""
    source, derived = row["source_segment_id"], row["derived_segment_id"]
    db.conn.execute(
        "DELETE FROM matches WHERE (source_segment_id = ? AND derived_segment_id = ?) "
        "OR (source_segment_id = ? AND derived_segment_id = ?)",
        [source, derived, derived, source],
    )
    match_id = insert_rows(db, "matches", [row])
    insert_rows(db, "passages", [{"match_id": match_id, **passage} for passage in passages])
    return match_id


def insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict]) -> int | None:
    """Insert rows (all with the same keys); the last rowid."""
    if not rows:
        return None
    columns = list(rows[0])
    cursor = db.conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[row[column] for column in columns] for row in rows],
    )
    if len(rows) == 1:
        return db.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
    return cursor.lastrowid
