"""Bad input through the command line: one clear line each, no traceback, no damage.

Every kind of bad input in sources.py's table (and the README's "Bad input") is fed
to `datasette-provenance ingest` next to a good article, into a database that
already holds one. A "skip" must exit 1 with exactly one `skipped: file[:line]:
reason` line and leave the database with the good rows only; a "stop" must exit 2
with exactly one `error: ...` line and leave the database as it was. The table runs
in-process (click's runner: the same code as the console script, minus the process
start-up); one run in a real process feeds every skip kind at once, and the
permission cases run in a real process without root's power to ignore file modes
(tests run as root), or are skipped saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from datasette_provenance import ingest, store
from datasette_provenance.cli import cli
from datasette_provenance.readers.records import MAX_ARTICLE_BYTES

from .db_compare import differences, read_only

GOOD_TEXT = "A perfectly good article about harbour cranes in Rotterdam and the new quay."
EARLIER_TEXT = "An article ingested before this run, about a ferry timetable in Oslo."


def jsonl(*rows) -> bytes:
    return b"".join((row if isinstance(row, bytes) else json.dumps(row).encode()) + b"\n"
                    for row in rows)  # fmt: skip


def good_row(article_id: str, **fields) -> dict:
    return {"id": article_id, "text": f"{GOOD_TEXT} ({article_id})", **fields}


@dataclass
class Case:
    name: str
    effect: str  # "skip" (exit 1, good rows kept) or "stop" (exit 2, database unchanged)
    files: dict[str, bytes]  # written under the case's folder
    where: str  # what the message must name: "file" or "file:line"
    reason: str  # a phrase of the message
    inputs: list[str] | None = None  # given to the CLI after good.txt (default: the files)
    options: list[str] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # good ids inside the bad files


BIG = MAX_ARTICLE_BYTES + 1024
CASES = [
    Case("binary file", "skip", {"image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40},
         "image.txt", "binary file"),
    Case("control codes", "skip", {"controls.txt": bytes(range(1, 9)) * 40 + b"text"},
         "controls.txt", "binary file"),
    Case("invalid UTF-8, no plausible legacy encoding", "skip",
         {"garbage.txt": b"\x81\x8d\x8f\x90\x9d" * 10}, "garbage.txt", "not valid UTF-8"),
    Case("invalid UTF-8 line in JSONL", "skip",
         {"mixed.jsonl": jsonl(good_row("line-1"), b'{"id": "x", "text": "\x81\x8d\x8f\x90"}')},
         "mixed.jsonl:2", "not valid UTF-8", kept={"line-1"}),
    Case("empty text file", "skip", {"empty.txt": b""}, "empty.txt", "empty"),
    Case("whitespace-only text file", "skip", {"blank.txt": b"  \n\t\r\n "}, "blank.txt",
         "empty"),
    Case("empty JSONL file", "skip", {"empty.jsonl": b""}, "empty.jsonl", "empty file"),
    Case("whitespace-only JSONL text", "skip", {"blank.jsonl": jsonl({"id": "b", "text": " \n"})},
         "blank.jsonl:1", "empty text"),
    Case("article over 20 MB (a 50 MB file)", "skip",
         {"huge.txt": b"word " * (10 * 1024 * 1024)}, "huge.txt", "over the 20 MB limit"),
    Case("JSON line over 20 MB", "skip",
         {"big.jsonl": jsonl({"id": "big", "text": "w" * BIG}, good_row("after-big"))},
         "big.jsonl:1", "over the 20 MB limit", kept={"after-big"}),
    Case("JSON line nested 100,000 deep", "skip",
         {"deep.jsonl": jsonl(b"[" * 100_000 + b"]" * 100_000, good_row("after-deep"))},
         "deep.jsonl:1", "nested too deeply", kept={"after-deep"}),
    Case("invalid JSON line", "skip", {"broken.jsonl": jsonl(b'{"id": "x", "text": ')},
         "broken.jsonl:1", "invalid JSON"),
    Case("JSON line not an object", "skip", {"list.jsonl": jsonl(["id", "text"])},
         "list.jsonl:1", "expected a JSON object"),
    Case("record without an id", "skip", {"noid.jsonl": jsonl({"text": GOOD_TEXT})},
         "noid.jsonl:1", "no id"),
    Case("record with a non-string title", "skip",
         {"types.jsonl": jsonl(good_row("typed", title={"a": 1}))}, "types.jsonl:1", "title"),
    Case("record with a bad date", "skip",
         {"date.jsonl": jsonl(good_row("dated", published="13/09/2023"))}, "date.jsonl:1",
         "bad date"),
    Case("record with a bad language", "skip",
         {"lang.jsonl": jsonl(good_row("lang", language="English please"))}, "lang.jsonl:1",
         "bad language"),
    Case("CSV with an unterminated quote", "skip",
         {"quote.csv": b'id,text\nc1,"fine"\nc2,"never closed\nc3,more\n'}, "quote.csv:3",
         "malformed CSV record", kept={"c1"}),
    Case("CSV record with a wrong field count", "skip",
         {"count.csv": b"id,text\nc4,one,two,three\nc5,fine\n"}, "count.csv:2",
         "malformed CSV record", kept={"c5"}),
    Case("CSV without a text column", "skip", {"notext.csv": b"id,body_html\nc6,x\n"},
         "notext.csv:1", "no text column"),
    Case("duplicate id", "skip", {"dup.jsonl": jsonl(good_row("dup"), good_row("dup"))},
         "dup.jsonl:2", "duplicate id 'dup' (first seen at", kept={"dup"}),
    Case("id already given by another file", "skip", {"again.jsonl": jsonl(good_row("good"))},
         "again.jsonl:1", "duplicate id 'good'"),
    Case("manifest naming an unknown id", "skip",
         {"manifest.csv": b"id,outlet\ngood,Harbour News\nnobody,Nowhere\n"}, "manifest.csv:3",
         "unknown article id 'nobody'", inputs=[], options=["--manifest", "manifest.csv"]),
    Case("lone surrogate in a JSON text", "skip",
         {"surrogate.jsonl": jsonl(b'{"id": "s", "text": "half a pair \\ud800 here"}',
                                   good_row("after-surrogate"))},
         "surrogate.jsonl:1", "not valid Unicode", kept={"after-surrogate"}),
    Case("lone surrogate in a JSON title", "skip",
         {"surtitle.jsonl": jsonl({"id": "t", "text": GOOD_TEXT, "title": "a \udc00 b"})},
         "surtitle.jsonl:1", "not valid Unicode"),
    Case("JSON number of 5,000 digits", "skip",
         {"digits.jsonl": jsonl(b'{"id": "n", "text": "x", "views": ' + b"9" * 5000 + b"}",
                                good_row("after-digits"))},
         "digits.jsonl:1", "a number too long to read", kept={"after-digits"}),
    Case("HTML declaring a codec that is not a text encoding", "skip",
         {"hex.html": b'<html><head><meta charset="hex"></head><body>\xff\xfe\x81</body></html>'},
         "hex.html", "not valid UTF-8"),
    # Stops: the database is left as it was.
    Case("a path that does not exist", "stop", {}, "nope.jsonl", "no such file",
         inputs=["nope.jsonl"]),
    Case("an unsupported file type", "stop", {"report.pdf": b"%PDF-1.4"}, "report.pdf",
         "unsupported file type"),
    Case("manifest with a bad date", "stop",
         {"manifest.csv": b"id,published\ngood,13/09/2023\n"}, "manifest.csv:2", "bad date",
         inputs=[], options=["--manifest", "manifest.csv"]),
    Case("manifest with a duplicate id", "stop",
         {"manifest.csv": b"id,outlet\ngood,A\ngood,B\n"}, "manifest.csv:3", "duplicate id",
         inputs=[], options=["--manifest", "manifest.csv"]),
    Case("manifest with bad JSON", "stop", {"manifest.json": b'[{"id": "good",\n "outlet": }]'},
         "manifest.json:2", "invalid JSON", inputs=[], options=["--manifest", "manifest.json"]),
    Case("manifest with an unknown inferred field", "stop",
         {"manifest.csv": b"id,inferred\ngood,colour\n"}, "manifest.csv:2", "unknown field",
         inputs=[], options=["--manifest", "manifest.csv"]),
    Case("manifest that does not exist", "stop", {}, "missing.csv", "no such file",
         inputs=[], options=["--manifest", "missing.csv"]),
    Case("manifest with a lone surrogate", "stop",
         {"manifest.json": b'[{"id": "good", "outlet": "\\udc00"}]'}, "manifest.json:1",
         "not valid Unicode", inputs=[], options=["--manifest", "manifest.json"]),
    Case("manifest with a number of 5,000 digits", "stop",
         {"manifest.json": b'[{"id": "good", "views": ' + b"9" * 5000 + b"}]"}, "manifest.json",
         "a number too long to read", inputs=[], options=["--manifest", "manifest.json"]),
    Case("strict mode and a manifest naming an unknown id", "stop",
         {"manifest.csv": b"id,outlet\ngood,Harbour News\nnobody,Nowhere\n"}, "manifest.csv:3",
         "unknown article id 'nobody' (strict mode: nothing was written)", inputs=[],
         options=["--strict", "--manifest", "manifest.csv"]),
    Case("strict mode and a lone surrogate", "stop",
         {"late.jsonl": jsonl(*[good_row(f"ok-{n}") for n in range(600)],
                              b'{"id": "s", "text": "\\ud800"}')},
         "late.jsonl:601", "strict mode: nothing was written", options=["--strict"]),
    Case("strict mode and one bad file", "stop", {"image.txt": b"\x00" * 100}, "image.txt",
         "strict mode: nothing was written", options=["--strict"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def earlier_db(tmp_path_factory) -> Path:
    """A database holding one article from an earlier run."""
    folder = tmp_path_factory.mktemp("earlier")
    (folder / "earlier.txt").write_text(EARLIER_TEXT, encoding="utf-8")
    path = folder / "earlier.db"
    ingest.ingest(str(path), [str(folder / "earlier.txt")])
    return path


def run_cli(args: list[str], folder: Path):
    """The CLI in-process, in ``folder`` (relative paths as a user would type them)."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(cwd)


