"""`search-index` is all or nothing, and the check page says when the index is incomplete.

The full-text index is kept current by three triggers on ``articles``. sqlite-utils creates
the index and the triggers as a script, committing statement by statement: a kill between
two left an index without triggers, later ingests were never indexed and short excerpts
of them were silently not found. Here `search-index` is killed (SIGKILL) before each SQL
statement it runs in turn, until one run finishes: after every kill the database has no
index, or the whole index with its triggers.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from datasette_provenance import store
from tests.plugin_support import page, serve

RUN_TIMEOUT = 120
KILL_VARIABLE = "PROVENANCE_TEST_KILL_AT"
# Loaded by the command (PYTHONPATH): SIGKILL before the n-th statement after connecting
# (statements FTS5 runs inside one, traced as "-- ...", are not counted).
KILL_AT = """
import os, signal
if os.environ.get("PROVENANCE_TEST_KILL_AT"):
    from datasette_provenance import store
    _connect = store.connect
    def connect(path):
        db = _connect(path)
        left = [int(os.environ["PROVENANCE_TEST_KILL_AT"])]
        def trace(statement):
            if not statement.startswith("-- "):
                left[0] -= 1
                if left[0] == 0:
                    os.kill(os.getpid(), signal.SIGKILL)
        db.conn.set_trace_callback(trace)
        return db
    store.connect = connect
"""


def search_state(path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        names = {row[0] for row in conn.execute("select name from sqlite_master")}
        if store.SEARCH_TABLE not in names:
            assert not names & set(store.SEARCH_TRIGGERS), names
            return "none"
        assert set(store.SEARCH_TRIGGERS) <= names, names
        articles = conn.execute("select count(*) from articles").fetchone()[0]
        indexed = conn.execute(f"select count(*) from {store.SEARCH_TABLE}_docsize").fetchone()[0]
        assert indexed == articles
        return "whole"


def test_a_killed_search_index_leaves_no_index_or_the_whole_one(seeds_db_copy, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(KILL_AT)
    states = []
    for statement in range(1, 100):
        db = tmp_path / f"kill{statement}.db"
        db.write_bytes(seeds_db_copy.read_bytes())
        finished = subprocess.run(
            [sys.executable, "-m", "datasette_provenance.cli", "search-index", str(db)],
            env={**os.environ, "PYTHONPATH": str(tmp_path), KILL_VARIABLE: str(statement)},
            capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )  # fmt: skip
        states.append(search_state(db))
        if finished.returncode != -9:  # ran to the end before that statement
            assert finished.returncode == 0, finished.stderr
            break
        db.unlink()
    assert states[-1] == "whole" and "none" in states[:-1], states


@pytest.mark.asyncio
async def test_the_check_page_says_when_the_index_lacks_its_triggers(seeds_db_copy, tmp_path):
    served = tmp_path / "provenance.db"  # the name the page helpers use
    served.write_bytes(seeds_db_copy.read_bytes())
    db = store.connect(str(served))
    with closing(db.conn):
        store.enable_search(db)
        assert store.search_index_problem(db.conn) is None
        db.conn.execute("drop trigger articles_ai")
        db.conn.commit()
        assert "articles_ai" in store.search_index_problem(db.conn)
    ds = await serve(served)
    response = await ds.client.get(page("check", format="json") + "?text=Kim+Jong+Un")
    assert response.status_code == 200
    assert "no update triggers (articles_ai)" in response.json()["warning"]
    assert "search-index` again" in response.json()["warning"]
