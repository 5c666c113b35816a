"""Page and JSON handlers for the provenance pages.

Every page has a JSON twin at the same path plus ``.json``. Handlers check the
actor may view every table they read, run their queries in one ``execute_fn``
call (read-only: see ``queries.py``), and answer unknown ids or odd query strings
with a friendly 404/400 page rather than a server error.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import Forbidden
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import Response

from ..matching import evidence, tokens
from ..store import (
    SCHEMA_VERSION,
    SEARCH_TABLE,
    SchemaError,
    in_one_snapshot,
    schema_version,
    search_index_problem,
)
from ..vocabulary import (
    BADGE_WORDS,
    CREDIT_KIND_WORDS,
    CREDIT_STATE_WORDS,
    DERIVED_LABELS,
    NOT_CREDITED_STATES,
    PASSAGE_KINDS,
    SIBLINGS,
)
from . import checking, graph, guards, highlight, queries, site
from .permissions import answers_remembered, can_view_tables

MAX_PAGE_SIZE = 500
MAX_CHECK_CHARS = 200_000
# Below this many words the similarity index often misses a verbatim excerpt (measured in
# matching.search.SHORT_TEXT_WORDS); unless the database has a full-text index, the page says so.
SHORT_CHECK_WORDS = 50
# A form or JSON body holding that many characters: percent-encoded UTF-8 takes 9 bytes
# for a CJK character and 12 for an emoji (JSON \u escapes: 6 and 12).
MAX_CHECK_BODY_BYTES = 12 * MAX_CHECK_CHARS
DEFAULT_CHECK_LIMIT = 20
MAX_CHECK_LIMIT = 100


@dataclass(frozen=True)
class PageArticle:
    """An article as evidence sentences name it."""

    article_id: str
    outlet: str | None = None
    title: str | None = None

    @classmethod
    def of(cls, article: dict | None, article_id: str | None = None) -> "PageArticle":
        article = article or {}
        return cls(str(article.get("id") or article_id), article.get("outlet"), article.get("title"))


def present_match(match: dict, source: dict | None, derived: dict | None) -> dict:
    """What the pages show about a match: whether one text copies the other (only then a
    direction, an arrow and a credit), its sentences, and its scores behind "All scores".

    ``match["kind"]`` is "copy" (the derived text copies the source), "siblings" (both copy
    a third version: no direction, no credit between them) or "not_derived" (shared quotes
    or same story: nobody copied)."""
    derived_label = match.get("label") in DERIVED_LABELS
    if derived_label and match.get("relation") == SIBLINGS:
        match["kind"] = "siblings"
        shared = PageArticle.of(match.get("shared_source"), match.get("shared_source_article_id"))
        first, second = PageArticle.of(source), PageArticle.of(derived)
        names = evidence.Names(first, second, shared)
        match["sentences"] = [
            evidence.sentence(
                f"{names.article(first)} and {names.article(second)} both copy "
                f"{names.article(shared)}: neither took text only the other has, so neither "
                "copied the other"
            )
        ]
    elif derived_label:
        match["kind"] = "copy"
        match["sentences"] = evidence.texts(match.get("evidence"))
    else:
        match["kind"] = "not_derived"
        match["sentences"] = [
            text
            for entry in match.get("evidence") or ()
            if not isinstance(entry, dict) or entry.get("about") in (evidence.SHARED, None)
            for text in evidence.texts([entry])
        ]
    match["credit_words"] = (
        CREDIT_STATE_WORDS.get(match.get("credit")) if match["kind"] == "copy" else None
    )
    return match


class PageError(Exception):
    """A friendly error page (or JSON error) with a status code and onward links."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        links: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.title, self.message, self.links = status, title, message, links or []
        self.headers = headers or {}


