"""Compare provenance databases by content, ignoring run timestamps and row ids.

Two ingests of the same input must give the same rows; only ``ingested_at``,
``computed_at`` and integer ids (``matches.id``, ``clusters.id``, span ids) may
differ. Rows that refer to those ids are compared through what the id stands
for: a passage by its match's segment pair, a lineage row by its cluster's
smallest segment id.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

from datasette_provenance.vocabulary import DERIVED_LABELS


DERIVED_LABELS_SQL = "(" + ", ".join(f"'{label}'" for label in DERIVED_LABELS) + ")"


def _cluster_key(cluster_id: str) -> str:
    return f"(select min(k.segment_id) from lineage k where k.cluster_id = {cluster_id})"


# Table -> (FROM clause, columns): every column that is a result, never a run artefact.
CONTENT_QUERIES: dict[str, tuple[str, list[str]]] = {
    "provenance_meta": ("provenance_meta", ["key", "value"]),
    "articles": (
        "articles",
        ["id", "title", "outlet", "url", "published", "language", "inferred_fields",
         "raw_text", "clean_text", "content_hash", "word_count", "source_path"],
    ),
    "outlet_names": ("outlet_names", ["outlet", "name", "kind", "source"]),
    "segments": (
        "segments",
        ["id", "article_id", "segment_number", "title", "start_char", "end_char",
         "clean_start", "clean_end", "word_count", "match_pending"],
    ),
    "article_credits": (
        "article_credits",
        ["article_id", "start_char", "end_char", "kind", "form", "agency", "matched_text"],
    ),
    "boilerplate_spans": (
        "boilerplate_spans",
        ["article_id", "start_char", "end_char", "kind", "matched_text"],
    ),
    "signatures": ("signatures", ["segment_id", "kind", "window", "shingle_count", "hashvalues"]),
    "lsh_bands": ("lsh_bands", ["kind", "band", "hash", "segment_id"]),
    "matches": (
        "matches",
        ["source_segment_id", "derived_segment_id", "source_article_id", "derived_article_id",
         "label", "source_containment", "derived_containment", "jaccard", "credited",
         "direction_confidence", "derivation_probability", "scores", "evidence", "credit",
         "relation", "shared_source_article_id", "shared_source_segment_id"],
    ),
    # The verdicts: derived matches and their passages, without the scores (which hold
    # story_similarity, measured against the corpus as it stood at matching time).
    "derived_matches": (
        f"matches where label in {DERIVED_LABELS_SQL}",
        ["source_segment_id", "derived_segment_id", "label", "source_containment",
         "derived_containment", "jaccard", "direction_confidence", "derivation_probability",
         "evidence", "credit"],
    ),
    "derived_passages": (
        f"passages p join matches m on m.id = p.match_id where m.label in {DERIVED_LABELS_SQL}",
        ["m.source_segment_id", "m.derived_segment_id", "p.source_start", "p.derived_start",
         "p.source_end", "p.derived_end", "p.kind", "p.similarity", "p.edits"],
    ),
    # Every match, its scores without the story similarity measured when it was matched
    # (the lineage rebuild measures it again with the corpus's rarity as it stands).
    "matches_as_judged": (
        "matches",
        ["source_segment_id", "derived_segment_id", "source_article_id", "derived_article_id",
         "label", "source_containment", "derived_containment", "jaccard", "credited",
         "direction_confidence", "derivation_probability",
         "json_remove(scores, '$.story_similarity')", "evidence", "credit", "relation",
         "shared_source_article_id", "shared_source_segment_id"],
    ),
    "story_candidates": ("story_candidates", ["segment_id", "other_segment_id"]),
    "story_links": ("story_links", ["segment_id", "other_segment_id", "similarity"]),
    "story_terms": ("story_terms", ["term", "segments"]),
    "passages": (
        "passages p join matches m on m.id = p.match_id",
        ["m.source_segment_id", "m.derived_segment_id", "p.source_start", "p.derived_start",
         "p.source_end", "p.derived_end", "p.kind", "p.similarity", "p.edits"],
    ),
    "clusters": (
        "clusters c",
        [_cluster_key("c.id"), "c.title", "c.origin_article_id", "c.article_count",
         "c.derived_count", "c.uncredited_count", "c.photo_only_count", "c.first_published",
         "c.last_published"],
    ),
    "lineage": (
        "lineage l",
        ["l.segment_id", "l.article_id", _cluster_key("l.cluster_id"), "l.parent_article_id",
         "l.parent_segment_id", "l.label", "l.generation", "l.is_origin", "l.origin_article_id",
         "l.origin_segment_id", "l.credit", "l.evidence"],
    ),
}  # fmt: skip
# Whole tables (the two verdict views above are parts of matches and passages).
TABLES = tuple(
    name for name in CONTENT_QUERIES
    if not name.startswith("derived_") and name != "matches_as_judged"
)  # fmt: skip


def content_rows(conn: sqlite3.Connection, table: str) -> sqlite3.Cursor:
    """The table's content rows, ordered by every column (a cursor: big tables stream)."""
    source, columns = CONTENT_QUERIES[table]
    order = ", ".join(str(position) for position in range(1, len(columns) + 1))
    return conn.execute(f"select {', '.join(columns)} from {source} order by {order}")


def differences(first: Path, second: Path, tables=TABLES, limit: int = 3) -> dict:
    """{table: [(row in first, row in second), ...]} for each table whose content differs."""
    found = {}
    with read_only(first) as a, read_only(second) as b:
        for table in tables:
            diffs = []
            pairs = itertools.zip_longest(content_rows(a, table), content_rows(b, table))
            for row_a, row_b in pairs:
                if row_a != row_b:
                    diffs.append((_shortened(row_a), _shortened(row_b)))
                    if len(diffs) >= limit:
                        break
            if diffs:
                found[table] = diffs
    return found


def _shortened(row):
    """A row with long texts cut, for readable assertion messages."""
    if row is None:
        return None
    return tuple(v[:60] if isinstance(v, (str, bytes)) and len(v) > 60 else v for v in row)


class read_only:
    """A read-only connection closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()
