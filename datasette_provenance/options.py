"""Command-line pieces shared by the two entry points: ``cli`` and the Spark engine's own
``python -m datasette_provenance.spark``.

``column_options`` adds the ``--<field>-column`` options and ``column_names`` reads them
back; ``one_line_errors`` turns the failures meant for the user into one line on
stderr and an exit code (see ``cli`` for the codes), never a traceback.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .ingest import IngestAborted
from .matching.index import IndexParamsError
from .parameters import ParamsError, SettingsError
from .readers import COLUMN_ALIASES, ColumnNames, InputError
from .store import SchemaError, StoppedAfterWriting, first_line

# Exceptions whose message is meant for the user, shown as one line.
USER_ERRORS: tuple[type[BaseException], ...] = (
    InputError,
    IngestAborted,
    SchemaError,
    IndexParamsError,
    ParamsError,
    SettingsError,
    sqlite3.DatabaseError,
)


@contextmanager
def one_line_errors(*more: type[BaseException]):
    """Turn expected failures (``USER_ERRORS`` and ``more``) into one line on stderr and an
    exit code, never a traceback."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(
            "interrupted: finished articles are saved; run the same command again to complete",
            err=True,
        )
        sys.exit(130)
    except (StoppedAfterWriting,) + USER_ERRORS + more as error:
        click.echo(f"error: {first_line(error)}", err=True)
        # 3: part of the work was written and is kept (a disk filled up, say); 2: nothing was.
        sys.exit(3 if isinstance(error, StoppedAfterWriting) else 2)


COLUMN_HELP = {"inferred": "CSV/JSONL field listing which metadata fields are guesses"}


def column_options(function):
    """``--id-column``, ``--text-column`` ...: one option per ``ColumnNames`` field."""
    for name in reversed(ColumnNames.__dataclass_fields__):
        default = ColumnNames.__dataclass_fields__[name].default
        function = click.option(
            f"--{name}-column",
            f"{name}_column",
            default=default,
            show_default=True,
            help=COLUMN_HELP.get(name, f"CSV/JSONL field for the article {name}")
            + " [default: first of " + ", ".join(COLUMN_ALIASES.get(name, (name,))[:4]) + ", ...]",
        )(function)
    return function


def column_names(options: dict) -> ColumnNames:
    """The ``ColumnNames`` that ``column_options`` collected (as ``<field>_column``)."""
    return ColumnNames(**{name[: -len("_column")]: value for name, value in options.items()})


def warn_if_served_immutable(db_path: str) -> None:
    """Datasette serving a file with ``-i`` reads it as never changing: after a write it
    answers "database disk image is malformed" until it is restarted. Say so before
    writing (seen in the command lines of running processes: Linux only)."""
    for pid in immutable_servers(db_path):
        click.echo(
            f"warning: {db_path} is served by Datasette with -i (immutable), process {pid}: "
            "its pages will fail after this write until it is restarted; serve with -i only "
            "a finished copy",
            err=True,
        )


def immutable_servers(db_path: str) -> list[int]:
    """Process ids of ``datasette`` processes given ``db_path`` with -i/--immutable. An
    immutable reader takes no lock, so SQLite cannot tell; /proc can (elsewhere: none)."""
    target = os.path.realpath(db_path)
    try:
        entries = [entry for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(os.path.join(entry.path, "cwd"))
        except OSError:
            continue
        args = [os.fsdecode(arg) for arg in argv if arg]
        if _runs_datasette(args) and target in _immutable_paths(args, cwd):
            found.append(int(entry.name))
    return found


def _runs_datasette(args: list[str]) -> bool:
    """``datasette ...``, ``python .../datasette ...`` or ``python -m datasette ...``."""
    head = args[:3]
    return any(Path(arg).name == "datasette" for arg in head) or "datasette" in args[2:3]


def _immutable_paths(args: list[str], cwd: str) -> set[str]:
    paths = set()
    for position, arg in enumerate(args):
        if arg in ("-i", "--immutable") and position + 1 < len(args):
            paths.add(args[position + 1])
        elif arg.startswith("--immutable="):
            paths.add(arg.split("=", 1)[1])
    return {os.path.realpath(os.path.join(cwd, path)) for path in paths}
