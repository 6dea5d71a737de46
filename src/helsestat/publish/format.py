"""One output format: a media type, a file extension and the renderer that writes a
:class:`~helsestat.publish.index.Selection` of a table through a
:class:`~helsestat.publish.views.View`. The whole table (:func:`helsestat.publish.publish`)
is the selection of every row, through the default view.

>>> from helsestat.publish.formats import FORMATS
>>> FORMATS["csv"].extension
'csv'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from helsestat.model import ProtectedTable
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.views import DEFAULT, View


@dataclass(frozen=True)
class Format:
    """One output format: its short name, media type, file extension and renderer."""

    name: str
    media_type: str
    extension: str
    render_selection: Callable[[Selection, View], bytes]

    def render(self, table: ProtectedTable) -> bytes:
        """The whole table in this format, in its stored row order."""
        return self.render_selection(Selection.everything(TableIndex.build(table)), DEFAULT)


__all__ = ["Format"]
