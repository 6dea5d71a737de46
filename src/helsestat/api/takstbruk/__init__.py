"""Helfo-compatible takstbruk API: ``/v1/takstbruk/…`` (and the old prefix), served from
in-memory indexes of the current release.

- :mod:`.query` — the 36 paths and their parameters, checked into a ``TakstbrukQuery``;
- :mod:`.codes` — the public code lists the parameters are checked against;
- :mod:`.index` — per-release indexes of the six tables (no DuckDB per request);
- :mod:`.render` — the six formats, Helfo's fields for JSON/XML/CSV/Excel;
- :mod:`.excel` — a minimal, fast Excel writer;
- :mod:`.service` — one answer from URL to bytes, with ETag and 304;
- :mod:`.asgi` — the fast path answering GET before FastAPI's router.

:func:`install_takstbruk` adds the service, the documented routes
(:mod:`helsestat.api.routers.takstbruk`) and the fast path to an app.

>>> from helsestat.api import create_app
>>> from helsestat.settings import Settings
>>> app = create_app(Settings(demo_mode=True))
>>> app.url_path_for("takstbruk_eksport_fylke_ar")
'/v1/takstbruk/eksport/agtakst/fylke/ar'
"""

from __future__ import annotations

from fastapi import FastAPI

from helsestat.api.routers import takstbruk as takstbruk_router
from helsestat.api.takstbruk.asgi import TakstbrukFastPath
from helsestat.api.takstbruk.service import TakstbrukService


def install_takstbruk(app: FastAPI) -> None:
    """Serve the takstbruk routes on ``app`` (whose ``state.lake`` is set). No I/O: the
    indexes load on first use."""
    app.state.takstbruk = TakstbrukService(app.state.lake, version=app.version)
    app.include_router(takstbruk_router.router)
    app.add_middleware(TakstbrukFastPath)


__all__ = ["install_takstbruk"]
