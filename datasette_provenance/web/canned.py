"""The canned queries offered on every provenance database (registered by the plugin,
on Datasette 0.65 and 1.0a alike; see ``site``).

Each has a title and a description Datasette shows above its results.
"""

from __future__ import annotations

import re
import sqlite3
import sys

CANNED_QUERIES: dict[str, dict[str, str]] = {
    "uncredited_copies": {
        "title": "Uncredited copies",
        "description": (
            "Articles that reuse a story's text (verbatim, lightly edited or paraphrased) "
            "without crediting where it comes from: neither the origin of the story nor the "
            "version they copied is named in a wire marker, credit line or attribution. "
            "Copies that name the source only in a photo credit are listed too (credit: "
            "photo only). Read from the lineage, so two copies of the same original are "
            "never listed as copying each other. Most copied first."
        ),
        "sql": """
select
  d.id as copy_id,
  d.title as copy_title,
  d.outlet as copy_outlet,
  d.published as copy_published,
  l.label,
  case l.credit when 'photo_only' then 'photo only' else 'none' end as credit,
  round(m.source_containment, 2) as share_of_source_reused,
  o.id as origin_id,
  coalesce(o.outlet, (
    select cr.agency from article_credits cr
    where cr.article_id = o.id and cr.kind = 'wire_marker' and cr.agency is not null
    order by cr.start_char limit 1
  ), '(outlet not known)') as origin_outlet,
  o.published as origin_published,
  p.id as copied_from_id,
  p.outlet as copied_from_outlet
from lineage l
join articles d on d.id = l.article_id
join articles o on o.id = l.origin_article_id
join articles p on p.id = l.parent_article_id
left join matches m on m.id = l.match_id
where l.credit in ('uncredited', 'photo_only')
order by m.source_containment desc, d.published, d.id
""",
    },
    "most_copied_originals": {
        "title": "Most-copied originals",
        "description": (
            "Story origins ranked by how many articles derive from them (directly or "
            "through another copy), with how many of those copies do not credit their "
            "source (photo-only credits included)."
        ),
        "sql": """
select
  o.id as origin_id,
  o.title,
  o.outlet,
  o.published,
  count(distinct l.article_id) as copies,
  count(distinct case when l.credit in ('uncredited', 'photo_only') then l.article_id end) as uncredited_copies
from lineage l
join articles o on o.id = l.origin_article_id
where l.label is not null and not l.is_origin
group by o.id
order by copies desc, uncredited_copies desc
limit 100
""",
    },
    "outlets_reusing_agencies": {
        "title": "Which outlets reuse which source most",
        "description": (
            "For every pair of (copying outlet, outlet or agency of the story's origin), "
            "how many copies, how many do not credit their source (photo-only credits "
            "included), and how much of the source they reuse on average. Read from the "
            "lineage: a copy counts once, under the original it derives from."
        ),
        "sql": """
select
  coalesce(d.outlet, '(outlet not known)') as outlet,
  coalesce(o.outlet, (
    select cr.agency from article_credits cr
    where cr.article_id = o.id and cr.kind = 'wire_marker' and cr.agency is not null
    order by cr.start_char limit 1
  ), '(outlet not known)') as reuses,
  count(*) as copies,
  sum(l.credit in ('uncredited', 'photo_only')) as uncredited,
  sum(l.credit = 'photo_only') as photo_credit_only,
  round(avg(m.source_containment), 2) as average_share_reused
from lineage l
join articles d on d.id = l.article_id
join articles o on o.id = l.origin_article_id
left join matches m on m.id = l.match_id
where l.label is not null and not l.is_origin
group by 1, 2
order by copies desc, uncredited desc
""",
    },
    "copies_per_hour": {
        "title": "Copies per hour after the original",
        "description": (
            "How fast stories spread: derived articles counted by whole hours between the "
            "origin's and the copy's publication times (only where both are known)."
        ),
        "sql": """
select
  cast((julianday(d.published) - julianday(o.published)) * 24 as integer) as hours_after_original,
  count(*) as copies,
  sum(l.credit in ('uncredited', 'photo_only')) as uncredited
from lineage l
join articles o on o.id = l.origin_article_id
join articles d on d.id = l.article_id
where l.label is not null and not l.is_origin
  and julianday(d.published) is not null and julianday(o.published) is not null
group by 1
order by 1
""",
    },
    "matches_for_article": {
        "title": "Everything one article shares text with",
        "description": (
            "All verified matches in which an article is the source or the derived text, "
            "with how they relate in the lineage (a copy, or siblings that both copy "
            "shared_source_article_id: neither copied the other, so no credit is asked of "
            "them). Paste an article id."
        ),
        "sql": """
select
  m.source_article_id,
  m.derived_article_id,
  m.label,
  m.relation,
  m.shared_source_article_id,
  case when m.relation = 'siblings' then null else m.credit end as credit,
  round(m.source_containment, 2) as source_containment,
  round(m.derived_containment, 2) as derived_containment,
  m.evidence
from matches m
where m.source_article_id = :article_id or m.derived_article_id = :article_id
order by m.source_containment desc
""",
    },
}


def tables_read(conn, sql: str) -> frozenset[str]:
    """The tables (and views) ``sql`` reads, as SQLite reports them while compiling it:
    a query may be offered only to those who may view all of them. Read from the
    statement itself, so a changed query never needs a hand-kept list."""
    found: set[str] = set()

    def authorizer(action, arg1, arg2, db_name, trigger_or_view):
        if action == sqlite3.SQLITE_READ and arg1 and not arg1.startswith("sqlite_"):
            found.add(arg1)
        return sqlite3.SQLITE_OK

    params = {name: None for name in re.findall(r"(?<![:\w]):(\w+)", sql)}
    conn.set_authorizer(authorizer)
    try:
        conn.execute("explain " + sql, params).fetchall()
        compiled = True
    except sqlite3.Error:
        compiled = False
    finally:
        # None unregisters it from Python 3.11; before, a callback that allows all.
        conn.set_authorizer(None if sys.version_info >= (3, 11) else _allow_all)
    if compiled:
        return frozenset(found)
    # A database from an older release may lack a table the query reads: then every table
    # the SQL names counts (the query fails when run anyway).
    words = set(re.findall(r"\w+", sql.lower()))
    tables = conn.execute("select name from sqlite_master where type in ('table', 'view')")
    return frozenset(name for (name,) in tables if name.lower() in words)


def _allow_all(*args) -> int:
    return sqlite3.SQLITE_OK
