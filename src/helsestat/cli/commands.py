"""The ``helsestat`` command: one command per stage verb, plus demo and serve.

Settings are read once here (``load_settings``) and passed down; this is the CLI's single
error boundary: a :class:`~helsestat.errors.HelsestatError` becomes ``error: …`` and
``hint: …`` on stderr with exit status 2, never a traceback.

    helsestat demo                 # synthetic data → ingest → build → serve on :8000
    helsestat ingest claims FILE   # validate, pseudonymise and store an extract
    helsestat build                # build every statistic into a new release
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from helsestat.cli.context import (
    Context,
    console,
    err_console,
    progress,
    reference_engine,
    settings_of,
)
from helsestat.errors import HelsestatError
from helsestat.settings import Settings, load_settings

if TYPE_CHECKING:
    from helsestat.reference.snapshot import Reference


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="helsestat")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """helsestat: official statistics about health services, from record-level extracts to
    a protected open-data API.

    Settings come from HELSESTAT_* environment variables (see docs/settings.md).
    """
    if ctx.resilient_parsing or "--help" in sys.argv or "-h" in sys.argv:
        return
    demo = ctx.invoked_subcommand == "demo"
    ctx.obj = Context(load_settings(**({"demo_mode": True} if demo else {})))


@cli.command()
@click.argument("kind")
def spec(kind: str) -> None:
    """Print the expected columns and rules of an extract KIND (e.g. claims)."""
    from helsestat.validate import spec_for

    click.echo(spec_for(kind).describe())


def _report_batches(batches: list[Any]) -> None:
    table = Table(title="ingest report")
    for col in ("file", "rows in", "accepted", "quarantined", "note"):
        table.add_column(col, justify="right" if col not in ("file", "note") else "left")
    for b in batches:
        r = b.report
        table.add_row(
            r.source,
            f"{r.rows_in:,}",
            f"{r.accepted:,}",
            f"{r.quarantined:,}",
            "already stored: nothing changed" if b.already_stored else "stored",
        )
    console.print(table)
    rules = Table(title="quarantined rows per rule")
    rules.add_column("file")
    rules.add_column("rule")
    rules.add_column("rows", justify="right")
    for b in batches:
        for rule, count in b.report.by_rule:
            rules.add_row(b.report.source, rule, f"{count:,}")
    if rules.row_count:
        console.print(rules)


@cli.command()
@click.argument("kind")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, kind: str, files: tuple[Path, ...]) -> None:
    """Validate, pseudonymise and store extract FILES of KIND (CSV or Parquet).

    Every row is either stored or quarantined with its reasons; storing a file twice is a
    no-op. Codes are checked against the reference database's code lists."""
    from helsestat.build import ingest_file
    from helsestat.cli.context import reference_snapshot
    from helsestat.store.lake import Lake

    settings = settings_of(ctx)
    key = settings.key  # refuses before any file is read when there is none
    lake = Lake(settings.data_dir)
    reference = reference_snapshot(settings)
    batches = []
    with progress() as bar:
        task = bar.add_task(f"ingesting {kind}", total=len(files))
        for path in files:
            batches.append(ingest_file(path, kind, key, lake, reference))
            bar.advance(task)
    _report_batches(batches)


@cli.command()
@click.argument("kind")
@click.option("--withdrawn", is_flag=True, help="Also list the batches withdrawn.")
@click.pass_context
def batches(ctx: click.Context, kind: str, withdrawn: bool) -> None:
    """List the stored batches (ingested files) of KIND with their checksums."""
    from helsestat.build.withdraw import list_batches
    from helsestat.store.lake import Lake

    found = list_batches(Lake(settings_of(ctx).data_dir), kind, withdrawn=withdrawn)
    table = Table(title=f"{kind} batches")
    for col in ("checksum", "file", "accepted", "quarantined", "months", "withdrawn"):
        table.add_column(col, justify="right" if col in ("accepted", "quarantined") else "left")
    for b in found:
        months = ", ".join(b.partitions[:3]) + (" …" if len(b.partitions) > 3 else "")
        gone = "" if b.withdrawn is None else f"{b.withdrawn}: {b.reason}"
        table.add_row(
            b.checksum[:12], b.source, f"{b.accepted:,}", f"{b.quarantined:,}", months, gone
        )
    console.print(table)
    if not found:
        console.print(f"no {kind} batches stored; [bold]helsestat ingest {kind} FILE[/bold]")


