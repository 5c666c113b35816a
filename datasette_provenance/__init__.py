"""Datasette hooks for datasette-provenance (kept thin: pages live in views.py)."""
