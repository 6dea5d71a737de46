"""Jinja2 rendering of the dashboard's pages (autoescaped; templates ship in the wheel).

>>> from helsestat.settings import Settings
>>> env = make_environment(Settings(demo_mode=True))
>>> env.globals["demo_mode"]
True
"""

from __future__ import annotations

from typing import Annotated, Any

import jinja2
import plotly
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from helsestat.api.pages.views import format_number
from helsestat.errors import NotFoundError
from helsestat.settings import Settings


def make_environment(settings: Settings) -> jinja2.Environment:
    """The template environment of one app: the demo banner follows ``settings.demo_mode``;
    ``plotly_version`` versions the plotly.js URL so it can be cached for a year."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("helsestat.api.pages", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["demo_mode"] = settings.demo_mode
    env.globals["plotly_version"] = plotly.__version__
    env.filters["number"] = format_number
    return env


def get_templates(request: Request) -> jinja2.Environment:
    """The app's template environment (set by :func:`helsestat.api.pages.install_dashboard`)."""
    env: jinja2.Environment = request.app.state.templates
    return env


TemplatesDep = Annotated[jinja2.Environment, Depends(get_templates)]


def render(
    env: jinja2.Environment, request: Request, template: str, **context: Any
) -> HTMLResponse:
    """Render ``template`` with ``context`` (plus ``request``) as an HTML response. Every
    page names the release it shows (the current one unless the page says otherwise) and
    links the statistics' pages.

    >>> # return render(templates, request, "home.html", tables=[...])
    """
    state = request.app.state
    if context.get("release") is None and hasattr(state, "tables"):
        try:
            context["release"] = state.tables.current_release()
        except NotFoundError:
            context["release"] = None
    context.setdefault("release", None)
    pages = [
        (f"/dashboard/{s.name}", s.serving.dashboard.title)
        for s in getattr(state, "statistics", ())
        if s.serving.dashboard is not None
    ]
    html = env.get_template(template).render(request=request, statistic_pages=pages, **context)
    return HTMLResponse(html)
