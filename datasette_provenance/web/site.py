"""Zero-config serving: what the plugin tells Datasette about each provenance database.

A database is a provenance database when it has the tables the pages read
(``queries.PAGE_TABLES``); nothing else is needed (no metadata.json). For each one the
plugin offers canned queries with descriptions, table and column descriptions, hides
the similarity-index tables, and links the stories page. Datasette 0.65 and 1.0a take
these in different ways:

==================  ======================================  ======================================
what                0.65                                    1.0a
==================  ======================================  ======================================
canned queries      ``canned_queries`` hook                 ``datasette.add_query`` at startup
hidden tables,      ``get_metadata`` hook                   ``datasette.config`` (hidden,
label columns                                               label_column) filled at startup
descriptions        ``get_metadata`` hook                   internal metadata tables at startup
stories link on     database ``description_html`` (when     ``top_database`` hook
the database page   the user wrote none, and the pages      (per visitor)
                    are public)
==================  ======================================  ======================================

Whatever the user configured (metadata.json, datasette.yaml) wins: the plugin only
fills gaps. Settings come from ``datasette.plugin_config("datasette-provenance")``.
"""

from __future__ import annotations

import copy
import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import click
from datasette.utils import StartupError
from markupsafe import Markup, escape

from .canned import CANNED_QUERIES, tables_read
from .permissions import can_view_tables
from .queries import PAGE_TABLES

PLUGIN_NAME = "datasette-provenance"
QUERY_SOURCE = "datasette-provenance"  # 1.0a: the `source` of the stored queries we add

# Hidden unless the settings say otherwise: the similarity index and settings tables.
INTERNAL_TABLES = (
    "provenance_meta", "signatures", "lsh_index", "lsh_recent", "lsh_pending", "story_terms",
    "story_candidates",
)

_DOCS = json.loads((Path(__file__).parent / "tables.json").read_text(encoding="utf-8"))


class SettingsError(StartupError, click.ClickException):
    """A plugin setting of the wrong kind: Datasette refuses to start, naming it in one line
    (1.0a reports a StartupError so; 0.65 runs the startup hooks inside its click command)."""


