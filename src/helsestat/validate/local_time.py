"""ISO 8601 timestamps as the wall-clock time of one zone (Swedish local time for SOB),
parsed a column at a time with no Python loop per value.

Accepted: ``YYYY-MM-DDTHH:MM``, ``…:SS`` and ``…:SS.f`` (1–9 decimals, a comma allowed; kept
to the microsecond), with ``T`` or a space between date and time, and optionally an offset
(``Z``, ``+HH``, ``+HH:MM``, ``+HHMM``), which is converted to the zone's wall clock. A value
that rolls over (``2024-02-30``, ``24:00``, second 60) is invalid, and so is a wall-clock time
the zone skips when its clocks go forward (``2024-03-31T02:30`` in Sweden); a time the zone
has twice when they go back is valid (and kept as written).

Most values have one of a few fixed widths (``2024-03-18T10:15:00`` is 19 bytes); those are
checked and read from the bytes of the Arrow text array with numpy. Anything else goes
through a regular expression, value by value in Arrow's compute kernels. The skipped hours are
found on the distinct quarter-hours of the column, and only the values in a quarter-hour
that touches one are converted one by one (by Arrow, with the system's time-zone database).

>>> t = parse_local_times(pa.array(["2024-03-18T10:15:00", "2024-03-18 10:15",
...     "2024-03-18T09:15:00Z", "2024-02-30T10:00:00", "2024-03-31T02:30:00", "18.03.2024"]),
...     "Europe/Stockholm")
>>> t.ok.tolist()
[True, True, True, False, False, False]
>>> t.timestamps().to_pylist()[2]
datetime.datetime(2024, 3, 18, 10, 15)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_US = 1_000_000
_QUARTER = 15 * 60 * _US
#: up to this many quarter-hours between the first and the last time, the distinct ones are
#: found with one mark each (a few MB), not by sorting
_MARK_LIMIT = 1 << 24
#: the widths read from the bytes: minutes, seconds, and seconds with 1–6 decimals
_WIDTHS = (16, 19, 21, 22, 23, 24, 25, 26)
_DIGIT_AT = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15)
_PATTERN = (
    r"^(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)[T ](?P<h>\d\d):(?P<mi>\d\d)"
    r"(?::(?P<s>\d\d)(?:[.,](?P<f>\d{1,9}))?)?"
    r"(?P<z>Z|[+-]\d\d(?::?\d\d)?)?$"
)


@dataclass(frozen=True)
class LocalTimes:
    """Per value: whether it is a valid time, and its wall-clock time in the zone as
    microseconds after 1970-01-01 00:00 (0 where not valid)."""

    ok: np.ndarray
    micros: np.ndarray

    def timestamps(self) -> pa.Array:
        """The times as ``timestamp[us]`` without a zone (null where not valid)."""
        return pa.array(self.micros, pa.timestamp("us"), mask=~self.ok)

    def days(self) -> np.ndarray:
        """Days after 1970-01-01 of the wall-clock dates (meaningless where not valid)."""
        out: np.ndarray = self.micros // (86_400 * _US)
        return out


@dataclass
class _Parts:
    """Components of the values being read (int64 arrays, one entry per value)."""

    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    minute: np.ndarray
    second: np.ndarray
    micro: np.ndarray
    offset_minutes: np.ndarray
    has_offset: np.ndarray
    read: np.ndarray  # the value had a readable shape

    @classmethod
    def empty(cls, n: int) -> _Parts:
        def zeros() -> np.ndarray:
            return np.zeros(n, np.int64)

        return cls(
            zeros(),
            zeros(),
            zeros(),
            zeros(),
            zeros(),
            zeros(),
            zeros(),
            zeros(),
            has_offset=np.zeros(n, bool),
            read=np.zeros(n, bool),
        )


def _number(b: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The decimal number in byte columns ``start:stop`` of an (n, width) byte array."""
    out = np.zeros(len(b), np.int64)
    for i in range(start, stop):
        out = out * 10 + (b[:, i].astype(np.int64) - 48)
    return out


