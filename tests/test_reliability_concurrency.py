"""Any number of ingest and match processes on one database end as one run after another.

SQLite has one writer at a time; each process reads what its writes depend on inside
the same write transaction (store.write_transaction), so no process works from a
state another has changed meanwhile. Here four CLI ingests of four parts of a
synthetic corpus (wire stories and their copies, split so that copies and originals
land in different parts), plus a `match` and a re-ingest of changed articles, run at
the same time. Their database must equal, table by table (tests/db_compare), the one
made by the same commands run one after another; every process must exit 0 with no
traceback. A variant slows one process's lineage rebuild (as on a big archive) so
that the others write while it computes.

Stories are compared too: whether two reports are one story is measured with word
rarity over the corpus, which interleaved processes see at other sizes on the way than
one run after another; each lineage rebuild measures every pair again with the rarity
as it stands (matching/update.py), so story links, clusters and lineage depend only on
the articles stored. Two things keep the figure measured when a pair was matched and
are left out: the ``story_similarity`` in a match's scores, and which compared pairs were
kept as story candidates (``story_candidate_similarity``, below the link threshold). The
stored lineage must also be the one a rebuild gives (a lineage left stale or
half-written by a concurrent rebuild is what this file guards).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import load_benchmark
from datasette_provenance import store
from datasette_provenance.matching import update

from .db_compare import differences

pytestmark = pytest.mark.slow

ARTICLES = 320
PARTS = 4
RUN_TIMEOUT = 600
COMPARED = ("articles", "segments", "article_credits", "boilerplate_spans", "signatures",
            "lsh_bands", "story_terms", "matches_as_judged", "passages", "story_links",
            "clusters", "lineage")  # fmt: skip
LINEAGE = ("story_links", "clusters", "lineage")

# Loaded by the child processes of the slowed run (PYTHONPATH): sleeps after computing
# clusters, before writing them.
SLOW_LINEAGE = '''
import os, time
if os.environ.get("PROVENANCE_TEST_SLOW_LINEAGE"):
    from datasette_provenance.matching import lineage
    _build = lineage.build_clusters
    def build_clusters(*args, **kwargs):
        clusters = _build(*args, **kwargs)
        time.sleep(float(os.environ["PROVENANCE_TEST_SLOW_LINEAGE"]))
        return clusters
    lineage.build_clusters = build_clusters
'''


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "datasette_provenance.cli", *args]


@pytest.fixture(scope="module")
def rounds(tmp_path_factory) -> list[list[Path]]:
    """Two rounds of inputs run together: PARTS parts of a corpus (articles dealt out in
    turn, so a story's copies are spread over the parts); then new articles, and some of
    the first round's articles with changed text, at once (different ids in each file)."""
    synthetic = load_benchmark("synthetic")
    folder = tmp_path_factory.mktemp("concurrency")
    articles = [article for article, _ in synthetic.generate(ARTICLES + ARTICLES // 4)]
    first, later = articles[:ARTICLES], articles[ARTICLES:]

    def write(name: str, chosen) -> Path:
        path = folder / f"{name}.jsonl"
        path.write_text("".join(article.to_json() + "\n" for article in chosen))
        return path

    parts = [write(f"part{number}", first[number::PARTS]) for number in range(PARTS)]
    for article in first[:12]:
        article.text += "\n\nA paragraph added in an update of the story."
    return [parts, [write("new", later), write("changed", first[:12])]]


def commands(db: Path, paths: list[Path]) -> list[list[str]]:
    return [cli("ingest", str(db), str(path), "--quiet") for path in paths] + [
        cli("match", str(db), "--quiet")
    ]


@pytest.fixture(scope="module")
def sequential(rounds, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("sequential") / "news.db"
    for paths in rounds:
        for command in commands(db, paths):
            subprocess.run(command, check=True, timeout=RUN_TIMEOUT, capture_output=True)
    return db


def run_together(db: Path, rounds: list[list[Path]], env: dict | None = None) -> list[tuple[int, str]]:
    """Each round's commands at once, the rounds one after the other."""
    subprocess.run(_create(db), check=True)  # one schema, not one per process
    results = []
    for paths in rounds:
        processes = [  # ``env`` only for the first: the others run at full speed meanwhile
            subprocess.Popen(
                command,
                env={**os.environ, **(env or {})} if number == 0 else None,
                stderr=subprocess.PIPE,
                text=True,
            )
            for number, command in enumerate(commands(db, paths))
        ]
        for process in processes:
            _, stderr = process.communicate(timeout=RUN_TIMEOUT)
            results.append((process.returncode, stderr))
    return results


def _create(db: Path) -> list[str]:
    return [sys.executable, "-c", f"from datasette_provenance import store; store.connect({str(db)!r})"]


def assert_same_as_sequential(db: Path, sequential: Path, results) -> None:
    for code, stderr in results:
        assert code == 0 and "Traceback" not in stderr, stderr[-2000:]
    assert differences(sequential, db, tables=COMPARED) == {}
    assert_lineage_is_current(db)


def assert_lineage_is_current(db: Path) -> None:
    """The stored lineage is what a rebuild from the stored matches and links gives."""
    rebuilt = db.with_name("rebuilt.db")
    source, copy = sqlite3.connect(db), sqlite3.connect(rebuilt)
    source.backup(copy)
    source.close(), copy.close()
    update.rebuild_lineage(store.connect(str(rebuilt)))
    assert differences(db, rebuilt, tables=LINEAGE) == {}


def test_concurrent_ingests_end_as_sequential_ones(rounds, sequential, tmp_path):
    db = tmp_path / "news.db"
    assert_same_as_sequential(db, sequential, run_together(db, rounds))


def test_a_slow_lineage_rebuild_loses_nothing(rounds, sequential, tmp_path):
    """The case that lost half the lineage: one process computes clusters slowly while the
    others write matches; it must not write its older lineage over theirs."""
    (tmp_path / "sitecustomize.py").write_text(SLOW_LINEAGE)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
           "PROVENANCE_TEST_SLOW_LINEAGE": "8"}  # fmt: skip
    db = tmp_path / "news.db"
    assert_same_as_sequential(db, sequential, run_together(db, rounds, env))


def test_ingesting_part_by_part_ends_with_the_stories_of_one_ingest(rounds, tmp_path):
    """A user who ingests a corpus part by part (each ingest matches what it added, with
    word rarity over the corpus as it stood) ends with what one ingest of everything
    gives: the same verdicts, story links, clusters and lineage."""
    parts = [str(path) for path in rounds[0]]
    at_once, part_by_part = tmp_path / "at_once.db", tmp_path / "part_by_part.db"
    commands = [cli("ingest", str(at_once), *parts, "--quiet")]
    commands += [cli("ingest", str(part_by_part), part, "--quiet") for part in parts]
    for command in commands:
        subprocess.run(command, check=True, timeout=RUN_TIMEOUT, capture_output=True)
    assert differences(at_once, part_by_part, tables=COMPARED) == {}