@dataclass(frozen=True)
class Settings:
    """The plugin's settings (``plugins: datasette-provenance:`` in datasette.yaml or
    metadata), at the top level or per database."""

    databases: tuple[str, ...] | None = None  # None: every provenance database
    hidden_tables: tuple[str, ...] = INTERNAL_TABLES
    page_size: int = 50  # stories per page
    queries: bool = True  # offer the canned queries
    text_preview: int = 200  # characters of a long text shown on table pages
    check_cpu_seconds: float = 1.5  # CPU time one check may take (then 503)
    # Memory one alignment of a check may take (estimated before its tables are made);
    # a longer pair gets copy passages only. Ingest allows 512 MB.
    check_alignment_mb: float = 96.0
    max_concurrent_checks: int = 1  # checks at once, on their own threads (then 429)

    @classmethod
    def read(cls, datasette, database: str | None = None) -> "Settings":
        raw = _mapping(datasette.plugin_config(PLUGIN_NAME))
        if database is not None:
            # Merged here: 1.0a41's plugin_config(database=) drops the top-level settings
            # whenever the database has any configuration of its own.
            raw = {
                **raw,
                **_mapping(datasette.plugin_config(PLUGIN_NAME, database=database, fallback=False)),
            }
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise SettingsError(
                f"{PLUGIN_NAME}: unknown setting {sorted(unknown)[0]!r}; known: "
                + ", ".join(cls.__dataclass_fields__)
            )
        values = {}
        for name in ("databases", "hidden_tables"):
            if name in raw:
                value = raw[name]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise SettingsError(f"{PLUGIN_NAME}: {name} must be a list of names")
                values[name] = tuple(value)
        for name, low in (("page_size", 1), ("text_preview", 20), ("max_concurrent_checks", 1)):
            if name in raw:
                value = raw[name]
                if isinstance(value, bool) or not isinstance(value, int) or value < low:
                    raise SettingsError(f"{PLUGIN_NAME}: {name} must be a whole number >= {low}")
                values[name] = value
        for name in ("check_cpu_seconds", "check_alignment_mb"):
            if name in raw:
                value = raw[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise SettingsError(f"{PLUGIN_NAME}: {name} must be a number > 0")
                values[name] = float(value)
        if "queries" in raw:
            if not isinstance(raw["queries"], bool):
                raise SettingsError(f"{PLUGIN_NAME}: queries must be true or false")
            values["queries"] = raw["queries"]
        return cls(**values)


def _mapping(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{PLUGIN_NAME}: settings must be a mapping, got {raw!r}")
    return raw


@dataclass
class ProvenanceDatabase:
    name: str
    settings: Settings
    metadata: dict = field(default_factory=dict)  # 0.65: served through get_metadata
    # The canned queries the plugin offers here, each with the tables its SQL reads.
    query_tables: dict[str, frozenset[str]] = field(default_factory=dict)


class Site:
    """The provenance databases of one Datasette instance, found when it starts and
    again whenever a database is attached or detached."""

    def __init__(self):
        self.databases: dict[str, ProvenanceDatabase] = {}
        self._seen: frozenset[str] | None = None

    async def refresh(self, datasette) -> None:
        names = frozenset(datasette.databases)
        if names == self._seen:
            return
        self._seen = names
        wanted = Settings.read(datasette).databases
        found = {}
        for name, db in list(datasette.databases.items()):
            if name == "_internal" or getattr(db, "is_internal", False):
                continue
            if wanted is not None and name not in wanted:
                continue
            if not set(PAGE_TABLES) <= set(await db.table_names()):
                continue
            found[name] = ProvenanceDatabase(name, Settings.read(datasette, database=name))
            queries = canned_queries(found[name])
            found[name].query_tables = await db.execute_fn(
                lambda conn: {query: tables_read(conn, q["sql"]) for query, q in queries.items()}
            )
        self.databases = found
        for database in found.values():
            if hasattr(datasette, "add_query"):
                await _apply_to_1_0(datasette, database)
            else:
                # The link is the same for every visitor: only where anyone may see the pages.
                public, _ = await can_view_tables(datasette, None, database.name, PAGE_TABLES)
                database.metadata = _metadata_0_65(datasette, database, link=public)

    def get(self, name: str | None) -> ProvenanceDatabase | None:
        return self.databases.get(name) if name else None

    def metadata_0_65(self) -> dict | None:
        """What the get_metadata hook returns (Datasette 0.65)."""
        found = {name: db.metadata for name, db in self.databases.items() if db.metadata}
        return {"databases": found} if found else None


_SITES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def site(datasette) -> Site:
    found = _SITES.get(datasette)
    if found is None:
        found = _SITES[datasette] = Site()
    return found


def serves(datasette, database: str) -> bool:
    """Whether the settings switch the plugin on for ``database`` (all, by default)."""
    wanted = Settings.read(datasette).databases
    return wanted is None or database in wanted


def page_size(datasette, database: str) -> int:
    """Stories per page (the ``page_size`` setting; ``?_size=`` still changes it)."""
    return Settings.read(datasette, database=database).page_size


def canned_queries(database: ProvenanceDatabase) -> dict:
    return CANNED_QUERIES if database.settings.queries else {}


async def hidden_queries(datasette, actor, database: ProvenanceDatabase) -> set[str]:
    """The plugin's canned queries ``actor`` may not see: those reading a table the
    actor may not view (a query would otherwise show a private table's rows)."""
    tables = set().union(*database.query_tables.values())
    private = set()
    for table in sorted(tables):
        visible, _ = await can_view_tables(datasette, actor, database.name, [table])
        if not visible:
            private.add(table)
    return {name for name, read in database.query_tables.items() if read & private}


# --------------------------------------------------------------------------- Datasette 0.65


def _metadata_0_65(datasette, database: ProvenanceDatabase, link: bool) -> dict:
    """The database's entry for the get_metadata hook (the user's metadata overrides it)."""
    hidden = set(database.settings.hidden_tables)
    tables = {}
    for table, docs in _DOCS["tables"].items():
        entry = copy.deepcopy(docs)  # Datasette 0.65 merges the user's metadata into it
        if table in hidden:
            entry["hidden"] = True
        tables[table] = entry
    for table in hidden - set(tables):
        tables[table] = {"hidden": True}
    metadata = {"tables": tables}
    own = datasette.metadata(database=database.name, fallback=False) or {}
    if link and not (own.get("description") or own.get("description_html")):
        # 0.65 has no top_database hook: the link goes under the database's description.
        metadata["description_html"] = str(
            Markup("<p>{}</p>").format(_DOCS["description"])
            + stories_link_html(datasette, database.name)
        )
    return metadata


# --------------------------------------------------------------------------- Datasette 1.0a


async def _apply_to_1_0(datasette, database: ProvenanceDatabase) -> None:
    name = database.name
    tables_config = (
        datasette.config.setdefault("databases", {}).setdefault(name, {}).setdefault("tables", {})
    )
    for table in database.settings.hidden_tables:
        _setdefault_dict(tables_config, table).setdefault("hidden", True)
    for table, docs in _DOCS["tables"].items():
        if "label_column" in docs:
            _setdefault_dict(tables_config, table).setdefault("label_column", docs["label_column"])
        if "description" not in await datasette.get_resource_metadata(name, table):
            await datasette.set_resource_metadata(name, table, "description", docs["description"])
        for column, text in (docs.get("columns") or {}).items():
            if "description" not in await datasette.get_column_metadata(name, table, column):
                await datasette.set_column_metadata(name, table, column, "description", text)
    if "description" not in await datasette.get_database_metadata(name):
        await datasette.set_database_metadata(name, "description", _DOCS["description"])
    for query_name, query in canned_queries(database).items():
        existing = await datasette.get_query(name, query_name)
        if existing is not None and existing.source != QUERY_SOURCE:
            database.query_tables.pop(query_name, None)  # the user's own query of that name wins
            continue
        await datasette.add_query(
            name,
            query_name,
            query["sql"],
            title=query.get("title"),
            description=query.get("description"),
            is_trusted=True,  # runs like a configured query, also where arbitrary SQL is off
            source=QUERY_SOURCE,
        )


def _setdefault_dict(mapping: dict, key: str) -> dict:
    value = mapping.get(key)
    if not isinstance(value, dict):
        value = mapping[key] = {}
    return value


# --------------------------------------------------------------------------- shared


def stories_link_html(datasette, database: str) -> Markup:
    href = str(datasette.urls.database(database)) + "/-/provenance"
    return Markup(
        f'<p class="provenance-stories-link"><a href="{escape(href)}">Stories and their copies</a>: '
        "which articles copy, edit or paraphrase which original, and whether they credit it.</p>"
    )


FOOTER_KEYS = ("license", "license_url", "source", "source_url", "about", "about_url")


async def footer_metadata(datasette, database: str) -> dict:
    """Licence, source and about of a database, each falling back to the instance's: what
    Datasette's footer shows, for the plugin's pages."""
    if hasattr(datasette, "get_database_metadata"):  # Datasette 1.0
        own = await datasette.get_database_metadata(database)
        instance = await datasette.get_instance_metadata()
        return {key: own.get(key) or instance.get(key) for key in FOOTER_KEYS}
    return {key: datasette.metadata(key, database=database) for key in FOOTER_KEYS}
