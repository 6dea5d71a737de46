"""CLI commands of the reference registries, registered on the ``helsestat`` group by
``cli.py``:

    helsestat preflight --year 2025          # every code list valid for the year? exit 2 if not
    helsestat reference load                 # the packaged files into the reference database
    helsestat reference load FILE…           # KLASS bundles and tariff list files
    helsestat klass export --out DIR [--id 131 …]   # KLASS bundles (the API's JSON shape)

The reference database (``HELSESTAT_DATABASE_URL``) is the one source of truth: these
commands read and write it, and a server running on the same database serves what they load
from its next request. Each command is one library call; errors are raised as
:class:`~helsestat.errors.HelsestatError` and shown by the CLI's one error boundary
(``cli.main``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from helsestat.cli.context import reference_engine, reference_snapshot, settings_of


@click.command()
@click.option("--year", type=int, required=True, help="The statistics year, e.g. 2025.")
@click.option(
    "--run",
    "runs",
    multiple=True,
    help="Only this production run (a statistic, or 'speshelse'); repeatable.",
)
@click.pass_context
def preflight(ctx: click.Context, year: int, runs: tuple[str, ...]) -> None:
    """Check that every code list the production runs depend on has a version valid for the
    whole YEAR in the reference database, and that every correspondence covers the year and
    maps every code of its source version; list them all, fail naming each list and code
    that does not."""
    from helsestat.statistics.preflight import preflight as run_preflight

    report = run_preflight(year, reference_snapshot(settings_of(ctx)), runs=runs or None)
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"{mark} {check.run:<10} {check.subject}: {check.detail}")
    report.raise_for_failures()
    click.echo(f"preflight {year}: all {len(report.checks)} code lists and correspondences valid")


@click.group()
def reference() -> None:
    """The reference registries: classifications, tariff lists, catalogue, geography."""


@reference.command(name="load")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def reference_load(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Write reference data into the reference database (migrating it first).

    Without FILES: the packaged classifications, correspondences, tariff lists, data source
    catalogue and geography (what a new database is seeded with). With FILES: each a KLASS
    bundle (the shape 'klass export' writes; checked with the classifications the database
    holds) or a tariff list named as the packaged ones (takstkoder.csv, nlkkoder.json, …),
    which replaces that list; a database never seeded is seeded first. Prints what was
    written, then what the database holds. A server on the same database serves the new
    content from its next request."""
    from helsestat.reference.files import load_files
    from helsestat.reference.persist import holdings
    from helsestat.reference.seed import load_reference, seed_if_new
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    held: dict[str, int] = {}
    try:
        if not files:
            counts = load_reference(engine)
        else:
            if seed_if_new(engine) is not None:
                click.echo("the database was never seeded: wrote the packaged files first")
            counts = load_files(engine, files)
            with session_factory(engine)() as session:
                held = holdings(session)
    finally:
        engine.dispose()
    for kind, n in counts.items():
        click.echo(f"{kind}: {n:,}")
    if held:
        click.echo("the reference database holds:")
        for kind, n in held.items():
            click.echo(f"  {kind}: {n:,}")


@click.group()
def klass() -> None:
    """KLASS bundles: classifications in the KLASS API's JSON shape."""


@klass.command(name="export")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write klass_<id>.json into.",
)
@click.option("--id", "ids", type=int, multiple=True, help="Only this classification.")
@click.option(
    "--base-url",
    default="https://data.ssb.no/api/klass/v1",
    show_default=True,
    help="Base URL written into the documents' links.",
)
@click.pass_context
def klass_export(ctx: click.Context, out: Path, ids: tuple[int, ...], base_url: str) -> None:
    """Write classifications of the reference database (all, or --id) as KLASS bundles: the
    classification, version and correspondence-table documents of the KLASS API, one file
    per classification (edit one and load it back with 'reference load')."""
    from helsestat.reference.klass_json import bundle_document

    reg = reference_snapshot(settings_of(ctx)).registry
    chosen = ids or tuple(sorted(reg.classifications))
    out.mkdir(parents=True, exist_ok=True)
    for cid in chosen:
        doc = bundle_document(reg, cid, base_url.rstrip("/"))
        path = out / f"klass_{cid}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        click.echo(str(path))


#: The commands ``cli.py`` registers: ``for c in COMMANDS: cli.add_command(c)``.
COMMANDS = (preflight, reference, klass)

__all__ = ["COMMANDS", "klass", "preflight", "reference"]
