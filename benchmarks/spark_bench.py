"""Throughput of the Spark engine against the local engine on one synthetic corpus.

    python benchmarks/spark_bench.py --size 3000              # 2 Spark cores (local[2])
    python benchmarks/spark_bench.py --size 10000 --cores 2 --out benchmarks/spark_results.json
    python benchmarks/run.py --engine spark --size 10000      # the same, from the benchmark suite

Both engines match the same freshly ingested database (``ingest --no-match``), each
in its own process: the local engine with ``match``, Spark with ``--engine spark`` in
``local[N]`` mode. Each process reports its wall time and the CPU time of its whole
process tree (Spark: the driver, the JVM and the Python workers), so "per core"
throughput is articles per CPU-second and does not depend on what else the machine
runs. The two databases are then compared row by row (tests/db_compare.py), and a
table is printed and written as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks import synthetic  # noqa: E402
from tests.db_compare import differences  # noqa: E402

RESULT_TABLES = ("matches", "passages", "clusters", "lineage")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=3000, help="articles in the corpus")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--unrelated-share", type=float, default=0.3,
                        help="synthetic corpus: chance that the next article is unrelated "
                             "rather than a new story (0.3: ~90%% of articles in stories)")
    parser.add_argument("--cores", type=int, default=2, help="Spark local[N]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--work", help="keep the corpus and databases here (default: temporary)")
    parser.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "spark_results.json"))
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_run_engine(args.child[0], args.child[1], args)))
        return
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="spark-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = benchmark(args, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(_table(result))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")


def benchmark(args, work: Path) -> dict:
    corpus, base = work / "corpus.jsonl", work / "base.db"
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    synthetic.write_corpus(args.size, str(corpus), None, args.seed, args.unrelated_share)
    base.unlink(missing_ok=True)
    runs = {"ingest": _child("ingest", base, args, corpus)}
    for engine in ("local", "spark"):
        database = work / f"{engine}.db"
        shutil.copy(base, database)
        runs[engine] = _child(engine, database, args)
    # Spark cleans and signs every article itself: compare it with ingest + match too.
    runs["ingest+local"] = {
        key: round(runs["ingest"][key] + runs["local"][key], 2)
        for key in ("wall_seconds", "cpu_seconds")
    }
    for run in runs.values():
        run["docs_per_second"] = round(args.size / run["wall_seconds"], 1)
        run["docs_per_cpu_second"] = round(args.size / run["cpu_seconds"], 1)
    found = differences(work / "local.db", work / "spark.db", tables=RESULT_TABLES)
    return {
        "date": started,
        "command": " ".join(["python", _shown_path(sys.argv[0]), *sys.argv[1:]]),
        "articles": args.size,
        "seed": args.seed,
        "unrelated_share": args.unrelated_share,
        "spark_cores": args.cores,
        "machine": f"{_cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, "
                   f"{_memory_gib()} GiB, Python {platform.python_version()}",
        "load_average": {"start": load_at_start, "end": [round(x, 2) for x in os.getloadavg()]},
        "identical": not found,
        "differences": {table: [repr(pair) for pair in rows] for table, rows in found.items()},
        "runs": runs,
    }


def _shown_path(path: str) -> str:
    """A script's path relative to the repository when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    except (ValueError, OSError):
        return None


def _child(engine: str, database: Path, args, corpus: Path | None = None) -> dict:
    command = [sys.executable, __file__, "--child", engine, str(database),
               "--cores", str(args.cores), "--shuffle-partitions", str(args.shuffle_partitions),
               "--driver-memory", args.driver_memory, "--corpus", str(corpus)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _run_engine(engine: str, database: str, args) -> dict:
    """In the child process: match, then measure this process tree's CPU time."""
    from datasette_provenance import ingest, store
    from datasette_provenance.matching import update

    started = time.perf_counter()
    stages = {}
    if engine == "ingest":
        summary = ingest.ingest(database, [args.corpus], run_matching=False)
    elif engine == "local":
        db = store.connect(database)
        summary = update.update_matches(db, full=True)
        db.conn.close()
    else:
        from datasette_provenance import spark

        stage_cpu = _count_stage_cpu(spark)
        session = spark.spark_session(f"local[{args.cores}]", {
            "spark.sql.shuffle.partitions": str(args.shuffle_partitions),
            "spark.driver.memory": args.driver_memory,
            "spark.ui.enabled": "false",
        })
        session_seconds = time.perf_counter() - started
        session_cpu = tree_cpu_seconds(os.getpid())
        summary = spark.run(session, db_path=database)
        stages = {"session start": session_seconds, **summary.stage_seconds}
        stage_cpu = {"session start": session_cpu, **stage_cpu}
    wall = time.perf_counter() - started
    cpu = tree_cpu_seconds(os.getpid())  # before Spark stops: its processes are still there
    if engine == "spark":
        session.stop()
    result = {"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}
    if engine != "ingest":
        result.update(
            pairs_compared=summary.pairs_compared,
            matches=summary.matches_stored,
            clusters=summary.clusters,
            stage_seconds={name: round(seconds, 2) for name, seconds in stages.items()},
        )
    if engine == "spark":
        result["stage_cpu_seconds"] = {name: round(s, 2) for name, s in stage_cpu.items()}
    return result


def _count_stage_cpu(spark) -> dict[str, float]:
    """Make the Spark engine's stage timer also add up its process tree's CPU per stage."""
    cpu: dict[str, float] = {}
    timer = spark._StageTimer.__call__

    def timed(self, name):
        before = tree_cpu_seconds(os.getpid())
        with timer(self, name):
            yield
        cpu[name] = cpu.get(name, 0.0) + tree_cpu_seconds(os.getpid()) - before

    spark._StageTimer.__call__ = contextmanager(timed)
    return cpu


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and its live descendants, and of the children they reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        times[pid] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0)
        stack += children.get(pid, [])
    return total / ticks


def _table(result: dict) -> str:
    lines = [
        f"{result['articles']} synthetic articles (unrelated share {result['unrelated_share']}), "
        f"Spark local[{result['spark_cores']}], {result['machine']}; "
        f"results identical: {result['identical']}",
        "",
        f"{'run':<14}{'wall s':>9}{'CPU s':>9}{'docs/s':>9}{'docs/CPU-s':>12}"
        f"{'pairs':>8}{'matches':>9}",
    ]
    for engine, run in result["runs"].items():
        lines.append(
            f"{engine:<14}{run['wall_seconds']:>9.1f}{run['cpu_seconds']:>9.1f}"
            f"{run['docs_per_second']:>9.1f}{run['docs_per_cpu_second']:>12.1f}"
            f"{run.get('pairs_compared', ''):>8}{run.get('matches', ''):>9}"
        )
    lines.append("")
    spark = result["runs"]["spark"]
    for label, key in (("wall", "stage_seconds"), ("CPU", "stage_cpu_seconds")):
        stages = ", ".join(f"{name} {seconds}" for name, seconds in spark[key].items())
        lines.append(f"spark stages ({label} s): {stages}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
