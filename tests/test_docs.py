"""The README documents every command and every option (as sqlite-utils' tests/test_docs.py does).

Each command has a section headed ``### datasette-provenance <command>`` in the README's
command reference, and that section names every option of the command.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from datasette_provenance.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def section(command: str) -> str | None:
    """The README text under ``### datasette-provenance <command>``, up to the next heading."""
    found = re.search(
        rf"^### datasette-provenance {re.escape(command)}\n(.*?)(?=^#)", README, re.M | re.S
    )
    return found.group(1) if found else None


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_section(command):
    assert section(command) is not None, f"README has no '### datasette-provenance {command}'"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_documented_in_its_commands_section(command):
    text = section(command) or ""
    options = [
        name
        for param in cli.commands[command].params
        if isinstance(param, click.Option)
        for name in param.opts
        if name.startswith("--")
    ]
    missing = [name for name in options if not re.search(rf"`{re.escape(name)}\b", text)]
    assert not missing, f"README's section on `{command}` does not name: {', '.join(missing)}"


def test_the_section_names_are_real_commands():
    documented = re.findall(r"^### datasette-provenance (\S+)", README, re.M)
    assert sorted(documented) == COMMANDS


def test_the_serve_and_publish_lines_need_no_metadata_file():
    """The plugin supplies queries, descriptions and hidden tables: a reader copying the
    README's datasette commands must not need a metadata file the project does not ship."""
    lines = [
        line
        for line in README.splitlines()
        if re.match(r"\s*datasette (-i|serve|publish)\b", line)
    ]
    assert lines
    for line in lines:
        assert not re.search(r"(^|\s)(-m|--metadata)\s", line), line
