"""The paths given: checked up front, directories walked in sorted order."""

from __future__ import annotations

import os
import stat
from typing import Collection, Iterable, Iterator

from .records import InputError, PathInput, os_reason


def check_targets(
    paths: PathInput | Iterable[PathInput], suffixes: Collection[str]
) -> list[tuple[str, str, bool]]:
    """Validate every given path up front: (path, display name, is directory); a file
    given must have one of ``suffixes``."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    targets = []
    for given in paths:
        path = os.fspath(given)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not os.path.exists(path):
            raise InputError("no such file or directory", path=path)
        if os.path.isdir(path):
            try:
                with os.scandir(path):
                    pass
            except OSError as error:
                raise InputError(
                    f"cannot list directory ({os_reason(error)})", path=path
                ) from None
            targets.append((path, path, True))
            continue
        suffix = extension(path)
        if suffix not in suffixes:
            raise InputError(
                f"unsupported file type {suffix or '(no extension)'!r}; expected one of "
                + ", ".join(sorted(suffixes)),
                path=path,
            )
        kind = special_file_kind(path)
        if kind:  # reading a FIFO waits for a writer, a device may never end
            raise InputError(f"{kind}, not a regular file", path=path)
        targets.append((path, path, False))
    return targets


def walk(
    directory: str, display: str, suffixes: Collection[str], _visited: set[str] | None = None
) -> Iterator[tuple[str, str] | InputError]:
    """Files with one of ``suffixes`` under ``directory``, depth first in sorted order."""
    visited = _visited if _visited is not None else set()
    if _seen_before(directory, visited):  # a symlink loop
        return
    try:
        entries = _visible_entries(directory)
    except OSError as error:
        yield InputError(f"cannot list directory ({os_reason(error)})", path=display)
        return
    for entry in entries:
        child_display = os.path.join(display, entry.name)
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as error:
            yield InputError(f"cannot read ({os_reason(error)})", path=child_display)
            continue
        if is_dir:
            yield from walk(entry.path, child_display, suffixes, visited)
        elif extension(entry.name) not in suffixes:
            continue
        elif is_file:
            yield entry.path, child_display
        else:  # reported, not read: a FIFO or a device could keep the run waiting forever
            kind = special_file_kind(entry.path) or "not readable as a file"
            yield InputError(f"{kind}, not a regular file", path=child_display)


def directories(directory: str, _visited: set[str] | None = None) -> Iterator[str]:
    """``directory`` and each directory ``walk`` enters under it, parents first (what
    cannot be listed is left for ``walk`` to report)."""
    visited = _visited if _visited is not None else set()
    if _seen_before(directory, visited):
        return
    yield directory
    try:
        entries = _visible_entries(directory)
    except OSError:
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            yield from directories(entry.path, visited)


def _seen_before(directory: str, visited: set[str]) -> bool:
    """Each real directory is entered once (a symlink may point back up the tree)."""
    real = os.path.realpath(directory)
    if real in visited:
        return True
    visited.add(real)
    return False


def _visible_entries(directory: str) -> list[os.DirEntry]:
    """The directory's entries sorted by name, hidden ones (".git", ".DS_Store") left out."""
    with os.scandir(directory) as scan:
        return sorted((entry for entry in scan if not entry.name.startswith(".")),
                      key=lambda entry: entry.name)  # fmt: skip


def special_file_kind(path: str) -> str | None:
    """"a FIFO (named pipe)", "a device" or "a socket" for such a path (through symlinks)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # reported when it is read
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


def extension(path: str) -> str:
    """The suffix that chooses a reader: ".csv" (lower case); a compressed file keeps the
    suffix before ".gz": ".warc.gz"."""
    stem, suffix = os.path.splitext(path.lower())
    if suffix == ".gz":
        return os.path.splitext(stem)[1] + suffix
    return suffix
