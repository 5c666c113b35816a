"""Short excerpts (a quote, a sentence): how many the check page finds, and at what cost.

    python benchmarks/excerpts.py --size 20000               # synthetic archive, built here
    python benchmarks/excerpts.py --db archive.db            # an ingested archive (a copy is
                                                             # given the full-text index)
    python benchmarks/excerpts.py --db big.db --in-place     # no copy: big.db gets the index

For each excerpt length it cuts excerpts (consecutive words of one article's clean
text, from random articles), and an edited version of each (two of its longer words
changed, as a style edit or a typo would), and runs ``search.find_sources`` on each,
with the similarity index alone and with full-text search (``search-index``). An
excerpt is found when its article, or another article holding the unedited words (a
verbatim copy), is among the results. Prints a table and writes
``benchmarks/excerpts_results.json``: found shares, p50/p95 milliseconds of
``find_sources`` (warm, one process, wall and CPU), the full-text build time and
the size of the full-text index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import machine, percentile  # noqa: E402

DEFAULT_WORDS = (10, 20, 35)
EDITED_WORDS = 2
WORD = re.compile(r"\w+")
VARIANTS = ("verbatim", "edited")


def build_archive(size: int, seed: int, workdir: Path) -> Path:
    """A synthetic archive as real ones are (about 10 % of articles in stories)."""
    import synthetic

    from datasette_provenance import ingest

    corpus = workdir / f"archive-{size}-{seed}.jsonl"
    synthetic.write_corpus(size, str(corpus), None, seed, unrelated_share=0.9)
    db = workdir / f"archive-{size}-{seed}.db"
    ingest.ingest(str(db), [str(corpus)], run_matching=False, workers=2)
    return db


def add_search(db_path: Path) -> dict:
    from datasette_provenance import store

    db = store.connect(str(db_path))
    try:
        started = time.perf_counter()
        rows = store.enable_search(db)
        seconds = time.perf_counter() - started
        shadow_tables = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
            [store.SEARCH_TABLE + "_%"],
        )]  # fmt: skip
        pages = sum(  # name = ? lets dbstat read those tables only
            db.execute("SELECT count(*) FROM dbstat WHERE name = ?", [name]).fetchone()[0]
            for name in shadow_tables
        )
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.conn.close()
    return {"articles": rows, "build_s": round(seconds, 2),
            "index_mb": round(pages * page_size / 2**20, 1)}  # fmt: skip


def cut_excerpts(db_path: Path, words: int, count: int, seed: int) -> list[tuple[str, str]]:
    """(article id, excerpt) pairs: ``words`` consecutive words of one paragraph-run."""
    rng = random.Random(seed * 1000 + words)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        total = conn.execute("SELECT max(rowid) FROM articles").fetchone()[0]
        excerpts = []
        while len(excerpts) < count:
            row = conn.execute(
                "SELECT id, clean_text FROM articles WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                [rng.randint(1, total)],
            ).fetchone()
            tokens = list(WORD.finditer(row[1]))
            if len(tokens) < words * 2:
                continue
            first = rng.randrange(len(tokens) - words)
            start, end = tokens[first].start(), tokens[first + words - 1].end()
            excerpts.append((row[0], row[1][start:end]))
    return excerpts


def edit(excerpt: str, rng: random.Random) -> str:
    """The excerpt with EDITED_WORDS of its longer words changed (reversed)."""
    spans = [m.span() for m in WORD.finditer(excerpt) if len(m.group()) >= 4]
    for start, end in sorted(rng.sample(spans, min(EDITED_WORDS, len(spans))), reverse=True):
        excerpt = excerpt[:start] + excerpt[start:end][::-1] + excerpt[end:]
    return excerpt


def measure(db_path: Path, excerpts: list[tuple[str, str, str]], use_search: bool) -> dict:
    from datasette_provenance import store
    from datasette_provenance.matching import search

    db = store.connect(str(db_path))
    found, wall, cpu = 0, [], []
    try:
        search.find_sources(db, excerpts[0][2], use_search=use_search)  # warm-up
        for article_id, original, text in excerpts:
            started, cpu_started = time.perf_counter(), time.process_time()
            results = search.find_sources(db, text, use_search=use_search)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            found += any(
                r.article_id == article_id or _holds(db, r.article_id, original) for r in results
            )
    finally:
        db.conn.close()
    return {"found": found, "excerpts": len(excerpts),
            "found_share": round(found / len(excerpts), 3),
            "p50_ms": percentile(wall, 50), "p95_ms": percentile(wall, 95),
            "cpu_p50_ms": percentile(cpu, 50), "cpu_p95_ms": percentile(cpu, 95)}  # fmt: skip


def _holds(db, article_id: str, text: str) -> bool:
    row = db.execute("SELECT instr(clean_text, ?) FROM articles WHERE id = ?", [text, article_id])
    return bool(row.fetchone()[0])


def run(arguments) -> dict:
    workdir = Path(arguments.workdir or tempfile.mkdtemp(prefix="provenance-excerpts-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if arguments.db and arguments.in_place:
        db_path = Path(arguments.db)
    elif arguments.db:
        db_path = workdir / "archive-copy.db"
        shutil.copy(arguments.db, db_path)
    else:
        db_path = build_archive(arguments.size, arguments.seed, workdir)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    rng = random.Random(arguments.seed)
    cuts = {}
    for words in arguments.words:
        excerpts = cut_excerpts(db_path, words, arguments.excerpts, arguments.seed)
        cuts[words] = {"verbatim": [(a, text, text) for a, text in excerpts],
                       "edited": [(a, text, edit(text, rng)) for a, text in excerpts]}  # fmt: skip
    modes = {"index_only": False, "with_search": True}
    results = {str(words): {variant: {} for variant in VARIANTS} for words in arguments.words}
    search = None
    for mode, use_search in modes.items():  # the full-text index is built between the two
        if use_search:
            search = add_search(db_path)
        for words in arguments.words:
            for variant in VARIANTS:
                results[str(words)][variant][mode] = measure(
                    db_path, cuts[words][variant], use_search
                )
    if not arguments.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine(),
        "articles": articles,
        "search_index": search,
        "by_words": results,
    }


def table(results: dict) -> str:
    search = results["search_index"]
    lines = [f"{results['articles']:,} articles; full-text index built in {search['build_s']} s, "
             f"{search['index_mb']} MB",
             f"{'words':>5} {'excerpt':>8}  {'found (index)':>13}  {'found (+search)':>15}  "
             f"{'p50/p95 ms (index)':>18}  {'p50/p95 ms (+search)':>20}"]  # fmt: skip
    for words, variants in results["by_words"].items():
        for variant, pair in variants.items():
            plain, searched = pair["index_only"], pair["with_search"]
            lines.append(
                f"{words:>5} {variant:>8}  {plain['found']:>6}/{plain['excerpts']:<6}  "
                f"{searched['found']:>8}/{searched['excerpts']:<6}  "
                f"{plain['p50_ms']:>8}/{plain['p95_ms']:<9}  "
                f"{searched['p50_ms']:>10}/{searched['p95_ms']}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20000, help="synthetic archive articles")
    parser.add_argument("--db", help="an ingested database to copy instead of the synthetic one")
    parser.add_argument("--in-place", action="store_true",
                        help="with --db: add the full-text index to that file, not to a copy")
    parser.add_argument("--excerpts", type=int, default=50, help="excerpts per length")
    parser.add_argument("--words", type=int, nargs="+", default=list(DEFAULT_WORDS))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", default=str(HERE / "excerpts_results.json"))
    parser.add_argument("--workdir", help="where the archive goes (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    arguments = parser.parse_args(argv)
    results = run(arguments)
    Path(arguments.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
