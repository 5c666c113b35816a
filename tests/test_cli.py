"""The command line, and the README's promises about it."""

from __future__ import annotations

import re
import shlex
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest
from click.testing import CliRunner

from datasette_provenance.cli import cli

from .conftest import REPO_ROOT, SEED_IDS, SEEDS_DIR

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """Every command line in the README's ```bash blocks."""
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_has_exactly_two_try_it_commands():
    try_it = README.split("## Try it", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", try_it, flags=re.S)
    assert [c.strip() for c in commands] == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/datasette-provenance demo",
        "bash tests/run.sh",
    ]


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash tests/run.sh" in ci


@pytest.mark.parametrize("command", [c for c in readme_commands() if "datasette-provenance" in c])
def test_readme_subcommands_and_options_exist(command):
    """Each `datasette-provenance SUB --opt` in the README parses (checked with --help)."""
    for part in command.split("&&"):
        words = shlex.split(part)
        if not words or not words[0].endswith("datasette-provenance"):
            continue
        if len(words) == 1:
            continue
        subcommand = words[1]
        result = CliRunner().invoke(cli, [subcommand, "--help"])
        assert result.exit_code == 0, result.output
        for option in [w for w in words[2:] if w.startswith("--")]:
            assert option in result.output, f"{option} not an option of {subcommand}"


def test_datasette_provenance_alias_is_registered():
    """`datasette provenance ...` reaches the same click group."""
    result = subprocess.run(
        [sys.executable, "-m", "datasette", "provenance", "--help"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "ingest" in result.stdout and "demo" in result.stdout


def test_demo_builds_database(tmp_path):
    db_path = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db_path), "--no-serve",
                                      "--seeds", str(SEEDS_DIR)])
    assert result.exit_code == 0, result.output
    assert "5 added" in result.output
    with sqlite3.connect(db_path) as conn:  # quotes can be checked in the demo
        assert conn.execute("select count(*) from articles_fts").fetchone() == (5,)


def test_demo_stores_the_seeds_as_seeds_wherever_they_are_installed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # far from the package's own seeds
    result = CliRunner().invoke(cli, ["demo", "--db", "demo.db", "--no-serve"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        paths = {path for (path,) in conn.execute("select source_path from articles")}
    assert paths == {f"seeds/{article_id}.txt" for article_id in SEED_IDS.values()}


def test_missing_input_is_one_line_exit_2(tmp_path):
    # result.output holds stderr too (click mixes them by default in every version).
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "x.db"), str(tmp_path / "nothing-here")])
    assert result.exit_code == 2
    output = result.output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "nothing-here" in lines[0] and "Traceback" not in output


def test_not_a_database_is_one_line(tmp_path):
    fake = tmp_path / "fake.db"
    fake.write_text("this is not sqlite" * 100)
    good = tmp_path / "a.txt"
    good.write_text("Some article text about a harbour.", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(fake), str(good)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert fake.read_text() == "this is not sqlite" * 100


def test_skipped_input_exit_1(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("A short article about harbour cranes in Rotterdam.", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "db.db"), str(good), str(empty)])
    assert result.exit_code == 1
    assert "empty.txt" in result.output
    assert "1 added" in result.output


def test_search_index_adds_and_drops_full_text_search(seeds_db_copy):
    added = CliRunner().invoke(cli, ["search-index", str(seeds_db_copy)])
    assert added.exit_code == 0, added.output
    assert "full-text index of 5 articles (articles_fts)" in added.output
    # An index out of step with its articles (here: one article's entry deleted behind the
    # triggers' back) is rebuilt by running the command again.
    search = "select count(*) from articles_fts where articles_fts match 'Vostochny'"
    with closing(sqlite3.connect(seeds_db_copy)) as conn, conn:
        found = conn.execute(search).fetchone()[0]
        conn.execute(
            "insert into articles_fts (articles_fts, rowid, title, clean_text) "
            "select 'delete', rowid, title, clean_text from articles where id like '000%'"
        )
        assert conn.execute(search).fetchone()[0] == found - 1
    again = CliRunner().invoke(cli, ["search-index", str(seeds_db_copy)])
    assert again.exit_code == 0 and "5 articles" in again.output
    with closing(sqlite3.connect(seeds_db_copy)) as conn:
        assert conn.execute(search).fetchone()[0] == found
    dropped = CliRunner().invoke(cli, ["search-index", str(seeds_db_copy), "--drop"])
    assert dropped.exit_code == 0 and "removed" in dropped.output
    with sqlite3.connect(seeds_db_copy) as conn:
        names = {row[0] for row in conn.execute("select name from sqlite_master")}
    assert not {name for name in names if name.startswith("articles_fts")}
