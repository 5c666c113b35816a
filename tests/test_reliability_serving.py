"""A real `datasette serve` under load, and while an ingest writes to the database it serves.

Both start Datasette in a subprocess on a free 127.0.0.1 port, as it is deployed.
The load test is the small version of benchmarks/load.py (which runs 200 clients;
see README "Reliability"): it asserts no errors, not timings. The ingest test
serves a (mutable) database in WAL mode, runs `datasette-provenance ingest` into it
- new articles and changed texts, then matching - and polls the pages and their
JSON the whole time: no answer may be an error, and an article that can be seen
at all must be seen whole (its segments, and the story its segments belong to).
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from datasette.utils import tilde_encode

from datasette_provenance import ingest
from datasette_provenance.web import graph, views

from .conftest import load_benchmark

load = load_benchmark("load")


def test_twenty_clients_two_hundred_requests_no_errors(seeds_db_path):
    paths = load.page_paths(seeds_db_path, random.Random(7), per_kind=20, formats=("", "json"))
    with load.datasette_serving(seeds_db_path) as base:
        result = asyncio.run(load.run_load(base, paths, clients=20, total=200, time_limit=120))
    summary = result.summary()
    print(f"load smoke: {json.dumps(summary)}")
    assert summary["requests"] == 200 and summary["errors"] == 0, summary["error_kinds"]


# Serving while an ingest writes -----------------------------------------------------------

FIRST, SECOND, CHANGED = 150, 150, 30  # articles before, during, and re-ingested with new text


@pytest.fixture(scope="module")
def corpus_articles():
    synthetic = load_benchmark("synthetic")
    return [article for article, _ in synthetic.generate(FIRST + SECOND, seed=5)]


def write_jsonl(path: Path, articles) -> Path:
    path.write_text("".join(article.to_json() + "\n" for article in articles), encoding="utf-8")
    return path


def test_pages_stay_whole_while_an_ingest_writes(corpus_articles, tmp_path):
    db_path = tmp_path / "live.db"
    ingest.ingest(str(db_path), [str(write_jsonl(tmp_path / "first.jsonl",
                                                   corpus_articles[:FIRST]))])  # fmt: skip
    changed = [
        type(article)(**{**article.__dict__, "text": article.text + "\n\nA paragraph added later."})
        for article in corpus_articles[:CHANGED]
    ]
    second = write_jsonl(tmp_path / "second.jsonl", changed + corpus_articles[FIRST:])
    ids = [article.id for article in corpus_articles]
    poller = Poller(ids)
    with load.datasette_serving(db_path, immutable=False) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            writer = subprocess.Popen(
                [sys.executable, "-m", "datasette_provenance.cli", "ingest", str(db_path),
                 str(second), "--quiet"],
                stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                while writer.poll() is None:
                    poller.poll(client, f"/{db_path.stem}/-/provenance")
            finally:
                if writer.poll() is None:
                    writer.kill()
                writer.wait()
            assert writer.returncode == 0, writer.stderr.read()
            writer.stderr.close()
            for _ in range(3):  # and once everything is written
                poller.poll(client, f"/{db_path.stem}/-/provenance")
    print(f"serving while ingesting: {poller.report()}")
    assert poller.errors == [], poller.errors[:5]
    assert poller.polls >= 10 and poller.seen_whole > 0


class Poller:
    """Requests the overview and random lineage pages; records anything not whole."""

    def __init__(self, article_ids: list[str]):
        self.article_ids = article_ids
        self.rng = random.Random(11)
        self.polls = self.requests = self.seen_whole = 0
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []

    def poll(self, client: httpx.Client, base: str) -> None:
        self.polls += 1
        self.get(client, base)
        stories = self.get(client, base + ".json")
        origins = [s["origin"]["id"] for s in (stories or {}).get("stories", []) if s["origin"]]
        for article_id in self.rng.sample(self.article_ids, 3) + origins[:2]:
            lineage = self.get(client, f"{base}/article/{tilde_encode(article_id)}.json")
            if lineage is not None:
                self.check_whole(article_id, lineage)
        self.get(client, f"{base}/article/{tilde_encode(self.rng.choice(self.article_ids))}")

    def get(self, client: httpx.Client, path: str) -> dict | None:
        """The JSON of a 200 answer (None for HTML or 404); errors are recorded."""
        response = client.get(path)
        self.requests += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code not in (200, 404):
            self.errors.append(f"{path}: {response.status_code} {response.text[:200]}")
            return None
        if response.status_code == 200 and path.split("?")[0].endswith(".json"):
            return response.json()
        return None

    def check_whole(self, article_id: str, lineage: dict) -> None:
        """Its segments are there, and each segment's story (graph) includes the segment."""
        segments = lineage["segments"]
        if not segments or any(not s["segment_id"].startswith(article_id + "#") for s in segments):
            self.errors.append(f"{article_id}: seen without its segments: {segments}")
            return
        graphs = {cluster["id"]: cluster["graph"] for cluster in lineage["clusters"]}
        for segment in segments:
            if segment["cluster_id"] is None:
                continue
            nodes = {node["segment_id"] for node in graphs[segment["cluster_id"]]["nodes"]}
            if segment["segment_id"] not in nodes and len(nodes) < graph.MAX_NODES:
                self.errors.append(f"{segment['segment_id']}: shown in another story's graph")
                return
        self.seen_whole += 1

    def report(self) -> str:
        return (f"{self.polls} polls, {self.requests} requests, statuses {self.statuses}, "
                f"{self.seen_whole} lineage pages checked whole, {len(self.errors)} errors")  # fmt: skip


def test_poller_notices_a_missing_story():
    """The check above can fail: a segment whose story graph does not include it."""
    poller = Poller(["a"])
    lineage = {"segments": [{"segment_id": "a#1", "cluster_id": 1}],
               "clusters": [{"id": 1, "graph": {"nodes": [{"segment_id": "b#1"}]}}]}  # fmt: skip
    poller.check_whole("a", lineage)
    assert poller.errors and poller.seen_whole == 0
    poller.check_whole("a", {"segments": [], "clusters": []})
    assert len(poller.errors) == 2


def test_a_page_reads_one_snapshot_while_a_writer_commits(tmp_path):
    """Deterministic: a commit between a page's two queries is not seen by the second."""
    db_path = tmp_path / "wal.db"
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE articles (id TEXT)")
    reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)

    def two_queries(conn):
        before = conn.execute("select count(*) from articles").fetchone()[0]
        writer.execute("INSERT INTO articles VALUES ('committed meanwhile')")
        return before, conn.execute("select count(*) from articles").fetchone()[0]

    assert views.in_one_snapshot(reader, two_queries) == (0, 0)
    assert not reader.in_transaction
    assert two_queries(reader) == (1, 2)  # without a snapshot, the page would mix commits
    reader.close()
    writer.close()
