"""A minimal Parquet writer for small answers: one row group, one uncompressed PLAIN data
page per column, optional (nullable) INT64, DOUBLE and UTF-8 BYTE_ARRAY columns.

pyarrow's writer costs ~0.4 ms per file whatever its size — several times a whole JSON
answer of a typical query (``make bench`` measures both writers on the served answers, see
docs/benchmarks.md) — so helsestat writes the file itself: page headers and footer in the
Thrift compact protocol (parquet-format's ``parquet.thrift``), definition levels as one RLE
run (no nulls) or bit-packed runs. The tests read the files back with pyarrow and DuckDB.

>>> import io, pyarrow.parquet as pq
>>> data = write_parquet([Column.text("k", [b"0301"]), Column.int64("n", [7], [True])], {})
>>> pq.read_table(io.BytesIO(data)).to_pylist()
[{'k': '0301', 'n': 7}]
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

_MAGIC: Final = b"PAR1"
# parquet.thrift enums
_INT64, _DOUBLE, _BYTE_ARRAY = 2, 5, 6
_OPTIONAL = 1
_UTF8 = 0
_PLAIN, _RLE = 0, 3
_DATA_PAGE = 0
# Thrift compact protocol types
_I32, _I64, _BINARY, _LIST, _STRUCT = 5, 6, 8, 9, 12
CREATED_BY: Final = "helsestat minimal parquet writer"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


class _Struct:
    """Builds one Thrift compact struct, fields in increasing id order."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.last = 0

    def _field(self, fid: int, kind: int) -> None:
        delta = fid - self.last
        self.parts.append(
            bytes([(delta << 4) | kind]) if 0 < delta <= 15 else bytes([kind]) + _zigzag(fid)
        )
        self.last = fid

    def i32(self, fid: int, value: int) -> _Struct:
        self._field(fid, _I32)
        self.parts.append(_zigzag(value))
        return self

    def i64(self, fid: int, value: int) -> _Struct:
        self._field(fid, _I64)
        self.parts.append(_zigzag(value))
        return self

    def binary(self, fid: int, value: bytes) -> _Struct:
        self._field(fid, _BINARY)
        self.parts += (_varint(len(value)), value)
        return self

    def struct(self, fid: int, value: _Struct) -> _Struct:
        self._field(fid, _STRUCT)
        self.parts.append(value.end())
        return self

    def list(self, fid: int, kind: int, items: Sequence[bytes]) -> _Struct:
        """A list of already-encoded items of Thrift type ``kind``."""
        self._field(fid, _LIST)
        n = len(items)
        self.parts.append(bytes([(n << 4) | kind]) if n < 15 else bytes([0xF0 | kind]) + _varint(n))
        self.parts += items
        return self

    def end(self) -> bytes:
        return b"".join(self.parts) + b"\x00"


@dataclass(frozen=True)
class Column:
    """One column: its Parquet physical type, the PLAIN bytes of its non-null values and
    which rows have a value (``None``: every row)."""

    name: str
    physical: int
    values: bytes
    valid: np.ndarray | None
    rows: int

    @classmethod
    def text(
        cls, name: str, encoded: Sequence[bytes], valid: Sequence[bool] | None = None
    ) -> Column:
        """A UTF-8 column from values already UTF-8 encoded (nulls left out of ``encoded``)."""
        mask = None if valid is None else np.asarray(valid, dtype=bool)
        rows = len(encoded) if mask is None else len(mask)
        plain = b"".join(struct.pack("<I", len(v)) + v for v in encoded)
        return cls(name, _BYTE_ARRAY, plain, mask, rows)

    @classmethod
    def plain_text(cls, name: str, plain: bytes, rows: int) -> Column:
        """A UTF-8 column without nulls from its PLAIN bytes (length-prefixed values)."""
        return cls(name, _BYTE_ARRAY, plain, None, rows)

    @classmethod
    def int64(
        cls,
        name: str,
        values: Sequence[int] | np.ndarray,
        valid: Sequence[bool] | np.ndarray | None,
    ) -> Column:
        """An INT64 column; ``values`` has a (placeholder) value in every row, ``valid``
        says which are values (``None``: all of them)."""
        return cls._fixed(name, _INT64, np.asarray(values, dtype="<i8"), valid)

    @classmethod
    def float64(
        cls,
        name: str,
        values: Sequence[float] | np.ndarray,
        valid: Sequence[bool] | np.ndarray | None,
    ) -> Column:
        """A DOUBLE column; ``values`` has a (placeholder) value in every row, ``valid``
        says which are values (``None``: all of them)."""
        return cls._fixed(name, _DOUBLE, np.asarray(values, dtype="<f8"), valid)

    @classmethod
    def _fixed(
        cls, name: str, physical: int, values: np.ndarray, valid: Sequence[bool] | np.ndarray | None
    ) -> Column:
        if valid is not None:
            mask = np.asarray(valid, dtype=bool)
            if np.count_nonzero(mask) < len(mask):
                return cls(name, physical, values[mask].tobytes(), mask, len(mask))
        return cls(name, physical, values.tobytes(), None, len(values))

    def page(self) -> bytes:
        """Definition levels (RLE/bit-packed hybrid, length-prefixed) and the values."""
        if self.valid is None:
            levels = _varint(self.rows << 1) + b"\x01" if self.rows else b""
        else:
            packed = np.packbits(self.valid, bitorder="little").tobytes()
            levels = _varint((len(packed) << 1) | 1) + packed
        return struct.pack("<I", len(levels)) + levels + self.values