@cli.command()
@click.argument("kind")
@click.argument("checksum")
@click.option("--reason", required=True, help="Why the batch is withdrawn (kept with it).")
@click.pass_context
def withdraw(ctx: click.Context, kind: str, checksum: str, reason: str) -> None:
    """Withdraw a stored batch of KIND by its CHECKSUM (a prefix of 8 or more digits, see
    `helsestat batches`). The next build publishes without its rows; earlier releases stay
    as published, and the file can be ingested again."""
    from helsestat.build.withdraw import withdraw_batch
    from helsestat.store.lake import Lake

    data_dir = settings_of(ctx).data_dir
    done = withdraw_batch(
        Lake(data_dir),
        kind,
        checksum,
        reason,
        waiting=lambda: console.print(f"waiting for the build running on {data_dir} to finish"),
    )
    if done.already_withdrawn:
        console.print(
            f"{done.source} ({done.checksum[:12]}) was withdrawn already, {done.withdrawn}: "
            f"{done.reason}"
        )
        return
    console.print(
        f"withdrew {done.source} ({done.checksum[:12]}, {done.accepted:,} rows, months "
        f"{', '.join(done.partitions) or 'none'}); [bold]helsestat build[/bold] publishes "
        "without it"
    )


@cli.command(name="validate")
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def validate_cmd(ctx: click.Context, kind: str, file: Path) -> None:
    """Check an extract FILE of KIND without storing it; print the report per rule.

    Rows are checked as `helsestat ingest` would check them, against what earlier files of
    KIND stored too (a line stored before; for sob, the start of an ärende)."""
    from helsestat.build import check_file
    from helsestat.cli.context import reference_snapshot
    from helsestat.store.lake import Lake
    from helsestat.validate import spec_for

    settings = settings_of(ctx)
    spec_for(kind)  # an unknown kind is refused before anything is opened
    key = settings.key  # refuses before the file is read when there is none
    reference = reference_snapshot(settings)
    clean = check_file(file, kind, key, Lake(settings.data_dir), reference)
    r = clean.report
    click.echo(
        f"{r.source}: {r.rows_in:,} rows: {r.accepted:,} accepted, {r.quarantined:,} quarantined"
    )
    for rule, count in r.by_rule:
        click.echo(f"  {rule}: {count:,}")


@cli.command()
@click.option(
    "--release", "release_id", default=None, help="Id of the new release (default: a timestamp)."
)
@click.pass_context
def build(ctx: click.Context, release_id: str | None) -> None:
    """Build every statistic from the stored extracts into a new release and make it current."""
    _build(settings_of(ctx), release_id)


def _build(
    settings: Settings, release_id: str | None = None, reference: Reference | None = None
) -> None:
    from helsestat.aggregate import engine_for
    from helsestat.build import build as build_release
    from helsestat.cli.context import reference_snapshot
    from helsestat.store.lake import Lake

    reference = reference or reference_snapshot(settings)
    engine = engine_for(settings)
    with progress() as bar:
        task = bar.add_task("building statistics", total=None)
        release = build_release(
            Lake(settings.data_dir),
            engine,
            mode=settings.protection_mode,
            threshold=settings.suppression_threshold,
            reference=reference,
            release_id=release_id,
            progress=lambda msg: bar.update(task, description=msg),
        )
        bar.update(task, total=1, completed=1, description="built")
    console.print(f"release [bold]{release.id}[/bold]: {len(release.tables)} tables")


