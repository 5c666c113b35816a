"""What the plugin's pages take from a request, decided before any work is done.

* Methods: the pages only read. The check page alone takes POST (the text to check);
  the others answer POST with 405.
* Bodies: JSON (API clients) or a urlencoded form (the check page's own form, which
  carries Datasette's CSRF token). Anything else - a multipart upload, ``text/plain`` -
  is answered 415 by the page itself, never a 500 from the CSRF middleware.
* Who may run a check: a check costs the site up to a second of CPU, so another website
  must not make its visitors' browsers run checks here (an ``<img>`` or a ``fetch()``
  pointing at the check URL would do it on every page view). Browsers say who made a
  request (Fetch Metadata: ``Sec-Fetch-Site`` and friends); a check runs when it comes
  from this origin, from no page at all (typed, bookmarked, a client other than a
  browser), or from a visitor following a link to a small GET check. A browser without
  Fetch Metadata (Safari before 16.4, older others) is judged by its ``Origin`` or
  ``Referer`` header instead, as Datasette 1.0's CSRF protection judges a POST: another
  origin there refuses the check, since such a browser does not say whether a request
  is a followed link or an ``<img>``. (A page that hides its address from such a browser,
  ``referrerpolicy="no-referrer"``, looks like a typed link: the check's CPU budget and
  its slots bound what it can cost.) Texts longer than ``MAX_GET_CHECK_CHARS`` go by
  POST, which another site's page cannot send with the CSRF token or, as JSON, without
  a CORS preflight.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
READING_METHODS = ("GET", "HEAD")
CHECKING_METHODS = ("GET", "HEAD", "POST")

# A link to a check (``check?text=…``) is something to share; a paste is not.
MAX_GET_CHECK_CHARS = 2_000

# Every route of the plugin is under /<database>/-/provenance (base_url may come first).
_PLUGIN_PATH = re.compile(r"/-/provenance(?:/|\.json$|$)")


def content_type(headers) -> str:
    """The media type of a request body, lower case, without parameters ("" if none)."""
    return (headers.get("content-type") or "").split(";")[0].strip().lower()


def skips_csrf(scope) -> bool:
    """Whether Datasette's CSRF middleware should leave a request to the plugin's pages.

    It keeps checking the token of a urlencoded form. A JSON body needs none: a browser
    sends JSON to another site only after a CORS preflight. Other bodies are left to the
    page, which refuses them with 415 (on Datasette 0.65, asgi-csrf's multipart parser
    fails with a 500 when the visitor holds a cookie)."""
    if scope.get("type") != "http" or not _PLUGIN_PATH.search(scope.get("path", "")):
        return False
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
    return content_type(headers) != FORM


def started_by_another_site(method: str, headers, own_origin: str) -> bool:
    """Whether a browser says a page of another site made this request, other than by a
    visitor following a link (a top-level GET navigation). ``own_origin`` is this site's
    ``scheme://host[:port]``, as the request reached it.

    Same-site counts as another site: a sibling subdomain may be someone else's."""
    site = headers.get("sec-fetch-site")
    if site is None:  # no Fetch Metadata: an older browser, or no browser at all
        page = headers.get("origin") or headers.get("referer")
        if page is None:
            return False
        origin = _origin(page)
        return origin is None or origin != _origin(own_origin)
    if site in ("same-origin", "none"):  # no page behind the request, or one of ours
        return False
    followed_link = (
        method in READING_METHODS
        and headers.get("sec-fetch-mode") == "navigate"
        and headers.get("sec-fetch-dest") in (None, "document")
    )
    return not followed_link


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple | None:
    """(scheme, host, port) of a URL or origin, default ports filled in; None when it has
    none (``Origin: null`` from a sandboxed frame, a malformed header)."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        return None
    return (scheme, host, port) if scheme and host and port else None
