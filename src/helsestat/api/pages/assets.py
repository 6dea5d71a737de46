"""plotly.js from the plotly wheel at ``/static/plotly.min.js``: the charts work offline.

The page links it as ``/static/plotly.min.js?v=<plotly version>``, so it is cached for a
year (``immutable``) and a new plotly version gets a new URL.

>>> len(plotly_js()) > 1_000_000
True
"""

from __future__ import annotations

import functools

import plotly
from fastapi import APIRouter, Request, Response
from plotly.offline import get_plotlyjs

from helsestat.api.caching import if_none_match_matches

router = APIRouter(include_in_schema=False)

ONE_YEAR = "public, max-age=31536000, immutable"


@functools.cache
def plotly_js() -> bytes:
    """The minified plotly.js bundled with the installed plotly (read once, ~4.8 MB)."""
    script: str = get_plotlyjs()
    return script.encode("utf-8")


@router.get("/static/plotly.min.js", name="plotly_js")
def plotly_bundle(request: Request) -> Response:
    """plotly.js, with long cache headers and an ETag of the plotly version."""
    headers = {"Cache-Control": ONE_YEAR, "ETag": f'"plotly-{plotly.__version__}"'}
    if if_none_match_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(plotly_js(), media_type="text/javascript; charset=utf-8", headers=headers)
