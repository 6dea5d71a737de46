"""The dashboard: server-rendered pages over the published releases, no JS build step.

Pages: ``/`` (the tables of the current release), ``/dashboard/<statistic>`` (each
statistic's page, generated from its declaration), ``/dashboard/tables/{name}`` (a table,
its chart and its downloads) and ``/docs`` (the API reference, rendered from the OpenAPI
document so it works offline). Assets under ``/static``: the CSS, a 20-line script that
draws the charts, and plotly.js — served from the plotly wheel, never from a CDN.

>>> from fastapi import FastAPI
>>> from helsestat.settings import Settings
>>> app = FastAPI()
>>> app.state.settings = Settings(demo_mode=True)
>>> app.state.statistics = ()
>>> install_dashboard(app)
>>> app.url_path_for("dashboard_home")
'/'
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from helsestat.api.pages import apidocs, assets, pages
from helsestat.api.pages.render import make_environment
from helsestat.api.pages.statistic import install_statistic_pages


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard pages, the docs page and the static assets to ``app`` (whose
    ``state.settings`` and ``state.statistics`` are set). Called once by
    :func:`helsestat.api.create_app`."""
    app.state.templates = make_environment(app.state.settings)
    app.include_router(assets.router)  # before the /static mount, which would shadow it
    app.include_router(pages.router)
    install_statistic_pages(app, app.state.statistics)
    app.include_router(apidocs.router)
    static = StaticFiles(packages=[("helsestat.api.pages", "static")])
    app.mount("/static", static, name="static")


__all__ = ["install_dashboard"]
