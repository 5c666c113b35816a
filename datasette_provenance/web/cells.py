"""Long texts on table pages: shortened, with links to the whole text and the lineage.

Datasette shows every cell in full on a table page, so five articles (raw and clean
text) make a page over 20,000 pixels tall. On table pages of a provenance database a
text longer than the ``text_preview`` setting is cut at a word boundary and followed by
a link to the row page (which shows it whole, as does the JSON) and, for an article,
to its lineage page.
"""

from __future__ import annotations

from contextvars import ContextVar

from datasette.utils import tilde_encode
from markupsafe import Markup, escape

# The path of the request being served: Datasette 0.65 passes render_cell no request, and
# calls it alike for table and row pages (set by the plugin's asgi_wrapper).
REQUEST_PATH: ContextVar[str | None] = ContextVar("provenance_request_path", default=None)

# (table, column) -> the column holding the article id its lineage link uses.
LONG_TEXT_COLUMNS = {
    ("articles", "raw_text"): "id",
    ("articles", "clean_text"): "id",
    ("segments", "clean_text"): "article_id",
}
TABLES = {table for table, _ in LONG_TEXT_COLUMNS}
# A text only a little longer than the preview is shown whole: cutting it saves nothing.
SLACK = 1.2


def long_text(row, value, column: str, table: str, database: str, urls, preview: int):
    """The shortened cell for a long text column on a table page, else ``None``."""
    article_column = LONG_TEXT_COLUMNS.get((table, column))
    if article_column is None or not _has_columns(row, ("id", article_column)):
        return None
    if is_row_page(REQUEST_PATH.get(), database, table):
        return None
    article_id = row[article_column]
    article_id = article_id.get("value") if isinstance(article_id, dict) else article_id
    return shortened(value, preview, urls.row(table, row["id"]), urls.article(article_id))


def _has_columns(row, columns) -> bool:
    try:
        return all(column in row.keys() for column in columns)
    except AttributeError:
        return False


def is_row_page(path: str | None, database: str, table: str) -> bool:
    """``…/<database>/<table>/<primary key>`` (whatever prefix a proxy or base_url adds)."""
    if not path:
        return False
    parts = path.rstrip("/").split("/")
    return len(parts) >= 3 and parts[-3:-1] == [tilde_encode(database), tilde_encode(table)]


def shortened(value, preview: int, row_href: str, lineage_href: str | None) -> Markup | None:
    if not isinstance(value, str) or len(value) <= preview * SLACK:
        return None
    cut = " ".join(value[: preview + 40].split())[:preview]  # line breaks would make it tall
    space = cut.rfind(" ")
    if space > preview * 0.6:
        cut = cut[:space]
    links = [f'<a href="{escape(row_href)}">whole text, {len(value):,} characters</a>']
    if lineage_href:
        links.append(
            f'<a href="{escape(lineage_href)}" title="Where this text comes from and who copied it">'
            "lineage</a>"
        )
    return Markup(
        f'<span class="provenance-preview">{escape(cut.rstrip())}…</span> '
        f'<span class="provenance-more">({" · ".join(links)})</span>'
    )
