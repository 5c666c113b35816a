"""The check page cannot stall the site: its own threads, a slot limit, a CPU budget, and
only the requests it should take.

Before, the matcher ran on Datasette's SQL threads (three by default): three slow checks
held all of them and every other page waited (the stories page: 31 s); a check ran as long
as its text made it (44 s and 2.7 GB for a 199 KB paste of a stored article), even after
its client had gone. Any web page could make its visitors' browsers run checks (an
``<img>`` pointing at ``check.json?text=…``, or a ``text/plain`` POST, which the page read
as a form), and on Datasette 0.65 a multipart POST to a plugin page was a 500.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import time

import pytest

from datasette_provenance.matching import isolated, search
from datasette_provenance.web import checking, guards
from tests.plugin_support import page, serve
from tests.test_align import seed_text

# How long a step may take before the test calls it a hang. Generous: CPU limits are CPU
# seconds, and a busy CI machine gives a niced check worker a small share of a core.
HANG_SECONDS = 120

pytestmark = pytest.mark.asyncio


def text() -> str:
    return "Kim Jong Un rode an armoured train to the Vostochny cosmodrome to meet Putin. " * 20


def config(**settings) -> dict:
    return {"plugins": {"datasette-provenance": settings}}


async def check(ds):
    return await ds.client.post(page("check", format="json"), json={"text": text()})


class HeldMatcher:
    """Checks that wait inside the search (until ``release()``, or ``HANG_SECONDS``), or that spin
    there without ever looking at their budget. Checks run in a worker process, so this
    stand-in is pickled into it and speaks to the test through files in ``folder``."""

    def __init__(self, folder, spin: bool = False):
        self.folder, self.spin = folder, spin

    def find_sources(self, db, *args, **kwargs):
        # Written whole, then renamed: the test polls for the name and must never read it empty.
        (self.folder / "entering").write_text(str(os.getpid()))
        (self.folder / "entering").rename(self.folder / "entered")
        waited = time.monotonic() + HANG_SECONDS
        while not (self.folder / "release").exists() and time.monotonic() < waited:
            if not self.spin:
                time.sleep(0.01)
        (self.folder / "finished").write_text("")
        from datasette_provenance.matching import search as real  # the worker's, not patched

        return real.find_sources(db, *args, **kwargs)

    async def entered(self) -> int:
        """The id of the process running the check, once it is searching."""
        while not (self.folder / "entered").exists():
            await asyncio.sleep(0.02)
        return int((self.folder / "entered").read_text())

    def release(self) -> None:
        (self.folder / "release").write_text("")

    def finished(self) -> bool:
        return (self.folder / "finished").exists()


def hold_find_sources(monkeypatch, folder, spin: bool = False) -> HeldMatcher:
    held = HeldMatcher(folder, spin)
    monkeypatch.setattr(search, "find_sources", held.find_sources)
    return held


def process_exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


async def test_a_check_past_its_cpu_budget_is_stopped_with_503(provenance_db_path):
    ds = await serve(provenance_db_path, metadata=config(check_cpu_seconds=1e-6))
    response = await check(ds)
    assert response.status_code == 503, response.text[:300]
    assert "shorter excerpt" in response.json()["error"]


async def test_a_checks_alignment_keeps_to_its_memory_budget(seeds_db_path):
    """The check page allows an alignment less memory than ingest does (check_alignment_mb):
    a longer pair gets copy passages only. The seeds' paraphrase needs about 0.2 MB."""
    paraphrase = seed_text("001")

    async def passage_kinds(alignment_mb: float) -> set[str]:
        ds = await serve(seeds_db_path, metadata=config(check_alignment_mb=alignment_mb))
        answer = await ds.client.post("/seeds/-/provenance/check.json", json={"text": paraphrase})
        assert answer.status_code == 200
        return {p["kind"] for result in answer.json()["results"] for p in result["passages"]}

    assert "paraphrase" in await passage_kinds(96)
    assert "paraphrase" not in await passage_kinds(0.01)
    with pytest.raises(Exception, match="check_alignment_mb must be a number > 0"):
        await serve(seeds_db_path, metadata=config(check_alignment_mb=0))


