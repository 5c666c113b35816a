"""The benchmark harness runs end to end and writes every figure (no timing asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import run as benchmarks  # noqa: E402


@pytest.mark.slow
def test_quick_run_writes_every_key(tmp_path):
    out = tmp_path / "results.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--size", "200",
               "--out", str(out), "--workdir", str(tmp_path / "work")]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    results = json.loads(out.read_text())
    for key in benchmarks.REQUIRED_KEYS:
        assert isinstance(results[key], (int, float)), key
    assert results["corpus_size"] == 200
    assert results["plan"]["base"] + results["plan"]["added"] == 200
    assert {"cpu", "cores", "python", "sqlite", "datasette"} <= set(results["machine"])
    assert results["date"] and "run.py" in results["command"]
    for key in benchmarks.REQUIRED_KEYS:  # the printed table names every figure
        assert key in finished.stdout


def test_quick_plan_fits_the_corpus():
    class Arguments:
        quick, size = True, None

    plan = benchmarks.sizes(Arguments)
    assert plan["base"] + plan["added"] == plan["size"]
    Arguments.size = 150
    small = benchmarks.sizes(Arguments)
    assert small["base"] + small["added"] == 150 and small["added"] >= 10
    assert all(small[key] <= 150 for key in ("scaling", "baseline", "recall", "matched", "pages"))


@pytest.mark.slow
def test_excerpts_benchmark_writes_found_shares_and_times(tmp_path):
    out = tmp_path / "excerpts.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "excerpts.py"), "--size", "300",
               "--excerpts", "4", "--words", "12", "40", "--out", str(out)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["articles"] == 300 and results["search_index"]["articles"] == 300
    for words in ("12", "40"):
        for variant in ("verbatim", "edited"):
            for mode in ("index_only", "with_search"):
                figures = results["by_words"][words][variant][mode]
                assert figures["excerpts"] == 4 and 0 <= figures["found"] <= 4
                assert figures["p50_ms"] is not None
    assert "found (+search)" in finished.stdout


def test_size_report_gives_every_table_per_article(tmp_path):
    import scale

    report = scale.database_size(200, tmp_path)
    assert report["articles"] == 200 and report["ingest_cpu_seconds"] > 0
    tables, alone = report["tables"], report["tables_and_indexes"]
    assert {"articles", "segments", "signatures", "lsh_recent"} <= set(tables)
    assert sum(tables.values()) == report["in_use_bytes_per_article"]
    assert abs(sum(alone.values()) - sum(tables.values())) <= len(alone)  # rounded apiece
    assert tables["segments"] > alone["segments"]  # with its indexes
    # text is stored once: a segment row holds offsets, not its story's text again
    assert alone["segments"] < report["raw_text_bytes_per_article"] / 10
    assert not list(tmp_path.iterdir())  # corpus and database removed
