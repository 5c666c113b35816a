"""Read-only queries behind the plugin pages.

Every public function takes a plain ``sqlite3.Connection`` (the pages run them
through ``Database.execute_fn``, one thread hop per page) and returns plain,
JSON-ready dicts and lists: ``views.py`` adds URLs and HTML on top. Nothing here
writes, so the pages work on immutable databases.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable, Sequence

from ..vocabulary import LABELS

# Tables the pages read; a database missing any of them is not a provenance database.
PAGE_TABLES = (
    "articles",
    "segments",
    "article_credits",
    "boilerplate_spans",
    "matches",
    "passages",
    "clusters",
    "lineage",
)
# The check page also reads the similarity index (lsh_bands is a view of lsh_index...).
CHECK_TABLES = PAGE_TABLES + ("signatures", "lsh_index", "lsh_recent", "lsh_bands")

# Match labels from most to least copied, for a stable display order (independent
# coverage is listed apart).
LABEL_DISPLAY_ORDER = tuple(label for label in LABELS if label != "independent")

STORY_SORTS = {
    "copies": "c.derived_count desc, c.article_count desc, c.id",
    "uncredited": "c.uncredited_count desc, c.derived_count desc, c.id",
    "articles": "c.article_count desc, c.derived_count desc, c.id",
    "newest": "c.first_published is null, c.first_published desc, c.id",
    "oldest": "c.first_published is null, c.first_published, c.id",
    "title": "coalesce(c.title, o.title) is null, coalesce(c.title, o.title) collate nocase, c.id",
}

# Cluster members listed on one article page; the rest are counted, not listed.
MAX_CLUSTER_MEMBERS = 500

_ARTICLE_SUMMARY = "id, title, outlet, published"
_ARTICLE_DETAIL = "id, title, outlet, url, published, language, inferred_fields, word_count"
_MATCH_COLUMNS = (
    "id, source_article_id, derived_article_id, source_segment_id, derived_segment_id, label, "
    "source_containment, derived_containment, jaccard, credited, direction_confidence, "
    "scores, evidence, credit, relation, shared_source_article_id, shared_source_segment_id"
)


def missing_tables(conn: sqlite3.Connection, tables: Iterable[str] = PAGE_TABLES) -> list[str]:
    present = {
        row[0]
        for row in conn.execute("select name from sqlite_master where type in ('table', 'view')")
    }
    return [table for table in tables if table not in present]


# Stories overview -------------------------------------------------------------


def story_overview(conn: sqlite3.Connection, sort: str, limit: int, offset: int) -> dict:
    """One page of story clusters with their origin and copy counts."""
    total = conn.execute("select count(*) from clusters").fetchone()[0]
    clusters = _rows(
        conn,
        f"""
        select c.id, coalesce(c.title, o.title) as title, c.article_count, c.derived_count,
               c.uncredited_count, c.photo_only_count, c.first_published, c.last_published,
               o.id as origin_id, o.title as origin_title, o.outlet as origin_outlet,
               o.published as origin_published
        from clusters c left join articles o on o.id = c.origin_article_id
        order by {STORY_SORTS[sort]}
        limit ? offset ?
        """,
        [limit, offset],
    )
    roles = _roles_by_cluster(conn, [cluster["id"] for cluster in clusters])
    stories = [_story(cluster, roles.get(cluster["id"], {})) for cluster in clusters]
    return {"total": total, "stories": stories}


def _story(cluster: dict, roles: dict[str, int]) -> dict:
    origin = None
    if cluster["origin_id"] is not None:
        origin = {
            "id": cluster["origin_id"],
            "title": cluster["origin_title"],
            "outlet": cluster["origin_outlet"],
            "published": cluster["origin_published"],
        }
    return {
        "id": cluster["id"],
        "title": cluster["title"],
        "origin": origin,
        "article_count": cluster["article_count"],
        "derived_count": cluster["derived_count"],
        "uncredited_count": cluster["uncredited_count"],
        "photo_only_count": cluster["photo_only_count"],
        "independent_count": roles.get("independent", 0),
        "labels": {label: roles[label] for label in _ordered_labels(roles)},
        "first_published": cluster["first_published"],
        "last_published": cluster["last_published"],
    }


def _roles_by_cluster(
    conn: sqlite3.Connection, cluster_ids: list[int]
) -> dict[int, dict[str, int]]:
    """Articles per role (derivation label, 'origin' or 'independent') in each cluster."""
    roles: dict[int, dict[str, int]] = {}
    for chunk in _chunks(cluster_ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"""
            select cluster_id,
                   case when is_origin then 'origin'
                        when label is null then 'independent' else label end as role,
                   count(distinct article_id)
            from lineage where cluster_id in ({marks}) group by 1, 2
            """,
            chunk,
        ):
            roles.setdefault(row[0], {})[row[1]] = row[2]
    return roles


def _ordered_labels(roles: dict[str, int]) -> list[str]:
    known = [label for label in LABEL_DISPLAY_ORDER if label in roles]
    others = sorted(
        label for label in roles if label not in LABEL_DISPLAY_ORDER + ("origin", "independent")
    )
    return known + others


# Lineage of one article ---------------------------------------------------------


def article_lineage(conn: sqlite3.Connection, article_id: str) -> dict | None:
    """Everything the lineage page shows about one article, or None if unknown."""
    article = _article(conn, article_id, _ARTICLE_DETAIL)
    if article is None:
        return None
    article["inferred_fields"] = _json_list(article["inferred_fields"])
    article["credits"] = _rows(
        conn,
        "select kind, form, agency, matched_text as text from article_credits "
        "where article_id = ? order by start_char",
        [article_id],
    )
    segments = _rows(
        conn,
        "select s.id, s.segment_number, s.title, s.word_count, l.cluster_id "
        "from segments s left join lineage l on l.segment_id = s.id "
        "where s.article_id = ? order by s.segment_number",
        [article_id],
    )
    clusters: dict[int, dict] = {}
    for segment in segments:
        if segment["cluster_id"] is not None and segment["cluster_id"] not in clusters:
            mine = [s["id"] for s in segments if s["cluster_id"] == segment["cluster_id"]]
            clusters[segment["cluster_id"]] = _cluster(conn, segment["cluster_id"], mine)
    matches = _matches_touching(conn, article_id, clusters.values())
    _add_match_articles(conn, matches.values())
    return {
        "article": article,
        "segments": [_segment_lineage(segment, clusters, matches) for segment in segments],
        "clusters": list(clusters.values()),
    }


_MEMBER_SELECT = """
    select l.segment_id, l.article_id, l.parent_segment_id, l.parent_article_id, l.match_id,
           l.label, l.generation, l.is_origin, s.segment_number,
           a.title, a.outlet, a.published, l.credit, l.origin_article_id, l.evidence
    from lineage l
    join articles a on a.id = l.article_id
    left join segments s on s.id = l.segment_id