async def test_a_check_finding_no_free_slot_is_answered_429(provenance_db_path):
    ds = await serve(provenance_db_path)
    checks = checking.checker(ds, 1)
    await checks.slots.acquire()  # another check holds the only slot
    try:
        response = await check(ds)
    finally:
        checks.slots.release()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(checking.RETRY_AFTER_SECONDS)
    assert (await check(ds)).status_code == 200


async def test_other_pages_are_served_while_a_check_runs(provenance_db_path, monkeypatch, tmp_path):
    """With one SQL thread, a check that takes long must not hold it."""
    held = hold_find_sources(monkeypatch, tmp_path)
    ds = await serve(provenance_db_path, settings={"num_sql_threads": 1})
    checking_task = asyncio.ensure_future(check(ds))
    try:
        await asyncio.wait_for(held.entered(), HANG_SECONDS)
        stories = await asyncio.wait_for(ds.client.get(page(format="json")), HANG_SECONDS)
        assert stories.status_code == 200
        assert not checking_task.done()
    finally:
        held.release()
    assert (await checking_task).status_code == 200


async def test_a_check_runs_in_a_process_of_its_own(provenance_db_path, monkeypatch, tmp_path):
    """Matching is CPU-bound Python: on a thread of the server it held the interpreter lock
    every page needs (the stories page took up to 1.5 s under attack on Datasette 0.65)."""
    held = hold_find_sources(monkeypatch, tmp_path)
    held.release()
    ds = await serve(provenance_db_path)
    assert (await check(ds)).status_code == 200
    worker = await held.entered()
    assert worker != os.getpid()
    assert checking.checker(ds, 1).workers.pids() == [worker]  # kept for the next check
    assert (await check(ds)).status_code == 200
    assert checking.checker(ds, 1).workers.pids() == [worker]


class GreedyMatcher:
    """A search that holds 250 MB for a moment, then answers; notes its process id."""

    def __init__(self, folder):
        self.folder = folder

    def find_sources(self, db, *args, **kwargs):
        ballast = b"x" * (250 * 1024 * 1024)  # written, so the memory is really taken
        del ballast
        with (self.folder / "pids").open("a") as pids:
            pids.write(f"{os.getpid()}\n")
        return []


async def test_a_worker_that_grew_big_is_replaced_after_answering(
    provenance_db_path, monkeypatch, tmp_path
):
    """Memory a big check took is seldom handed back to the OS while its process lives."""
    monkeypatch.setattr(search, "find_sources", GreedyMatcher(tmp_path).find_sources)
    ds = await serve(provenance_db_path)
    for _ in range(2):
        assert (await check(ds)).status_code == 200
    first, second = (tmp_path / "pids").read_text().split()
    assert first != second and not process_exists(int(first))


async def test_checks_run_on_a_thread_where_no_process_will_start(
    provenance_db_path, monkeypatch, caplog
):
    """Some serverless hosts refuse new processes: the page still checks, within budget."""

    def refused(self):
        raise PermissionError("processes are not allowed here")

    monkeypatch.setattr(isolated.Worker, "__init__", refused)
    ds = await serve(provenance_db_path)
    assert (await check(ds)).status_code == 200
    assert "no worker process would start" in caplog.text
    slow = await serve(provenance_db_path, metadata=config(check_cpu_seconds=1e-6))
    assert (await check(slow)).status_code == 503


# Disconnecting clients --------------------------------------------------------------------


