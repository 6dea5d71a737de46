"""XML (``application/xml``): a ``<rows>`` document with one ``<row>`` per table row.

Layout (UTF-8, one row per line)::

    <?xml version="1.0" encoding="UTF-8"?>
    <rows xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" table="…" title="…" release="…">
    <row><kommune>0301</kommune><antall xsi:nil="true"/><status>primary</status>…</row>
    </rows>

Inside a row there is one element per field of the view, named after it: by default the
dimensions and measures in table order, then ``status`` and ``status_rule``. A null (a
suppressed measure) is an empty element with ``xsi:nil="true"``. Text is escaped (``&``,
``<``, ``>``, and a carriage return as ``&#13;`` so parsers do not fold it into a line
feed). :func:`document` writes any JSON-like value the same way (the code-list endpoints).

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [7], "status": ["published"], "status_rule": [""]}))
>>> print(render_xml(t).decode().splitlines()[2])
<row><kommune>0301</kommune><antall>7</antall><status>published</status><status_rule></status_rule></row>
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final
from xml.sax.saxutils import escape

from helsestat.errors import HelsestatError
from helsestat.model import ProtectedTable
from helsestat.publish.format import Format
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.views import DEFAULT, View, field_names, fragments, per_view, pieces

MEDIA_TYPE = "application/xml"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"

# A conservative subset of XML 1.0 Name; names starting with "xml" are reserved.
_NAME = re.compile(r"(?!(?i:xml))[A-Za-z_][A-Za-z0-9_.-]*")
# Characters XML 1.0 cannot carry at all, not even as a character reference.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT: Final = {"\r": "&#13;"}
_ATTRIBUTE: Final = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


def _illegal(table: str) -> HelsestatError:
    return HelsestatError(
        "publish.xml_character",
        f"table {table!r} holds a control character that XML cannot carry",
        hint="clean the code list or label; CSV, JSON and Parquet can carry it",
    )


def _check_names(table: str, names: Sequence[str]) -> None:
    for name in names:
        if not _NAME.fullmatch(name):
            raise HelsestatError(
                "publish.xml_name",
                f"table {table!r}: column {name!r} is not a usable XML element name",
                hint="name columns with letters, digits and '_', starting with a letter",
            )


def _text(value: Any) -> str:
    return _escaped(value) if isinstance(value, str) else _number(value)


@functools.lru_cache(maxsize=1 << 16)  # codes and labels repeat from row to row
def _escaped(value: str) -> str:
    return escape(value, _TEXT)


def _head_and_maker(
    selection: Selection, view: View
) -> tuple[bytes, Callable[[tuple[object, ...]], bytes]]:
    """The document head and the row writer (the same for every answer of a table and view:
    kept on the index)."""
    return per_view(selection, view, "xml", lambda: _make_head_and_maker(selection, view))


def _make_head_and_maker(
    selection: Selection, view: View
) -> tuple[bytes, Callable[[tuple[object, ...]], bytes]]:
    table = selection.index.source
    names = field_names(selection, view)
    _check_names(table.name, names)
    opening = [f"<{name}>" for name in names]
    closing = [f"</{name}>" for name in names]
    nil = [f'<{name} xsi:nil="true"/>' for name in names]

    def make(values: tuple[object, ...]) -> bytes:
        parts = ["<row>"]
        for i, value in enumerate(values):
            if value is None:
                parts.append(nil[i])
            else:
                parts += (opening[i], _text(value), closing[i])
        parts.append("</row>\n")
        row = "".join(parts)
        if _ILLEGAL.search(row):
            raise _illegal(table.name)
        return row.encode()

    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rows xmlns:xsi="{XSI}"'
        f" table={_attribute(table.name)} title={_attribute(table.title)}"
        f" release={_attribute(table.release)}>\n"
    )
    if _ILLEGAL.search(head):
        raise _illegal(table.name)
    return head.encode(), make


def render_rows(selection: Selection, view: View) -> bytes:
    """The selected rows as a ``<rows>`` document with the view's fields."""
    head, make = _head_and_maker(selection, view)
    return b"".join((head, *fragments(selection, "xml", view, make), b"</rows>\n"))


def render_parts(selection: Selection, view: View) -> list[bytes]:
    """:func:`render_rows` in parts, a piece of rows each."""
    head, make = _head_and_maker(selection, view)
    parts = [head]
    for piece in pieces(selection):
        parts.append(b"".join(fragments(piece, "xml", view, make)))
    parts.append(b"</rows>\n")
    return parts


def render_xml(table: ProtectedTable) -> bytes:
    """The table as an XML ``<rows>`` document, UTF-8.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("fylke",), ("n",), pa.table({"fylke": ["03"],
    ...     "n": [None], "status": ["primary"], "status_rule": ["n<=5"]}))
    >>> row = render_xml(t).decode().splitlines()[2]
    >>> row[:41]
    '<row><fylke>03</fylke><n xsi:nil="true"/>'
    >>> row[41:]
    '<status>primary</status><status_rule>n&lt;=5</status_rule></row>'
    """
    return render_rows(Selection.everything(TableIndex.build(table)), DEFAULT)


def document(root: str, value: Any, item: str = "item") -> bytes:
    """A JSON-like value (dicts, lists, text, numbers, None) as an XML document: a dict's
    keys become elements (characters a name cannot hold become ``_``), a list's entries
    ``item`` elements, None an empty element.

    >>> document("List", [{"takstkode": "2ad", "belop": 120.5}])[38:]
    b'<List><item><takstkode>2ad</takstkode><belop>120.5</belop></item></List>'
    """
    parts: list[str] = []

    def write(name: str, node: Any) -> None:
        tag = _tag(name)
        if node is None:
            parts.append(f"<{tag}/>")
        elif isinstance(node, dict):
            parts.append(f"<{tag}>")
            for key, child in node.items():
                write(str(key), child)
            parts.append(f"</{tag}>")
        elif isinstance(node, list | tuple):
            parts.append(f"<{tag}>")
            for child in node:
                write(item, child)
            parts.append(f"</{tag}>")
        elif isinstance(node, bool):
            parts.append(f"<{tag}>{'true' if node else 'false'}</{tag}>")
        else:
            parts.append(f"<{tag}>{_text(node)}</{tag}>")

    write(root, value)
    text = "".join(parts)
    if _ILLEGAL.search(text):
        raise _illegal(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode("utf-8")


_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _tag(name: str) -> str:
    tag = _NOT_NAME.sub("_", name) or "item"
    return tag if tag[0].isalpha() or tag[0] == "_" else f"_{tag}"


def _attribute(value: str) -> str:
    return f'"{escape(value, _ATTRIBUTE)}"'


def _number(value: float) -> str:
    """xsd:long / xsd:double lexical forms."""
    if isinstance(value, int) or math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else "INF" if value > 0 else "-INF"


FORMAT = Format("xml", MEDIA_TYPE, "xml", render_rows, render_parts)
