"""``helsestat units …``: the unit registry from the command line. Every command is one
library call on the reference database (``HELSESTAT_DATABASE_URL``, default a SQLite file in
``HELSESTAT_DATA_DIR``), migrated first; errors reach the CLI's one boundary in
:func:`helsestat.cli.main` (``error:``/``hint:``, exit status 2).

    helsestat units load-demo                       # real RHF/HF, SYNTHETIC units below
    helsestat units tree --date 2015-01-01 --depth 2
    helsestat units place activity.parquet --id-column resh_id --date-column dato
    helsestat units export-fhir --out units.json

The command-line user controls the database, so writes run as the registry owner
("system"); ``create-user`` prints a token for the API once.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from helsestat.cli.context import reference_engine, settings_of

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date:
    return value.date() if value is not None else datetime.now(UTC).date()


@click.group()
def units() -> None:
    """The unit registry (like RESH and HSA-katalogen): load the demo tree, look at the tree
    on any date, place reported rows on their HF/RHF/sector, export FHIR, manage users."""


@units.command("load-demo")
@click.option("--seed", type=int, default=None, help="Seed (default: HELSESTAT_SEED).")
@click.option("--hf-limit", type=int, default=None, help="Only the first N hospital trusts.")
@click.option("--lan-limit", type=int, default=None, help="Only the first N Swedish län.")
@click.option(
    "--institutions/--no-institutions",
    default=True,
    show_default=True,
    help="Add the support companies and SYNTHETIC private institutions of the institution lists.",
)
@click.pass_context
def load_demo_cmd(
    ctx: click.Context,
    seed: int | None,
    hf_limit: int | None,
    lan_limit: int | None,
    institutions: bool,
) -> None:
    """Load the demo tree into an empty registry: the real RHF/HF list with organisation
    numbers, a SYNTHETIC tree below with moves, renames and closures, and a SYNTHETIC
    Swedish vårdgivare/vårdenhet tree for the 21 län."""
    from helsestat.store.db.database import session_factory
    from helsestat.synth.units import load_demo

    engine = reference_engine(ctx)
    try:
        with session_factory(engine).begin() as session:
            report = load_demo(
                session,
                seed=seed if seed is not None else settings_of(ctx).seed,
                hf_limit=hf_limit,
                lan_limit=lan_limit,
                institutions=institutions,
            )
    finally:
        engine.dispose()
    click.echo(f"loaded {report.units:,} units and {report.events:,} changes (SYNTHETIC below HF)")


@units.command()
@click.option("--date", "day", type=DATE, default=None, help="Day to look at (default: today).")
@click.option("--root", type=int, default=None, help="Only the subtree under this unit id.")
@click.option("--country", type=click.Choice(["NO", "SE"]), default=None)
@click.option("--depth", type=int, default=None, help="Show this many levels below the roots.")
@click.pass_context
def tree(
    ctx: click.Context,
    day: datetime | None,
    root: int | None,
    country: str | None,
    depth: int | None,
) -> None:
    """Print the tree on a date, indented: id, kind, name (and sector)."""
    from helsestat.reference.units import KIND_LABELS, tree_at
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            nodes = tree_at(session, _day(day), root=root, country=country)
    finally:
        engine.dispose()
    for node in nodes:
        if depth is not None and node.depth > depth:
            continue
        sector = f"  [{node.sector}]" if node.sector else ""
        kind = KIND_LABELS[node.kind]
        click.echo(f"{'  ' * node.depth}{node.id}  {kind}  {node.name}{sector}")
    click.echo(f"{len(nodes):,} units on {_day(day)}", err=True)


@units.command()
@click.argument("unit_id", type=int)
@click.pass_context
def show(ctx: click.Context, unit_id: int) -> None:
    """Print a unit's versions and identifiers."""
    from helsestat.reference.units import get_unit
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            record = get_unit(session, unit_id)
    finally:
        engine.dispose()
    click.echo(f"unit {record.id} ({record.country}), ETag {record.etag}")
    for v in record.versions:
        f = v.fields
        parts = [
            f"{v.valid_from} → {v.valid_to or ''}".ljust(24),
            f.kind,
            f.name,
            f"under {f.parent_id}" if f.parent_id else "",
            f"sector {f.sector}" if f.sector else "",
            f.kommune or f.lan or "",
            ", ".join(f.services),
        ]
        click.echo("  ".join(p for p in parts if p))
    for i in record.identifiers:
        click.echo(
            f"{i.scheme}: {i.value} from {i.valid_from}"
            + (f" to {i.valid_to}" if i.valid_to else "")
        )


