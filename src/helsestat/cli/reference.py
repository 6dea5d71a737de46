"""CLI commands of the reference registries, registered on the ``helsestat`` group by
``cli.py``:

    helsestat preflight --year 2025          # every code list valid for the year? exit 2 if not
    helsestat reference load [BUNDLE.json…]  # write the registries into the reference database
    helsestat klass export --out DIR [--id 131 …]   # KLASS bundles (the API's JSON shape)

Each command is one library call; errors are raised as :class:`~helsestat.errors.
HelsestatError` and shown by the CLI's one error boundary (``cli.main``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from helsestat.cli.context import settings_of
from helsestat.reference.classifications import Registry


@click.command()
@click.option("--year", type=int, required=True, help="The statistics year, e.g. 2025.")
@click.option(
    "--run",
    "runs",
    multiple=True,
    help="Only this production run (a statistic, or 'speshelse'); repeatable.",
)
def preflight(year: int, runs: tuple[str, ...]) -> None:
    """Check that every code list and correspondence the production runs depend on has a
    version valid for the whole YEAR; list them all, fail naming each one that has not."""
    from helsestat.statistics.preflight import preflight as run_preflight

    report = run_preflight(year, runs=runs or None)
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"{mark} {check.run:<10} {check.subject}: {check.detail}")
    report.raise_for_failures()
    click.echo(f"preflight {year}: all {len(report.checks)} code lists and correspondences valid")


@click.group()
def reference() -> None:
    """The reference registries: classifications, tariff lists, catalogue."""


@reference.command(name="load")
@click.argument("bundles", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def reference_load(ctx: click.Context, bundles: tuple[Path, ...]) -> None:
    """Write the shipped classifications, correspondences, tariff lists, data source
    catalogue and population into the reference database (migrating it first). BUNDLES are
    extra KLASS bundle files (the shape 'klass export' writes), loaded after the shipped ones
    and checked with them."""
    from helsestat.reference.persist import load_reference, save_registry
    from helsestat.store.db.database import create_engine_for, migrate, session_factory

    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(settings.resolved_database_url)
    try:
        migrate(engine)
        extra = _extra_registry(bundles) if bundles else None
        counts = load_reference(engine)
        if extra is not None:
            with session_factory(engine).begin() as session:
                save_registry(session, extra)
            counts["classifications from files"] = len(bundles)
    finally:
        engine.dispose()
    for kind, n in counts.items():
        click.echo(f"{kind}: {n:,}")


def _extra_registry(bundles: tuple[Path, ...]) -> Registry:
    """The classifications of ``bundles`` (and their tables), checked together with the
    shipped ones they may refer to."""
    from helsestat.reference.klass_data import load_registry
    from helsestat.reference.klass_json import check_tables, parse_bundle

    shipped = load_registry()
    classes = dict(shipped.classifications)
    tables = dict(shipped.correspondences)
    sources: dict[int, tuple[str, int]] = {}
    new_ids: list[int] = []
    for path in bundles:
        cls, cls_tables = parse_bundle(path.read_text(encoding="utf-8"), path.name)
        classes[cls.id] = cls
        new_ids.append(cls.id)
        for i, t in enumerate(cls_tables):
            tables[t.id] = t
            sources[t.id] = (path.name, i)
    merged = Registry.of(classes.values(), tables.values())
    check_tables(merged, sources)
    keep_versions = {v.id for cid in new_ids for v in merged.classifications[cid].versions}
    return Registry.of(
        [merged.classifications[c] for c in new_ids],
        [t for t in merged.correspondences.values() if t.source_version in keep_versions],
    )


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
def klass_export(out: Path, ids: tuple[int, ...], base_url: str) -> None:
    """Write classifications (all, or --id) as KLASS bundles: the classification, version
    and correspondence-table documents of the KLASS API, one file per classification."""
    from helsestat.reference.klass_data import load_registry
    from helsestat.reference.klass_json import bundle_document

    reg = load_registry()
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
