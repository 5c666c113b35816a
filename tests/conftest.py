"""Shared fixtures: the seeds database is built once per session by the real ingest."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore new random examples on every run of the suite, except in CI
# (.ci/run sets HYPOTHESIS_PROFILE=ci), where they are derandomized: the same examples
# each time, so a landing is never blocked by an example no change of it caused. A failing
# example prints how to reproduce it (print_blob).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The plugin tests' hand-built fixture database lives there.
pytest_plugins = ["tests.plugin_support"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT / "seeds"
# The labelled evaluation sets (read-only; tests using them skip when absent). A checkout
# elsewhere than beside ../shared (a git worktree) names them with PROVENANCE_EVAL_DIR.
SHARED_EVAL_DIR = Path(os.environ.get("PROVENANCE_EVAL_DIR", REPO_ROOT.parent / "shared" / "eval"))
SEED_IDS = {
    "reuters": "000_5bbc07b3f689fc76",
    "paraphrase": "001_5ada4b7a9c93438c",
    "nyt": "002_f9eead5de3e89fd6",
    "copy": "003_6154cfbf0fdc7a47",
    "french": "004_6d0080554216e963",
}


def load_benchmark(name: str):
    """A module of benchmarks/ (not a package), e.g. load_benchmark("synthetic")."""
    module_name = f"provenance_benchmarks_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            module_name, REPO_ROOT / "benchmarks" / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses look their module up while defined
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def seed_paths() -> list[str]:
    return sorted(str(path) for path in SEEDS_DIR.glob("*.txt"))


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def searchable_copy(path: Path, folder: Path) -> Path:
    """A copy (same file name, in ``folder``) of a provenance database, with full-text
    search (``search-index``), which the check page also queries for short texts."""
    from datasette_provenance import store

    copy = Path(folder) / Path(path).name
    shutil.copy(path, copy)
    db = store.connect(str(copy))
    store.enable_search(db)
    db.conn.close()
    return copy


@pytest.fixture(scope="session")
def seeds_db_path(tmp_path_factory) -> Path:
    """A provenance database built from seeds/ by the real pipeline (read-only for tests).

    The web tests serve it immutable, as `datasette -i` does: at the end of the
    session it must still be byte-for-byte the file the ingest wrote.
    """
    from datasette_provenance import ingest

    path = tmp_path_factory.mktemp("seeds") / "seeds.db"
    ingest.ingest(str(path), seed_paths(), manifest=str(SEEDS_DIR / "manifest.csv"))
    written = file_digest(path)
    yield path
    assert file_digest(path) == written, "a test or a served page wrote to the seeds database"


@pytest.fixture(scope="session")
def searchable_seeds_db_path(seeds_db_path, tmp_path_factory) -> Path:
    """The seeds database with full-text search, as read-only as the plain one."""
    path = searchable_copy(seeds_db_path, tmp_path_factory.mktemp("searchable-seeds"))
    written = file_digest(path)
    yield path
    assert file_digest(path) == written, "a test or a served page wrote to the seeds database"


@pytest.fixture
def seeds_db_copy(seeds_db_path, tmp_path) -> Path:
    """A private, writable copy of the seeds database."""
    copy = tmp_path / "seeds.db"
    shutil.copy(seeds_db_path, copy)
    return copy


@pytest.fixture
def seeds_db(seeds_db_path):
    """sqlite-utils handle on the shared seeds database."""
    import sqlite_utils

    db = sqlite_utils.Database(seeds_db_path)
    yield db
    db.conn.close()


@pytest.fixture(scope="session")
def seed_ids() -> dict[str, str]:
    return dict(SEED_IDS)
