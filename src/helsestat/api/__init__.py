"""The HTTP API and dashboard of helsestat: :func:`create_app` builds the whole app.

Routes (see ``/docs`` on a running server):

- ``GET /health`` — liveness and readiness;
- ``GET /api/v1/releases`` — every kept release, the current one marked;
- ``GET /api/v1/tables`` — the tables of the current release (``?release=`` for another);
- ``GET /api/v1/institutions/{year}``, ``…/changes``, ``GET /api/v1/droplists/{year}`` — the
  institution and drop lists of a year, from the unit registry;
- ``GET /api/v1/tables/{name}`` — a table as json, xml, csv, xlsx, jsonstat or parquet
  (``?format=`` or ``Accept``), filtered with ``?<dimension>=v1,v2``, cacheable (ETag, 304);
- ``/``, ``/dashboard/tables/{name}``, ``/docs`` — the server-rendered pages;
- ``/openapi.json`` — the OpenAPI document.

Errors are ``application/problem+json`` everywhere (:mod:`helsestat.api.problems`), over-long
requests and requests the HTTP parser refuses included (:mod:`helsestat.api.edge`).

>>> from helsestat.settings import Settings
>>> app = create_app(Settings(demo_mode=True))
>>> app.url_path_for("table_data", name="takstbruk/kommune/ar")
'/api/v1/tables/takstbruk/kommune/ar'
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from helsestat.api import access_log, admission
from helsestat.api.auth_limit import FailedAuthLimiter
from helsestat.api.edge import RequestLimits
from helsestat.api.fastpath import DataFastPath
from helsestat.api.front import HelsestatApp
from helsestat.api.head import HeadAsGet
from helsestat.api.pages import install_dashboard, institutions_pages, reference_pages, units_pages
from helsestat.api.problems import install_problem_handlers
from helsestat.api.registry import RegistryReads, UnitsFastPath
from helsestat.api.routers import catalog as catalog_router
from helsestat.api.routers import health, institutions, tables
from helsestat.api.routers import klass as klass_router
from helsestat.api.routers import tariffs as tariffs_router
from helsestat.api.routers import units as units_router
from helsestat.api.routers.statistics import make_router
from helsestat.api.routers.units_deps import UnitDatabase
from helsestat.api.service import CODE_LISTS_MAX_AGE, TableService
from helsestat.reference.holder import ReferenceHolder
from helsestat.settings import Settings, load_settings
from helsestat.statistics import STATISTICS, Statistic
from helsestat.store.lake import Lake


def _version() -> str:
    try:
        return version("helsestat")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def _install_units(app: FastAPI) -> None:
    """The unit registry's API and dashboard pages, on the app's reference database (opened
    and migrated by the first request that needs it)."""
    settings: Settings = app.state.settings
    database = UnitDatabase(settings.resolved_database_url)
    app.state.units_db = database
    app.state.registry = RegistryReads(database)
    app.state.auth_limiter = FailedAuthLimiter(
        limit=settings.auth_failure_limit, window=settings.auth_failure_window
    )
    app.router.on_shutdown.append(database.dispose)
    app.include_router(units_router.router)
    app.include_router(units_pages.router)
    app.include_router(institutions.router)  # lists made from the registry
    app.include_router(institutions_pages.router)


def create_app(settings: Settings, statistics: Sequence[Statistic] = STATISTICS) -> FastAPI:
    """The FastAPI app serving the lake under ``settings.data_dir``: the data routes, the
    fast path and the dashboard pages of every statistic in ``statistics`` (all of
    helsestat's by default), generated from their declarations, and the reference registries
    of its reference database. Does no I/O: the lake and the database are opened lazily by
    the first request that needs them.

    >>> from helsestat.settings import Settings
    >>> create_app(Settings(demo_mode=True)).state.lake.root.name
    'var'
    """
    # The dashboard builds on this package (deps, queries, links), so it is imported here
    # rather than at the top: importing helsestat.api.pages or helsestat.api first both work.

    app = HelsestatApp(  # data requests go straight to the fast path: api/front.py
        title="helsestat",
        version=_version(),
        description="Open data about health services: published tables in JSON, XML, CSV, "
        "Excel, JSON-stat 2.0 and Parquet, with the disclosure-control status of every cell.",
        docs_url=None,  # Swagger UI needs a CDN; /docs is served offline by helsestat.api.pages
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.lake = Lake(settings.data_dir)
    app.state.statistics = tuple(statistics)
    app.state.reference = ReferenceHolder.from_settings(settings)
    app.router.on_shutdown.append(app.state.reference.dispose)
    app.state.tables = TableService(
        app.state.lake,
        statistics,
        version=app.version,
        reference=partial(app.state.reference.get, max_age=CODE_LISTS_MAX_AGE),
        recheck_seconds=settings.release_refresh_seconds,
    )
    access_log.install()  # the server's request log never keeps an identifier from a URL
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(make_router(statistics))  # before the catch-all table route
    app.include_router(tables.router)
    app.include_router(klass_router.router)
    app.include_router(tariffs_router.router)
    app.include_router(catalog_router.router)
    _install_units(app)
    install_dashboard(app)
    app.include_router(reference_pages.router)
    lane = admission.install_inner(app)  # what the fast paths pass on goes through a lane
    app.add_middleware(DataFastPath)
    app.add_middleware(UnitsFastPath)
    admission.install_outer(app, lane)  # … and whole tables, which a fast path answers slowly
    app.add_middleware(HeadAsGet)  # HEAD is answered as GET everywhere
    app.add_middleware(RequestLimits)  # outermost: over-long requests are refused unread
    return app


def create_app_from_env() -> FastAPI:
    """The app with settings read from the environment: the factory for servers that start
    several worker processes (``uvicorn --factory helsestat.api:create_app_from_env``)."""
    return admission.serving(create_app(load_settings()))


__all__ = ["create_app", "create_app_from_env"]
