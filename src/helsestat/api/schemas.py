"""Response bodies of the API (pydantic at the edge only; inside, plain dataclasses).

>>> Health(status="ok", ready=False, release=None).model_dump()
{'status': 'ok', 'ready': False, 'release': None}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """Liveness and readiness: ``ready`` is true once a release is published."""

    status: Literal["ok"] = "ok"
    ready: bool
    release: str | None = Field(
        description="Id of the current release; null before the first build"
    )


class ReleaseOut(BaseModel):
    """One published release."""

    id: str
    created: str = Field(description="When the release was built (ISO 8601, UTC)")
    tables: int = Field(description="Number of tables in the release")
    current: bool = Field(description="True for the release served when none is asked for")
    links: dict[str, str]


class ReleaseList(BaseModel):
    """Every release kept on disk, oldest first (the newest last)."""

    current: str | None
    releases: list[ReleaseOut]


class TableOut(BaseModel):
    """One published table and where to get it."""

    name: str
    title: str
    dimensions: list[str]
    measures: list[str]
    rows: int
    notes: list[str]
    links: dict[str, str] = Field(
        description="'data' (format by Accept), 'dashboard', and one '<format>' link per format"
    )


class TableList(BaseModel):
    """The tables of one release (the current one unless ``?release=`` names another)."""

    release: str | None
    tables: list[TableOut]