def article_ids(db_path: Path) -> set[str]:
    with read_only(db_path) as conn:
        return {row[0] for row in conn.execute("select id from articles")}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gives_one_line_and_keeps_the_database_whole(case, earlier_db, tmp_path):
    for name, content in case.files.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    db_path = tmp_path / "news.db"
    shutil.copy(earlier_db, db_path)
    inputs = list(case.files) if case.inputs is None else case.inputs
    inputs = [name for name in inputs if not name.startswith("manifest")]
    result = run_cli(["ingest", "news.db", "good.txt", *inputs, *case.options, "--quiet"], tmp_path)

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert len(lines) == 1, lines
    prefix = "skipped: " if case.effect == "skip" else "error: "
    assert lines[0].startswith(prefix + case.where + ":") or lines[0].startswith(
        prefix + case.where + " "
    ), lines[0]
    assert case.reason in lines[0], lines[0]
    if case.effect == "skip":
        assert result.exit_code == 1
        assert article_ids(db_path) == {"earlier", "good"} | case.kept
    else:
        assert result.exit_code == 2
        assert differences(db_path, earlier_db) == {}


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("cp1252", "\u201cWe came here,\u201d Putin said \u2014 the caf\u00e9\u2019s owner agreed."),
        ("cp1251", "Президент России Владимир Путин встретился с лидером КНДР в среду."),
        ("koi8_r", "Президент России Владимир Путин встретился с лидером КНДР в среду."),
        ("cp1256", "التقى الزعيم الكوري الشمالي كيم جونغ أون بالرئيس الروسي فلاديمير بوتين."),
    ],
)
def test_legacy_encodings_are_read_not_skipped(encoding, text, tmp_path):
    (tmp_path / "legacy.txt").write_bytes(text.encode(encoding))
    result = run_cli(["ingest", "news.db", "legacy.txt", "--quiet"], tmp_path)
    assert result.exit_code == 0 and result.stderr == ""
    with read_only(tmp_path / "news.db") as conn:
        assert conn.execute("select raw_text from articles").fetchall() == [(text,)]