def _block(data: np.ndarray, offsets: np.ndarray, rows: np.ndarray, width: int) -> np.ndarray:
    """The bytes of the values ``rows`` (each ``width`` long) as an (n, width) array: a view
    when they are all the values, one after the other."""
    first, last = offsets[rows[0]], offsets[rows[-1]] + width
    if last - first == len(rows) * width:
        view: np.ndarray = data[first:last].reshape(len(rows), width)
        return view
    gathered: np.ndarray = data[offsets[rows][:, None] + np.arange(width)]
    return gathered


def _from_bytes(array: pa.Array, parts: _Parts) -> None:
    """Read the values of the fixed widths whose bytes have the shape (offset-free)."""
    if array.null_count:
        array = array.fill_null("")
    offsets = np.frombuffer(array.buffers()[1], np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1].astype(np.int64)
    lengths = np.diff(offsets)
    if not len(lengths) or offsets[-1] == offsets[0]:
        return
    data = np.frombuffer(array.buffers()[2], np.uint8)
    for width in _WIDTHS:
        rows = np.flatnonzero(lengths == width)
        if not len(rows):
            continue
        b = _block(data, offsets, rows, width)
        digits = [*_DIGIT_AT, *((17, 18) if width >= 19 else ()), *range(20, width)]
        fits = np.ones(len(rows), bool)
        for i in digits:
            fits &= (b[:, i] - np.uint8(48)) < 10  # wraps below '0'
        fits &= (b[:, 4] == 45) & (b[:, 7] == 45) & ((b[:, 10] == 84) | (b[:, 10] == 32))
        fits &= b[:, 13] == 58
        if width >= 19:
            fits &= b[:, 16] == 58
        if width >= 21:
            fits &= (b[:, 19] == 46) | (b[:, 19] == 44)
        if not fits.all():
            rows, b = rows[fits], b[fits]
        parts.year[rows] = _number(b, 0, 4)
        parts.month[rows] = _number(b, 5, 7)
        parts.day[rows] = _number(b, 8, 10)
        parts.hour[rows] = _number(b, 11, 13)
        parts.minute[rows] = _number(b, 14, 16)
        if width >= 19:
            parts.second[rows] = _number(b, 17, 19)
        if width >= 21:
            parts.micro[rows] = _number(b, 20, width) * 10 ** (26 - width)
        parts.read[rows] = True


def _field(struct: pa.StructArray, name: str) -> pa.Array:
    return pc.fill_null(struct.field(name), "")


def _ints(text: pa.Array) -> np.ndarray:
    """Digit text to int64 (empty: 0)."""
    filled = pc.if_else(pc.equal(text, ""), "0", text)
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _from_pattern(array: pa.Array, rows: np.ndarray, parts: _Parts) -> None:
    """Read the values at ``rows`` with the regular expression (any accepted shape)."""
    found = pc.extract_regex(array.take(pa.array(rows)), _PATTERN)
    matched = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), bool)
    rows, found = rows[matched], found.filter(pa.array(matched))
    if not len(rows):
        return
    for name, target in (
        ("y", parts.year),
        ("mo", parts.month),
        ("d", parts.day),
        ("h", parts.hour),
        ("mi", parts.minute),
        ("s", parts.second),
    ):
        target[rows] = _ints(_field(found, name))
    fraction = pc.utf8_slice_codeunits(_field(found, "f"), 0, 6)
    width = np.asarray(pc.utf8_length(fraction).to_numpy(zero_copy_only=False), np.int64)
    parts.micro[rows] = _ints(fraction) * 10 ** (6 - width)
    zone = _field(found, "z")
    zone_text = pc.replace_substring(pc.replace_substring(zone, ":", ""), "Z", "+00")
    sign = np.where(
        np.asarray(pc.starts_with(zone_text, "-").to_numpy(zero_copy_only=False), bool), -1, 1
    )
    hours = _ints(pc.utf8_slice_codeunits(zone_text, 1, 3))
    minutes = _ints(pc.utf8_slice_codeunits(zone_text, 3, 5))
    parts.offset_minutes[rows] = sign * (hours * 60 + minutes)
    parts.has_offset[rows] = np.asarray(pc.not_equal(zone, "").to_numpy(zero_copy_only=False), bool)
    parts.read[rows] = True