def _u(n: int) -> bytes:
    """Zigzag varint of a non-negative i32/i64 (the Thrift compact integer)."""
    return _SMALL[n] if n < _SMALL_LIMIT else _varint(n << 1)


_SMALL_LIMIT: Final = 1 << 16
_SMALL: Final = [_varint(i << 1) for i in range(_SMALL_LIMIT)]


@functools.lru_cache(maxsize=64)
def _constants(schema: tuple[tuple[str, int], ...]) -> tuple[bytes, tuple[bytes, ...]]:
    """The parts of the footer that depend on the columns only: the encoded schema list
    (with its field header) and, per column, the fixed first fields of ColumnMetaData."""
    elements = [_Struct().binary(4, b"schema").i32(5, len(schema)).end()]
    prefixes = []
    for name, physical in schema:
        element = _Struct().i32(1, physical).i32(3, _OPTIONAL).binary(4, name.encode())
        if physical == _BYTE_ARRAY:
            element.i32(6, _UTF8).struct(10, _Struct().struct(1, _Struct()))
        elements.append(element.end())
        prefix = (
            _Struct()
            .i32(1, physical)
            .list(2, _I32, [_zigzag(_PLAIN), _zigzag(_RLE)])
            .list(3, _BINARY, [_varint(len(name.encode())) + name.encode()])
            .i32(4, 0)  # UNCOMPRESSED
        )
        prefixes.append(b"".join(prefix.parts))  # fields 1-4, open: fields 5-9 follow
    listed = _Struct()
    listed.last = 1  # field 2 of FileMetaData follows field 1 (version)
    listed.list(2, _STRUCT, elements)
    return b"".join(listed.parts), tuple(prefixes)


def _list_header(n: int, kind: int) -> bytes:
    return bytes([(n << 4) | kind]) if n < 15 else bytes([0xF0 | kind]) + _varint(n)


@functools.lru_cache(maxsize=64)
def _pairs(metadata: tuple[tuple[str, str], ...]) -> tuple[bytes, ...]:
    """The encoded KeyValue structs of the file metadata (the same for every file of a table)."""
    return tuple(
        _Struct().binary(1, key.encode()).binary(2, value.encode()).end() for key, value in metadata
    )


def write_parquet(columns: Sequence[Column], metadata: Mapping[str, str]) -> bytes:
    """A Parquet file of ``columns`` (same length) with ``metadata`` as key/value pairs.

    The Thrift structures are written byte by byte here (field header = delta << 4 | type),
    with the parts that depend only on the columns cached per schema."""
    rows = columns[0].rows if columns else 0
    schema_list, prefixes = _constants(tuple((c.name, c.physical) for c in columns))
    out = [_MAGIC]
    offset = len(_MAGIC)
    chunks: list[bytes] = []
    total = 0
    u_rows = _u(rows)
    for column, prefix in zip(columns, prefixes, strict=True):
        page = column.page()
        u_len = _u(len(page))
        # PageHeader{1: DATA_PAGE, 2, 3: sizes, 5: DataPageHeader{rows, PLAIN, RLE, RLE}}
        header = (
            b"\x15\x00\x15" + u_len + b"\x15" + u_len + b"\x2c\x15" + u_rows
            + b"\x15\x00\x15\x06\x15\x06\x00\x00"
        )  # fmt: skip
        size = len(header) + len(page)
        u_size, u_offset = _u(size), _u(offset)
        # ColumnChunk{2: file_offset, 3: ColumnMetaData{1-4 fixed, 5: rows, 6, 7: sizes,
        # 9: data_page_offset}}
        chunks.append(
            b"\x26" + u_offset + b"\x1c" + prefix + b"\x16" + u_rows + b"\x16" + u_size
            + b"\x16" + u_size + b"\x26" + u_offset + b"\x00\x00"
        )  # fmt: skip
        out += (header, page)
        offset += size
        total += size
    # RowGroup{1: columns, 2: total_byte_size, 3: num_rows}
    row_group = (
        b"\x19" + _list_header(len(chunks), _STRUCT) + b"".join(chunks)
        + b"\x16" + _u(total) + b"\x16" + u_rows + b"\x00"
    )  # fmt: skip
    pairs = _pairs(tuple(metadata.items()))
    created = CREATED_BY.encode()
    # FileMetaData{1: version, 2: schema, 3: num_rows, 4: row_groups, 5: key_value_metadata,
    # 6: created_by}
    footer = b"".join(
        (
            b"\x15\x02",
            schema_list,
            b"\x16" + u_rows,
            b"\x19\x1c" + row_group,
            b"\x19" + _list_header(len(pairs), _STRUCT),
            *pairs,
            b"\x18" + _varint(len(created)) + created,
            b"\x00",
        )
    )
    out += (footer, struct.pack("<I", len(footer)), _MAGIC)
    return b"".join(out)
