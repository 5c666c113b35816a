"""Command line: one click group, also reachable as ``datasette provenance``."""

import click


@click.group()
@click.version_option(package_name="datasette-provenance")
def cli():
    """Trace where news text comes from."""
