"""The packaged files under ``src/helsestat/data/`` seed the reference database; nothing else
reads them to serve or check data (synthetic data generators and the bundle builder aside).

- :func:`packaged_reference` — the packaged files as one
  :class:`~helsestat.reference.snapshot.Reference`;
- :func:`load_reference` — write them into a database, in one transaction recorded in the
  audit log (``helsestat reference load``);
- :func:`seed_if_new` — the same, but only into a database that was never seeded, under the
  database's write lock so that processes starting together seed it once (a first
  ``helsestat serve``, ``build`` or ``demo`` on an empty database, and the tests).

>>> from helsestat.store.db.database import create_engine_for, migrate
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> seed_if_new(engine)["classifications"]
22
>>> seed_if_new(engine) is None  # seeded already: left as it is
True
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from helsestat.reference import state
from helsestat.reference.catalog import packaged_data_sources
from helsestat.reference.geography import Geography, packaged_geography
from helsestat.reference.klass_data import packaged_registry
from helsestat.reference.persist import write_reference
from helsestat.reference.snapshot import Reference
from helsestat.reference.sweden import packaged_lan_population
from helsestat.reference.tariff_files import packaged_tariffs
from helsestat.store.db.audit import record_audit
from helsestat.store.db.database import exclusive_session, session_factory

#: Key of the PostgreSQL advisory lock that serialises seeding.
_SEED_LOCK = 0x68657264  # "herd"


@cache
def packaged_reference() -> Reference:
    """The packaged classifications, tariff lists, geography and catalogue, read once per
    process; the geography's kommune structures are the packaged KLASS 131, as they will be
    once written."""
    registry = packaged_registry()
    geo = packaged_geography()
    geography = Geography.from_registry(registry, geo.history, geo.population_2024, geo.recoding)
    return Reference(
        registry,
        packaged_tariffs(),
        geography,
        packaged_data_sources(),
        lan_population=packaged_lan_population(),
    )


def _write(session: Session, actor: str) -> dict[str, int]:
    counts = write_reference(session, packaged_reference())
    state.mark_seeded(session)
    record_audit(session, actor, "reference", "all", "load", None, counts)
    return counts


def load_reference(engine: Engine, *, actor: str = "helsestat reference load") -> dict[str, int]:
    """Write the packaged registries into a migrated database, in one transaction recorded
    in the audit log (classifications with the packaged ids are replaced, other
    classifications stay; the tariff lists, catalogue and geography are replaced). Returns
    what was written, per kind."""
    with session_factory(engine).begin() as session:
        return _write(session, actor)


def seed_if_new(engine: Engine, *, actor: str = "helsestat (first use)") -> dict[str, int] | None:
    """Write the packaged registries into a migrated database that was never seeded, and
    return what was written; None (nothing written) when it was seeded before."""
    with exclusive_session(engine, _SEED_LOCK) as session:
        if state.seeded(session):
            return None
        return _write(session, actor)


__all__ = ["load_reference", "packaged_reference", "seed_if_new"]