class ProvenanceUrls:
    """URLs of the plugin pages of one database (base_url aware, ids tilde-encoded)."""

    def __init__(self, datasette, database: str):
        self.datasette = datasette
        self.database = database
        self.base = str(datasette.urls.database(database)) + "/-/provenance"

    def stories(self, format: str | None = None) -> str:
        return self.base + _suffix(format)

    def article(self, article_id: str, format: str | None = None) -> str:
        return f"{self.base}/article/{tilde_encode(str(article_id))}{_suffix(format)}"

    def compare(self, source_id: str, derived_id: str, format: str | None = None) -> str:
        pair = f"{tilde_encode(str(source_id))}/{tilde_encode(str(derived_id))}"
        return f"{self.base}/compare/{pair}{_suffix(format)}"

    def check(self, format: str | None = None) -> str:
        return f"{self.base}/check{_suffix(format)}"

    def row(self, table: str, pk: Any) -> str:
        return str(self.datasette.urls.row(self.database, table, tilde_encode(str(pk))))

    def table(self, table: str) -> str:
        return str(self.datasette.urls.table(self.database, table))


@cache
def asset_version() -> str:
    """Short hash of the plugin's CSS and JS, appended to their URLs to bust caches."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "static").glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _suffix(format: str | None) -> str:
    return f".{format}" if format else ""


@dataclass
class Page:
    """What a handler needs about the request it serves."""

    datasette: Any
    request: Any
    db: Any
    database: str
    urls: ProvenanceUrls
    is_json: bool
    private: bool

    async def run(self, fn, *args):
        return await self.db.execute_fn(lambda conn: in_one_snapshot(conn, fn, *args))

    async def respond(
        self, template: str, context: dict, data: dict, status: int = 200
    ) -> Response:
        if self.is_json:
            response = Response.json(
                {"ok": status < 400, "database": self.database, **data}, status=status
            )
        else:
            context = {
                "database": self.database,
                "provenance_urls": self.urls,
                "provenance_asset_version": asset_version(),
                "label_words": BADGE_WORDS,
                "credit_kind_words": CREDIT_KIND_WORDS,
                "check_words": CHECK_WORDS,
                "private": self.private,
                # The licence and source in the footer, as on Datasette's own pages.
                "metadata": await site.footer_metadata(self.datasette, self.database),
                **context,
            }
            html = await self.datasette.render_template(template, context, request=self.request)
            response = Response.html(html, status=status)
        response.headers["Cache-Control"] = _cache_control(self, status)
        return response


def _cache_control(page: Page, status: int) -> str:
    if status >= 400 or page.request.method != "GET":
        return "no-store"
    ttl = page.datasette.setting("default_cache_ttl") or 0
    freshness = f"max-age={ttl}" if ttl else "no-cache"
    if page.private or page.request.actor is not None:
        return f"private, {freshness}"
    return freshness


def handler(tables=queries.PAGE_TABLES, methods=guards.READING_METHODS):
    """Decorate a page handler: open the database, check permissions, render errors."""

    def decorate(fn):
        # No functools.wraps: Datasette reads the signature to pick arguments, and
        # must see (datasette, request), not the wrapped handler's (page).
        async def view(datasette, request):
            is_json = bool(request.url_vars.get("format"))
            with answers_remembered():  # the page and its menu ask about the same tables
                try:
                    if request.method not in methods:
                        raise _method_not_allowed(methods)
                    page = await _open_page(datasette, request, tables, is_json)
                    return await fn(page)
                except PageError as error:
                    return await _error_response(datasette, request, error, is_json)

        view.__name__, view.__doc__ = fn.__name__, fn.__doc__
        return view

    return decorate


def _method_not_allowed(methods: tuple[str, ...]) -> PageError:
    allowed = ", ".join(methods)
    return PageError(
        405, "Method not allowed", f"This page answers {allowed}.", headers={"Allow": allowed}
    )


async def _open_page(datasette, request, tables, is_json: bool) -> Page:
    route = tilde_decode(request.url_vars["database"])
    try:
        db = datasette.get_database(route=route)
    except KeyError:
        message = f"There is no database called “{route}” here."
        raise PageError(404, "Database not found", message)
    if not site.serves(datasette, db.name):
        message = f"The provenance pages are not switched on for “{db.name}” (settings: databases)."
        raise PageError(404, "Database not found", message)
    visible, private = await can_view_tables(datasette, request.actor, db.name, tables)
    if not visible:
        message = "You do not have permission to view this database's provenance data"
        if is_json:  # Datasette 0.65 would answer a JSON twin with its HTML 403 page
            raise PageError(403, "Forbidden", message)
        raise Forbidden(message)
    urls = ProvenanceUrls(datasette, db.name)
    try:
        missing, version = await db.execute_fn(
            lambda conn: (queries.missing_tables(conn, tables), schema_version(conn))
        )
    except SchemaError as problem:
        raise PageError(409, "This database cannot be read", f"“{db.name}”: {problem}.")
    if version is not None and version < SCHEMA_VERSION:  # the pages read its new columns
        raise _needs_upgrade(datasette, db, version)
    if missing:
        raise PageError(
            404,
            "No provenance data in this database",
            f"“{db.name}” has no provenance tables (missing: {', '.join(missing)}). Build a "
            "provenance database with `datasette-provenance ingest provenance.db ARTICLES…` "
            "and serve that file.",
            [(str(datasette.urls.database(db.name)), f"Back to {db.name}")],
        )
    return Page(datasette, request, db, db.name, urls, is_json, private)


def _needs_upgrade(datasette, db, version: int) -> PageError:
    """A database from an older release lacks tables or columns the pages read: it can be
    upgraded in place, but not here (pages never write)."""
    path = Path(db.path).name if db.path else f"{db.name}.db"  # not the server's directories
    return PageError(
        409,
        "This database needs an upgrade",
        f"“{db.name}” was written by an older datasette-provenance (schema version {version}; "
        f"this one uses {SCHEMA_VERSION}). Run `datasette-provenance upgrade {path}` and serve "
        "it again; its tables stay browsable meanwhile.",
        [(str(datasette.urls.database(db.name)), f"Back to {db.name}")],
    )


async def _error_response(datasette, request, error: PageError, is_json: bool) -> Response:
    if is_json:
        response = Response.json(
            {"ok": False, "error": error.message, "title": error.title, "status": error.status},
            status=error.status,
        )
    else:
        html = await datasette.render_template(
            "provenance_error.html",
            {"error": error, "links": error.links, "provenance_asset_version": asset_version()},
            request=request,
        )
        response = Response.html(html, status=error.status)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(error.headers)
    return response


# Stories overview -----------------------------------------------------------------


@handler()
async def stories(page: Page) -> Response:
    args = page.request.args
    sort = args.get("_sort") or "copies"
    if sort not in queries.STORY_SORTS:
        raise PageError(
            400,
            "Unknown sort order",
            f"Sort by one of: {', '.join(queries.STORY_SORTS)}.",
            [(page.urls.stories(), "Stories, most copied first")],
        )
    default_size = min(site.page_size(page.datasette, page.database), MAX_PAGE_SIZE)
    size = _int_arg(args, "_size", default_size, 1, MAX_PAGE_SIZE)
    number = _int_arg(args, "_page", 1, 1, 10**6)
    overview = await page.run(queries.story_overview, sort, size, (number - 1) * size)
    for story in overview["stories"]:
        if story["origin"]:
            story["origin"]["url"] = page.urls.article(story["origin"]["id"])
        # The count includes copies credited only for a photo: the link lists them too.
        story["uncredited_url"] = page.urls.table("articles") + "?" + urlencode(
            [
                ("_provenance_story", story["id"]),
                *(("_provenance_credit", state) for state in NOT_CREDITED_STATES),
            ]
        )
    links = {
        "sorts": {
            key: _query_url(page.urls.stories(), {"_sort": key, "_size": args.get("_size")})
            for key in queries.STORY_SORTS
        },
        "next": (
            _page_link(page, sort, args, number + 1) if number * size < overview["total"] else None
        ),
        "previous": _page_link(page, sort, args, number - 1) if number > 1 else None,
    }
    data = {
        **overview,
        "sort": sort,
        "page": number,
        "page_size": size,
        "next_url": links["next"],
        "previous_url": links["previous"],
    }
    context = {
        **data,
        "links": links,
        "can_check": await may_check(page.datasette, page.request.actor, page.database),
        "alternate_url_json": _query_url(
            page.urls.stories("json"), dict(parse_qsl(page.request.query_string))
        ),
    }
    return await page.respond("provenance_stories.html", context, data)


def _page_link(page: Page, sort: str, args, number: int) -> str:
    return _query_url(
        page.urls.stories("json" if page.is_json else None),
        {"_sort": sort, "_size": args.get("_size"), "_page": number if number > 1 else None},
    )


# Lineage of one article --------------------------------------------------------------


@handler()
async def article(page: Page) -> Response:
    article_id = tilde_decode(page.request.url_vars["article_id"])
    lineage = await page.run(queries.article_lineage, article_id)
    if lineage is None:
        raise PageError(
            404,
            "Article not found",
            f"There is no article with id “{article_id}” in {page.database}.",
            [
                (page.urls.stories(), "All stories"),
                (page.urls.table("articles"), "Browse articles"),
            ],
        )
    urls = page.urls
    lineage["article"]["urls"] = _article_urls(urls, lineage["article"]["id"])
    lineage["article"]["safe_url"] = _safe_external_url(lineage["article"]["url"])
    for segment in lineage["segments"]:
        for relation in segment["derived_from"] + segment["copies"] + segment["same_story"]:
            _add_relation_urls(urls, relation)
    # A story's graph is drawn once, under the first of the article's segments in it.
    graph_under = {}
    for segment in lineage["segments"]:
        graph_under.setdefault(segment["cluster_id"], segment["segment_id"])
    graphs = {}
    for cluster in lineage["clusters"]:
        graphs[cluster["id"]] = graph.build(
            cluster["members"], article_id, urls.article, urls.compare
        )
        cluster["graph"] = graphs[cluster["id"]].to_json()
        cluster["url"] = urls.stories()
    context = {
        **lineage,
        "graphs": graphs,
        "graph_under": graph_under,
        "clusters_by_id": {c["id"]: c for c in lineage["clusters"]},
        "alternate_url_json": urls.article(article_id, "json"),
    }
    data = {
        **lineage,
        "clusters": [{k: v for k, v in c.items() if k != "members"} for c in lineage["clusters"]],
    }
    return await page.respond("provenance_article.html", context, data)


def _article_urls(urls: ProvenanceUrls, article_id: str) -> dict:
    return {"lineage": urls.article(article_id), "row": urls.row("articles", article_id)}


def _add_relation_urls(urls: ProvenanceUrls, relation: dict) -> None:
    relation["article"]["url"] = urls.article(relation["article"]["id"])
    match = relation["match"]
    if match:
        match["compare_url"] = urls.compare(match["source_article_id"], match["derived_article_id"])
        if "kind" not in match:  # a match can relate several of the page's segments
            present_match(match, match.get("source"), match.get("derived"))


# Side-by-side comparison ---------------------------------------------------------------


@handler()
async def compare(page: Page) -> Response:
    source_id = tilde_decode(page.request.url_vars["source_id"])
    derived_id = tilde_decode(page.request.url_vars["derived_id"])
    found = await page.run(queries.comparison, source_id, derived_id)
    if found["missing"]:
        missing = ", ".join(f"“{article_id}”" for article_id in found["missing"])
        raise PageError(
            404,
            "Article not found",
            f"There is no article with id {missing} in {page.database}.",
            [(page.urls.stories(), "All stories")],
        )
    urls = page.urls
    passages = [passage for match in found["matches"] for passage in match["passages"]]
    for match in found["matches"]:
        present_match(match, found["source"], found["derived"])
        for passage in match["passages"]:
            passage["source_text"] = found["source"]["raw_text"][
                passage["source_start"] : passage["source_end"]
            ]
            passage["derived_text"] = found["derived"]["raw_text"][
                passage["derived_start"] : passage["derived_end"]
            ]
    for side in ("source", "derived"):
        found[side]["urls"] = _article_urls(urls, found[side]["id"])
        found[side]["safe_url"] = _safe_external_url(found[side]["url"])
    context = {
        **found,
        # A direction (roles, an arrow) only when one text copies the other.
        "directed": any(match["kind"] == "copy" for match in found["matches"]),
        "source_html": _marked_text(found["source"], passages, "source"),
        "derived_html": _marked_text(found["derived"], passages, "derived"),
        "edit_summary": _edit_summary(passages),
        "kind_counts": Counter(passage["kind"] for passage in passages),
        "passage_kinds": PASSAGE_KINDS,
        "reverse_url": (
            urls.compare(derived_id, source_id) if found["reverse_match_exists"] else None
        ),
        "alternate_url_json": urls.compare(source_id, derived_id, "json"),
    }
    data = {key: found[key] for key in ("source", "derived", "matches", "reverse_match_exists")}
    return await page.respond("provenance_compare.html", context, data)


def _marked_text(article: dict, passages: list[dict], side: str, twin_ids: bool = True):
    """An article's raw text as HTML with its passages, edits, boilerplate and credits marked."""
    text = article["raw_text"]
    me, other = ("s", "d") if side == "source" else ("d", "s")
    marks = []
    for passage in passages:
        start, end = passage[f"{side}_start"], passage[f"{side}_end"]
        changes = "; ".join(f"{old or '∅'} → {new or '∅'}" for old, new in passage["edits"])
        title = f"{passage['kind']} passage, similarity {passage['similarity']:.2f}" + (
            f": {changes}" if changes else ""
        )
        marks.append(
            highlight.Mark(
                start,
                end,
                highlight.PASSAGE,
                f"pv-passage pv-kind-{_css_token(passage['kind'])}",
                {
                    "id": f"pv-{me}-{passage['id']}",
                    "href": f"#pv-{other}-{passage['id']}" if twin_ids else None,
                    "title": title,
                    "data-kind": passage["kind"],
                },
            )
        )
        if passage["edits"]:
            marks.extend(
                highlight.edit_marks(
                    text, start, end, passage["edits"], 0 if side == "source" else 1
                )
            )
    for span in article.get("boilerplate", []):
        marks.append(
            highlight.Mark(
                span["start"],
                span["end"],
                highlight.BOILERPLATE,
                "pv-boilerplate",
                {"title": f"boilerplate: {_words(span['kind'])}"},
                {"data-label": _words(span["kind"])},
            )
        )
    for credit in article.get("credits", []):
        agency = f" ({credit['agency']})" if credit["agency"] else ""
        marks.append(
            highlight.Mark(
                credit["start"],
                credit["end"],
                highlight.CREDIT,
                "pv-credit",
                {"title": f"credit: {_words(credit['kind'])}{agency}"},
            )
        )
    return highlight.highlight(text, marks)


