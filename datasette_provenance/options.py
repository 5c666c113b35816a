"""Command-line pieces shared by the two entry points: ``cli`` and the Spark engine's own
``python -m datasette_provenance.spark``.

``column_options`` adds the ``--<field>-column`` options and ``column_names`` reads them
back; ``one_line_errors`` turns the failures meant for the user into one line on
stderr and an exit code (see ``cli`` for the codes), never a traceback.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import contextmanager

import click

from .ingest import IngestAborted
from .matching.index import IndexParamsError
from .parameters import ParamsError, SettingsError
from .readers import COLUMN_ALIASES, ColumnNames, InputError
from .store import SchemaError, StoppedAfterWriting

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
    except StoppedAfterWriting as error:  # a disk filled up, say: what was written is kept
        click.echo(f"error: {str(error).splitlines()[0]}", err=True)
        sys.exit(3)
    except USER_ERRORS + more as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        click.echo(f"error: {message}", err=True)
        sys.exit(2)


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
