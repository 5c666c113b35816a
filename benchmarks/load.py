"""Load test: many concurrent clients on the overview, lineage and compare pages.

    python benchmarks/load.py                                  # 2,000 synthetic articles
    python benchmarks/load.py --db news.db --clients 200 --requests 10000 --time-limit 180

Serves the database with `datasette serve -i DB` (immutable, as published) on a
free 127.0.0.1 port - loopback only, nothing leaves the machine - and sends a
fixed number of requests from ``--clients`` concurrent keep-alive connections: one
third each to the stories overview (several sorts and pages), the lineage pages
of articles in a story, and the compare pages of stored matches (HTML; ``--json``
adds the JSON twins). It stops at the request count or the time limit, whichever
comes first, and reports requests/s, latency percentiles and errors (any answer
but 200, or no answer within ``--timeout`` seconds). Without ``--db`` it builds
the database from benchmarks/synthetic.py with the real ingest first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path


HOST = "127.0.0.1"  # loopback only
PAGE_KINDS = ("overview", "lineage", "compare")


@dataclass
class LoadResult:
    clients: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    errors: Counter = field(default_factory=Counter)  # "status 500", "timeout" ...

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values()) + sum(self.errors.values())

    def summary(self) -> dict:
        every = sorted(value for values in self.latencies.values() for value in values)
        return {
            "clients": self.clients,
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "p50_ms": _percentile_ms(every, 50),
            "p99_ms": _percentile_ms(every, 99),
            "max_ms": round(1000 * every[-1], 1) if every else None,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "by_page": {
                kind: {"requests": len(values), "p50_ms": _percentile_ms(sorted(values), 50),
                       "p99_ms": _percentile_ms(sorted(values), 99)}
                for kind, values in self.latencies.items()
            },  # fmt: skip
        }


def _percentile_ms(ordered: list[float], percent: int) -> float | None:
    if not ordered:
        return None
    if len(ordered) == 1:
        return round(1000 * ordered[0], 1)
    return round(1000 * statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1], 1)


# The pages -----------------------------------------------------------------------------------


def page_paths(db_path: Path, rng: random.Random, per_kind: int = 200, formats=("",)) -> list:
    """(kind, path) pairs: overview pages, lineage pages and compare pages of this database."""
    from datasette.utils import tilde_encode

    base = f"/{db_path.stem}/-/provenance"
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        clustered = [row[0] for row in conn.execute("select distinct article_id from lineage")]
        pairs = conn.execute("select source_article_id, derived_article_id from matches").fetchall()
        stories = conn.execute("select count(*) from clusters").fetchone()[0]
    if not clustered or not pairs:
        raise SystemExit(f"{db_path} has no lineage or matches to load-test")
    sorts = ("copies", "uncredited", "newest", "title")
    overview = [f"{base}?_sort={rng.choice(sorts)}&_page={rng.randint(1, max(1, stories // 50))}"
                for _ in range(per_kind)]  # fmt: skip
    lineage = [f"{base}/article/{tilde_encode(rng.choice(clustered))}" for _ in range(per_kind)]
    compare = [
        f"{base}/compare/{tilde_encode(source)}/{tilde_encode(derived)}"
        for source, derived in (rng.choice(pairs) for _ in range(per_kind))
    ]
    paths = []
    for kind, kind_paths in zip(PAGE_KINDS, (overview, lineage, compare)):
        for path in kind_paths:
            paths += [(kind, _with_format(path, fmt)) for fmt in formats]
    return paths


def _with_format(path: str, fmt: str) -> str:
    """The JSON twin's path: ``.json`` goes before the query string."""
    route, question, query = path.partition("?")
    return route + (f".{fmt}" if fmt else "") + question + query


# Serving ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def datasette_serving(db_path: Path, immutable: bool = True, extra_args=()):
    """`datasette serve` on a free loopback port; yields its base URL, stops it after."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "datasette"), "serve",
               *(["-i"] if immutable else []), str(db_path), "-h", HOST, "-p", str(port),
               *extra_args]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://{HOST}:{port}"
    try:
        _wait_until_up(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()


def _wait_until_up(base: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"datasette exited: {server.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/-/versions.json", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"datasette did not answer within {seconds}s")


# Load ------------------------------------------------------------------------------------------


async def run_load(base: str, paths: list, clients: int, total: int, time_limit: float,
                   timeout: float = 30.0, seed: int = 1) -> LoadResult:  # fmt: skip
    """``total`` requests (cycling through ``paths`` in a shuffled order) from ``clients``
    concurrent keep-alive connections, or as many as ``time_limit`` seconds allow."""
    order = list(paths)
    random.Random(seed).shuffle(order)
    result = LoadResult(clients=clients, latencies={kind: [] for kind, _ in order})
    issued = iter(range(total))
    deadline = time.monotonic() + time_limit
    host, port = base.removeprefix("http://").split(":")

    async def one_client() -> None:
        connection = Connection(host, int(port))
        try:
            for number in issued:
                if time.monotonic() > deadline:
                    return
                kind, path = order[number % len(order)]
                await _request(connection, kind, path, timeout, result)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


async def _request(connection, kind: str, path: str, timeout: float, result: LoadResult) -> None:
    started = time.perf_counter()
    try:
        status = await asyncio.wait_for(connection.get(path), timeout)
    except asyncio.TimeoutError:
        connection.close()
        result.errors["timeout"] += 1
        return
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        connection.close()
        result.errors[type(error).__name__] += 1
        return
    if status != 200:
        result.errors[f"status {status}"] += 1
        return
    result.latencies[kind].append(time.perf_counter() - started)


class Connection:
    """A minimal HTTP/1.1 keep-alive client: GET, status, whole body read.

    httpx costs ~17 ms of CPU per request; on a 2-core machine the load generator
    would take the server's second core. This costs well under 1 ms.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n"
        self.writer.write(request.encode("ascii"))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("connection closed by the server")
        status = int(status_line.split()[1])
        headers = await self._headers()
        await self._body(headers)
        if headers.get("connection") == "close":
            self.close()
        return status

    async def _headers(self) -> dict[str, str]:
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        return headers

    async def _body(self, headers: dict[str, str]) -> None:
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
            return
        if headers.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)  # the chunk and its CRLF
            while await self.reader.readline() not in (b"\r\n", b""):  # trailers
                pass

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# Command line ----------------------------------------------------------------------------------


def build_synthetic_db(size: int, folder: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    import synthetic

    corpus, db_path = folder / "corpus.jsonl", folder / "load.db"
    synthetic.write_corpus(size, str(corpus))
    subprocess.run([sys.executable, "-m", "datasette_provenance.cli", "ingest", str(db_path),
                    str(corpus), "--quiet"], check=True)  # fmt: skip
    return db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="database to serve (default: build one)")
    parser.add_argument("--size", type=int, default=2000, help="synthetic articles without --db")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=180, help="seconds")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument("--json", action="store_true", help="also request the JSON twins")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        db_path = args.db or build_synthetic_db(args.size, Path(folder))
        formats = ("", "json") if args.json else ("",)
        paths = page_paths(db_path, random.Random(args.seed), formats=formats)
        with datasette_serving(db_path) as base:
            result = asyncio.run(run_load(base, paths, args.clients, args.requests,
                                          args.time_limit, args.timeout, args.seed))  # fmt: skip
    summary = {"database": str(args.db or f"synthetic {args.size}"), **result.summary(),
               "cpu_count": os.cpu_count()}  # fmt: skip
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    sys.exit(1 if summary["errors"] else 0)


if __name__ == "__main__":
    main()