def _edit_summary(passages: list[dict]) -> list[tuple[str, str, int]]:
    counts = Counter((old, new) for passage in passages for old, new in passage["edits"])
    return [(old, new, count) for (old, new), count in counts.most_common()]


# Check pasted text ------------------------------------------------------------------------


@handler(tables=queries.CHECK_TABLES, methods=guards.CHECKING_METHODS)
async def check(page: Page) -> Response:
    form = await _check_form(page.request)
    text = form.get("text", "")
    if page.request.method == "POST" or "text" in form:
        _may_run_check(page, text)
    limit = _int_arg(form, "limit", DEFAULT_CHECK_LIMIT, 1, MAX_CHECK_LIMIT)
    searchable = await _can_search(page)
    context = {
        "text": text,
        "limit": limit,
        "results": None,
        "error": None,
        "max_chars": MAX_CHECK_CHARS,
        "searchable": searchable,
        "short_words": SHORT_CHECK_WORDS,
    }
    if page.request.method != "POST" and "text" not in form:
        if page.is_json:
            raise PageError(
                400,
                "No text to check",
                "POST text=… (form or JSON) to this URL, or GET it with ?text=….",
            )
        return await page.respond("provenance_check.html", context, {})
    problem = _check_text_problem(text)
    if problem:
        if page.is_json:
            raise PageError(400, "Cannot check this text", problem)
        return await page.respond(
            "provenance_check.html", {**context, "error": problem}, {}, status=400
        )
    results = await _find_sources(page, text, limit, searchable)
    compare_id = form.get("compare")
    if compare_id is not None and not page.is_json:
        return await _check_compare(page, text, results, compare_id)
    words = len(tokens.words(text))  # as the matcher counts them (a CJK character is one)
    warning = None if searchable else _short_text_warning(words)
    index_problem = await page.db.execute_fn(search_index_problem) if searchable else None
    if index_problem:  # short excerpts of newer articles would silently not be found
        warning = " ".join(filter(None, [warning, f"This site's {index_problem}."]))
    data = {"text_length": len(text), "words": words, "warning": warning, "results": results}
    return await page.respond(
        "provenance_check.html", {**context, "results": results, "warning": warning}, data
    )


