"""The physical lines of a CSV file: its encoding and line count in one pass, where each row
starts and ends, and whether a quote is left open at the end.

Line numbers are the ones an editor shows: lines end at ``\\n``, ``\\r\\n`` or a bare
``\\r``, blank lines count, and a row whose quoted value holds a line break spans several.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = p.write_bytes(b'a;b\\n1;"x\\ny"\\n\\n2;z\\n')
>>> scan_lines(p)
Lines(encoding='utf-8', last_line=5)
>>> row_spans(p, ";")
RowSpans(spans=((1, 1), (2, 3), (5, 5)), open_quote=False)
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_LF, _CR = ord("\n"), ord("\r")
#: Bytes that Windows-1252 leaves undefined (no character): decoded as U+FFFD.
CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Lines:
    """A file's encoding (``utf-8`` when the whole file is valid UTF-8, else ``cp1252``)
    and the line of its last non-blank line."""

    encoding: str
    last_line: int


@dataclass(frozen=True)
class RowSpans:
    """The first and last physical line of each CSV row (the header first, blank lines
    skipped), and whether the last row runs to the end of the file inside a quoted value
    that is never closed."""

    spans: tuple[tuple[int, int], ...]
    open_quote: bool


def scan_lines(path: Path) -> Lines:
    """The file's encoding and the line of its last non-blank line, in one pass.

    A character split between two reads is carried over; blank lines at the end of the file
    are not counted (they hold no row and shift none)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    breaks = 0
    tail = b""  # the file's last bytes, to leave out blank lines at its end
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_BLOCK), b""):
            if utf8:
                try:
                    decoder.decode(chunk, final=False)
                except UnicodeDecodeError:
                    utf8 = False
            breaks += line_breaks(chunk)
            if tail[-1:] == b"\r" and chunk[:1] == b"\n":
                breaks -= 1  # a \r\n split between two reads
            tail = chunk[-4096:] if len(chunk) >= 4096 else (tail + chunk)[-4096:]
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    # (4 KiB of nothing but line breaks at the end only costs read_csv the slow row count)
    trailing = line_breaks(tail[len(tail.rstrip(b"\r\n")) :])
    return Lines("utf-8" if utf8 else "cp1252", breaks - trailing + 1)


def line_breaks(chunk: bytes) -> int:
    """Line breaks in ``chunk``: each ``\\n``, and each ``\\r`` not followed by ``\\n``
    (numpy: several times faster than ``bytes.count`` on a file's worth of chunks)."""
    data = np.frombuffer(chunk, np.uint8)
    breaks = int(np.count_nonzero(data == _LF))
    if b"\r" in chunk:
        cr = np.flatnonzero(data[:-1] == _CR)
        breaks += len(cr) - int(np.count_nonzero(data[cr + 1] == _LF))
        breaks += chunk[-1:] == b"\r"
    return breaks


def has_undefined_cp1252(path: Path) -> bool:
    """True when the file holds a byte that Windows-1252 does not define."""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_BLOCK), b""):
            if any(byte in chunk for byte in CP1252_UNDEFINED):
                return True
    return False


def row_spans(path: Path, delimiter: str) -> RowSpans:
    """Where each CSV row starts and ends, skipping blank lines and following quoted values
    over line breaks, as the Arrow parser does.

    Only needed when rows and lines differ; Latin-1 maps every byte to one character, and
    quotes, delimiters and line breaks are the same bytes in UTF-8 and Windows-1252."""
    spans: list[tuple[int, int]] = []
    with open(path, encoding="latin-1", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        end = 0
        try:
            for row in reader:
                if row:
                    spans.append((end + 1, reader.line_num))
                end = reader.line_num
        except csv.Error:
            # e.g. an unterminated quote running past the field size limit: that row
            # takes the rest of the file, as it does in the Arrow parser
            spans.append((end + 1, _count_lines(path)))
            return RowSpans(tuple(spans), open_quote=True)
    open_quote = (
        bool(spans)
        and spans[-1][1] > spans[-1][0]
        and _ends_in_quote(path, spans[-1][0], delimiter)
    )
    return RowSpans(tuple(spans), open_quote)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        breaks = sum(line_breaks(chunk) for chunk in iter(lambda: fh.read(_BLOCK), b""))
    return max(breaks, 1)


#: A quoted value at a field's start: up to its closing quote (``""`` is a quote inside it).
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')


def _ends_in_quote(path: Path, first_line: int, delimiter: str) -> bool:
    """True when the row starting at ``first_line`` opens a quoted value that the file
    never closes (the Arrow parser then takes every later line into that value)."""
    with open(path, encoding="latin-1", newline="") as fh:
        for _ in range(first_line - 1):
            fh.readline()
        text = fh.read()
    field_end = re.compile(f"[{re.escape(delimiter)}\r\n]")
    at = 0
    while at < len(text):
        if text[at] == '"':
            quoted = _QUOTED.match(text, at)
            if quoted is None:
                return True
            at = quoted.end()
        end = field_end.search(text, at)
        if end is None:
            return False
        at = end.end()
    return False


__all__ = [
    "CP1252_UNDEFINED",
    "Lines",
    "RowSpans",
    "has_undefined_cp1252",
    "line_breaks",
    "row_spans",
    "scan_lines",
]