@cli.command()
@click.pass_context
def releases(ctx: click.Context) -> None:
    """List the releases kept in the data directory, marking the current one."""
    from helsestat.store.lake import Lake

    data_dir = settings_of(ctx).data_dir
    lake = Lake(data_dir)
    kept = lake.list_releases()
    if not kept:
        where = data_dir.resolve() / "releases"
        click.echo(f"no releases in {where}", err=True)
        click.echo(
            "hint: build one with 'helsestat demo' (synthetic data) or 'helsestat ingest "
            "claims FILE' then 'helsestat build'; the data directory is HELSESTAT_DATA_DIR "
            "(default ./var)",
            err=True,
        )
        return
    current = lake.current()
    for rel in kept:
        mark = "*" if current and rel.id == current.id else " "
        click.echo(f"{mark} {rel.id}  {rel.created}  {len(rel.tables)} tables")


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the reference database schema (Alembic migrations)."""
    from helsestat.store.db.database import migrate as run_migrations

    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run_migrations(settings.resolved_database_url)
    click.echo("reference database is up to date")


@cli.command()
@click.argument("kind", type=click.Choice(["claims", "sob", "npr_episode"]))
@click.option(
    "--rows",
    type=int,
    default=10_000,
    show_default=True,
    help="Number of rows to generate (sob: about as many).",
)
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Output file (.csv or .parquet)."
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "cp1252"]),
    default="utf-8",
    show_default=True,
    help="CSV encoding.",
)
@click.option(
    "--delimiter",
    type=click.Choice([";", ","]),
    default=";",
    show_default=True,
    help="CSV separator.",
)
@click.pass_context
def synth(
    ctx: click.Context, kind: str, rows: int, out: Path, encoding: str, delimiter: str
) -> None:
    """Generate a SYNTHETIC extract of KIND (seeded by HELSESTAT_SEED).

    sob events name the Swedish units of the demo unit registry of the same seed
    (`helsestat units load-demo` loads it), so they pass its checks; npr_episode
    episodes are reported under the RESH ids of its Norwegian units."""
    _synth(settings_of(ctx), rows, out, encoding, delimiter, kind=kind)


def _synth(
    settings: Settings,
    rows: int,
    out: Path,
    encoding: str = "utf-8",
    delimiter: str = ";",
    *,
    kind: str = "claims",
) -> None:
    from helsestat.synth.claims import generate_claims
    from helsestat.synth.core import write_csv, write_parquet
    from helsestat.synth.npr import generate_npr
    from helsestat.synth.sob import generate_sob

    with progress() as bar:
        task = bar.add_task(f"generating {out.name} (synthetic)", total=rows)
        # sob: the unit plan of the same seed as the data, as the demo registry has it
        batches = (
            generate_sob(rows, settings.seed)
            if kind == "sob"
            else generate_npr(rows, settings.seed)
            if kind == "npr_episode"
            else generate_claims(rows, settings.seed)
        )
        if out.suffix == ".parquet":
            write_parquet(batches, out, progress=lambda n: bar.advance(task, n))
        else:
            write_csv(
                batches,
                out,
                delimiter=delimiter,
                encoding=encoding,
                progress=lambda n: bar.advance(task, n),
            )


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: HELSESTAT_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: HELSESTAT_PORT).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the open-data API and the dashboard."""
    _serve(settings_of(ctx), host, port)


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from helsestat.api import create_app
    from helsestat.api.admission import serving
    from helsestat.api.edge import http_protocol

    host = host or settings.host
    port = port or settings.port
    console.print(f"serving the API and dashboard on http://{host}:{port} (Ctrl+C stops)")
    log_level = settings.log_level.lower()
    if settings.workers == 1:
        app = serving(create_app(settings))
        uvicorn.run(app, host=host, port=port, log_level=log_level, http=http_protocol())
        return
    _serve_workers(settings, host, port, log_level)


def _serve_workers(settings: Settings, host: str, port: int, log_level: str) -> None:
    """Several worker processes, each with its own socket on the port
    (:mod:`helsestat.api.workers`). Workers read the same settings from the environment."""
    import os

    import uvicorn

    from helsestat.api.edge import http_protocol
    from helsestat.api.workers import run_workers

    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None:
            secret = getattr(value, "get_secret_value", None)
            os.environ[f"HELSESTAT_{name.upper()}"] = str(secret() if secret else value)
    config = uvicorn.Config(
        "helsestat.api:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        log_level=log_level,
        http=http_protocol(),
    )
    run_workers(config, host, port, settings.workers)


