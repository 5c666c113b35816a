"""Attack a served provenance database the way a hostile visitor would, and measure it.

    python benchmarks/attack.py --size 100000          # builds the database first (an hour or more)
    python benchmarks/attack.py --db news.db            # an existing provenance database
    python benchmarks/attack.py --size 2000             # a smaller run (minutes)

Serves the database with ``datasette serve -i`` (as published) on a free 127.0.0.1
port - loopback only, nothing leaves the machine - and sends a fixed list of hostile
requests, one at a time, measuring for each the CPU seconds of the server and of every
process under it, such as the check page's workers (from /proc/PID/stat, with their
ended children's), and how far their peak memory rose above what each held before
(/proc/PID/status VmHWM, reset per request through /proc/PID/clear_refs; a process
started by the request counts whole):

* texts that made the cleaning regexes backtrack (share buttons "x x … !", lines of
  dates, a sign-off followed by spaces) on the check page (GET and POST) and through
  ``provenance_clean()`` in SQL, one call per row;
* a 199 KB paste of "or.or.or…" (one 66,000-token "word": a full-text phrase), a 199 KB
  paste of the archive's longest articles (long near-duplicates to align), a paste of
  200,000 agency names;
* SQL functions fed strings built by SQLite itself (``printf('%.*c', N, 'x')``), up to
  the largest the value limit allows;
* a client that sends a heavy check and disconnects at once.

Then it starts CONCURRENT_HEAVY heavy checks in parallel (more than the server has SQL
threads) and, while they run, loads the stories page ROUNDS times, comparing its
latency with the same page on the idle server.

Prints a table and writes ``benchmarks/attack_results.json`` (``--out`` elsewhere). The
targets (issue 19): the worst request under 2 s of server CPU and 300 MB of memory; the
stories page under attack at most 3 times as slow as idle (and under 1 s). Exits 1 when
a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load import datasette_serving  # noqa: E402

from datasette_provenance.web.sqlfunctions import MAX_VALUE_BYTES  # noqa: E402

HOST = "127.0.0.1"
MAX_CPU_SECONDS = 2.0
MAX_PEAK_MB = 300.0
MAX_SLOWDOWN = 3.0
MAX_STORIES_SECONDS = 1.0
CONCURRENT_HEAVY = 4
ROUNDS = 20
REQUEST_TIMEOUT = 120.0


# Requests ----------------------------------------------------------------------------------


def hostile_requests(db_path: Path, database: str) -> list[tuple[str, str, str, bytes | None]]:
    """(label, method, path, JSON body) of every hostile request, in order."""
    check = f"/{database}/-/provenance/check.json"

    def get_check(text: str) -> str:
        return check + "?" + urllib.parse.urlencode({"text": text})

    def sql(query: str) -> str:
        from datasette.app import Datasette

        endpoint = "/-/query.json" if hasattr(Datasette, "add_query") else ".json"  # 1.0a / 0.65
        return f"/{database}{endpoint}?" + urllib.parse.urlencode({"sql": query})

    def post(text: str) -> bytes:
        return json.dumps({"text": text}).encode()

    share_buttons = "x " * 26 + "!"
    dates = ("1.1.2023,1.11am," * 8)[:113]
    signoff = "x — Reuters" + " " * 190_000 + "x"
    longest = longest_articles(db_path, 199_000)
    largest = MAX_VALUE_BYTES - 1024 * 1024  # the biggest strings SQL may build, less room
    return [
        ("check GET share-button line", "GET", get_check(share_buttons), None),
        ("check POST lines of dates", "POST", check, post((dates + "\n") * 1700)),
        ("check POST sign-off + 190k spaces", "POST", check, post(signoff)),
        ("check POST 199 KB 'or.or.or…'", "POST", check, post("or." * 66_000)),
        ("check POST 199 KB of the longest articles", "POST", check, post(longest)),
        ("check POST 200k agency names", "POST", check, post("Reuters " * 24_000)),
        ("check POST 'x. With Reuters Reuters'", "POST", check, post("x. With Reuters Reuters")),
        ("SQL provenance_clean per row", "GET",
         sql(f"select provenance_clean('{share_buttons}' || id) from articles"), None),
        ("SQL provenance_clean 100 MB string", "GET",
         sql("select provenance_clean(printf('%.*c', 100000000, 'x'))"), None),
        ("SQL provenance_containment 50 MB strings", "GET",
         sql("select provenance_containment(printf('%.*c', 50000000, 'a') || ' b', "
             "printf('%.*c', 50000000, 'b') || ' a')"), None),
        ("SQL provenance_containment strings just under the value limit", "GET",
         sql(f"select provenance_containment(printf('%.*c', {largest}, 'a') || ' b', "
             f"printf('%.*c', {largest}, 'b') || ' a')"), None),
        ("SQL provenance_normalize per row, 190 KB each", "GET",
         sql("select length(provenance_normalize(printf('%.*c', 190000, 'x') || id)) "
             "from articles"), None),
    ]  # fmt: skip


def longest_articles(db_path: Path, size: int) -> str:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "select raw_text from articles order by length(raw_text) desc limit 200"
        ).fetchall()
    finally:
        conn.close()
    return "\n\n".join(row[0] for row in rows)[:size]


# Measuring the server ----------------------------------------------------------------------


class Server:
    """The datasette process behind a base URL: CPU seconds and peak memory."""

    def __init__(self, base: str):
        self.base = base
        self.port = int(base.rsplit(":", 1)[1])
        self.pid = self._pid()

    def _pid(self) -> int:
        inode = self._listening_inode()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                for fd in os.scandir(f"/proc/{entry.name}/fd"):
                    if os.readlink(fd.path) == f"socket:[{inode}]":
                        return int(entry.name)
            except OSError:
                continue
        raise RuntimeError("cannot find the server process")

    def _listening_inode(self) -> str:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.split(":")[1], 16) == self.port:
                return inode
        raise RuntimeError(f"nothing listens on port {self.port}")

    def processes(self) -> list[int]:
        """The server and every process under it (the check page's worker processes)."""
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    parent = int(self._stat(int(entry.name))[1])
                except (OSError, IndexError):
                    continue
                children.setdefault(parent, []).append(int(entry.name))
        found, waiting = [], [self.pid]
        while waiting:
            pid = waiting.pop()
            found.append(pid)
            waiting += children.get(pid, [])
        return found

    @staticmethod
    def _stat(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def cpu(self) -> float:
        """CPU seconds of the server and its processes, with their ended children's."""
        ticks = 0
        for pid in self.processes():
            try:
                fields = self._stat(pid)
            except OSError:  # ended meanwhile: counted in its parent's children's time
                continue
            ticks += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def memory_mb(self, key: str) -> dict[int, float]:
        """``key`` (VmRSS, VmHWM) of each of the server's processes."""
        found = {}
        for pid in self.processes():
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            found[pid] = next(
                (int(line.split()[1]) / 1024 for line in lines if line.startswith(key + ":")), 0.0
            )
        return found

    def reset_peak(self) -> None:
        for pid in self.processes():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                continue

    def peak_mb(self, before: dict[int, float]) -> float:
        """How far the processes' peaks rose above what each held before (all of a new
        process's), added up: a bound on the request's memory whichever process took it."""
        return sum(
            max(0.0, peak - before.get(pid, 0.0)) for pid, peak in self.memory_mb("VmHWM").items()
        )


async def send(base: str, method: str, path: str, body: bytes | None, disconnect=False):
    """One HTTP/1.1 request on its own connection: (status, body bytes)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    headers = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    if body is not None:
        headers += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write(headers.encode("latin-1") + b"\r\n" + (body or b""))
    await writer.drain()
    if disconnect:
        writer.close()
        return None, b""
    data = await reader.read()
    writer.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head else None
    return status, rest


async def measure(server: Server, label, method, path, body) -> dict:
    await asyncio.sleep(0.2)  # earlier work (a disconnected check) has finished
    before_cpu, before_mb = server.cpu(), server.memory_mb("VmRSS")
    server.reset_peak()
    started = time.perf_counter()
    status, answer = await asyncio.wait_for(send(server.base, method, path, body), REQUEST_TIMEOUT)
    return {
        "request": label,
        "status": status,
        "cpu_s": round(server.cpu() - before_cpu, 3),
        "peak_mb": round(server.peak_mb(before_mb), 1),
        "wall_s": round(time.perf_counter() - started, 3),
        "answer": answer[:160].decode("utf-8", "replace"),
    }


async def disconnecting_client(server: Server, path: str, body: bytes) -> dict:
    """A heavy check whose client leaves at once: the server must stop working on it."""
    before = server.cpu()
    await send(server.base, "POST", path, body, disconnect=True)
    await asyncio.sleep(5)
    return {"request": "heavy check, client disconnects", "status": None,
            "cpu_s": round(server.cpu() - before, 3), "peak_mb": None, "wall_s": 5.0}  # fmt: skip


async def stories_latency(base: str, path: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        status, _ = await send(base, "GET", path, None)
        times.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"stories page answered {status}")
    return times


async def under_attack(base: str, stories: str, heavy: tuple[str, bytes]) -> dict:
    idle = await stories_latency(base, stories, ROUNDS)
    path, body = heavy
    attackers = [
        asyncio.ensure_future(send(base, "POST", path, body)) for _ in range(CONCURRENT_HEAVY)
    ]
    await asyncio.sleep(0.3)
    busy = await stories_latency(base, stories, ROUNDS)
    statuses = [status for status, _ in await asyncio.gather(*attackers)]
    return {
        "stories_idle_median_s": round(statistics.median(idle), 4),
        "stories_under_attack_median_s": round(statistics.median(busy), 4),
        "stories_under_attack_max_s": round(max(busy), 4),
        "heavy_statuses": statuses,
        "stories_idle_s": [round(seconds, 3) for seconds in idle],
        "stories_under_attack_s": [round(seconds, 3) for seconds in busy],
    }


async def attack(db_path: Path, database: str) -> dict:
    requests = hostile_requests(db_path, database)
    heavy = next((path, body) for label, _, path, body in requests if "longest" in label)
    with datasette_serving(db_path, immutable=True) as base:
        server = Server(base)
        await send(base, "GET", f"/{database}/-/provenance", None)  # warm up
        rows = [await measure(server, *request) for request in requests]
        rows.append(await disconnecting_client(server, *heavy))
        stories = await under_attack(base, f"/{database}/-/provenance", heavy)
    return {"requests": rows, **stories}


# Building a database -----------------------------------------------------------------------


def build_database(size: int, folder: Path) -> Path:
    """``size`` synthetic articles, as an archive holds them (most nobody's copy), ingested
    and matched, and the full-text index. Matching is most of the time: 5,000 articles took
    75-170 s of CPU on a 2-core machine, about linearly: 100,000 take half an hour of CPU or more.
    (Ingesting most with ``--no-match`` first does not save it: the next ingest's matching
    takes up every pending segment.)"""
    import synthetic

    corpus, db_path = folder / "corpus.jsonl", folder / "attack.db"
    synthetic.write_corpus(size, str(corpus), unrelated_share=0.9)
    cli = [sys.executable, "-m", "datasette_provenance.cli"]
    subprocess.run([*cli, "ingest", str(db_path), str(corpus), "--quiet"], check=True)
    subprocess.run([*cli, "search-index", str(db_path)], check=True, stdout=subprocess.DEVNULL)
    return db_path


# Report ------------------------------------------------------------------------------------


def verdict(results: dict) -> list[str]:
    problems = []
    for row in results["requests"]:
        if row["cpu_s"] is not None and row["cpu_s"] > MAX_CPU_SECONDS:
            problems.append(f"{row['request']}: {row['cpu_s']} s CPU > {MAX_CPU_SECONDS}")
        if row["peak_mb"] is not None and row["peak_mb"] > MAX_PEAK_MB:
            problems.append(f"{row['request']}: {row['peak_mb']} MB > {MAX_PEAK_MB}")
    idle, busy = results["stories_idle_median_s"], results["stories_under_attack_median_s"]
    slowest = results["stories_under_attack_max_s"]
    if busy > max(MAX_SLOWDOWN * idle, 0.05):
        problems.append(f"stories page median {busy:.3f} s under attack vs {idle:.3f} s idle")
    if slowest > MAX_STORIES_SECONDS:
        problems.append(f"stories page took {slowest:.3f} s under attack > {MAX_STORIES_SECONDS}")
    return problems


def table(results: dict) -> str:
    lines = ["| request | status | server CPU s | peak MB |", "|---|---|---|---|"]
    for row in results["requests"]:
        lines.append(f"| {row['request']} | {row['status']} | {row['cpu_s']} | {row['peak_mb']} |")
    lines.append(
        f"\nstories page median: {results['stories_idle_median_s']} s idle, "
        f"{results['stories_under_attack_median_s']} s with {CONCURRENT_HEAVY} heavy checks "
        f"running (max {results['stories_under_attack_max_s']} s; their answers: "
        f"{results['heavy_statuses']})"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="database to attack (default: build one)")
    parser.add_argument("--size", type=int, default=100_000, help="synthetic articles without --db")
    parser.add_argument("--out", type=Path, default=HERE / "attack_results.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = args.db or build_database(args.size, Path(folder))
        articles = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True).execute(
            "select count(*) from articles").fetchone()[0]  # fmt: skip
        results = asyncio.run(attack(db_path, db_path.stem))
    from datasette.version import __version__ as datasette_version

    results = {"articles": articles, "command": " ".join(sys.argv), **results}
    results["load_average_after"] = os.getloadavg()  # other work on the machine slows pages too
    results["datasette"] = datasette_version
    results["problems"] = verdict(results)
    print(table(results))
    for problem in results["problems"]:
        print("MISSED:", problem)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    sys.exit(1 if results["problems"] else 0)


if __name__ == "__main__":
    main()