def _wall_clock(utc: np.ndarray, zone: str) -> np.ndarray:
    """The zone's wall-clock time of UTC instants (microseconds)."""
    instants = pa.array(utc, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=zone))
    local = pc.local_timestamp(instants)
    return np.asarray(local.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _exists(local: np.ndarray, zone: str) -> np.ndarray:
    """Whether each wall-clock time occurs in the zone (not skipped when clocks go forward)."""
    stamps = pa.array(local, pa.timestamp("us"))
    instants = pc.assume_timezone(stamps, zone, ambiguous="earliest", nonexistent="earliest")
    back = pc.local_timestamp(instants).cast(pa.int64())
    same: np.ndarray = np.asarray(back.to_numpy(zero_copy_only=False), np.int64) == local
    return same


def _skipped(local: np.ndarray, zone: str) -> np.ndarray:
    """True where a wall-clock time is skipped by the zone. Checked exactly only for values in
    a quarter-hour whose first or last moment is skipped (transitions are on quarter-hours)."""
    out = np.zeros(len(local), bool)
    if not len(local):
        return out
    quarter = local // _QUARTER
    low, span = int(quarter.min()), int(quarter.max() - quarter.min()) + 1
    if span <= _MARK_LIMIT:  # the distinct quarter-hours from a mark per quarter-hour
        seen = np.zeros(span, bool)
        seen[quarter - low] = True
        starts = (np.flatnonzero(seen) + low) * _QUARTER
    else:
        starts = np.unique(quarter) * _QUARTER
    touched = ~(_exists(starts, zone) & _exists(starts + _QUARTER - 1, zone))
    if not touched.any():
        return out
    suspect = np.flatnonzero(np.isin(quarter, starts[touched] // _QUARTER))
    out[suspect] = ~_exists(local[suspect], zone)
    return out


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Days in each month (0 for a month outside 1–12), leap years counted.

    >>> days_in_month(np.array([2024, 2023, 1900]), np.array([2, 2, 2])).tolist()
    [29, 28, 28]
    """
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _MONTH_DAYS[np.clip(month, 0, 12)] + (leap & (month == 2))
    out: np.ndarray = np.where(month <= 12, days, 0)
    return out


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days after 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    out: np.ndarray = era * 146_097 + doe - 719_468
    return out


def parse_local_times(column: pa.Array | pa.ChunkedArray, zone: str) -> LocalTimes:
    """Read ISO 8601 timestamps (see the module docstring) as wall-clock times in ``zone``."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.string())
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    n = len(column)
    parts = _Parts.empty(n)
    _from_bytes(column, parts)
    rest = np.flatnonzero(~parts.read)
    if len(rest):
        _from_pattern(column, rest, parts)
    ok = parts.read & (parts.month >= 1) & (parts.month <= 12) & (parts.day >= 1)
    ok &= parts.day <= days_in_month(parts.year, parts.month)
    ok &= (parts.hour <= 23) & (parts.minute <= 59) & (parts.second <= 59)
    days = _days_from_civil(parts.year, parts.month, parts.day)
    seconds = ((days * 24 + parts.hour) * 60 + parts.minute) * 60 + parts.second
    micros = np.where(ok, seconds * _US + parts.micro, 0)
    shifted = np.flatnonzero(ok & parts.has_offset)
    if len(shifted):
        utc = micros[shifted] - parts.offset_minutes[shifted] * 60 * _US
        micros[shifted] = _wall_clock(utc, zone)
    plain = np.flatnonzero(ok & ~parts.has_offset)
    if len(plain):
        ok[plain[_skipped(micros[plain], zone)]] = False
    return LocalTimes(ok=ok, micros=np.where(ok, micros, 0))


__all__ = ["LocalTimes", "days_in_month", "parse_local_times"]