@cli.command()
@click.option("--no-serve", is_flag=True, help="Only generate, ingest and build; do not serve.")
@click.option(
    "--rows",
    type=int,
    default=None,
    help="Synthetic claim lines (default: HELSESTAT_SYNTHETIC_SCALE).",
)
@click.option(
    "--sob-events",
    type=int,
    default=300_000,
    show_default=True,
    help="Synthetic 1177 Stöd och behandling events (about as many).",
)
@click.option(
    "--npr-episodes",
    type=int,
    default=200_000,
    show_default=True,
    help="Synthetic NPR episodes (stays and outpatient contacts at the demo units).",
)
@click.option("--host", default=None, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port to listen on.")
@click.pass_context
def demo(
    ctx: click.Context,
    no_serve: bool,
    rows: int | None,
    sob_events: int,
    npr_episodes: int,
    host: str | None,
    port: int | None,
) -> None:
    """Generate SYNTHETIC claims, 1177 Stöd och behandling events, NPR episodes and a
    population by grunnkrets (the catchment areas), ingest them, build every statistic,
    then serve.

    Runs in demo mode (the public demo pseudonymisation key): never use it for real data.
    A reference database that was never seeded gets the packaged reference files first; an
    empty unit registry gets the demo tree (the SOB events name its Swedish units, the NPR
    episodes its Norwegian ones)."""
    from helsestat.build import ingest_file
    from helsestat.cli.context import reference_snapshot
    from helsestat.store.lake import Lake

    settings = settings_of(ctx)
    rows = rows or settings.synthetic_scale
    out = settings.data_dir / "synthetic" / f"claims_seed{settings.seed}_{rows}.csv"
    reference = reference_snapshot(settings)
    if not out.exists():
        _synth(settings, rows, out)
    batch = ingest_file(out, "claims", settings.key, Lake(settings.data_dir), reference)
    _demo_units(ctx)
    reference = reference_snapshot(settings)  # now with the demo units
    sob = settings.data_dir / "synthetic" / f"sob_seed{settings.seed}_{sob_events}.csv"
    if not sob.exists():
        _synth(settings, sob_events, sob, kind="sob")
    sob_batch = ingest_file(sob, "sob", settings.key, Lake(settings.data_dir), reference)
    npr = settings.data_dir / "synthetic" / f"npr_episode_seed{settings.seed}_{npr_episodes}.csv"
    if not npr.exists():
        _synth(settings, npr_episodes, npr, kind="npr_episode")
    npr_batch = ingest_file(npr, "npr_episode", settings.key, Lake(settings.data_dir), reference)
    population = settings.data_dir / "synthetic" / f"folkemengde_seed{settings.seed}.parquet"
    if not population.exists():
        from helsestat.synth.catchment import write_population

        console.print(f"generating {population.name} (synthetic population by grunnkrets)")
        write_population(population, settings.seed)
    population_batch = ingest_file(
        population, "folkemengde", settings.key, Lake(settings.data_dir), reference
    )
    _report_batches([batch, sob_batch, npr_batch, population_batch])
    _build(settings, reference=reference)
    console.print(
        f"[bold]Data directory:[/bold] {settings.data_dir.resolve()}\n"
        "[bold]The CLI:[/bold] .venv/bin/helsestat --help (or 'source .venv/bin/activate', "
        "then helsestat …), e.g. .venv/bin/helsestat releases"
    )
    if not no_serve:
        _serve(settings, host, port)


def _demo_units(ctx: click.Context) -> None:
    """Load the demo unit registry (SYNTHETIC below the real RHF/HF) when it is empty."""
    from sqlalchemy import func, select

    from helsestat.store.db.database import session_factory
    from helsestat.store.db.units_schema import Unit
    from helsestat.synth.units import load_demo

    engine = reference_engine(ctx)
    try:
        with session_factory(engine).begin() as session:
            if session.scalar(select(func.count()).select_from(Unit)):
                return
            report = load_demo(session, seed=settings_of(ctx).seed, institutions=True)
        console.print(f"unit registry: {report.units:,} units (demo tree, SYNTHETIC below HF)")
    finally:
        engine.dispose()


def _register_subcommands() -> None:
    from helsestat.cli.institutions import institutions
    from helsestat.cli.reference import COMMANDS
    from helsestat.cli.units import units

    for command in (*COMMANDS, units, institutions):
        cli.add_command(command)


_register_subcommands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI inside its one error boundary."""
    try:
        cli.main(args=argv, standalone_mode=False, prog_name="helsestat")
    except HelsestatError as exc:
        # a message names files, lines and columns; a file name can hold an identifier
        from helsestat.validate.identifier_scan import redact_identifiers as clean

        err_console.print(
            f"error: {clean(exc.message)}", highlight=False, markup=False, style="red"
        )
        if exc.hint:
            err_console.print(f"hint: {clean(exc.hint)}", highlight=False, markup=False)
        return 2
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