async def may_check(datasette, actor, database: str) -> bool:
    """Whether the check page would open for ``actor`` (it reads the similarity index too)."""
    visible, _ = await can_view_tables(datasette, actor, database, queries.CHECK_TABLES)
    return visible


async def _can_search(page: Page) -> bool:
    """The database has a full-text index the actor may read (an ``allow`` block can hide
    it like any table: the check page then uses the similarity index alone)."""
    if not await page.db.table_exists(SEARCH_TABLE):
        return False
    visible, _ = await can_view_tables(
        page.datasette, page.request.actor, page.database, [SEARCH_TABLE]
    )
    return visible


def _short_text_warning(words: int) -> str | None:
    if words >= SHORT_CHECK_WORDS:
        return None
    return (
        f"Your text has {words} word{'' if words == 1 else 's'}. Excerpts shorter than "
        f"{SHORT_CHECK_WORDS} words, such as a single quote, are often not found: paste a "
        "paragraph or more, or ask whoever runs this site to add full-text search "
        "(datasette-provenance search-index)."
    )


def _may_run_check(page: Page, text: str) -> None:
    """Refuse a check another site's page started, or a long text in a link (``guards``)."""
    request = page.request
    scheme = "https" if page.datasette.setting("force_https_urls") else request.scheme
    own_origin = f"{scheme}://{request.host}"
    if guards.started_by_another_site(request.method, request.headers, own_origin):
        raise PageError(
            403,
            "A page on another site cannot run checks here",
            "Open the check page on this site and paste the text there.",
        )
    if request.method != "POST" and len(text) > guards.MAX_GET_CHECK_CHARS:
        raise PageError(
            414,
            "Text too long for a link",
            f"A link may carry at most {guards.MAX_GET_CHECK_CHARS:,} characters of text; "
            "paste a longer text into the form (it sends it by POST).",
        )


