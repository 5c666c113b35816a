"""Fewer flags, cleaner databases: a directory's own manifest, and source paths stored
relative to where ingest ran (a published database shows no local folders)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing

import pytest
from click.testing import CliRunner

from datasette_provenance.cli import cli

from .conftest import SEED_IDS, SEEDS_DIR


def stored(db) -> dict[str, dict]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return {row["id"]: dict(row) for row in conn.execute("select * from articles")}


def test_a_manifest_inside_the_directory_is_used_and_said(tmp_path, monkeypatch):
    shutil.copytree(SEEDS_DIR, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", "news.db", "seeds", "--no-match"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "manifest: seeds/manifest.csv (found in seeds)"
    articles = stored(tmp_path / "news.db")
    assert len(articles) == 5
    assert articles[SEED_IDS["reuters"]]["outlet"] == "Reuters"


def test_manifests_in_subdirectories_are_used_too(tmp_path, monkeypatch):
    shutil.copytree(SEEDS_DIR, tmp_path / "data" / "wires")
    (tmp_path / "data" / "wires" / "manifest.csv").rename(tmp_path / "data" / "manifest.csv")
    later = tmp_path / "data" / "wires" / "later"
    later.mkdir()
    (tmp_path / "data" / "wires" / f"{SEED_IDS['copy']}.txt").rename(later / f"{SEED_IDS['copy']}.txt")
    (later / "manifest.json").write_text(json.dumps([{"id": SEED_IDS["copy"], "outlet": "Copier"}]))
    (tmp_path / "data" / ".hidden").mkdir()
    (tmp_path / "data" / ".hidden" / "manifest.json").write_text("not json")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", "news.db", "data", "--no-match"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "manifest: data/manifest.csv (found in data)",
        "manifest: data/wires/later/manifest.json (found in data/wires/later)",
    ]
    articles = stored(tmp_path / "news.db")
    assert len(articles) == 5
    assert articles[SEED_IDS["reuters"]]["outlet"] == "Reuters"
    assert articles[SEED_IDS["copy"]]["outlet"] == "Copier"


def test_a_manifest_given_with_the_flag_wins_over_the_directory_one(tmp_path, monkeypatch):
    shutil.copytree(SEEDS_DIR, tmp_path / "seeds")
    (tmp_path / "mine.json").write_text(json.dumps([{"id": SEED_IDS["reuters"], "outlet": "Wire"}]))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["ingest", "news.db", "seeds", "--manifest", "mine.json", "--no-match"]
    )
    assert result.exit_code == 0, result.output
    articles = stored(tmp_path / "news.db")
    assert articles[SEED_IDS["reuters"]]["outlet"] == "Wire"
    assert articles[SEED_IDS["paraphrase"]]["outlet"] == "Vygr Media"  # still the directory's


def test_two_manifests_in_one_directory_stop_the_run(tmp_path, monkeypatch):
    shutil.copytree(SEEDS_DIR, tmp_path / "seeds")
    (tmp_path / "seeds" / "manifest.json").write_text("[]")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", "news.db", "seeds"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: seeds: two manifests (manifest.csv, manifest.json): keep one, or name the one "
        "to use with --manifest"
    )
    assert not (tmp_path / "news.db").exists()


@pytest.mark.parametrize("slash", ["", "/", "//"])
def test_source_paths_are_stored_relative_to_the_working_directory(tmp_path, monkeypatch, slash):
    shutil.copytree(SEEDS_DIR, tmp_path / "data" / "seeds")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    given = str(tmp_path / "data" / "seeds") + slash  # an absolute path, as typed
    assert CliRunner().invoke(cli, ["ingest", "news.db", given, "--no-match"]).exit_code == 0
    paths = {row["source_path"] for row in stored(work / "news.db").values()}
    assert f"../data/seeds/{SEED_IDS['copy']}.txt" in paths
    assert not any(str(tmp_path) in path for path in paths)


def test_absolute_paths_on_request(tmp_path, monkeypatch):
    shutil.copytree(SEEDS_DIR, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["ingest", "news.db", "seeds", "--absolute-paths", "--no-match"])
    assert result.exit_code == 0, result.output
    paths = {row["source_path"] for row in stored(tmp_path / "news.db").values()}
    assert str(tmp_path / "seeds" / f"{SEED_IDS['copy']}.txt") in paths
