"""Find personal identifiers in any text: the one place that knows their shapes.

Every text value helsestat stores, logs or prints can be scanned for the identifiers of a
person written in clear, wherever they were typed (a free-text column, a file name, a
swapped header). A *finding* is a run of digits of one of these shapes whose check digits
and date are valid:

=====================  =======================================================  ============
rule                   shape                                                    check
=====================  =======================================================  ============
``fodselsnummer``      11 digits ``DDMMYYIIIKK`` (or ``DDMMYY`` + separator + 5)  mod 11 (×2)
``d_nummer``           as a fødselsnummer, day + 40                              mod 11 (×2)
``h_nummer``           as a fødselsnummer, month + 40                            mod 11 (×2)
``personnummer``       10 digits ``YYMMDDNNNC`` or 12 ``CCYYMMDDNNNC``,          Luhn
                       with or without a separator before the last four
``samordningsnummer``  as a personnummer, day + 60                               Luhn
=====================  =======================================================  ============

A separator is one of :data:`SEPARATORS`. Digits glued to more digits are not a finding
(a run is maximal), letters and other characters around one are. The date test is loose on
purpose (day 1–31, month 1–12, no calendar, no century rule): whatever python-stdnum accepts
is found, and a little more, because a missed identifier costs more than a redacted number.

The scan is vectorised: it works on the bytes of an Arrow text array with numpy, never a
Python loop per value. Values shorter than ten bytes cannot hold an identifier and are
skipped without being read, so columns of short codes cost almost nothing.

>>> found = find_identifiers(pa.array(["R74", "pasient 010180 12371 ringte", "19121212-1212"]))
>>> [(int(v), SHAPES[s]) for v, s in zip(found.value, found.shape)]
[(1, 'fodselsnummer'), (2, 'personnummer')]
>>> redact_identifiers("claims_01018012371.csv")
'claims_<redacted>.csv'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from helsestat.validate.identifiers import fnr_check_digits, luhn_check_digit

#: The rules of the scan, in the order of :attr:`Found.shape` codes.
SHAPES = ("fodselsnummer", "d_nummer", "h_nummer", "personnummer", "samordningsnummer")
#: What may separate the birth date from the rest of an identifier (``010180 12344``,
#: ``121212-1212``, ``520552.00823``). The API's request log redacts the same separators.
SEPARATORS = "-+ ./:_"
#: Fewer bytes than this cannot hold an identifier (the shortest is 10 digits).
MIN_BYTES = 10
REDACTED = "<redacted>"

_FNR, _DNR, _HNR, _PNR, _SNR = range(len(SHAPES))
_SEPARATOR_BYTES = np.frombuffer(SEPARATORS.encode("ascii"), np.uint8)


@dataclass(frozen=True)
class Found:
    """Identifiers found in a text array, one entry each: the index of the value holding it,
    its byte range in the value's UTF-8 text, and its rule (an index into :data:`SHAPES`)."""

    value: np.ndarray
    start: np.ndarray
    end: np.ndarray
    shape: np.ndarray

    def __len__(self) -> int:
        return len(self.value)


_EMPTY = np.zeros(0, np.int64)
_NONE = Found(_EMPTY, _EMPTY, _EMPTY, np.zeros(0, np.int8))


def find_identifiers(array: pa.Array | pa.ChunkedArray) -> Found:
    """Every identifier in a text array (``string`` or ``large_string``; nulls hold none),
    ordered by value and position. A chunked array is scanned chunk by chunk, with value
    indices counted over the whole array.

    >>> len(find_identifiers(pa.array(["2024-03-18", "0301", None, "01018012345"])))
    0
    """
    if isinstance(array, pa.ChunkedArray):
        parts, base = [], 0
        for chunk in array.chunks:
            found = find_identifiers(chunk)
            parts.append(Found(found.value + base, found.start, found.end, found.shape))
            base += len(chunk)
        if not parts:
            return _NONE
        value, start, end, shape = (np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS)
        return Found(value, start, end, shape)
    if pa.types.is_dictionary(array.type):
        raise TypeError("scan the dictionary of a dictionary array (see identifier_rows)")
    # Two cheap filters narrow the values down before the scan, which costs more per byte:
    # values long enough (from the offsets alone), then values with five digits in a row.
    found, index = _NONE, None
    for narrow in (_long_enough, _five_digits):
        keep = narrow(array)
        if keep is None:
            continue
        if not len(keep):
            return _NONE
        array = array.take(pa.array(keep))
        index = keep if index is None else index[keep]
    found = _scan(array)
    if index is None:
        return found
    return Found(index[found.value], found.start, found.end, found.shape)


