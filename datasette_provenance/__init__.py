"""datasette-provenance: trace where news text comes from."""

__version__ = "0.1.0"
