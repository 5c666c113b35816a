"""Archive-scale measurements for ``run.py`` (issue 18): matching throughput and its growth
with the archive, worker processes, syndication storms, database size per table, and the
peers' end-to-end near-duplicate pipelines on the same articles.

Every figure is CPU time of the process doing the work (its worker processes included,
through ``wait4``), measured in the same run as what it is compared with.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------- processes


def run_child(*arguments: str) -> dict:
    """``python scale.py ARGUMENTS`` in a fresh process: its JSON result, with the CPU
    seconds of it and its worker processes (``wait4``) and its peak RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed")
    result = json.loads(output.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    result["process_tree_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> Path:
    remove_database(target)
    with sqlite3.connect(source) as conn, sqlite3.connect(target) as copy:
        conn.backup(copy)
    return target


def _child_match(db: str, workers: str, which: str) -> None:
    """Match every segment (``all``) or only those marked pending; CPU of this process
    and, with worker processes, the CPU accounting of ``WorkerAccounting``."""
    from datasette_provenance import store
    from datasette_provenance.matching import update

    database = store.connect(db)
    accounting = WorkerAccounting() if int(workers) > 1 else None
    cpu_started = time.process_time()
    # (An older release, measured for a before/after table, has no workers argument.)
    options = {"workers": int(workers)} if int(workers) > 1 else {}
    summary = update.update_matches(database, full=which == "all", **options)
    cpu_seconds = time.process_time() - cpu_started
    print(json.dumps({
        "cpu_seconds": cpu_seconds, "seconds": summary.seconds,
        "segments": summary.segments, "pairs_compared": summary.pairs_compared,
        "matches": summary.matches_stored,
        **({"accounting": accounting.stop(cpu_seconds)} if accounting else {}),
    }))  # fmt: skip


class WorkerAccounting(threading.Thread):
    """Where a run with worker processes spends CPU: this process's CPU before its first
    worker starts and after its last one ends (``serial_cpu``: on two idle cores nothing
    runs beside it), its CPU while workers run (``overlapped_cpu``: it decides pairs and
    writes) and each worker's (starting, looking up, aligning). Read from /proc ten
    times a second (Linux); a worker's last tenth of a second may be missed."""

    def __init__(self):
        super().__init__(daemon=True)
        self.workers: dict[int, float] = {}
        self.first_seen = self.last_seen = None  # this process's CPU then
        self.running = True
        self.start()

    def run(self) -> None:
        while self.running:
            alive = _worker_cpu()
            if alive:
                now = time.process_time()
                self.first_seen = self.first_seen if self.first_seen is not None else now
                self.last_seen = now
                self.workers.update(alive)
            time.sleep(0.1)

    def stop(self, cpu_seconds: float) -> dict:
        self.running = False
        self.join()
        started = self.first_seen or 0.0
        overlapped = (self.last_seen or 0.0) - started
        return {"parent_cpu": round(cpu_seconds, 3),
                "serial_cpu": round(cpu_seconds - overlapped, 3),
                "overlapped_cpu": round(overlapped, 3),
                "worker_cpu": [round(cpu, 3) for cpu in sorted(self.workers.values())]}  # fmt: skip


def _worker_cpu() -> dict[int, float]:
    """CPU seconds of each pool worker this process has now (not multiprocessing's
    resource tracker), from /proc."""
    found = {}
    own = os.getpid()
    try:
        children = Path(f"/proc/{own}/task/{own}/children").read_text().split()
    except OSError:
        return found
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if b"resource_tracker" not in command:
            found[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def scaling_model(one_cpu: float, accounting: dict) -> dict:
    """What two idle cores can give, from CPU accounting (not wall time, which a shared
    machine distorts): Amdahl's law from the serial share of the one-process run
    (``amdahl_2``), and the wall time the two-process run's own CPU allows
    (``cpu_model``): its serial part, then the longer of its slowest worker and its
    parallel CPU (workers and this process) over two cores. ``overhead_share``: CPU the
    workers add (their start, caches each fills); ``imbalance``: slowest worker over
    the mean."""
    serial, workers = accounting["serial_cpu"], accounting["worker_cpu"] or [0.0]
    parallel = sum(workers) + accounting["overlapped_cpu"]
    share = min(1.0, serial / one_cpu)
    return {
        "serial_share": round(share, 4),
        "amdahl_2": round(1 / (share + (1 - share) / 2), 3),
        "overhead_share": round((serial + parallel - one_cpu) / one_cpu, 4),
        "imbalance": round(max(workers) / (sum(workers) / len(workers)), 4),
        "cpu_model": round(one_cpu / (serial + max(max(workers), parallel / 2)), 3),
    }


def _child_ingest_match(db: str, *paths: str) -> None:
    from datasette_provenance import ingest

    cpu_started = time.process_time()
    summary = ingest.ingest(db, list(paths))
    print(json.dumps({"cpu_seconds": time.process_time() - cpu_started,
                      "added": summary.added, "seconds": summary.seconds}))  # fmt: skip


# ----------------------------------------------------------------------------- matching


def mark_pending(db_path: Path, article_ids: list[str]) -> None:
    """Only these articles' segments pending; every stored match kept."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE segments SET match_pending = 0 WHERE match_pending = 1")
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start : start + 500]
            conn.execute(
                f"UPDATE segments SET match_pending = 1 "
                f"WHERE article_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )


def match_cost(db_path: Path, article_ids: list[str], workdir: Path, label: str) -> dict:
    """CPU per matched article when only ``article_ids`` are matched against the whole
    database (a copy of it)."""
    target = copy_database(db_path, workdir / f"match-cost-{label}.db")
    mark_pending(target, article_ids)
    result = run_child("_match", str(target), "1", "pending")
    result["cpu_ms_per_article"] = 1000 * result["cpu_seconds"] / max(1, len(article_ids))
    target.unlink()
    return result


def match_scaling(db_path: Path, workdir: Path) -> dict:
    """Wall time of matching every segment of ``db_path`` with 1 and with 2 worker processes
    (fresh processes, copies of the database), and whether they stored the same rows."""
    runs, digests = {}, {}
    for workers in (1, 2):
        target = copy_database(db_path, workdir / f"match-scaling-{workers}.db")
        runs[workers] = run_child("_match", str(target), str(workers), "all")
        digests[workers] = result_digest(target)
        target.unlink()
    return {
        "runs": runs,
        "identical": digests[1] == digests[2],
        "match_scaling_2_procs": round(runs[1]["wall_seconds"] / runs[2]["wall_seconds"], 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **scaling_model(runs[1]["cpu_seconds"], runs[2]["accounting"]),
    }


def result_digest(db_path: Path) -> str:
    """A digest of every stored match and passage (by segment pair, ids left out)."""
    import hashlib

    digest = hashlib.sha256()
    with sqlite3.connect(db_path) as conn:
        for row in conn.execute(
            "SELECT m.source_segment_id, m.derived_segment_id, m.label, m.scores, m.evidence, "
            "m.credited, m.direction_confidence, (SELECT group_concat(p.kind || p.source_start "
            "|| ':' || p.derived_start || ':' || p.similarity, ',') FROM passages p "
            "WHERE p.match_id = m.id) FROM matches m ORDER BY 1, 2"
        ):
            digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def ingest_and_match(paths: list[Path], workdir: Path) -> dict:
    """``ingest`` with matching (the default), one process, into an empty database."""
    target = workdir / "ingest-match.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    result = run_child("_ingest_match", str(target), *map(str, paths))
    result["docs_per_cpu_s"] = result["added"] / result["cpu_seconds"]
    return result


# ----------------------------------------------------------------------------- growth


def match_growth(sizes: list[int], sample: int, workdir: Path) -> dict:
    """How matching grows with the archive: for each size, the newest ``sample`` articles
    of a synthetic archive of that many (a day's arrivals) matched against all of it.
    Per article: CPU of matching (fresh process), and per segment: the segments sharing a
    story bucket its lookup reads (chance collisions, most of them) and the story-only
    candidates that pass the story Jaccard floor. The costs are also given over the
    smallest size's, measured in the same run."""
    import synthetic

    corpus = workdir / "growth.jsonl"
    synthetic.write_corpus(max(sizes), str(corpus))
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    found = {}
    for size in sizes:
        part, target = workdir / f"growth-{size}.jsonl", workdir / f"growth-{size}.db"
        part.write_text("".join(lines[:size]), encoding="utf-8")
        remove_database(target)
        run_child("_ingest_only", str(target), str(part))
        newest = [json.loads(line)["id"] for line in lines[size - sample : size]]
        mark_pending(target, newest)
        lookups = run_child("_story_candidates", str(target), *newest)
        matched = run_child("_match", str(target), "1", "pending")
        found[size] = {
            "match_cpu_ms_per_article": round(1000 * matched["cpu_seconds"] / sample, 2),
            "pairs_compared": matched["pairs_compared"],
            **{key: lookups[key] for key in ("story_members_per_segment",
                                             "story_candidates_per_segment", "segments")},
        }  # fmt: skip
        remove_database(target)
        part.unlink()
    smallest = found[min(sizes)]["match_cpu_ms_per_article"]
    for size in sizes:
        cost = found[size]["match_cpu_ms_per_article"]
        found[size]["cost_over_smallest"] = round(cost / smallest, 3)
    corpus.unlink()
    return found


def _child_story_candidates(db: str, *article_ids: str) -> None:
    """Per segment of these articles: segments sharing a story bucket its lookup reads
    (own article aside), and candidates found by story words alone."""
    from datasette_provenance import store
    from datasette_provenance.matching import index

    database = store.connect(db)
    params = index.stored_params(database)
    marks = ",".join("?" * len(article_ids))
    segments = database.execute(
        f"SELECT id, article_id FROM segments WHERE article_id IN ({marks})", article_ids
    ).fetchall()
    members = candidates = 0
    for segment_id, article_id in segments:
        signatures = index.load_signatures(database, segment_id, params)
        own = [row[0] for row in database.execute(
            "SELECT id FROM segments WHERE article_id = ?", [article_id])]  # fmt: skip
        keys = _story_lookup_keys(database, signatures, params)
        members += len(index.band_hits(database, keys, own)[1])
        hits = index.candidates(database, signatures, params, own)
        candidates += sum(1 for hit in hits.values() if not hit.shares_text)
    count = max(1, len(segments))
    print(json.dumps({"segments": len(segments),
                      "story_members_per_segment": round(members / count, 1),
                      "story_candidates_per_segment": round(candidates / count, 2)}))  # fmt: skip


def _story_lookup_keys(database, signatures, params):
    """The story buckets a lookup reads (a release before story windows read its own)."""
    from datasette_provenance.matching import index, lsh

    if hasattr(lsh, "lookup_buckets"):
        keys = lsh.lookup_buckets(signatures, params, index.story_windows(database))
    else:
        keys = lsh.buckets(signatures, params)
    return keys[(keys & 1) == 1]


# ----------------------------------------------------------------------------- storms


def storm_cost(background: Path, copies: int, workdir: Path, repeats: int = 1) -> dict:
    """CPU per copy to match one syndication storm of ``copies`` copies (plus the wire
    original) added to a copy of ``background``; only the storm is matched. With
    ``repeats``, matched that many times (fresh processes, fresh copies): the median run
    (a small storm takes a second, which a shared machine's load moves by a third)."""
    import synthetic

    target = copy_database(background, workdir / f"storm-{copies}.db")
    corpus = workdir / f"storm-{copies}.jsonl"
    with open(corpus, "w", encoding="utf-8") as out:
        for article, _ in synthetic.storm(copies):
            out.write(article.to_json() + "\n")
    run_child("_ingest_only", str(target), str(corpus))
    with sqlite3.connect(target) as conn:
        storm_ids = [row[0] for row in conn.execute(
            "SELECT id FROM articles WHERE id LIKE 'storm-%'"
        )]  # fmt: skip
    mark_pending(target, storm_ids)
    runs = []
    for _ in range(repeats):
        matched = copy_database(target, workdir / f"storm-{copies}-matched.db")
        runs.append(run_child("_match", str(matched), "1", "pending"))
        remove_database(matched)
    result = sorted(runs, key=lambda run: run["cpu_seconds"])[len(runs) // 2]
    result["copies"] = copies
    result["cpu_ms_per_copy"] = 1000 * result["cpu_seconds"] / len(storm_ids)
    if repeats > 1:
        result["cpu_ms_per_copy_runs"] = [
            round(1000 * run["cpu_seconds"] / len(storm_ids), 1) for run in runs
        ]
    remove_database(target)
    corpus.unlink()
    return result


def _child_ingest_only(db: str, *paths: str) -> None:
    from datasette_provenance import ingest

    started = time.process_time()
    summary = ingest.ingest(db, list(paths), run_matching=False)
    print(json.dumps({"added": summary.added, "cpu_seconds": time.process_time() - started}))


# ----------------------------------------------------------------------------- size


def table_sizes(db_path: Path, with_indexes: bool = False) -> dict:
    """Bytes per article of every table and index (SQLite's dbstat), largest first; with
    ``with_indexes``, of every table with its indexes."""
    owner = "coalesce(m.tbl_name, d.name)" if with_indexes else "d.name"
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0] or 1
        rows = conn.execute(
            f"SELECT {owner}, sum(d.pgsize) FROM dbstat d "
            "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    return {name: round(size / articles) for name, size in rows}


def database_size(size: int, workdir: Path, seed: int = 13) -> dict:
    """The database ``size`` synthetic articles make (ingested, not matched), per article:
    its file, each table with its indexes, each table and index alone (dbstat), and the
    raw text it holds; with the ingest's CPU seconds (a fresh process)."""
    import synthetic

    corpus = workdir / f"synthetic-{size}-{seed}.jsonl"
    synthetic.write_corpus(size, str(corpus), seed=seed)
    db = workdir / "size.db"
    remove_database(db)
    ingest = run_child("_ingest_only", str(db), str(corpus))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        raw = conn.execute("SELECT sum(length(CAST(raw_text AS BLOB))) FROM articles").fetchone()
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        free *= conn.execute("PRAGMA page_size").fetchone()[0]
    tables = table_sizes(db, with_indexes=True)
    result = {
        "articles": ingest["added"],
        "ingest_cpu_seconds": round(ingest["cpu_seconds"], 3),  # the ingest call alone
        "process_cpu_seconds": round(ingest["process_tree_cpu_seconds"], 3),
        "raw_text_bytes_per_article": round(raw[0] / size),
        "file_bytes_per_article": round(db.stat().st_size / size),
        "in_use_bytes_per_article": sum(tables.values()),
        "free_bytes_per_article": round(free / size),  # pages the file keeps for reuse
        "tables": tables,
        "tables_and_indexes": table_sizes(db),
    }
    remove_database(db)
    corpus.unlink()
    return result


# ----------------------------------------------------------------------------- peers


def peers(records: list[dict], repeats: int = 1) -> dict:
    """End-to-end near-duplicate pipelines (text -> words -> 5-word shingles -> 128 MinHash
    values -> LSH buckets -> candidate pairs; no alignment, no storage) on ``records``,
    documents per CPU second, best of ``repeats``: datasketch's ``MinHashLSH``, a plain
    numpy pipeline in the style of text-dedup, and rensa when it is installed."""
    from datasette_provenance.matching.tokens import words

    texts = [record["text"] for record in records]
    pipelines = {"datasketch_minhashlsh": _datasketch_lsh, "numpy_pipeline": _numpy_pipeline}
    try:
        import rensa  # noqa: F401

        pipelines["rensa"] = _rensa_pipeline
    except ImportError:
        pass
    found = {}
    for name, pipeline in pipelines.items():
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()
            pairs = pipeline([words(text) for text in texts])
            best = min(best, time.process_time() - started)
        found[name] = {"docs_per_cpu_s": round(len(texts) / best, 1), "pairs": pairs}
    return found


def _shingles(norms: list[str]) -> list[bytes]:
    if len(norms) < 5:
        return [" ".join(norms).encode()]
    return [" ".join(norms[i : i + 5]).encode() for i in range(len(norms) - 4)]


def _datasketch_lsh(documents: list[list[str]]) -> int:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    pairs = 0
    for number, norms in enumerate(documents):
        minhash = MinHash(num_perm=128, seed=1)
        minhash.update_batch(_shingles(norms))
        pairs += len(lsh.query(minhash))
        lsh.insert(number, minhash)
    return pairs


def _numpy_pipeline(documents: list[list[str]]) -> int:
    """text-dedup's MinHash: sha1-like 32-bit hashes of shingles (xxh32 here), affine
    permutations modulo a Mersenne prime in numpy, 32 bands of 4 rows in dicts."""
    import numpy as np
    import xxhash

    prime = np.uint64((1 << 61) - 1)
    generator = np.random.RandomState(42)
    a = generator.randint(1, 1 << 32, 128, dtype=np.uint64)
    b = generator.randint(0, 1 << 32, 128, dtype=np.uint64)
    tables: list[dict] = [defaultdict(list) for _ in range(32)]
    pairs = 0
    for number, norms in enumerate(documents):
        hashes = np.fromiter(
            (xxhash.xxh32_intdigest(shingle) for shingle in _shingles(norms)), dtype=np.uint64
        )
        permuted = (hashes[:, None] * a + b) % prime & np.uint64(0xFFFFFFFF)
        signature = permuted.min(axis=0)
        found = set()
        for band, table in enumerate(tables):
            key = signature[band * 4 : band * 4 + 4].tobytes()
            found.update(table[key])
            table[key].append(number)
        pairs += len(found)
    return pairs


def _rensa_pipeline(documents: list[list[str]]) -> int:
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=32)
    pairs = 0
    for number, norms in enumerate(documents):
        minhash = RMinHash(num_perm=128, seed=1)
        minhash.update([shingle.decode() for shingle in _shingles(norms)])
        pairs += len(lsh.query(minhash))
        lsh.insert(number, minhash)
    return pairs


def main() -> None:
    """``python benchmarks/scale.py growth SIZE,SIZE,... [SAMPLE]``: ``match_growth`` as
    JSON; ``python benchmarks/scale.py size [SIZE]``: ``database_size`` (5,000 articles) as
    JSON; otherwise the child steps the measurements run in fresh processes."""
    command, *arguments = sys.argv[1:]
    sys.path.insert(0, str(HERE.parent))
    if command in ("growth", "size"):
        import tempfile

        with tempfile.TemporaryDirectory() as workdir:
            if command == "size":
                size = int(arguments[0]) if arguments else 5000
                print(json.dumps(database_size(size, Path(workdir)), indent=1))
                return
            sizes = [int(size) for size in arguments[0].split(",")]
            sample = int(arguments[1]) if len(arguments) > 1 else 200
            print(json.dumps(match_growth(sizes, sample, Path(workdir)), indent=1))
        return
    {"_match": _child_match, "_ingest_match": _child_ingest_match,
     "_ingest_only": _child_ingest_only,
     "_story_candidates": _child_story_candidates}[command](*arguments)  # fmt: skip


if __name__ == "__main__":
    main()
