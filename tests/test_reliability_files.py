"""Inputs that are not files, a disk that fills up, a database served as immutable.

* A FIFO or a device named on the command line stops the run at once with one line
  (reading a FIFO waits for a writer forever; /dev/zero never ends); in a directory
  it is reported and skipped, and the rest is ingested.
* A disk that fills up mid-run (here: SQLite's page limit, which fails the same way,
  SQLITE_FULL) exits 3 with one line saying how many articles were written; they are
  in the database, whole, and running the same command again completes the ingest.
* Ingesting into a file that `datasette serve -i` is serving warns first: such a server
  answers "database disk image is malformed" until it is restarted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from .conftest import load_benchmark

RUN_TIMEOUT = 120
GOOD = {"id": "good", "text": "A good article about harbour cranes in Rotterdam and the quay."}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "datasette_provenance.cli", *args]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli(*args), capture_output=True, text=True, timeout=RUN_TIMEOUT,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def error_lines(finished) -> list[str]:
    return [line for line in finished.stderr.splitlines() if line.strip()]


def article_count(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("select count(*) from articles").fetchone()[0]


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "feed.jsonl"
    os.mkfifo(path)
    return path


def test_a_fifo_given_stops_at_once_with_one_line(fifo, tmp_path):
    finished = run("ingest", str(tmp_path / "news.db"), str(fifo))
    assert finished.returncode == 2
    assert error_lines(finished) == [f"error: {fifo}: a FIFO (named pipe), not a regular file"]


def test_a_device_given_stops_with_one_line(tmp_path):
    endless = tmp_path / "endless.txt"
    endless.symlink_to("/dev/zero")
    finished = run("ingest", str(tmp_path / "news.db"), str(endless))
    assert finished.returncode == 2
    assert error_lines(finished) == [f"error: {endless}: a device, not a regular file"]


def test_fifos_and_devices_in_a_directory_are_reported_and_skipped(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD["text"])
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    db = tmp_path / "news.db"
    finished = run("ingest", str(db), str(folder), "--no-match")
    assert finished.returncode == 1
    assert error_lines(finished) == [
        f"skipped: {folder / 'pipe.txt'}: a FIFO (named pipe), not a regular file",
        f"skipped: {folder / 'zero.txt'}: a device, not a regular file",
    ]
    assert article_count(db) == 1


# Loaded by the ingest processes (PYTHONPATH): batches of FULL_DISK_BATCH articles, and
# the database may not grow past a page count.
PAGE_LIMIT = """
import os
from datasette_provenance import ingest
ingest.BATCH_SIZE = int(os.environ["PROVENANCE_TEST_BATCH_SIZE"])
if os.environ.get("PROVENANCE_TEST_MAX_PAGES"):
    from datasette_provenance import store
    _connect = store.connect
    def connect(path):
        db = _connect(path)
        db.execute(f"PRAGMA max_page_count = {os.environ['PROVENANCE_TEST_MAX_PAGES']}")
        return db
    store.connect = connect
"""
# Three batches: smaller than the shipped 500, so as many commits cost a fifth of the CPU.
FULL_DISK_BATCH = 100


def test_a_full_disk_says_how_much_was_written_and_keeps_it(tmp_path):
    synthetic = load_benchmark("synthetic")
    corpus = tmp_path / "corpus.jsonl"
    count = 3 * FULL_DISK_BATCH
    synthetic.write_corpus(count, str(corpus))
    db = tmp_path / "news.db"
    (tmp_path / "sitecustomize.py").write_text(PAGE_LIMIT)
    env = {"PYTHONPATH": str(tmp_path), "PROVENANCE_TEST_BATCH_SIZE": str(FULL_DISK_BATCH)}
    run("ingest", str(db), str(corpus), "--no-match", "--quiet", env=env)  # how big it gets
    with closing(sqlite3.connect(db)) as conn:
        full_size = conn.execute("pragma page_count").fetchone()[0]
    db.unlink()
    full = {**env, "PROVENANCE_TEST_MAX_PAGES": str(full_size // 2)}
    finished = run("ingest", str(db), str(corpus), "--no-match", "--quiet", env=full)
    assert finished.returncode == 3, finished.stderr
    [line] = error_lines(finished)
    written = article_count(db)
    assert 0 < written < count and written % FULL_DISK_BATCH == 0
    assert line.startswith("error: database or disk is full: stopped after ")
    assert f"after {written:,} articles were written" in line and "run the same command" in line
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    finished = run("ingest", str(db), str(corpus), "--no-match", "--quiet", env=env)
    assert finished.returncode == 0 and article_count(db) == count


def test_ingest_warns_when_the_database_is_served_immutable(tmp_path):
    db = tmp_path / "news.db"
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    assert run("ingest", str(db), str(good), "--no-match").returncode == 0
    datasette = Path(sys.executable).parent / "datasette"
    server = subprocess.Popen(
        [str(datasette), "serve", "-i", db.name, "-h", "127.0.0.1", "-p", "0"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1)  # its command line is there from the start; only the process must be
        finished = run("ingest", str(db), str(good), "--no-match")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert finished.returncode == 0
    warnings = [line for line in error_lines(finished) if line.startswith("warning:")]
    assert warnings == [
        f"warning: {db} is served by Datasette with -i (immutable), process {server.pid}: its "
        "pages will fail after this write until it is restarted; serve with -i only a "
        "finished copy"
    ]
