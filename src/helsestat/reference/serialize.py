"""Plain renderings of reference documents: the media type a client asked for, JSON values as
XML, and rows as CSV in KLASS's style (every field quoted, a chosen separator, ISO 8859-1
unless UTF-8 is asked for).

>>> wanted_format("text/csv; charset=UTF-8", ("json", "xml", "csv"))
('csv', 'utf-8')
>>> to_xml("List", [{"takstkode": "2ad"}], item="item")
'<?xml version="1.0" encoding="UTF-8"?><List><item><takstkode>2ad</takstkode></item></List>'
>>> to_csv([{"code": "0301", "name": "Oslo"}], ["code", "name"], ";")
'"code";"name"\\r\\n"0301";"Oslo"\\r\\n'
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from helsestat.errors import QueryError

MEDIA_TYPES = {"json": "application/json", "xml": "application/xml", "csv": "text/csv"}
_ACCEPT = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
}


def wanted_format(accept: str | None, offered: Sequence[str]) -> tuple[str, str]:
    """The format (``json``/``xml``/``csv``) and charset the ``Accept`` header asks for,
    highest quality first; ``*/*`` or nothing gives JSON. CSV is ISO 8859-1 unless the header
    says ``charset=UTF-8`` (as in KLASS).

    >>> wanted_format("application/xml;q=0.5, application/json", ("json", "xml"))
    ('json', 'utf-8')
    """
    choices: list[tuple[float, int, str, str]] = []
    for i, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality, charset = 1.0, ""
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
            elif key.strip().lower() == "charset":
                charset = value.strip().strip('"').lower()
        fmt = _ACCEPT.get(media.lower())
        if fmt is not None and fmt in offered and quality > 0:
            choices.append((-quality, i, fmt, charset))
    if not choices:
        return "json", "utf-8"
    _, _, fmt, charset = min(choices)
    if fmt == "csv":
        return fmt, "utf-8" if charset in ("utf-8", "utf8") else "iso-8859-1"
    return fmt, "utf-8"


_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _tag(name: str) -> str:
    tag = _NAME.sub("_", name) or "item"
    return tag if tag[0].isalpha() or tag[0] == "_" else f"_{tag}"


def _xml(tag: str, value: Any, item: str, out: list[str]) -> None:
    tag = _tag(tag)
    if value is None:
        out.append(f"<{tag}/>")
    elif isinstance(value, Mapping):
        out.append(f"<{tag}>")
        for key, child in value.items():
            _xml(str(key), child, item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list | tuple):
        out.append(f"<{tag}>")
        for child in value:
            _xml(item, child, item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, bool):
        out.append(f"<{tag}>{'true' if value else 'false'}</{tag}>")
    else:
        out.append(f"<{tag}>{escape(str(value))}</{tag}>")


def to_xml(root: str, value: Any, *, item: str = "item") -> str:
    """``value`` (JSON-like) as an XML document under ``root``; list elements are ``item``."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml(root, value, item, out)
    return "".join(out)


def to_csv(rows: Iterable[Mapping[str, Any]], fields: Sequence[str], separator: str = ",") -> str:
    """Rows as CSV with a header, every field quoted; None is empty."""
    if len(separator) != 1:
        raise QueryError(
            "query.invalid_csv_separator",
            f"csvSeparator must be one character, got {len(separator)}",
            hint="e.g. csvSeparator=; (the default is ,)",
        )
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=separator, quoting=csv.QUOTE_ALL)
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row.get(f) is None else row.get(f) for f in fields])
    return buf.getvalue()


def pick_fields(default: Sequence[str], csv_fields: str | None) -> list[str]:
    """KLASS ``csvFields``: a subset of the columns, in the order given; unknown names are a
    400 naming them.

    >>> pick_fields(["code", "name", "level"], "name,code")
    ['name', 'code']
    """
    if not csv_fields:
        return list(default)
    wanted = [f.strip() for f in csv_fields.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in default]
    if unknown:
        raise QueryError(
            "query.invalid_csv_fields",
            f"csvFields: unknown field(s) {', '.join(unknown)}",
            hint=f"fields (case-sensitive): {', '.join(default)}",
        )
    return wanted


__all__ = ["MEDIA_TYPES", "pick_fields", "to_csv", "to_xml", "wanted_format"]
