"""The package's shape, read from its own imports: the pipeline's layers, no private
reach-ins, no import cycle, and docs/ARCHITECTURE.md naming only what exists.

Layers, in pipeline order (a module may import its own layer and the ones before it):

    base       vocabulary, parameters, store   (shared by every stage; store is the only DDL)
    readers    files, tables, archives -> article records
    cleaning   boilerplate, credits, datelines, segments
    matching   tokens, signatures, LSH, alignment, lineage; index and update over SQLite
    ingest     readers -> cleaning -> matching -> store, in batches
    evaluate   scores matching on labelled pairs, through the ingest
    entry      cli, options, spark: the command lines
    web        the Datasette plugin (its hooks are the package's entry point for Datasette)

Stage code (base to evaluate) knows nothing of Datasette. Readers and cleaning do not touch
SQLite, nor do the pure matching modules (the algorithm apart from its storage); the one
exception is ``readers.tables``, which reads other people's SQLite tables (never the store).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "datasette_provenance"
SOURCE = ROOT / PACKAGE

LAYERS = ["base", "readers", "cleaning", "matching", "ingest", "evaluate", "entry", "web"]
LAYER_OF = {
    "vocabulary": "base", "parameters": "base", "store": "base",
    "readers": "readers", "cleaning": "cleaning", "matching": "matching",
    "ingest": "ingest", "evaluate": "evaluate",
    "cli": "entry", "options": "entry", "spark": "entry",
    "web": "web",
}  # fmt: skip
STAGE_LAYERS = LAYERS[: LAYERS.index("entry")]
# Within the base layer: the vocabulary and the schema stand on nothing; parameters are
# stored in the database.
BASE_IMPORTS = {"vocabulary": set(), "store": set(), "parameters": {"store"}}
PURE_MATCHING = {
    "tokens", "unicode_marks", "signatures", "lsh", "statements", "align", "derivation",
    "stories", "lineage", "pairs",
}  # fmt: skip
DATASETTE = {"datasette", "markupsafe", "datasette_test"}
SQLITE = {"sqlite3", "sqlite_utils"}
# Reads articles from a user's own SQLite table (`ingest --from-table`): sqlite3, not the store.
READS_SQLITE_TABLES = f"{PACKAGE}.readers.tables"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def imports(name: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import statement of a module,
    function-level ones included; relative imports resolved, a submodule imported by name
    (``from . import records``) counted as that module."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            names = [alias.name for alias in node.names]
            submodules = [n for n in names if f"{target}.{n}" in MODULES]
            found += [(f"{target}.{n}", [], node.lineno) for n in submodules]
            rest = [n for n in names if n not in submodules]
            if rest or not submodules:
                found.append((target, rest, node.lineno))
    return found


def package_imports(name: str) -> list[tuple[str, list[str], int]]:
    return [item for item in imports(name) if item[0].split(".")[0] == PACKAGE]


def top(name: str) -> str:
    """The top-level part of the package a module belongs to: 'matching' for matching.index."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(name: str) -> str | None:
    return LAYER_OF.get(top(name))


def test_every_module_has_a_layer():
    unplaced = [name for name in MODULES if name != PACKAGE and layer(name) is None]
    assert not unplaced, f"modules outside the layers (add them to LAYER_OF): {unplaced}"


def test_the_package_root_holds_only_the_version():
    """Ingest worker processes import the package root: it must not pull in Datasette."""
    assert not imports(PACKAGE)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) in STAGE_LAYERS))
def test_stage_code_knows_nothing_of_datasette(name):
    used = [(target, line) for target, _, line in imports(name) if target.split(".")[0] in DATASETTE]
    assert not used, f"{name} imports {used}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != PACKAGE))
def test_no_module_imports_a_later_layer(name):
    own = LAYERS.index(layer(name))
    later = [
        (target, line)
        for target, _, line in package_imports(name)
        if target != PACKAGE and LAYERS.index(layer(target)) > own
    ]
    assert not later, f"{name} ({layer(name)}) imports later layers: {later}"


@pytest.mark.parametrize("name", sorted(BASE_IMPORTS))
def test_the_base_layer_stands_on_little(name):
    used = {top(target) for target, _, _ in package_imports(f"{PACKAGE}.{name}")}
    assert used <= BASE_IMPORTS[name], f"{name} imports {used - BASE_IMPORTS[name]}"


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n in MODULES
        if layer(n) in ("readers", "cleaning")
        or (layer(n) == "matching" and n.rpartition(".")[2] in PURE_MATCHING)
    ),
)
def test_readers_cleaning_and_the_matching_algorithm_do_not_touch_sqlite(name):
    forbidden = {"sqlite_utils"} if name == READS_SQLITE_TABLES else SQLITE
    used = [
        (target, line)
        for target, _, line in imports(name)
        if target.split(".")[0] in forbidden or target == f"{PACKAGE}.store"
    ]
    assert not used, f"{name} imports {used}"


def test_nothing_imports_the_web_plugin():
    """Datasette loads ``web`` through the entry point; no other module depends on it."""
    found = [
        (name, target)
        for name in MODULES
        if layer(name) != "web"
        for target, _, _ in package_imports(name)
        if layer(target) == "web"
    ]
    assert not found


def test_no_module_takes_another_modules_private_names():
    found = []
    for name in MODULES:
        for target, names, line in package_imports(name):
            if target == name:
                continue
            found += [f"{name}:{line} {target}.{n}" for n in names if n.startswith("_")]
        found += private_attribute_uses(name)
    assert not found, "private names used across modules:\n" + "\n".join(found)


def private_attribute_uses(name: str) -> list[str]:
    """``module._name`` where ``module`` is a package module this module imported by name."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if is_package(name) else name.rpartition(".")[0]
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            modules |= {
                alias.asname or alias.name
                for alias in node.names
                if f"{base}.{alias.name}" in MODULES
            }
    return [
        f"{name}:{node.lineno} {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]


def test_there_is_no_import_cycle():
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for name in MODULES:
        for target, _, _ in package_imports(name):
            if target in MODULES and target != name:
                graph.add_edge(name, target)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles}"


# docs/ARCHITECTURE.md --------------------------------------------------------------------

ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
TOP_LEVEL = sorted(LAYER_OF)
# `matching.index.add_many`, `readers.iter_records(...)`: a dotted name starting with a
# top-level module of the package, in backticks.
CONTRACT = re.compile(rf"`((?:{'|'.join(TOP_LEVEL)})(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def contract_names() -> list[str]:
    return sorted({name for name in CONTRACT.findall(ARCHITECTURE) if not name.endswith(".py")})


def resolves(dotted: str) -> bool:
    """Import the longest module prefix, then look the rest up as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join([PACKAGE, *parts[:cut]]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_architecture_names_contracts():
    assert len(contract_names()) >= 40  # the contracts are written as full dotted names


@pytest.mark.parametrize("dotted", contract_names())
def test_every_contract_in_the_architecture_document_exists(dotted):
    assert resolves(dotted), f"docs/ARCHITECTURE.md names `{dotted}`, which does not exist"


def test_the_architecture_document_draws_every_folder():
    folders = sorted(path.name for path in SOURCE.iterdir() if (path / "__init__.py").exists())
    missing = [folder for folder in folders if f"{folder}/" not in ARCHITECTURE]
    assert not missing, f"docs/ARCHITECTURE.md does not draw {missing}"
