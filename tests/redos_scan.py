"""Every compiled regular expression of the package, for the ReDoS analyser test."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Iterator

import datasette_provenance


def package_patterns() -> Iterator[tuple[str, re.Pattern]]:
    """(module.name, pattern) for each ``re.Pattern`` a module holds, alone or in a tuple."""
    for info in pkgutil.walk_packages(datasette_provenance.__path__, "datasette_provenance."):
        if info.name.endswith(".spark"):
            continue  # needs pyspark; its one pattern reads `java -version`, not text
        module = importlib.import_module(info.name)
        for name, value in sorted(vars(module).items()):
            values = value if isinstance(value, tuple) else (value,)
            for position, item in enumerate(values):
                if isinstance(item, re.Pattern):
                    suffix = f"[{position}]" if isinstance(value, tuple) else ""
                    yield f"{info.name}.{name}{suffix}", item
