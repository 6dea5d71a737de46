"""One output format: a media type, a file extension and the renderer that writes a
:class:`~helsestat.publish.index.Selection` of a table through a
:class:`~helsestat.publish.views.View`. The whole table (:func:`helsestat.publish.publish`)
is the selection of every row, through the default view.

A large selection (a whole table: hundreds of thousands of rows) is rendered in parts
(:meth:`Format.render_parts`): the same bytes, made a piece of rows at a time, so the
thread rendering it never holds the interpreter for long, and a server can send the parts
one after another instead of one body of a hundred megabytes.

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
    #: The same bytes in parts (None: one part, :attr:`render_selection`'s).
    render_pieces: Callable[[Selection, View], list[bytes]] | None = None

    def render_parts(self, selection: Selection, view: View = DEFAULT) -> list[bytes]:
        """The document of ``selection`` in parts whose concatenation is
        :attr:`render_selection`'s bytes.

        >>> from helsestat.publish.formats import FORMATS
        >>> import pyarrow as pa
        >>> t = ProtectedTable("t", "T", ("k",), ("n",), pa.table({"k": ["a"], "n": [1],
        ...     "status": ["published"], "status_rule": [""]}))
        >>> everything = Selection.everything(TableIndex.build(t))
        >>> b"".join(FORMATS["csv"].render_parts(everything)) == FORMATS["csv"].render(t)
        True
        """
        if self.render_pieces is None:
            return [self.render_selection(selection, view)]
        return self.render_pieces(selection, view)

    def render(self, table: ProtectedTable) -> bytes:
        """The whole table in this format, in its stored row order."""
        return self.render_selection(Selection.everything(TableIndex.build(table)), DEFAULT)


__all__ = ["Format"]