"""


def _cluster(conn: sqlite3.Connection, cluster_id: int, keep: Sequence[str] = ()) -> dict:
    """A story and its first MAX_CLUSTER_MEMBERS members, plus the ``keep`` segments (the
    page's own article) and their ancestors wherever they rank, so its lineage is whole."""
    cluster = _one(
        conn,
        "select c.id, coalesce(c.title, o.title) as title, c.origin_article_id, c.article_count, "
        "c.derived_count, c.uncredited_count, c.photo_only_count, c.first_published, "
        "c.last_published "
        "from clusters c left join articles o on o.id = c.origin_article_id where c.id = ?",
        [cluster_id],
    ) or {"id": cluster_id, "title": None, "origin_article_id": None}
    members = _rows(
        conn,
        _MEMBER_SELECT + """
        where l.cluster_id = ?
        order by l.is_origin desc, l.generation is null, l.generation,
                 a.published is null, a.published, l.article_id, s.segment_number
        limit ?
        """,
        [cluster_id, MAX_CLUSTER_MEMBERS + 1],
    )
    cluster["members_truncated"] = len(members) > MAX_CLUSTER_MEMBERS
    members = members[:MAX_CLUSTER_MEMBERS] + _missing_ancestry(conn, members, keep)
    for member in members:
        member["role"] = _role(member)
        member["credited"] = None if member["credit"] is None else member["credit"] == "credited"
        member["evidence"] = [str(item) for item in _json_list(member["evidence"])]
    cluster["members"] = members
    return cluster


def _missing_ancestry(
    conn: sqlite3.Connection, members: list[dict], keep: Sequence[str]
) -> list[dict]:
    """The lineage rows of ``keep`` and of their ancestors that ``members`` lacks."""
    have = {member["segment_id"] for member in members[:MAX_CLUSTER_MEMBERS]}
    added: list[dict] = []
    for segment_id in keep:
        while segment_id is not None and segment_id not in have:
            row = _one(conn, _MEMBER_SELECT + "where l.segment_id = ?", [segment_id])
            if row is None:
                break
            have.add(segment_id)
            added.append(row)
            segment_id = row["parent_segment_id"]
    return added


def _role(member: dict) -> str:
    if member["is_origin"]:
        return "origin"
    if member["parent_segment_id"] is None or member["label"] is None:
        return "independent"
    return "copy"


def _matches_touching(
    conn: sqlite3.Connection, article_id: str, clusters: Iterable[dict]
) -> dict[int, dict]:
    """Matches used by the page: lineage edges of its clusters and the article's own matches."""
    match_ids = {m["match_id"] for c in clusters for m in c["members"] if m["match_id"] is not None}
    found = {}
    for chunk in _chunks(sorted(match_ids)):
        marks = ",".join("?" * len(chunk))
        for match in _rows(
            conn, f"select {_MATCH_COLUMNS} from matches where id in ({marks})", chunk
        ):
            found[match["id"]] = match
    for match in _rows(
        conn,
        f"select {_MATCH_COLUMNS} from matches where source_article_id = ? "
        f"union select {_MATCH_COLUMNS} from matches where derived_article_id = ?",
        [article_id, article_id],
    ):
        found[match["id"]] = match
    return {match_id: _decode_match(match) for match_id, match in found.items()}


def _segment_lineage(segment: dict, clusters: dict[int, dict], matches: dict[int, dict]) -> dict:
    """Ancestors, descendants and other coverage of one segment, each with its match."""
    result = {
        "segment_id": segment["id"],
        "segment_number": segment["segment_number"],
        "title": segment["title"],
        "word_count": segment["word_count"],
        "cluster_id": segment["cluster_id"],
        "role": "unclustered",
        "derived_from": [],
        "copies": [],
        "same_story": [],
    }
    cluster = clusters.get(segment["cluster_id"])
    if cluster is None:
        return result
    members = {member["segment_id"]: member for member in cluster["members"]}
    me = members.get(segment["id"])
    if me is None:  # beyond MAX_CLUSTER_MEMBERS
        return result
    result["role"] = me["role"]
    result["label"] = me["label"]
    result["generation"] = me["generation"]
    result["credit"] = me["credit"]
    result["evidence"] = me["evidence"]

    chain = _ancestors(me, members)
    result["derived_from"] = [
        _relation(parent, matches.get(child["match_id"])) for child, parent in chain
    ]
    descendants = _descendants(me, members)
    result["copies"] = [
        _relation(member, matches.get(member["match_id"]), depth=depth)
        for member, depth in descendants
    ]
    shown = (
        {me["segment_id"]}
        | {p["segment_id"] for _, p in chain}
        | {m["segment_id"] for m, _ in descendants}
    )
    direct = _direct_matches(me["segment_id"], matches)
    result["same_story"] = [
        _relation(member, direct.get(member["segment_id"]))
        for member in cluster["members"]
        if member["segment_id"] not in shown
    ]
    return result


def _ancestors(member: dict, members: dict[str, dict]) -> list[tuple[dict, dict]]:
    """(child, parent) steps from the segment up to its origin, nearest first."""
    steps, seen = [], {member["segment_id"]}
    while member["parent_segment_id"] in members and member["parent_segment_id"] not in seen:
        parent = members[member["parent_segment_id"]]
        steps.append((member, parent))
        seen.add(parent["segment_id"])
        member = parent
    return steps


def _descendants(member: dict, members: dict[str, dict]) -> list[tuple[dict, int]]:
    """Every segment derived from this one, depth-first, with its depth (1 = direct copy)."""
    children: dict[str, list[dict]] = {}
    for candidate in members.values():
        if candidate["parent_segment_id"] is not None and candidate["label"] is not None:
            children.setdefault(candidate["parent_segment_id"], []).append(candidate)
    found, seen = [], {member["segment_id"]}
    stack = [(child, 1) for child in reversed(children.get(member["segment_id"], []))]
    while stack:
        child, depth = stack.pop()
        if child["segment_id"] in seen:
            continue
        seen.add(child["segment_id"])
        found.append((child, depth))
        stack.extend(
            (grandchild, depth + 1)
            for grandchild in reversed(children.get(child["segment_id"], []))
        )
    return found


def _direct_matches(segment_id: str, matches: dict[int, dict]) -> dict[str, dict]:
    """Matches between this segment and others, keyed by the other segment."""
    direct = {}
    for match in matches.values():
        if match["source_segment_id"] == segment_id:
            direct[match["derived_segment_id"]] = match
        elif match["derived_segment_id"] == segment_id:
            direct[match["source_segment_id"]] = match
    return direct


def _relation(member: dict, match: dict | None, depth: int | None = None) -> dict:
    relation = {
        "article": {key: member[key] for key in ("title", "outlet", "published")}
        | {"id": member["article_id"]},
        "segment_id": member["segment_id"],
        "segment_number": member["segment_number"],
        "role": member["role"],
        "label": member["label"],
        "generation": member["generation"],
        "parent_article_id": member["parent_article_id"],
        "credit": member["credit"],
        "evidence": member["evidence"],
        "match": match,
    }
    if depth is not None:
        relation["depth"] = depth
    return relation


# Side-by-side comparison ----------------------------------------------------------


def comparison(conn: sqlite3.Connection, source_id: str, derived_id: str) -> dict:
    """Both texts with their matches, passages, boilerplate and credits.

    ``missing`` lists ids that are not in the database (the page is then a 404).
    """
    articles = {}
    for article_id in (source_id, derived_id):
        article = _article(conn, article_id, _ARTICLE_DETAIL + ", raw_text")
        if article is not None:
            article["inferred_fields"] = _json_list(article["inferred_fields"])
            article["boilerplate"] = _spans(conn, "boilerplate_spans", article_id, "kind")
            article["credits"] = _spans(conn, "article_credits", article_id, "kind, agency")
            articles[article_id] = article
    missing = [
        article_id
        for article_id in dict.fromkeys((source_id, derived_id))
        if article_id not in articles
    ]
    if missing:
        return {"missing": missing}
    matches = [
        _decode_match(match)
        for match in _rows(
            conn,
            f"select {_MATCH_COLUMNS} from matches "
            "where source_article_id = ? and derived_article_id = ? "
            "order by source_segment_id, derived_segment_id",
            [source_id, derived_id],
        )
    ]
    for match in matches:
        match["passages"] = _passages(conn, match["id"])
    _add_match_articles(conn, matches)
    reverse = conn.execute(
        "select 1 from matches where source_article_id = ? and derived_article_id = ? limit 1",
        [derived_id, source_id],
    ).fetchone()
    return {
        "missing": [],
        "source": articles[source_id],
        "derived": articles[derived_id],
        "matches": matches,
        "reverse_match_exists": reverse is not None,
    }


def _add_match_articles(conn: sqlite3.Connection, matches: Iterable[dict]) -> None:
    """Each match's source, derived and (siblings) shared-source article: id, title, outlet."""
    matches = list(matches)
    ids = [
        match[key]
        for match in matches
        for key in ("source_article_id", "derived_article_id", "shared_source_article_id")
        if match.get(key)
    ]
    found = articles_by_id(conn, ids)
    for match in matches:
        for side in ("source", "derived", "shared_source"):
            article_id = match.get(f"{side}_article_id")
            match[side] = found.get(article_id) if article_id else None


def _passages(conn: sqlite3.Connection, match_id: int) -> list[dict]:
    passages = _rows(
        conn,
        "select id, kind, source_start, source_end, derived_start, derived_end, similarity, edits "
        "from passages where match_id = ? order by derived_start, source_start",
        [match_id],
    )
    for passage in passages:
        passage["edits"] = decode_edits(passage["edits"])
    return passages


def _spans(conn: sqlite3.Connection, table: str, article_id: str, columns: str) -> list[dict]:
    return _rows(
        conn,
        f"select {columns}, matched_text as text, start_char as start, end_char as end "
        f"from {table} where article_id = ? order by start_char",
        [article_id],
    )


def articles_by_id(
    conn: sqlite3.Connection, article_ids: Iterable[str], with_text: bool = False
) -> dict[str, dict]:
    """Summaries (optionally with raw text) of several articles, for the check page."""
    columns = _ARTICLE_SUMMARY + (", raw_text" if with_text else "")
    found = {}
    for chunk in _chunks(list(dict.fromkeys(article_ids))):
        marks = ",".join("?" * len(chunk))
        for article in _rows(conn, f"select {columns} from articles where id in ({marks})", chunk):
            found[article["id"]] = article
    return found


def segment_lineage(conn: sqlite3.Connection, segment_ids: Iterable[str]) -> dict[str, dict]:
    """Where each segment stands in its story's lineage (for ordering check results), with
    its tree's origin article: {segment id: {cluster_id, origin_segment_id, generation,
    is_origin, parent_segment_id, credit, origin: {id, title, outlet, published}}}."""
    found: dict[str, dict] = {}
    for chunk in _chunks(list(dict.fromkeys(segment_ids))):
        marks = ",".join("?" * len(chunk))
        for row in _rows(
            conn,
            "select segment_id, cluster_id, origin_segment_id, origin_article_id, generation, "
            "is_origin, parent_segment_id, credit from lineage "
            f"where segment_id in ({marks})",
            chunk,
        ):
            found[row["segment_id"]] = row
    origins = articles_by_id(conn, [r["origin_article_id"] for r in found.values() if r["origin_article_id"]])
    for row in found.values():
        row["origin"] = origins.get(row["origin_article_id"])
    return found


def article_spans(conn: sqlite3.Connection, article_id: str) -> dict:
    """Boilerplate and credit spans of one article."""
    return {
        "boilerplate": _spans(conn, "boilerplate_spans", article_id, "kind"),
        "credits": _spans(conn, "article_credits", article_id, "kind, agency"),
    }


# Decoding helpers -------------------------------------------------------------------


def decode_edits(value: Any) -> list[list[str]]:
    """``passages.edits`` as a list of [source words, derived words] string pairs."""
    edits = []
    for pair in _json_list(value):
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            edits.append([_words_text(pair[0]), _words_text(pair[1])])
    return edits


def _words_text(words: Any) -> str:
    if isinstance(words, (list, tuple)):
        return " ".join(str(word) for word in words)
    return "" if words is None else str(words)


def _decode_match(match: dict) -> dict:
    match = dict(match)
    match["evidence"] = [
        item if isinstance(item, dict) else {"about": None, "text": str(item)}
        for item in _json_list(match["evidence"])
        if item is not None
    ]
    try:
        scores = json.loads(match["scores"] or "{}")
    except (TypeError, ValueError):
        scores = {}
    match["scores"] = scores if isinstance(scores, dict) else {}
    if match["credited"] is not None:
        match["credited"] = bool(match["credited"])
    return match


def _json_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    try:
        decoded = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return decoded if isinstance(decoded, list) else []


def _article(conn: sqlite3.Connection, article_id: str, columns: str) -> dict | None:
    return _one(conn, f"select {columns} from articles where id = ?", [article_id])


def _rows(conn: sqlite3.Connection, sql: str, params: Iterable = ()) -> list[dict]:
    cursor = conn.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _one(conn: sqlite3.Connection, sql: str, params: Iterable = ()) -> dict | None:
    rows = _rows(conn, sql, params)
    return rows[0] if rows else None


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]