async def check_and_leave(ds, held: HeldMatcher):
    """A check whose client leaves once it has started, spoken to in ASGI as the server
    speaks to Datasette: the messages sent back."""
    body = json.dumps({"text": text()}).encode()
    requests = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if requests:
            return requests.pop(0)
        await asyncio.wait_for(held.entered(), HANG_SECONDS)
        return {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    path = page("check", format="json")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8001),
        "headers": [(b"host", b"127.0.0.1:8001"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    await asyncio.wait_for(ds.app()(scope, receive, send), HANG_SECONDS)
    return sent


@pytest.mark.parametrize("spin", [False, True], ids=["waiting", "spinning without looking"])
async def test_a_check_stops_when_its_client_goes_away(
    provenance_db_path, monkeypatch, tmp_path, spin
):
    """The client leaves once the check has started: the check stops at once (503 to
    nobody) instead of running to its end - its worker is killed, even when it never looks
    at its budget (on a thread, such a check ran on after its client had gone)."""
    held = hold_find_sources(monkeypatch, tmp_path, spin)
    ds = await serve(provenance_db_path, metadata=config(check_cpu_seconds=60))
    try:
        sent = await check_and_leave(ds, held)
        worker = await held.entered()
        assert not held.finished() and not process_exists(worker)
    finally:
        held.release()
    assert sent[0]["status"] == 503
    answered = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert "shorter excerpt" in answered["error"]
    assert (await check(ds)).status_code == 200  # a client that stays gets its answer
    assert checking.checker(ds, 1).workers.pids() not in ([], [worker])


async def test_a_check_overrunning_its_cpu_budget_without_looking_is_stopped(
    provenance_db_path, monkeypatch, tmp_path
):
    """A loop that never looks at the budget: the kernel stops the worker about a second
    past it (RLIMIT_CPU), and the visitor gets the same 503."""
    held = hold_find_sources(monkeypatch, tmp_path, spin=True)
    ds = await serve(provenance_db_path, metadata=config(check_cpu_seconds=0.1))
    try:
        response = await asyncio.wait_for(check(ds), HANG_SECONDS)
        assert not held.finished()
    finally:
        held.release()
    assert response.status_code == 503 and "shorter excerpt" in response.json()["error"]


# Cross-site requests and bodies the page does not take ---------------------------------------


@pytest.fixture
def checks_run(monkeypatch) -> list:
    """The texts the page asked the checker to check."""
    texts, real = [], checking.Checker.run

    async def recording_run(self, db, request, work, args, *rest):
        texts.append(args[0])
        return await real(self, db, request, work, args, *rest)

    monkeypatch.setattr(checking.Checker, "run", recording_run)
    return texts


IMAGE = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
FETCH = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
FRAME = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"}
SIBLING = {"sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script"}
LINK = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
OWN_PAGE = {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}


async def get_check(ds, headers: dict, checked: str | None = None):
    params = {"text": text() if checked is None else checked}
    return await ds.client.get(page("check", format="json"), params=params, headers=headers)


@pytest.mark.parametrize(
    "headers", [IMAGE, FETCH, FRAME, SIBLING], ids=["img", "fetch", "iframe", "same-site"]
)
async def test_another_sites_page_cannot_make_browsers_run_checks(
    provenance_db_path, checks_run, headers
):
    ds = await serve(provenance_db_path)
    got = await get_check(ds, headers)
    posted = await ds.client.post(
        page("check", format="json"), json={"text": text()}, headers=headers
    )
    assert got.status_code == 403 and "another site" in got.json()["title"]
    assert posted.status_code == 403  # on 1.0a Datasette's own CSRF check refuses it first
    assert checks_run == []


async def test_a_followed_link_own_pages_and_other_clients_run_checks(
    provenance_db_path, checks_run
):
    ds = await serve(provenance_db_path)
    for headers in (LINK, OWN_PAGE, {}):  # {}: curl, a script, an older browser
        assert (await get_check(ds, headers)).status_code == 200, headers
    assert len(checks_run) == 3
    # Following a link never POSTs: a form on another site posting here is refused.
    form = await ds.client.post(page("check"), data={"text": text()}, headers=LINK)
    assert form.status_code == 403 and len(checks_run) == 3


# A browser without Fetch Metadata says where a request comes from in Origin or Referer.
OLD_BROWSER_ELSEWHERE = [
    {"referer": "https://elsewhere.example/story.html"},
    {"origin": "https://elsewhere.example"},
    {"origin": "null"},  # a sandboxed frame
    {"referer": "http://localhost:8080/provenance/-/provenance"},  # another port, another origin
    {"referer": "https://localhost/provenance/-/provenance"},  # another scheme
    {"referer": "http://localhost:notaport/"},
]


@pytest.mark.parametrize(
    "headers", OLD_BROWSER_ELSEWHERE,
    ids=["referer", "origin", "origin null", "other port", "other scheme", "malformed"],
)  # fmt: skip
async def test_a_browser_without_fetch_metadata_is_judged_by_origin_or_referer(
    provenance_db_path, checks_run, headers
):
    """As Datasette 1.0's CSRF protection judges a POST (Safari before 16.4 sends no
    Sec-Fetch-Site): before, such an ``<img>`` on another site ran a check per view."""
    ds = await serve(provenance_db_path)
    got = await get_check(ds, headers)
    assert got.status_code == 403 and "another site" in got.json()["title"]
    posted = await ds.client.post(
        page("check", format="json"), json={"text": text()}, headers=headers
    )
    assert posted.status_code == 403
    assert checks_run == []


async def test_a_browser_without_fetch_metadata_on_this_site_runs_checks(
    provenance_db_path, checks_run
):
    ds = await serve(provenance_db_path)  # its client asks for http://localhost
    own = [
        {"referer": "http://localhost/provenance/-/provenance/check"},
        {"referer": "http://LOCALHOST:80/provenance"},
        {"origin": "http://localhost"},
    ]
    for headers in own:
        assert (await get_check(ds, headers)).status_code == 200, headers
    posted = await ds.client.post(
        page("check", format="json"), json={"text": text()}, headers=own[2]
    )
    assert posted.status_code == 200 and len(checks_run) == 4


async def test_a_link_carries_a_short_text_and_longer_ones_are_posted(
    provenance_db_path, checks_run
):
    ds = await serve(provenance_db_path)
    long = (text() * 3)[: guards.MAX_GET_CHECK_CHARS + 1]
    linked = await get_check(ds, LINK, long)
    assert linked.status_code == 414 and "POST" in linked.json()["error"]
    assert checks_run == []
    posted = await ds.client.post(page("check", format="json"), json={"text": long})
    assert posted.status_code == 200


async def cookies_of_a_visitor(ds) -> dict:
    """The CSRF cookie of a visitor who has opened the check form."""
    return dict((await ds.client.get(page("check"))).cookies)


@pytest.mark.parametrize("with_cookie", [False, True], ids=["no cookie", "csrf cookie"])
async def test_bodies_the_check_page_does_not_take_are_refused_with_415(
    provenance_db_path, checks_run, with_cookie
):
    ds = await serve(provenance_db_path)
    cookies = await cookies_of_a_visitor(ds) if with_cookie else {}
    for target in (page("check"), page("check", format="json")):
        upload = await ds.client.post(
            target, data={"text": text()}, files={"file": ("a.txt", b"x")}, cookies=cookies
        )
        plain = await ds.client.post(
            target, content=f"text={text()}".encode(), cookies=cookies,
            headers={"content-type": "text/plain"},
        )  # fmt: skip
        for response in (upload, plain):
            assert response.status_code == 415, (target, response.text[:200])
            assert "as JSON" in response.text
    assert checks_run == []


async def test_the_other_pages_answer_a_post_with_405(provenance_db_path):
    ds = await serve(provenance_db_path)
    cookies = await cookies_of_a_visitor(ds)
    response = await ds.client.post(page(), files={"file": ("a.txt", b"x")}, cookies=cookies)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"


@pytest.mark.skipif(
    importlib.util.find_spec("datasette.csrf") is not None,
    reason="Datasette 1.0a checks where a POST comes from (Sec-Fetch-Site, Origin), not tokens",
)
async def test_a_form_posted_without_its_csrf_token_is_still_refused(
    provenance_db_path, checks_run
):
    ds = await serve(provenance_db_path)
    cookies = await cookies_of_a_visitor(ds)
    response = await ds.client.post(page("check"), data={"text": text()}, cookies=cookies)
    assert response.status_code == 403 and checks_run == []
    form = await ds.client.get(page("check"), cookies=cookies)
    token = re.search(r'name="csrftoken" value="([^"]*)"', form.text).group(1)
    with_token = await ds.client.post(
        page("check"), data={"text": text(), "csrftoken": token}, cookies=cookies
    )
    assert with_token.status_code == 200 and len(checks_run) == 1