@pytest.mark.parametrize("kind", ["not a database", "a newer schema", "an early index layout"])
def test_an_unusable_database_is_one_line_and_left_alone(kind, tmp_path):
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    db_path = tmp_path / "news.db"
    if kind == "not a database":
        db_path.write_bytes(b"this is not sqlite" * 100)
    elif kind == "an early index layout":  # segments without seq, lsh_bands a table
        with closing(sqlite3.connect(db_path)) as conn, conn:
            conn.execute("PRAGMA journal_mode = WAL")  # as store.connect left it
            conn.execute("CREATE TABLE provenance_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("INSERT INTO provenance_meta VALUES ('schema_version', '1')")
            conn.execute("CREATE TABLE segments (id TEXT PRIMARY KEY, article_id TEXT)")
            conn.execute("CREATE TABLE lsh_bands (kind TEXT, band INT, hash INT, segment_id TEXT)")
    else:
        db = store.connect(str(db_path))
        with db.conn:
            store.set_meta(db, "schema_version", store.SCHEMA_VERSION + 1)
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()
    before = db_path.read_bytes()
    result = run_cli(["ingest", "news.db", "good.txt"], tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output
    assert db_path.read_bytes() == before


# In a real process ---------------------------------------------------------------------------


def test_every_skip_kind_at_once_in_a_real_process(tmp_path):
    """One directory holding every skip kind: one stderr line each, exit 1, good rows only."""
    skips = [case for case in CASES if case.effect == "skip" and case.inputs is None]
    folder = tmp_path / "inputs"
    for number, case in enumerate(skips):
        for name, content in case.files.items():
            if name.startswith("again"):  # needs good.txt in the same run: kept below
                continue
            target = folder / f"{number:02d}" / name
            target.parent.mkdir(parents=True)
            target.write_bytes(content)
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (folder / "zz-again.jsonl").write_bytes(jsonl(good_row("good")))
    result = subprocess.run(
        [sys.executable, "-m", "datasette_provenance.cli", "ingest", str(tmp_path / "news.db"),
         str(folder), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(skips), "\n".join(lines)
    assert all(line.startswith(f"skipped: {folder}/") for line in lines)
    kept = set().union(*(case.kept for case in skips))
    assert article_ids(tmp_path / "news.db") == {"good"} | kept


# Permissions: without the capability that lets root ignore them --------------------------------

# Root reads anything through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH. Dropped from the
# bounding set, they are gone from the process setpriv starts, and file modes apply.
WITHOUT_OVERRIDE = ["--bounding-set", "-dac_override,-dac_read_search"]


def permissions_enforced_command() -> list[str]:
    """A prefix under which chmod 000 refuses access; skips the test when there is none."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and no setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    return [setpriv, *WITHOUT_OVERRIDE]


def require_refused(prefix: list[str], locked: Path) -> None:
    """Skip unless ``locked`` (chmod 000) is really refused under ``prefix``."""
    read = "os.listdir(p) if os.path.isdir(p) else open(p).read()"
    check = subprocess.run([*prefix, sys.executable, "-c", f"import os; p = {str(locked)!r}; {read}"],
                           capture_output=True, text=True)  # fmt: skip
    if check.returncode == 0:
        pytest.skip("chmod 000 does not stop this process here (a capability or the filesystem)")
    if "PermissionError" not in check.stderr:
        pytest.skip(f"cannot test permissions here: {check.stderr.strip()[-200:]}")


@pytest.mark.parametrize("kind", ["directory given", "subdirectory", "file"])
def test_permission_errors_name_the_path(kind, tmp_path):
    prefix = permissions_enforced_command()
    articles = tmp_path / "articles"
    (articles / "locked").mkdir(parents=True)
    (articles / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (articles / "locked" / "inside.txt").write_text(GOOD_TEXT, encoding="utf-8")
    locked = articles / "locked" if kind != "file" else articles / "locked" / "inside.txt"
    given = articles / "locked" if kind == "directory given" else articles
    db_path = tmp_path / "news.db"
    locked.chmod(0o000)
    try:
        require_refused(prefix, locked)
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "datasette_provenance.cli", "ingest", str(db_path),
             str(given), "--quiet"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        locked.chmod(0o755)
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert str(locked) in lines[0] and "Permission denied" in lines[0], lines[0]
    if kind == "directory given":
        assert result.returncode == 2 and lines[0].startswith("error: ")
        assert not db_path.exists()  # stopped before the database was even created
    else:
        assert result.returncode == 1 and lines[0].startswith("skipped: ")
        assert article_ids(db_path) == {"good"}


def test_a_file_name_that_is_not_utf8_is_ingested_under_a_readable_id(tmp_path):
    """Its undecodable bytes (kept by Python as surrogates) are written as \\xNN."""
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "ok.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (Path(os.fsdecode(bytes(folder) + b"/caf\xe9.txt"))).write_text(EARLIER_TEXT)
    result = run_cli(["ingest", "--no-match", "names.db", "names"], tmp_path)
    assert result.exit_code == 0, result.output
    with read_only(tmp_path / "names.db") as conn:
        stored = dict(conn.execute("select id, source_path from articles").fetchall())
    assert stored == {"ok": "names/ok.txt", "caf\\xe9": "names/caf\\xe9.txt"}


def test_ctrl_c_with_worker_processes_stops_cleanly(tmp_path):
    """Ctrl-C reaches the whole process group: exit 130, no worker traceback, no hang."""
    corpus = tmp_path / "many.jsonl"
    corpus.write_bytes(jsonl(*[good_row(f"a{n}") for n in range(100_000)]))
    command = [sys.executable, "-m", "datasette_provenance.cli", "ingest", "--no-match",
               "--workers", "2", str(tmp_path / "many.db"), str(corpus)]  # fmt: skip
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (tmp_path / "many.db-wal").exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # until the database is open: the workers are being started
    time.sleep(1.5)  # they are started and preparing
    assert process.poll() is None, "the ingest ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
