"""Dependencies of the API routes, as ``Annotated`` aliases.

The objects live on ``app.state``, put there by :func:`helsestat.api.create_app`; nothing is
module-global, so two apps with different settings can run side by side (as the tests do).

>>> from typing import get_args
>>> get_args(LakeDep)[0].__name__
'Lake'
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.snapshot import Reference
from helsestat.settings import Settings
from helsestat.store.lake import Lake


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_lake(request: Request) -> Lake:
    """The Parquet lake of ``settings.data_dir``."""
    lake: Lake = request.app.state.lake
    return lake


def get_reference(request: Request) -> Reference:
    """The current snapshot of the reference database (reloaded when its content changed)."""
    holder: ReferenceHolder = request.app.state.reference
    return holder.get()


def get_version(request: Request) -> str:
    """The helsestat version serving the request (part of every ETag)."""
    version: str = request.app.version
    return version


SettingsDep = Annotated[Settings, Depends(get_settings)]
LakeDep = Annotated[Lake, Depends(get_lake)]
ReferenceDep = Annotated[Reference, Depends(get_reference)]
VersionDep = Annotated[str, Depends(get_version)]

#: ``?release=<id>``: serve an earlier release as it was published. Ids are what
#: ``Lake.release`` makes (``20260101T120000-ab12cd``) or names a build chose.
ReleaseParam = Annotated[
    str | None,
    Query(
        description="Serve this earlier release as published; default: the current one",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,99}$",
    ),
]
