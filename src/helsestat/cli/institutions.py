"""``helsestat institutions …``: the institution lists (Institusjonslister) and drop lists
(Dropplister) of a statistics year, from the unit registry as of 1 January
(:mod:`helsestat.statistics.institutions`).

    helsestat institutions write --year 2025 --out lists/

writes ``lists/2025/``: the institution workbook (one sheet public, one private), both lists
as CSV, the differences from last year, and the drop lists as one file (CSV, Excel, JSON)
and one CSV per reporting foretak. Everything is made before anything is written; a
registry that makes a list impossible is an error naming the units, and the files of an
earlier run stay as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from helsestat.cli.context import err_console, reference_engine


@click.group()
def institutions() -> None:
    """Institution lists and drop lists of specialist health care, from the unit registry."""


@institutions.command()
@click.option("--year", type=click.IntRange(2002, 2100), required=True, help="Statistics year.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("institusjonslister"),
    show_default=True,
    help="Directory; the year's files go to OUT/YEAR (replaced as a whole).",
)
@click.pass_context
def write(ctx: click.Context, year: int, out: Path) -> None:
    """Write the institution lists, their changes from last year and the drop lists of
    YEAR (the registry as of 1 January of YEAR; the file names dated as SSB's are)."""
    from helsestat.statistics.institutions import bundle_files, write_bundle, year_bundle
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            bundle = year_bundle(session, year)
    finally:
        engine.dispose()
    files = bundle_files(bundle, datetime.now(UTC).date())
    target = write_bundle(files, out / str(year))
    for warning in bundle.warnings:
        err_console.print(f"warning: {warning}", highlight=False, markup=False)
    lists = bundle.lists
    click.echo(
        f"{len(lists.public)} public and {len(lists.private)} private institutions, "
        f"{len(bundle.drops.foretak())} drop lists: {len(files)} files in {target}"
    )
