"""Publish formats: a registry of media type + render function.

Each format module defines one :class:`~helsestat.publish.published.Format` (``FORMAT``);
``render`` takes only a :class:`~helsestat.model.ProtectedTable` and returns the bytes of the
document, carrying each cell's protection status. :data:`FORMATS` lists the six.

==========  =====================================================================  ============
name        media type                                                             extension
==========  =====================================================================  ============
json        application/json                                                       json
xml         application/xml                                                        xml
csv         text/csv; charset=utf-8                                                csv
xlsx        application/vnd.openxmlformats-officedocument.spreadsheetml.sheet      xlsx
jsonstat    application/vnd.json-stat+json                                         jsonstat.json
parquet     application/vnd.apache.parquet                                         parquet
==========  =====================================================================  ============

Every renderer starts from :func:`~helsestat.publish.published.publishable`, which selects
the published columns (the declared dimensions and measures in table order, then ``status``
and ``status_rule``),
normalises their types and refuses a table whose suppressed cells still hold a value.

>>> sorted(FORMATS)
['csv', 'json', 'jsonstat', 'parquet', 'xlsx', 'xml']
>>> negotiate("text/csv;q=0.5, application/xml").name
'xml'
"""

from __future__ import annotations

from typing import Final

from helsestat.errors import NotFoundError
from helsestat.publish.format import Format
from helsestat.publish.formats import csv_, json_, jsonstat, parquet_, xlsx, xml_
from helsestat.publish.negotiate import negotiate as _negotiate
from helsestat.publish.published import STATUS_LEGEND, publishable

#: The formats by name, in alphabetical order.
FORMATS: Final[dict[str, Format]] = {
    f.name: f
    for f in sorted(
        (csv_.FORMAT, json_.FORMAT, jsonstat.FORMAT, parquet_.FORMAT, xlsx.FORMAT, xml_.FORMAT),
        key=lambda f: f.name,
    )
}


def get_format(name: str) -> Format:
    """The format called ``name``, or a NotFoundError listing the known ones.

    >>> get_format("csv").media_type
    'text/csv; charset=utf-8'
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise NotFoundError(
            "format.not_found",
            f"unknown format {name!r}",
            hint=f"use one of: {', '.join(sorted(FORMATS))}",
        ) from None


def by_media_type(media_type: str) -> Format | None:
    """The format serving exactly ``media_type``, if any.

    >>> by_media_type("application/vnd.apache.parquet").name
    'parquet'
    """
    for fmt in FORMATS.values():
        if fmt.media_type == media_type:
            return fmt
    return None


def negotiate(accept_header: str | None, default: str = "json") -> Format:
    """The format of :data:`FORMATS` that best satisfies an HTTP ``Accept`` header (see
    :func:`helsestat.publish.negotiate.negotiate`).

    >>> negotiate("application/json;q=0.5, application/vnd.json-stat+json").name
    'jsonstat'
    """
    return _negotiate(accept_header, FORMATS, default)


__all__ = [
    "FORMATS",
    "STATUS_LEGEND",
    "Format",
    "by_media_type",
    "get_format",
    "negotiate",
    "publishable",
]
