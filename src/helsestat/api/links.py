"""Root-relative links between the API and the dashboard, built from route names so a
moved route cannot leave a stale link behind.

>>> from helsestat.settings import Settings
>>> from helsestat.api import create_app
>>> from starlette.requests import Request
>>> app = create_app(Settings(demo_mode=True))
>>> request = Request({"type": "http", "app": app, "path": "/", "headers": [], "root_path": ""})
>>> table_data_url(request, "takstbruk/kommune/ar", release="r1", fmt="csv")
'/api/v1/tables/takstbruk/kommune/ar?release=r1&format=csv'
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request


def _url(request: Request, route: str, name: str, query: dict[str, str | None]) -> str:
    path = str(request.app.url_path_for(route, name=quote(name, safe="/")))
    params = {key: value for key, value in query.items() if value is not None}
    prefix = str(request.scope.get("root_path", ""))
    return prefix + path + (f"?{urlencode(params)}" if params else "")


def table_data_url(
    request: Request, name: str, *, release: str | None = None, fmt: str | None = None
) -> str:
    """Link to a table's data (``GET /api/v1/tables/{name}``), optionally pinned to a
    release and a format. See the module docstring for an example."""
    return _url(request, "table_data", name, {"release": release, "format": fmt})


def dashboard_table_url(request: Request, name: str, *, release: str | None = None) -> str:
    """Link to a table's dashboard page (``/dashboard/tables/{name}``).

    >>> # dashboard_table_url(request, "t") == "/dashboard/tables/t"
    """
    return _url(request, "dashboard_table", name, {"release": release})
