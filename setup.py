"""Packaging is in pyproject.toml; this file only adds the optional native extension.

``datasette_provenance.matching.native`` signs a segment and computes its LSH buckets in
one call. It is optional: where it cannot be compiled (no C compiler), the install still
succeeds and the numpy code, which gives the same results bit for bit, is used instead.
"""

import os
import sys

from setuptools import Extension, setup

NATIVE = Extension(
    "datasette_provenance.matching.native",
    ["datasette_provenance/matching/native.c"],
    extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
    optional=True,
)

# A second editable install of the same checkout (tests/run.sh makes two virtual
# environments) uses the extension the first one built in place: building it again would
# overwrite the file while the first environment's tests may be loading it.
setup(ext_modules=[] if os.environ.get("PROVENANCE_USE_BUILT_NATIVE") else [NATIVE])
