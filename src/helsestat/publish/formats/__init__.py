"""Publish formats: a registry of media type + render function.

Each format module registers one :class:`Format`; ``render`` takes only a
:class:`~helsestat.model.ProtectedTable` and returns the bytes of the document, carrying each
cell's protection status. Formats: json, xml, csv, xlsx, jsonstat, parquet.

>>> sorted(FORMATS)  # doctest: +SKIP
['csv', 'json', 'jsonstat', 'parquet', 'xlsx', 'xml']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from helsestat.errors import NotFoundError
from helsestat.model import ProtectedTable


@dataclass(frozen=True)
class Format:
    """One output format: its short name, media type, file extension and renderer."""

    name: str
    media_type: str
    extension: str
    render: Callable[[ProtectedTable], bytes]


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add a format to the registry (each format module calls this once at import)."""
    FORMATS[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    """The format called ``name``, or a NotFoundError listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise NotFoundError("format.not_found", f"unknown format {name!r}",
                            hint=f"use one of: {', '.join(sorted(FORMATS))}") from None


def by_media_type(media_type: str) -> Format | None:
    """The format serving ``media_type``, if any."""
    for fmt in FORMATS.values():
        if fmt.media_type == media_type:
            return fmt
    return None
