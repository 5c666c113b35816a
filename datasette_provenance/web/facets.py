"""Provenance facets and filters for the ``articles`` table.

Three facet types, each counting articles of the current (filtered) table view:

* ``?_facet_provenance_label=id`` - how an article relates to its story: origin,
  verbatim, light_edit, paraphrase, shared_quotes, independent or unmatched.
* ``?_facet_provenance_origin=id`` - for copies, the outlet (or, failing that,
  the credited agency) of the original they derive from.
* ``?_facet_provenance_credit=id`` - for copies, whether they credit their source:
  credited, photo_only (the source is named only in a photo credit) or uncredited.

Clicking a value adds a filter such as ``?_provenance_credit=uncredited``, read
by ``filters_from_request``, so facets combine with every other Datasette filter.
The facet value ``id`` names the article id column; the facets also work from
``metadata.json``: ``"facets": [{"provenance_credit": "id"}]``.

The facets and filters read the lineage tables, so they exist only for an actor who
may view every one of those tables: a table hidden with an ``allow`` block is not
revealed through the articles table.
"""

from __future__ import annotations

import urllib.parse

from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args

from ..store import SCHEMA_VERSION, SchemaError, schema_version
from ..vocabulary import CREDIT_STATE_WORDS
from .permissions import can_view_tables

# Every table the facet and filter queries read.
LINEAGE_TABLES = ("articles", "lineage", "clusters", "matches", "article_credits")

# The outlet of a copy's origin article, or the agency whose wire marker it carries.
_ORIGIN_OUTLET = """coalesce(o.outlet, (
    select cr.agency from article_credits cr
    where cr.article_id = o.id and cr.kind = 'wire_marker' and cr.agency is not null
    order by cr.start_char limit 1))"""


class ProvenanceFacet(Facet):
    """A facet over (article_id, value) pairs computed from the lineage tables."""

    # Subclasses set: type (the _facet_<type> name), name (shown), filter_arg, values_sql.
    name: str
    filter_arg: str
    values_sql: str
    value_labels: dict = {}

    async def suggest(self):
        if not await self._applies() or self.get_configs():
            return []
        if not (await self.ds.execute(self.database, "select exists(select 1 from lineage)")).rows[
            0
        ][0]:
            return []
        return [
            {
                "name": self.name,
                "type": self.type,
                "toggle_url": self.ds.absolute_url(
                    self.request,
                    self.ds.urls.path(
                        path_with_added_args(self.request, {f"_facet_{self.type}": "id"})
                    ),
                ),
            }
        ]

    async def facet_results(self):
        configs = self.get_configs()
        if not configs or not await self._applies():
            return [], []
        facet_size = self.get_facet_size()
        sql = f"""
            select value, count(distinct article_id) as count
            from ({self.values_sql})
            where value is not null and article_id in (select id from ({self.sql}))
            group by value order by count desc, value limit {facet_size + 1}
        """
        try:
            rows = (
                await self.ds.execute(
                    self.database,
                    sql,
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            ).rows
        except QueryInterrupted:
            return [], [self.name]
        source = configs[0]["source"]
        return [
            {
                "name": self.name,
                "type": self.type,
                "hideable": source != "metadata",
                "toggle_url": self.ds.urls.path(
                    path_with_removed_args(self.request, {f"_facet_{self.type}"})
                ),
                "results": [self._value(row["value"], row["count"]) for row in rows[:facet_size]],
                "truncated": len(rows) > facet_size,
            }
        ], []

    def _value(self, value, count) -> dict:
        pair = (self.filter_arg, str(value))
        selected = pair in self.get_querystring_pairs()
        if selected:
            toggle = path_with_removed_args(self.request, {self.filter_arg: str(value)})
        else:
            toggle = path_with_added_args(self.request, {self.filter_arg: value})
        return {
            "value": value,
            "label": self.value_labels.get(value, value),
            "count": count,
            "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
            "selected": selected,
        }

    async def _applies(self) -> bool:
        if self.table != "articles":
            return False
        return await _usable(self.ds, self.request, self.database)


class DerivationFacet(ProvenanceFacet):
    type = "provenance_label"
    name = "derivation"
    filter_arg = "_provenance_label"
    values_sql = """
        select article_id,
               case when is_origin then 'origin'
                    when label is null then 'independent'
                    else label end as value
        from lineage
        union all
        select id, 'unmatched' from articles where id not in (select article_id from lineage)
    """


class OriginOutletFacet(ProvenanceFacet):
    type = "provenance_origin"
    name = "origin outlet"
    filter_arg = "_provenance_origin"
    values_sql = f"""
        select l.article_id, {_ORIGIN_OUTLET} as value
        from lineage l
        join articles o on o.id = l.origin_article_id
        where l.label is not null and not l.is_origin
    """


class CreditFacet(ProvenanceFacet):
    type = "provenance_credit"
    name = "credit"
    filter_arg = "_provenance_credit"
    values_sql = """
        select l.article_id, l.credit as value
        from lineage l
        where l.label is not null and l.credit is not null
    """
    value_labels = CREDIT_STATE_WORDS


FACET_CLASSES = [DerivationFacet, OriginOutletFacet, CreditFacet]


class StoryFilter:
    """``?_provenance_story=<cluster id>``: the articles of one story (the stories page links
    its uncredited counts to them); a filter, not a facet."""

    name = "story"
    filter_arg = "_provenance_story"
    values_sql = "select article_id, cast(cluster_id as text) as value from lineage"


async def filter_arguments(request, database: str, table: str, datasette) -> FilterArguments | None:
    """``?_provenance_label=`` and friends as WHERE clauses on ``articles``."""
    arguments = urllib.parse.parse_qsl(request.query_string)
    # A facet given twice is either value (?_provenance_credit=uncredited&..=photo_only).
    wanted = {
        facet: values
        for facet in [*FACET_CLASSES, StoryFilter]
        if (values := [value for key, value in arguments if key == facet.filter_arg])
    }
    if table != "articles" or not wanted or not await _usable(datasette, request, database):
        return None
    clauses, params, descriptions = [], {}, []
    for facet, values in wanted.items():
        names = []
        for value in values:
            names.append(f":provenance_filter_{len(params)}")
            params[names[-1][1:]] = value
        clauses.append(
            f"id in (select article_id from ({facet.values_sql}) "
            f"where value in ({', '.join(names)}))"
        )
        descriptions.append(f"{facet.name} is " + " or ".join(f'"{value}"' for value in values))
    return FilterArguments(clauses, params=params, human_descriptions=descriptions)


async def _usable(datasette, request, database: str) -> bool:
    """The lineage tables exist and the request's actor may view them all (once per request)."""
    cached = getattr(request, "_provenance_facets_usable", None)
    if cached is None:
        cached = await _has_lineage(datasette, database) and (
            await can_view_tables(datasette, request.actor, database, LINEAGE_TABLES)
        )[0]
        request._provenance_facets_usable = cached
    return cached


async def _has_lineage(datasette, database: str) -> bool:
    """The lineage tables exist, at the schema version the facet queries read."""
    db = datasette.get_database(database)
    tables = set(await db.table_names())
    if not set(LINEAGE_TABLES) <= tables:
        return False
    try:
        version = await db.execute_fn(schema_version)
    except SchemaError:
        return False
    return version == SCHEMA_VERSION
