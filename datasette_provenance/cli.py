"""Command line: one click group, also reachable as ``datasette provenance``.

Exit codes: 0 success; 1 finished, but some inputs were skipped (each reported on
one line); 2 stopped before writing anything (bad arguments, missing path,
unreadable manifest, strict-mode failure, incompatible database); 3 stopped after
writing part of the work (a full disk, say: what was written is kept, the message
says how much; re-run the same command to finish); 130 interrupted (re-run the same
command to finish: completed articles are kept).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from . import ingest as ingestion
from . import readers, store
from .options import column_names, column_options, one_line_errors, warn_if_served_immutable

PACKAGE = Path(__file__).resolve().parent
DEFAULT_DEMO_DB = "provenance.db"
DEMO_METADATA = PACKAGE / "demo.json"


@click.group()
@click.version_option(package_name="datasette-provenance")
def cli():
    """Trace where news text comes from: wire copies, edits, paraphrases, shared quotes."""


@cli.command(
    help=f"""Load articles from PATHS (files or directories) and tables into the SQLite
    database DB.

    Reads {readers.describe_formats()} files, and SQLite tables named with
    --from-table. A manifest.csv or manifest.json inside a directory is used as its
    manifest. Re-running with the same input adds nothing; an article whose text
    changed is replaced and re-matched.
    """
)
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("paths", nargs=-1)
@click.option(
    "--from-table", "tables", multiple=True, metavar="FILE:TABLE",
    help="Also read the rows of a table (or view) of a SQLite file; repeatable",
)
@click.option("--manifest", type=click.Path(), help="CSV or JSON file adding metadata by article id")
@column_options
@click.option("--no-match", is_flag=True, help="Only store the articles; match later with `match`")
@click.option("--strict", is_flag=True, help="Refuse the whole run if any input is bad")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    help="Processes for cleaning, signing and matching (one process does all the writing)",
)
@click.option(
    "--absolute-paths", is_flag=True,
    help="Store source paths whole (by default relative to the current directory)",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary")
def ingest(db, paths, tables, manifest, no_match, strict, workers, absolute_paths, quiet, **columns):
    if not paths and not tables:
        raise click.UsageError("give PATHS to read, or --from-table FILE:TABLE")
    warn_if_served_immutable(db)
    with one_line_errors():
        summary = ingestion.ingest(
            db,
            paths,
            tables=tables,
            absolute_paths=absolute_paths,
            manifest=manifest,
            columns=column_names(columns),
            run_matching=not no_match,
            strict=strict,
            workers=workers,
            progress=not quiet and sys.stderr.isatty(),
            report=lambda line: click.echo(f"skipped: {line}", err=True),
        )
    if not quiet:
        for line in summary.lines():
            click.echo(line)
    if summary.problems:
        sys.exit(1)


@cli.command(name="match")
@click.argument("db", type=click.Path(exists=True, dir_okay=False))
@click.option("--full", is_flag=True, help="Recompute every match, not only new articles")
@click.option(
    "--rebuild-index", is_flag=True, help="Re-sign every segment with the current parameters"
)
@click.option("--quiet", "-q", is_flag=True)
@click.option(
    "--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
    help="spark: Apache Spark (the [spark] extra and Java); always recomputes every match",
)
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL")
@click.option(
    "--parquet-out", type=click.Path(file_okay=False),
    help="With --engine spark: also write the results as Parquet to this directory",
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    help="Processes that find candidates and align pairs (the same matches as one)",
)
def match_command(db, full, rebuild_index, quiet, engine, spark_master, parquet_out, workers):
    """(Re)compute matches, passages, clusters and lineage in DB. Idempotent."""
    from .matching import update

    warn_if_served_immutable(db)
    if engine == "spark":
        _match_on_spark(db, rebuild_index, spark_master, parquet_out, quiet)
        return
    if parquet_out:
        raise click.UsageError("--parquet-out needs --engine spark")
    with one_line_errors():
        database = store.connect(db)
        try:
            if rebuild_index:
                update.rebuild_index(database)
                full = True
            summary = update.update_matches(
                database, full=full, progress=not quiet and sys.stderr.isatty(), workers=workers
            )
        finally:
            database.conn.close()
    if not quiet:
        click.echo(f"matching: {summary}")


def _match_on_spark(db, rebuild_index, master, parquet_out, quiet) -> None:
    from . import spark

    if rebuild_index:
        raise click.UsageError("--rebuild-index runs on the local engine: drop --engine spark")
    with one_line_errors(spark.SparkUnavailable):
        summary = spark.match_database(db, master=master, parquet_out=parquet_out)
    if not quiet:
        for line in summary.lines():
            click.echo(line)


@cli.command(name="search-index")
@click.argument("db", type=click.Path(exists=True, dir_okay=False))
@click.option("--drop", is_flag=True, help="Remove the full-text index instead")
def search_index(db, drop):
    """Add full-text search of article titles and texts to DB (kept current by later ingests).

    Datasette then shows a search box on the articles table, and the check page finds
    excerpts too short for the similarity index (a quote, a sentence).
    """
    warn_if_served_immutable(db)
    with one_line_errors():
        database = store.connect(db)
        try:
            if drop:
                store.disable_search(database)
                click.echo(f"{db}: full-text index removed")
                return
            rows = store.enable_search(database)
        finally:
            database.conn.close()
    click.echo(f"{db}: full-text index of {rows:,} articles ({store.SEARCH_TABLE})")


@cli.command()
@click.argument("db", type=click.Path(exists=True, dir_okay=False))
def upgrade(db):
    """Bring DB written by an older release to this release's schema, in place.

    Ingest and match do this themselves; run it on a database you only serve.
    """
    warn_if_served_immutable(db)
    with one_line_errors():
        found = store.upgrade(db)
    if found == store.SCHEMA_VERSION:
        click.echo(f"{db}: already at schema version {found}")
    else:
        click.echo(f"{db}: schema version {found} upgraded to {store.SCHEMA_VERSION}")


@cli.command()
@click.option(
    "--set",
    "set_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="A labelled set folder (texts/, pairs.csv, optional manifest.csv); repeatable",
)
@click.option(
    "--all",
    "all_root",
    type=click.Path(exists=True, file_okay=False),
    help="Every labelled set folder inside this one",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON")
@click.option(
    "--fit",
    is_flag=True,
    help="Also fit the derivation model on the sets given (how the shipped coefficients were made)",
)
@click.option(
    "--no-leave-one-out", is_flag=True, help="Skip leave-one-set-out (it aligns every labelled pair)"
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    help="Keep each set's database in this folder, for inspection",
)
def evaluate(set_dirs, all_root, as_json, fit, no_leave_one_out, keep):
    """Score matching against labelled sets of article pairs.

    Per set: precision, recall and F1 of derived vs independent, the share of independent
    pairs called derived, 4-way macro-F1 (sets labelled verbatim/light/heavy), direction
    accuracy, ROC AUC of the derivation probability, story clusters; and leave-one-set-out:
    the derivation model fitted on the other sets, applied to the one left out.
    """
    from . import evaluate as evaluation

    if not set_dirs and not all_root:
        raise click.UsageError("give --set DIR (one or more) or --all DIR")
    with one_line_errors(evaluation.EvaluationError):
        sets = [evaluation.load_set(path) for path in set_dirs]
        if all_root:
            sets += evaluation.find_sets(all_root)
        report = evaluation.run(
            sets,
            leave_one_out=not no_leave_one_out,
            fit=fit,
            workdir=keep,
            progress=None if as_json else lambda line: click.echo(line, err=True),
        )
    click.echo(report.to_json() if as_json else evaluation.format_report(report))


@cli.command()
@click.option("--db", default=DEFAULT_DEMO_DB, show_default=True, type=click.Path(dir_okay=False))
@click.option(
    "--seeds", type=click.Path(exists=True, file_okay=False),
    help="A directory of articles to use instead of the seeds shipped with the package",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the database, do not start Datasette")
def demo(db, seeds, host, port, no_serve):
    """Ingest the seed articles and serve them with Datasette."""
    with one_line_errors():
        summary = ingestion.ingest(  # the seeds' manifest.csv is found in their directory
            db,
            [seeds or str(seeds_dir())],
            report=lambda line: click.echo(f"skipped: {line}", err=True),
            # The packaged seeds are stored as seeds/..., not as a site-packages folder.
            relative_to=None if seeds else str(seeds_dir().parent),
        )
        database = store.connect(db)  # so the check page finds a pasted quote too
        try:
            store.enable_search(database)
        finally:
            database.conn.close()
    for line in summary.lines():
        click.echo(line)
    if no_serve:
        return
    command = [sys.executable, "-m", "datasette", "serve", db, "--host", host, "--port", str(port)]
    command += ["--metadata", str(DEMO_METADATA)]  # the site's title and licence
    click.echo(f"serving http://{host}:{port}/{Path(db).stem}/-/provenance  (Ctrl-C to stop)")
    try:
        sys.exit(subprocess.call(command))
    except KeyboardInterrupt:
        sys.exit(0)


def seeds_dir() -> Path:
    """The five seed articles: package data in an installed wheel (mapped from the project's
    seeds/ when it is built), the checkout's seeds/ in an editable install."""
    packaged = PACKAGE / "seeds"
    return packaged if packaged.is_dir() else PACKAGE.parent / "seeds"


if __name__ == "__main__":
    cli()