@units.command(name="search")
@click.argument("text")
@click.pass_context
def search_cmd(ctx: click.Context, text: str) -> None:
    """Find units by id, HER-/HSA-id or (former) name."""
    from helsestat.reference.units import search
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            hits = search(session, text)
    finally:
        engine.dispose()
    for hit in hits:
        closed = f" (closed {hit.latest.valid_to})" if hit.latest.valid_to else ""
        click.echo(f"{hit.unit_id}  {hit.latest.fields.kind}  {hit.latest.fields.name}{closed}")
    if not hits:
        click.echo(f"no unit matches {text!r}", err=True)


@units.command()
@click.option("--from", "start", type=DATE, required=True, help="Changes after this day.")
@click.option("--to", "end", type=DATE, default=None, help="… up to this day (default: today).")
@click.option("--root", type=int, default=None, help="Only units under this unit id.")
@click.pass_context
def changes(ctx: click.Context, start: datetime, end: datetime | None, root: int | None) -> None:
    """List what took effect between two dates: opened, closed, moved, renamed, changed."""
    from helsestat.reference.units import changes_between
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            found = changes_between(session, start.date(), _day(end), root=root)
    finally:
        engine.dispose()
    for c in found:
        detail = f" {c.field}: {c.before} → {c.after}" if c.field else ""
        click.echo(f"{c.on}  {c.unit_id}  {c.what}{detail}  ({c.name})")


@units.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--id-column", default="unit_id", show_default=True, help="Column of unit ids.")
@click.option("--date-column", default="date", show_default=True, help="Column of dates.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Parquet file to write (default: FILE.placed.parquet).",
)
@click.pass_context
def place(
    ctx: click.Context, file: Path, id_column: str, date_column: str, out: Path | None
) -> None:
    """Place the rows of a Parquet or CSV FILE: add the RHF, HF, behandlingssted, sector
    (and vårdgivare, vårdenhet, län) valid on each row's date, and a status per row.
    Unknown ids and ids not valid on the date are reported, never guessed."""
    from helsestat.reference.units.placing import as_of_table
    from helsestat.reference.units.placing_bulk import place_file
    from helsestat.store.db.database import session_factory

    settings = settings_of(ctx)
    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            flat = as_of_table(session)
    finally:
        engine.dispose()
    target = out or file.with_name(f"{file.stem}.placed.parquet")
    report = place_file(
        file,
        target,
        flat,
        id_column=id_column,
        date_column=date_column,
        threads=settings.threads or None,
    )
    for line in report.lines():
        click.echo(line)
    click.echo(f"wrote {target}")


@units.command("as-of-table")
@click.argument("out", type=click.Path(path_type=Path))
@click.pass_context
def as_of_table_cmd(ctx: click.Context, out: Path) -> None:
    """Write the flattened as-of table (each unit's RHF/HF/behandlingssted/sector per
    validity period) to a Parquet file, for joins in other tools."""
    import pyarrow.parquet as pq

    from helsestat.reference.units.placing import as_of_table
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            flat = as_of_table(session)
    finally:
        engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(flat, out)
    click.echo(f"wrote {flat.num_rows:,} rows to {out}")


@units.command("export-fhir")
@click.option("--date", "day", type=DATE, default=None, help="Day to export (default: today).")
@click.option("--country", type=click.Choice(["NO", "SE"]), default=None)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="File (default: stdout)."
)
@click.pass_context
def export_fhir(
    ctx: click.Context, day: datetime | None, country: str | None, out: Path | None
) -> None:
    """Export the units valid on a date as FHIR R4 Organization resources (a Bundle),
    validated with fhir.resources."""
    from helsestat.reference.units.fhir import export_bundle
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine)() as session:
            bundle: dict[str, Any] = export_bundle(session, _day(day), country=country)
    finally:
        engine.dispose()
    text = json.dumps(bundle, ensure_ascii=False, indent=1)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(bundle['entry']):,} Organization resources to {out}")


@units.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["owner", "admin", "editor"]), required=True)
@click.option(
    "--scope",
    "scope_unit_id",
    type=int,
    default=None,
    help="Unit id whose subtree an admin or editor may edit.",
)
@click.pass_context
def create_user_cmd(ctx: click.Context, name: str, role: str, scope_unit_id: int | None) -> None:
    """Create a registry user and print its API token (once: only a hash is stored)."""
    from helsestat.reference.units import SYSTEM
    from helsestat.reference.units.auth import create_user
    from helsestat.store.db.database import session_factory

    engine = reference_engine(ctx)
    try:
        with session_factory(engine).begin() as session:
            issued = create_user(session, SYSTEM, name, role, scope_unit_id)
    finally:
        engine.dispose()
    click.echo(f"created {role} '{name}'" + (f" for unit {scope_unit_id}" if scope_unit_id else ""))
    click.echo(f"token (shown once): {issued.token}")


__all__ = ["units"]
