"""The check page cannot stall the site: its own threads, a slot limit, a CPU budget.

Before, the matcher ran on Datasette's SQL threads (three by default): three slow checks
held all of them and every other page waited (the stories page: 31 s); a check ran as long
as its text made it (44 s and 2.7 GB for a 199 KB paste of a stored article), even after
its client had gone.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from datasette_provenance.matching import search
from datasette_provenance.web import checking
from tests.plugin_support import page, serve

pytestmark = pytest.mark.asyncio


def text() -> str:
    return "Kim Jong Un rode an armoured train to the Vostochny cosmodrome to meet Putin. " * 20


def config(**settings) -> dict:
    return {"plugins": {"datasette-provenance": settings}}


async def check(ds):
    return await ds.client.post(page("check", format="json"), json={"text": text()})


async def test_a_check_past_its_cpu_budget_is_stopped_with_503(provenance_db_path):
    ds = await serve(provenance_db_path, metadata=config(check_cpu_seconds=1e-6))
    response = await check(ds)
    assert response.status_code == 503, response.text[:300]
    assert "shorter excerpt" in response.json()["error"]


async def test_a_check_finding_no_free_slot_is_answered_429(provenance_db_path):
    ds = await serve(provenance_db_path)
    checks = checking.checker(ds, 1, 1.5)
    await checks.slots.acquire()  # another check holds the only slot
    try:
        response = await check(ds)
    finally:
        checks.slots.release()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(checking.RETRY_AFTER_SECONDS)
    assert (await check(ds)).status_code == 200


async def test_other_pages_are_served_while_a_check_runs(provenance_db_path, monkeypatch):
    """With one SQL thread, a check that takes long must not hold it."""
    entered, release = threading.Event(), threading.Event()
    real = search.find_sources

    def slow_find_sources(*args, **kwargs):
        entered.set()
        release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "find_sources", slow_find_sources)
    ds = await serve(provenance_db_path, settings={"num_sql_threads": 1})
    checking_task = asyncio.ensure_future(check(ds))
    try:
        while not entered.is_set():
            await asyncio.sleep(0.05)
        stories = await asyncio.wait_for(ds.client.get(page(format="json")), 10)
        assert stories.status_code == 200
        assert not checking_task.done()
    finally:
        release.set()
    assert (await checking_task).status_code == 200
