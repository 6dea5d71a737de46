"""What every CLI command shares: the settings, read once, the consoles, a progress bar, the
reference database and its snapshot. The root group (:mod:`.commands`) reads the settings; a
command group run on its own (as tests do with ``units``) reads them the first time a command
asks.

>>> import click
>>> ctx = click.Context(click.Command("x"), obj=Context(Settings(demo_mode=True)))
>>> settings_of(ctx).demo_mode
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from helsestat.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from helsestat.reference.snapshot import Reference

err_console = Console(stderr=True)
console = Console()


@dataclass
class Context:
    """What every command receives: the settings, read once."""

    settings: Settings


def settings_of(ctx: click.Context) -> Settings:
    """The settings of this run: read once, by the root group or by the first command that
    asks (then kept on the root context for the others)."""
    root = ctx.find_root()
    settings = getattr(root.obj, "settings", None)
    if not isinstance(settings, Settings):
        settings = load_settings()
        root.obj = Context(settings)
    return settings


def reference_engine(ctx: click.Context) -> Engine:
    """An engine on the reference database (``HELSESTAT_DATABASE_URL``), migrated."""
    from helsestat.store.db.database import create_engine_for, migrate

    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(settings.resolved_database_url)
    migrate(engine)
    return engine


def reference_snapshot(settings: Settings) -> Reference:
    """The reference database's content now: what ingest checks codes against, build
    protects with and preflight checks (migrated first; seeded from the packaged files if it
    never was and ``HELSESTAT_REFERENCE_SEED`` is on, which is said on stderr). A SQLite
    database's snapshot is kept under ``<data dir>/cache/reference`` and read from there
    while the database holds the same content (:mod:`helsestat.reference.snapshot_cache`)."""
    from helsestat.reference.snapshot_cache import load_cached, save_cached

    url, kept = settings.resolved_database_url, settings.data_dir / "cache" / "reference"
    if (cached := load_cached(url, kept)) is not None:
        return cached

    from helsestat.reference.holder import ReferenceHolder
    from helsestat.store.db.database import mask_url

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    holder = ReferenceHolder.from_settings(settings)
    try:
        snapshot = holder.get()
    finally:
        holder.dispose()
    if holder.seeded is not None:
        written = ", ".join(f"{n:,} {kind}" for kind, n in holder.seeded.items())
        err_console.print(
            f"reference database {mask_url(settings.resolved_database_url)} was never "
            f"seeded: wrote the packaged files ({written})",
            highlight=False,
            markup=False,
        )
    save_cached(url, kept, snapshot)
    return snapshot


def progress() -> Progress:
    """A progress bar on stderr (stdout stays the command's output)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


__all__ = [
    "Context",
    "console",
    "err_console",
    "progress",
    "reference_engine",
    "reference_snapshot",
    "settings_of",
]