async def _check_form(request) -> dict:
    """Form fields from the query string and, for POST, the urlencoded or JSON body."""
    fields = dict(parse_qsl(request.query_string, keep_blank_values=True))
    if request.method != "POST":
        return fields
    content_type = guards.content_type(request.headers)
    if content_type not in (guards.JSON, guards.FORM, ""):
        raise PageError(
            415,
            "Unsupported body",
            'Send the text as JSON ({"text": "…"}) or as a form field (text=…, '
            f"{guards.FORM}), not as {content_type}.",
        )
    body = await _read_body(request, MAX_CHECK_BODY_BYTES)
    if content_type == guards.JSON:
        try:
            posted = json.loads(body or b"{}")
        except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
            raise PageError(400, "Bad JSON", "The request body is not valid JSON.")
        if not isinstance(posted, dict):
            raise PageError(400, "Bad JSON", 'Send a JSON object such as {"text": "…"}.')
        posted = {key: str(value) for key, value in posted.items() if value is not None}
    else:
        posted = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    posted.pop("csrftoken", None)
    # JSON may carry lone surrogates ("\\ud800"), which no page or query can encode.
    return {key: _valid_unicode(value) for key, value in {**fields, **posted}.items()}


def _valid_unicode(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _without_path(error: Exception, page: Page) -> str:
    """The matcher names the database file, as the command line should; a page names the
    database, not the server's directories."""
    message = str(error)
    if page.db.path:
        for path in {str(Path(page.db.path).resolve()), str(page.db.path)}:
            message = message.replace(path, f"“{page.database}”")
    return message


async def _read_body(request, limit: int) -> bytes:
    body, more = b"", True
    while more:
        message = await request.receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            raise PageError(413, "Text too long", f"Paste at most {MAX_CHECK_CHARS:,} characters.")
    return body


def _check_text_problem(text: str) -> str | None:
    if not text.strip():
        return "Paste some text to check."
    if len(text) > MAX_CHECK_CHARS:
        return f"That text is {len(text):,} characters long; paste at most {MAX_CHECK_CHARS:,}."
    return None


async def _find_sources(page: Page, text: str, limit: int, use_search: bool) -> list[dict]:
    from ..matching import search  # on first use: pages start without it

    settings = site.Settings.read(page.datasette, database=page.database)
    checks = checking.checker(page.datasette, settings.max_concurrent_checks)
    alignment_bytes = int(settings.check_alignment_mb * 1024 * 1024)
    try:
        found = await checks.run(
            page.db, page.request, search.find_sources, (text, limit), {"use_search": use_search},
            settings.check_cpu_seconds, alignment_bytes,
        )  # fmt: skip
    except checking.Busy:
        raise PageError(
            429,
            "Another check is running",
            f"Try again in {checking.RETRY_AFTER_SECONDS} seconds.",
            headers={"Retry-After": str(checking.RETRY_AFTER_SECONDS)},
        )
    except checking.OverBudget:
        raise PageError(
            503,
            "This check needs more computing than one request may take",
            "Paste a shorter excerpt (the passage you want to trace, not the whole article).",
        )
    except Exception as error:  # the matcher's own errors (e.g. index built with other settings)
        if not type(error).__module__.startswith("datasette_provenance"):
            raise
        raise PageError(409, "Cannot check against this database", _without_path(error, page))
    results = [check_result_dict(result) for result in found]
    articles = await page.run(queries.articles_by_id, [r["article_id"] for r in results])
    standing = await page.run(queries.segment_lineage, [r["segment_id"] for r in results])
    for result in results:
        result["article"] = articles.get(result["article_id"]) or {"id": result["article_id"]}
        result["article"]["url"] = page.urls.article(result["article_id"])
        result["lineage"] = standing.get(result["segment_id"])
    return in_lineage_order(results, page.urls)


# The order of check results: what the paste shares, most first.
CHECK_RANK = {
    "verbatim": 0, "phrase": 0, "light_edit": 1, "paraphrase": 2,
    "quotation": 3, "statement": 3, "shared_quotes": 3,
}  # fmt: skip
CHECK_WORDS = {
    "verbatim": "word for word",
    "phrase": "same phrase",
    "light_edit": "lightly edited",
    "paraphrase": "paraphrased",
    "quotation": "same quotation",
    "statement": "same statement",
    "shared_quotes": "same quotation",
}


def in_lineage_order(results: list[dict], urls: ProvenanceUrls) -> list[dict]:
    """Check results grouped by story lineage: each story's origin first ("earliest version
    in the corpus"), its copies under it by generation; stories with the closest match
    first. Each result gets ``role`` (origin, copy, other), ``depth`` and ``group``."""
    groups: dict[str, list[dict]] = {}
    for result in results:
        place = result.get("lineage") or {}
        key = place.get("origin_segment_id") or result["segment_id"]
        groups.setdefault(key, []).append(result)

    def closeness(result: dict) -> tuple:
        return (
            CHECK_RANK.get(result["kind"], 4),
            -(result["derived_containment"] or 0),
            -(result["source_containment"] or 0),
            result["segment_id"],
        )

    ordered = []
    for number, (key, members) in enumerate(
        sorted(groups.items(), key=lambda item: min(closeness(r) for r in item[1])), start=1
    ):
        for result in members:
            place = result.get("lineage") or {}
            if place.get("is_origin"):
                result["role"] = "origin"
            elif place.get("parent_segment_id"):
                result["role"] = "copy"
            else:
                result["role"] = "other"
            result["depth"] = place.get("generation") or 0
            result["group"] = number
        members.sort(
            key=lambda r: (
                r["role"] != "origin",
                r["depth"],
                r["article"].get("published") or "9999",
                closeness(r),
            )
        )
        origin = (members[0].get("lineage") or {}).get("origin")
        if origin and not any(r["role"] == "origin" for r in members):
            members[0]["origin_elsewhere"] = dict(origin, url=urls.article(origin["id"]))
        ordered += members
    return ordered


def check_result_dict(result: Any) -> dict:
    """A ``search.CheckResult`` as plain data (the pasted text is the derived side)."""
    get = lambda name, default=None: getattr(result, name, default)  # noqa: E731
    passages = []
    for index, passage in enumerate(get("passages") or []):
        value = lambda name, default=None: getattr(passage, name, default)  # noqa: E731
        passages.append(
            {
                "id": index + 1,
                "kind": value("kind", "verbatim"),
                "source_start": value("source_start"),
                "source_end": value("source_end"),
                "derived_start": value("derived_start"),
                "derived_end": value("derived_end"),
                "similarity": float(value("similarity", 0.0) or 0.0),
                "edits": queries.decode_edits(value("edits") or []),
            }
        )
    return {
        "article_id": get("article_id"),
        "segment_id": get("segment_id"),
        "label": get("label"),
        "kind": get("kind") or get("label"),
        "source_containment": _float_or_none(get("source_containment")),
        "derived_containment": _float_or_none(get("derived_containment")),
        "evidence": [str(item) for item in (get("evidence") or [])],
        "passages": passages,
    }


async def _check_compare(page: Page, text: str, results: list[dict], article_id: str) -> Response:
    """The pasted text side by side with one of the articles it was found to share text with."""
    result = next((r for r in results if r["article_id"] == article_id), None)
    if result is None:
        raise PageError(
            404,
            "No shared text with that article",
            f"The pasted text shares no passages with “{article_id}”.",
            [(page.urls.check(), "Check again")],
        )
    source = (await page.run(queries.articles_by_id, [article_id], True))[article_id]
    source.update(await page.run(queries.article_spans, article_id))
    source["urls"] = _article_urls(page.urls, article_id)
    pasted = {"raw_text": text, "title": "Your pasted text"}
    passages = result["passages"]
    context = {
        "source": source,
        "derived": pasted,
        "pasted": True,
        "matches": [result],
        "source_html": _marked_text(source, passages, "source"),
        "derived_html": _marked_text(pasted, passages, "derived"),
        "edit_summary": _edit_summary(passages),
        "kind_counts": Counter(passage["kind"] for passage in passages),
        "passage_kinds": PASSAGE_KINDS,
        "reverse_url": None,
    }
    return await page.respond("provenance_compare.html", context, {})


# Small helpers ------------------------------------------------------------------------------


def _int_arg(args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise PageError(
            400, f"Bad {name} value", f"{name} must be a whole number from {low} to {high:,}."
        )
    return value


def _query_url(path: str, args: dict) -> str:
    args = {key: value for key, value in args.items() if value not in (None, "")}
    return f"{path}?{urlencode(args)}" if args else path


def _safe_external_url(url: str | None) -> str | None:
    """The article's own URL, only if it is plain http(s) (never javascript: or data:)."""
    if isinstance(url, str) and re.match(r"^https?://[^\s]+$", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def _words(kind: str) -> str:
    return str(kind).replace("_", " ")


def _css_token(value: Any) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", str(value).lower()) or "unknown"


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


ROUTES = [
    (r"^/(?P<database>[^/]+)/-/provenance(?P<format>\.json)?$", stories),
    (
        r"^/(?P<database>[^/]+)/-/provenance/article/(?P<article_id>[^/]+?)(?P<format>\.json)?$",
        article,
    ),
    (
        r"^/(?P<database>[^/]+)/-/provenance/compare/"
        r"(?P<source_id>[^/]+)/(?P<derived_id>[^/]+?)(?P<format>\.json)?$",
        compare,
    ),
    (r"^/(?P<database>[^/]+)/-/provenance/check(?P<format>\.json)?$", check),
]
