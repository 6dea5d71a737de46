"""Publish: render a :class:`~helsestat.model.ProtectedTable` in one of the registered formats.

``publish`` accepts only a ProtectedTable, which only ``protect`` makes, so a table cannot be
published without disclosure control. The formats and their media types are listed in
:mod:`helsestat.publish.formats`; every one of them carries each cell's protection status.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
>>> publish(t, "json")
b'[{"kommune":"0301","antall":null,"status":"primary","status_rule":"count<=5"}]'
"""

from __future__ import annotations

from helsestat.model import ProtectedTable
from helsestat.publish.formats import get_format


def publish(table: ProtectedTable, fmt: str) -> bytes:
    """The bytes of ``table`` in the format called ``fmt`` (see ``formats.FORMATS``).

    Raises :class:`~helsestat.errors.NotFoundError` for an unknown format name.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("antall",), pa.table({"aar": ["2024"],
    ...     "antall": [7], "status": ["published"], "status_rule": [""]}))
    >>> publish(t, "csv")
    b'aar,antall,status,status_rule\\r\\n2024,7,published,\\r\\n'
    """
    return get_format(fmt).render(table)


__all__ = ["publish"]
