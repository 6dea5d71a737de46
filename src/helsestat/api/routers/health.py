"""``GET /health``: liveness (always 200 while the process answers) and readiness.

>>> # curl -s localhost:8000/health  →  {"status": "ok", "ready": true, "release": "2026…"}
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from helsestat.api.deps import LakeDep
from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.api.queries import current_release_id
from helsestat.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={500: PROBLEM_RESPONSES[500]})
def health(lake: LakeDep, response: Response) -> Health:
    """Whether the service is up, and which release it serves (`ready` once one is
    published; 200 either way, so a load balancer can tell "up" from "has data")."""
    response.headers["Cache-Control"] = "no-store"
    release = current_release_id(lake)
    return Health(ready=release is not None, release=release)
