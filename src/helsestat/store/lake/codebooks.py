"""Append-only codebooks: the integer code of every value of a coded text column.

A coded column (declared by the extract spec, see
:class:`~helsestat.validate.spec.Coded`) is stored twice: as text, and as an int32 code in
``<column>_kode``, so aggregation groups small integers instead of text. In a column of
fixed-width number codes (``digits``: kommunenummer, 4) a value of exactly that many digits
is coded by its number (``"0301"`` → 301) and any other value (``"missing9999"``, an
"unknown kommune" of the reference data) by the next free code from ``10**digits`` on; any
other column's values get ids 0, 1, 2 … in the order they first arrive. Either way two values
never share a code. The codebook of each column lives in the lake::

    <data_dir>/codebooks/<kind>/<column>.json    {"column", "digits", "codes": [[text, code]…]}

Rules that keep every stored code decodable:

- **append-only**: a value keeps its code forever; a new value gets the next free code;
- **written before the partitions** that use it (and the batch record, the commit marker,
  comes last), so a committed file never holds a code its codebook lacks; a crash in
  between leaves an unused code, which is harmless;
- **one writer at a time**: the read-extend-write runs under an exclusive ``flock`` on
  ``codebooks/<kind>/.lock``, so two ingests cannot give one code to two values.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.store.lake import Lake
>>> from helsestat.validate.spec import Coded
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> books = extend_codebooks(lake, "claims", pa.table({"t": ["2ad", "H1", "2ad"]}), (Coded("t"),))
>>> books["t"].codes
{'2ad': 0, 'H1': 1}
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.store.lake import Lake, write_text_atomic
from helsestat.validate.spec import Coded

#: Type of every stored code column.
CODE_TYPE = pa.int32()


@dataclass(frozen=True)
class Codebook:
    """The codes of one column's values: ``codes`` maps each text value to its code."""

    column: str
    digits: int | None = None
    codes: Mapping[str, int] = field(default_factory=dict)

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(code as text, value) for every value, in code order: a rollup lookup from the
        code column back to the text.

        >>> Codebook("t", codes={"H1": 1, "2ad": 0}).pairs()
        (('0', '2ad'), ('1', 'H1'))
        """
        return tuple(
            (str(code), value) for value, code in sorted(self.codes.items(), key=lambda p: p[1])
        )

    def extended(self, values: Sequence[str]) -> Codebook:
        """The codebook with ``values`` it lacks added, old codes unchanged.

        >>> Codebook("k", digits=4).extended(["0301", "missing9999", "4601"]).codes
        {'0301': 301, 'missing9999': 10000, '4601': 4601}
        """
        new = [v for v in dict.fromkeys(values) if v not in self.codes]
        if not new:
            return self
        codes = dict(self.codes)
        first = 10**self.digits if self.digits else 0
        free = max((c for c in codes.values() if c >= first), default=first - 1) + 1
        for value in new:
            if self.digits and len(value) == self.digits and value.isascii() and value.isdigit():
                codes[value] = int(value)
            else:
                codes[value] = free
                free += 1
        return Codebook(self.column, self.digits, codes)

    def encode(self, column: pa.ChunkedArray | pa.Array) -> pa.Array:
        """The int32 codes of a text column whose values are all in the codebook."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        encoded = pc.dictionary_encode(column)
        values = encoded.dictionary.to_pylist()
        lookup = np.array([self.codes[v] for v in values] or [0], dtype=np.int32)
        indices = encoded.indices
        codes = lookup[np.asarray(indices.fill_null(0).to_numpy(zero_copy_only=False), np.int64)]
        # a null text value has a null code (and so rolls up to null, as the text does)
        nulls = np.asarray(indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return pa.array(codes, CODE_TYPE, mask=nulls if nulls.any() else None)


def read_codebook(lake: Lake, kind: str, column: str, digits: int | None = None) -> Codebook:
    """A column's codebook (empty when nothing was coded yet)."""
    path = lake.root / "codebooks" / kind / f"{column}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Codebook(column, digits)
    return Codebook(column, record["digits"], {v: int(c) for v, c in record["codes"]})


def read_codebooks(lake: Lake, kind: str) -> dict[str, Codebook]:
    """Every codebook of one extract kind, by column.

    >>> import tempfile
    >>> from pathlib import Path
    >>> read_codebooks(Lake(Path(tempfile.mkdtemp())), "claims")
    {}
    """
    directory = lake.root / "codebooks" / kind
    return {p.stem: read_codebook(lake, kind, p.stem) for p in sorted(directory.glob("*.json"))}


def _dumps(book: Codebook) -> str:
    """The codebook as JSON, one [value, code] pair per line (readable, diffable)."""
    head = json.dumps({"column": book.column, "digits": book.digits}, ensure_ascii=False)
    pairs = ",\n  ".join(json.dumps([v, int(c)], ensure_ascii=False) for c, v in book.pairs())
    return head[:-1] + f', "codes": [\n  {pairs}\n]}}\n'


@contextmanager
def _locked(lake: Lake, kind: str) -> Iterator[None]:
    directory = lake.root / "codebooks" / kind
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def extend_codebooks(
    lake: Lake, kind: str, table: pa.Table, coded: Sequence[Coded]
) -> dict[str, Codebook]:
    """Add the values of ``table``'s coded columns that their codebooks lack, and write the
    codebooks that changed (before any partition that uses them is written)."""
    books: dict[str, Codebook] = {}
    if not coded:
        return books
    with _locked(lake, kind):
        for c in coded:
            old = read_codebook(lake, kind, c.column, c.digits)
            book = old
            if table.num_rows:
                distinct = pc.unique(table.column(c.column).combine_chunks()).drop_null()
                book = old.extended([str(v) for v in distinct.to_pylist()])
            if book is not old:
                write_text_atomic(_dumps(book), lake.root / "codebooks" / kind / f"{c.column}.json")
            books[c.column] = book
    return books


def add_codes(table: pa.Table, coded: Sequence[Coded], books: Mapping[str, Codebook]) -> pa.Table:
    """``table`` with the code column of each coded column appended."""
    for c in coded:
        column = table.column(c.column).combine_chunks()
        table = table.append_column(
            pa.field(c.code_column, CODE_TYPE), books[c.column].encode(column)
        )
    return table


__all__ = [
    "CODE_TYPE",
    "Codebook",
    "add_codes",
    "extend_codebooks",
    "read_codebook",
    "read_codebooks",
]
