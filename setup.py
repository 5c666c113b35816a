"""Packaging is in pyproject.toml; this file only adds the optional native extension.

``datasette_provenance.matching.native`` signs a segment and computes its LSH buckets in
one call. It is optional: where it cannot be compiled (no C compiler), the install still
succeeds and the numpy code, which gives the same results bit for bit, is used instead.
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "datasette_provenance.matching.native",
            ["datasette_provenance/matching/native.c"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
            optional=True,
        )
    ]
)