_FIELDS = ("value", "start", "end", "shape")


def identifier_rows(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, the rule of an identifier found in it (an index into :data:`SHAPES`), or -1.
    A dictionary-encoded column is scanned once per distinct value.

    >>> identifier_rows(pa.array(["x", "41018012365", "0301"])).tolist()
    [-1, 1, -1]
    """
    if isinstance(column, pa.ChunkedArray) and pa.types.is_dictionary(column.type):
        column = column.combine_chunks()
    if isinstance(column, pa.Array) and pa.types.is_dictionary(column.type):
        per_value = identifier_rows(column.dictionary)
        indices = column.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        out: np.ndarray = np.where(indices >= 0, per_value[np.maximum(indices, 0)], -1)
        return out.astype(np.int8)
    rows = np.full(len(column), -1, np.int8)
    found = find_identifiers(column)
    rows[found.value] = found.shape
    return rows


def replace_identifiers(
    values: pa.Array | pa.ChunkedArray, replacement: Callable[[str, str], str]
) -> pa.Array:
    """``values`` with each identifier found replaced by ``replacement(rule, digits)`` (the
    digits without separators). Only the values holding one are rebuilt.

    >>> replace_identifiers(pa.array(["a 01018012371 b"]), lambda r, d: f"<{r}>").to_pylist()
    ['a <fodselsnummer> b']
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    found = find_identifiers(values)
    if not len(found):
        return values
    texts: list[str | None] = values.to_pylist()
    for index in np.unique(found.value):
        mine = np.flatnonzero(found.value == index)
        raw = (texts[index] or "").encode()
        pieces, at = [], 0
        for i in mine:
            start, end = int(found.start[i]), int(found.end[i])
            digits = bytes(c for c in raw[start:end] if 48 <= c <= 57).decode()
            pieces += [raw[at:start], replacement(SHAPES[found.shape[i]], digits).encode()]
            at = end
        texts[index] = b"".join([*pieces, raw[at:]]).decode()
    return pa.array(texts, values.type)


def redact_identifiers(text: str) -> str:
    """``text`` with each identifier in it replaced by ``<redacted>``: for messages, file
    names and anything else that is printed or logged."""
    if len(text) < MIN_BYTES:
        return text
    out: str = replace_identifiers(pa.array([text]), lambda rule, digits: REDACTED)[0].as_py()
    return out


# -- the scan ---------------------------------------------------------------------------------


def _offsets(array: pa.Array) -> np.ndarray:
    if pa.types.is_large_string(array.type):
        dtype: type[np.signedinteger] = np.int64
    elif pa.types.is_string(array.type):
        dtype = np.int32
    else:
        raise TypeError(f"not a text array: {array.type}")
    buffer = array.buffers()[1]
    if buffer is None:
        return np.zeros(len(array) + 1, np.int64)
    offsets = np.frombuffer(buffer, dtype)[array.offset : array.offset + len(array) + 1]
    return offsets.astype(np.int64)


def _long_enough(array: pa.Array) -> np.ndarray | None:
    """The values of :data:`MIN_BYTES` or more (None: all of them)."""
    offsets = _offsets(array)
    long_enough = offsets[1:] - offsets[:-1] >= MIN_BYTES
    return None if long_enough.all() else np.flatnonzero(long_enough)


def _five_digits(array: pa.Array) -> np.ndarray | None:
    """The values with five digits in a row after their first byte (None: all of them).
    Every shape has such a run, and a date, an amount or a code has none; the first byte of
    each value is left out so that two values do not make one run."""
    offsets = _offsets(array)
    if offsets[-1] == offsets[0]:
        return np.zeros(0, np.int64)
    data = np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    digit = (data - np.uint8(48)) < 10
    digit[offsets[:-1][offsets[1:] > offsets[:-1]]] = False
    two = digit[:-1] & digit[1:]
    four = two[:-2] & two[2:]
    five = np.flatnonzero(four[:-1] & digit[4:])
    # a mark per value holding a run (a value can hold many: no sort of the runs)
    held = np.zeros(len(array), bool)
    held[np.searchsorted(offsets, five, side="right") - 1] = True
    return None if held.all() else np.flatnonzero(held)


def _scan(array: pa.Array) -> Found:
    """The scan of every value of a plain text array."""
    offsets = _offsets(array)
    if offsets[-1] == offsets[0]:
        return _NONE
    data = np.frombuffer(array.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    digit = (data - np.uint8(48)) < 10
    # Runs of digits, cut at value boundaries (a value ending in digits and the next
    # starting with digits must not make one run).
    before = np.empty_like(digit)
    before[0] = False
    before[1:] = digit[:-1]
    after = np.empty_like(digit)
    after[-1] = False
    after[:-1] = digit[1:]
    nonempty = offsets[1:] > offsets[:-1]
    before[offsets[:-1][nonempty]] = False
    after[offsets[1:][nonempty] - 1] = False
    starts = np.flatnonzero(digit & ~before)
    ends = np.flatnonzero(digit & ~after) + 1
    lengths = ends - starts
    if not (lengths >= 4).any():
        return _NONE

    hits: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (start, end, shape)
    # one run: 11 digits (Norwegian), 10 or 12 (Swedish)
    for width in (10, 11, 12):
        at = starts[lengths == width]
        if len(at):
            hits.append(_check(data, at, at + width, _positions(at, width)))
    # two runs with one separator between: 6 + 5 (Norwegian), 6 + 4 and 8 + 4 (Swedish)
    first = np.flatnonzero(lengths[:-1] >= 6)
    first = first[
        (starts[first + 1] == ends[first] + 1) & np.isin(data[ends[first]], _SEPARATOR_BYTES)
    ]
    for head, tail in ((6, 5), (6, 4), (8, 4)):
        pair = first[(lengths[first] == head) & (lengths[first + 1] == tail)]
        if len(pair):
            begin, gap, stop = starts[pair], ends[pair], ends[pair + 1]
            positions = np.hstack([_positions(begin, head), _positions(gap + 1, tail)])
            hits.append(_check(data, begin, stop, positions))
    if not hits:
        return _NONE
    start = np.concatenate([h[0] for h in hits])
    end = np.concatenate([h[1] for h in hits])
    shape = np.concatenate([h[2] for h in hits])
    keep = shape >= 0
    start, end, shape = start[keep], end[keep], shape[keep]
    # a value's separator between two runs lies inside it, so start and end share a value
    value = np.searchsorted(offsets, start, side="right") - 1
    order = np.lexsort((start, value))
    return Found(
        value[order], (start - offsets[value])[order], (end - offsets[value])[order], shape[order]
    )


def _positions(start: np.ndarray, width: int) -> np.ndarray:
    return np.asarray(start[:, None] + np.arange(width), np.int64)


def _check(
    data: np.ndarray, start: np.ndarray, end: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule of each candidate (-1: not an identifier) from its digits."""
    digits = data[positions].astype(np.int32) - 48
    width = digits.shape[1]
    if width == 11:
        shape = _norwegian(digits)
    elif width == 10:
        shape = _swedish(digits)
    else:  # 12: a century 18, 19 or 20, then a 10-digit personnummer
        century = digits[:, 0] * 10 + digits[:, 1]
        shape = np.where((century >= 18) & (century <= 20), _swedish(digits[:, 2:]), -1)
    return start, end, shape.astype(np.int8)


def _norwegian(d: np.ndarray) -> np.ndarray:
    k1, k2, possible = fnr_check_digits(d[:, :9])
    day = d[:, 0] * 10 + d[:, 1]
    month = d[:, 2] * 10 + d[:, 3]
    day_ok = ((day >= 1) & (day <= 31)) | ((day >= 41) & (day <= 71))
    month_ok = ((month >= 1) & (month <= 12)) | ((month >= 41) & (month <= 52))
    valid = possible & (k1 == d[:, 9]) & (k2 == d[:, 10]) & day_ok & month_ok
    shape = np.where(month > 40, _HNR, np.where(day > 40, _DNR, _FNR))
    out: np.ndarray = np.where(valid, shape, -1)
    return out


def _swedish(d: np.ndarray) -> np.ndarray:
    luhn = luhn_check_digit(d[:, :9]) == d[:, 9]
    month = d[:, 2] * 10 + d[:, 3]
    day = d[:, 4] * 10 + d[:, 5]
    month_ok = (month >= 1) & (month <= 12)
    day_ok = ((day >= 1) & (day <= 31)) | ((day >= 61) & (day <= 91))
    out: np.ndarray = np.where(luhn & month_ok & day_ok, np.where(day > 60, _SNR, _PNR), -1)
    return out


__all__ = [
    "MIN_BYTES",
    "REDACTED",
    "SEPARATORS",
    "SHAPES",
    "Found",
    "find_identifiers",
    "identifier_rows",
    "redact_identifiers",
    "replace_identifiers",
]
