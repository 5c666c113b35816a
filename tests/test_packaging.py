"""The package as PyPI users get it: the wheel, installed alone in a new virtual environment.

The wheel is built once per run (pip's isolated build, as PyPI's would be) and installed,
with its dependencies from the package index, into an empty venv; then the commands a
newcomer runs: ``demo --help``, ``ingest`` on the seeds inside the package, and a page.
"""

from __future__ import annotations

import ast
import email
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SEED_IDS

pytestmark = pytest.mark.slow

PACKAGE = REPO_ROOT / "datasette_provenance"


def _run(*command, cwd=None, timeout=900, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """(the built wheel, the build's log)."""
    return _wheel_build(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A new venv holding the wheel and its dependencies only; returns its bin directory."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    _run(
        sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
        "--quiet", "--no-compile", "--disable-pip-version-check", wheel[0],
    )  # fmt: skip
    return venv / "bin"


def _wheel_build(out: Path, sources: Path = REPO_ROOT, **environment) -> tuple[Path, str]:
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-v",
        "--disable-pip-version-check", "-w", out, sources, env={**os.environ, **environment},
    )  # fmt: skip
    (path,) = out.glob("datasette_provenance-*.whl")
    return path, built.stdout + built.stderr


def _native_modules(wheel_path: Path) -> list[str]:
    with zipfile.ZipFile(wheel_path) as archive:
        return [name for name in archive.namelist() if re.search(r"matching/native\..*(so|pyd)$", name)]


def test_the_build_gives_no_warnings(wheel):
    warnings = [
        line.strip()
        for line in wheel[1].splitlines()
        if re.search(r"(Deprecation)?Warning:", line) and "Location 'file:" not in line
    ]
    assert warnings == []


def test_the_wheel_holds_the_seeds_templates_and_complete_metadata(wheel):
    with zipfile.ZipFile(wheel[0]) as archive:
        names = set(archive.namelist())
        metadata = email.message_from_bytes(
            archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        )
    for seed in SEED_IDS.values():
        assert f"datasette_provenance/seeds/{seed}.txt" in names
    assert "datasette_provenance/seeds/manifest.csv" in names
    assert "datasette_provenance/demo.json" in names
    assert "datasette_provenance/web/tables.json" in names
    for path in PACKAGE.rglob("*"):
        if path.suffix in (".py", ".html", ".css", ".js") and "__pycache__" not in path.parts:
            assert f"datasette_provenance/{path.relative_to(PACKAGE).as_posix()}" in names, path
    assert metadata["License-Expression"] == "Apache-2.0"
    assert not [c for c in metadata.get_all("Classifier") if c.startswith("License ::")]
    assert metadata["Requires-Python"] == ">=3.10"
    assert {"Homepage", "Issues", "Changelog"} <= {
        url.split(",")[0] for url in metadata.get_all("Project-URL")
    }
    # PyPI shows the README: relative links there would be broken.
    description = metadata.get_payload()
    relative = re.findall(r"\]\((?!https?://|#)([^)]+)\)", description)
    assert relative == []


def test_the_wheel_holds_the_native_signing_step(wheel):
    """setup.py's optional C extension is compiled into the wheel wherever a C compiler and
    Python's headers are found (a machine without them gets the numpy code: next test)."""
    failed = re.search(r'building extension "datasette_provenance.matching.native" failed.*', wheel[1])
    if failed:
        pytest.skip(f"no C toolchain here: {failed.group(0)}")
    assert len(_native_modules(wheel[0])) == 1


def test_without_a_compiler_the_wheel_still_builds_without_the_native_step(tmp_path):
    """No compiler: the build says why and goes on; the package then signs with numpy, which
    gives the same values bit for bit (tests/test_native.py)."""
    # From a copy of the sources: the checkout's build/ (pip builds in the tree) holds the
    # extension the other wheel compiled, which setuptools would reuse without a compiler.
    sources = tmp_path / "sources"
    shutil.copytree(
        REPO_ROOT, sources,
        ignore=shutil.ignore_patterns(".*", "build", "dist", "tests", "benchmarks", "docs",
                                      "*.egg-info", "__pycache__", "*.so", "*.pyd"),
    )  # fmt: skip
    path, log = _wheel_build(tmp_path, sources, CC=str(tmp_path / "no-such-compiler"))
    assert 'building extension "datasette_provenance.matching.native" failed' in log
    assert _native_modules(path) == []


def test_every_imported_library_is_a_declared_dependency(wheel):
    """The clean venv would not notice a library the test venv happens to hold: check the
    imports against Requires-Dist (optional extras may be imported lazily, named here)."""
    with zipfile.ZipFile(wheel[0]) as archive:
        metadata = email.message_from_bytes(
            archive.read(next(n for n in archive.namelist() if n.endswith("METADATA")))
        )
    declared = {
        re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in metadata.get_all("Requires-Dist")
    }
    distributions = packages_distributions()
    missing = set()
    for module in _third_party_imports():
        names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
        if not names & declared:
            missing.add(module)
    assert missing == set()


def _third_party_imports() -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - stdlib - {"datasette_provenance", "pyspark"}  # pyspark: the [spark] extra


def test_installed_wheel_runs_demo_help_ingest_and_serves_a_page(installed, wheel, tmp_path):
    # Run outside the checkout: `python -c` would import the package from the current directory.
    help_text = _run(installed / "datasette-provenance", "demo", "--help", cwd=tmp_path).stdout
    assert "Ingest the seed articles" in help_text
    seeds = _run(
        installed / "python", "-c",
        "import datasette_provenance, pathlib; "
        "print(pathlib.Path(datasette_provenance.__file__).parent / 'seeds')",
        cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert Path(seeds).is_dir() and not Path(seeds).is_relative_to(REPO_ROOT)
    native = _run(
        installed / "python", "-c",
        "from datasette_provenance.matching import signatures; print(signatures.has_native_step())",
        cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert native == str(bool(_native_modules(wheel[0])))  # it loads where it was built
    db = tmp_path / "news.db"
    ingested = _run(installed / "datasette-provenance", "ingest", db, seeds, cwd=tmp_path)
    assert "articles: 5 added" in ingested.stdout
    page = _run(installed / "python", "-c", _PAGE_SCRIPT, db, cwd=tmp_path).stdout
    assert page.splitlines()[0] == "200"
    assert SEED_IDS["copy"] in page  # the uncredited copy, from the canned query
    _run(installed / "datasette-provenance", "demo", "--db", "demo.db", "--no-serve", cwd=tmp_path)
    with closing(sqlite3.connect(tmp_path / "demo.db")) as conn:
        paths = {path for (path,) in conn.execute("select source_path from articles")}
    assert paths == {f"seeds/{article_id}.txt" for article_id in SEED_IDS.values()}  # no site-packages


# A page served by the venv's Datasette and plugin, through Datasette's own client.
_PAGE_SCRIPT = """
import asyncio, sys
from datasette.app import Datasette

async def main():
    ds = Datasette([sys.argv[1]])
    response = await ds.client.get("/news/uncredited_copies.json?_shape=array")
    print(response.status_code)
    print(response.text)

asyncio.run(main())
"""
