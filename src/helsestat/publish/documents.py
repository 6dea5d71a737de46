"""Documents that are not tables — the code lists, classifications and tariff lists — in
JSON, XML or CSV, through the same formats as every published table: one XML writer
(:func:`helsestat.publish.formats.xml_.document`), one CSV record writer
(:func:`helsestat.publish.formats.csv_.record`) and one ``Accept`` parser
(:mod:`helsestat.publish.negotiate`).

CSV is written as KLASS writes it: every field quoted, a chosen separator, ISO 8859-1 unless
the client asks for UTF-8 (``Accept: text/csv; charset=UTF-8``).

>>> document_format("text/csv; charset=UTF-8", ("json", "xml", "csv"))
('csv', 'utf-8')
>>> render_document([{"takstkode": "2ad"}], "xml", root="List")[38:]
b'<List><item><takstkode>2ad</takstkode></item></List>'
>>> render_records([{"code": "0301", "name": "Oslo"}], ["code", "name"], ";", "utf-8")
b'"code";"name"\\r\\n"0301";"Oslo"\\r\\n'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

from helsestat.errors import QueryError
from helsestat.publish.formats import FORMATS
from helsestat.publish.formats.csv_ import record
from helsestat.publish.formats.xml_ import document as xml_document
from helsestat.publish.negotiate import parse_accept

#: Media types of the document formats (CSV's charset is added per answer).
MEDIA_TYPES: Final = {
    "json": FORMATS["json"].media_type,
    "xml": FORMATS["xml"].media_type,
    "csv": "text/csv",
}
_SERVED: Final = {
    ("application", "json"): "json",
    ("application", "xml"): "xml",
    ("text", "xml"): "xml",
    ("text", "csv"): "csv",
}


def document_format(accept: str | None, offered: Sequence[str]) -> tuple[str, str]:
    """The format (``json``, ``xml`` or ``csv``, among ``offered``) and charset an
    ``Accept`` header asks for: the highest q-value, then the range listed first; a
    wildcard or nothing gives the first offered (JSON). CSV is ISO 8859-1 unless the chosen
    range says ``charset=UTF-8``.

    >>> document_format("application/xml;q=0.5, application/json", ("json", "xml"))
    ('json', 'utf-8')
    >>> document_format("text/csv", ("json", "csv"))
    ('csv', 'iso-8859-1')
    """
    best: tuple[float, int, str, str] | None = None
    for position, ((main, sub, params), quality, _) in enumerate(parse_accept(accept)):
        fmt = _SERVED.get((main, sub))
        if fmt is None or fmt not in offered or quality <= 0:
            continue
        rank = (-quality, position, fmt, params.get("charset", ""))
        if best is None or rank < best:
            best = rank
    if best is None:
        return offered[0], "utf-8"
    _, _, fmt, charset = best
    if fmt == "csv":
        return fmt, "utf-8" if charset in ("utf-8", "utf8") else "iso-8859-1"
    return fmt, "utf-8"


def render_document(value: Any, fmt: str, *, root: str, item: str = "item") -> bytes:
    """A JSON-like value as JSON, or as XML under ``root`` (list entries ``item``).

    >>> render_document({"a": [1, None]}, "json", root="x")
    b'{"a":[1,null]}'
    """
    if fmt == "xml":
        return xml_document(root, value, item)
    data: bytes = orjson.dumps(value)
    return data


def render_records(
    rows: Iterable[Mapping[str, Any]], fields: Sequence[str], separator: str, charset: str
) -> bytes:
    """Rows as CSV with a header, every field quoted, None empty, in ``charset`` (a
    character it cannot hold becomes ``?``)."""
    if len(separator) != 1:
        raise QueryError(
            "query.invalid_csv_separator",
            f"csvSeparator must be one character, got {len(separator)}",
            hint="e.g. csvSeparator=; (the default is ,)",
        )
    lines = [record(fields, separator, quote_all=True)]
    lines += [record((row.get(f) for f in fields), separator, quote_all=True) for row in rows]
    return "".join(lines).encode(charset, errors="replace")


__all__ = ["MEDIA_TYPES", "document_format", "render_document", "render_records"]
