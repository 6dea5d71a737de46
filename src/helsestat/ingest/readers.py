"""Read extract files (CSV, Parquet or JSON) into Arrow, every column as text.

CSV: UTF-8 or Windows-1252 (detected: a file that is not valid UTF-8 is read as
Windows-1252), ``;`` or ``,`` separated (detected from the header line). Parquet: any column
types, cast to text so validation sees the same values whatever the format.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = p.write_bytes("a;b\\n1;æ\\n".encode("cp1252"))
>>> read_extract(p, "demo").table.to_pylist()
[{'a': '1', 'b': 'æ'}]
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helsestat.errors import ExtractError
from helsestat.model import RawExtract

_SNIFF_BYTES = 1 << 16
#: a run of digits that could be (part of) a fødselsnummer, never echoed in a message
_LF, _CR = ord("\n"), ord("\r")
_DIGITS = re.compile(r"\d{5}")


def file_checksum(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of an extract (re-ingesting it is a no-op)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _scan(path: Path) -> tuple[str, int]:
    """The file's encoding and the line of its last non-blank line, in one pass.

    The encoding is ``utf-8`` when the whole file decodes as UTF-8 (a character split between
    two reads is carried over), otherwise ``cp1252``. Lines end at ``\\n``, ``\\r\\n`` or a
    bare ``\\r``, as the CSV parser and an editor count them; blank lines at the end of the
    file are not counted (they hold no row and shift none)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    breaks = 0
    tail = b""  # the file's last bytes, to leave out blank lines at its end
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            if utf8:
                try:
                    decoder.decode(chunk, final=False)
                except UnicodeDecodeError:
                    utf8 = False
            breaks += _line_breaks(chunk)
            if tail[-1:] == b"\r" and chunk[:1] == b"\n":
                breaks -= 1  # a \r\n split between two reads
            tail = chunk[-4096:] if len(chunk) >= 4096 else (tail + chunk)[-4096:]
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    # (4 KiB of nothing but line breaks at the end only costs read_csv the slow row count)
    trailing = _line_breaks(tail[len(tail.rstrip(b"\r\n")) :])
    return ("utf-8" if utf8 else "cp1252"), breaks - trailing + 1


def _line_breaks(chunk: bytes) -> int:
    """Line breaks in ``chunk``: each ``\\n``, and each ``\\r`` not followed by ``\\n``
    (numpy: several times faster than ``bytes.count`` on a file's worth of chunks)."""
    data = np.frombuffer(chunk, np.uint8)
    breaks = int(np.count_nonzero(data == _LF))
    if b"\r" in chunk:
        cr = np.flatnonzero(data[:-1] == _CR)
        breaks += len(cr) - int(np.count_nonzero(data[cr + 1] == _LF))
        breaks += chunk[-1:] == b"\r"
    return breaks


def _row_starts(path: Path, delimiter: str) -> list[int]:
    """The physical line each CSV row starts on (the header is row 1), skipping blank lines
    and following quoted values over line breaks, as the Arrow parser does.

    Only needed when rows and lines differ; Latin-1 maps every byte to one character, and
    quotes, delimiters and line breaks are the same bytes in UTF-8 and Windows-1252."""
    starts: list[int] = []
    with open(path, encoding="latin-1", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        end = 0
        try:
            for row in reader:
                if row:
                    starts.append(end + 1)
                end = reader.line_num
        except csv.Error:
            # e.g. an unterminated quote running past the field size limit: that row
            # takes the rest of the file, as it does in the Arrow parser
            starts.append(end + 1)
    return starts


def _detect_delimiter(head: str, source: str) -> str:
    first = head.splitlines()[0] if head else ""
    if not first.strip():
        raise ExtractError(
            "ingest.empty_file",
            f"{source}: the file is empty or has no header line",
            hint="an extract starts with a header line naming its columns",
        )
    return ";" if first.count(";") >= first.count(",") else ","


def read_csv(path: Path, kind: str) -> RawExtract:
    """Read a CSV extract; every value as text, empty fields as empty strings."""
    encoding, last_line = _scan(path)
    with open(path, "rb") as fh:
        head_bytes = fh.read(_SNIFF_BYTES)
    head = head_bytes.decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = _detect_delimiter(head, path.name)
    names = next(csv.reader([head.splitlines()[0]], delimiter=delimiter))
    columns = [n.lstrip("\ufeff").strip() for n in names]
    _refuse_duplicates(columns, f"{path.name} line 1")
    if last_line == 1 and len(head_bytes) < _SNIFF_BYTES:
        # a header without a line break: no rows (the Arrow parser refuses it as empty)
        return RawExtract(
            kind=kind,
            source=path.name,
            checksum=file_checksum(path),
            table=pa.table({c: pa.array([], pa.string()) for c in columns}),
            first_line=2,
        )
    malformed: list[int] = []

    def skip_malformed(row: pacsv.InvalidRow) -> str:
        malformed.append(row.number if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=encoding, block_size=1 << 24, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=skip_malformed
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                auto_dict_encode=False,
                include_missing_columns=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise ExtractError(
            "ingest.unreadable_csv",
            f"{path.name}: not a readable CSV file ({_short(exc)})",
            hint="check that every line has the header's number of fields; "
            "'helsestat spec <kind>' lists the expected columns",
        ) from None
    table = table.rename_columns(columns)
    table = pa.table({c: table.column(c).cast(pa.string()) for c in table.column_names})
    # Arrow numbers rows (header = 1), not lines: they differ only when a file has blank
    # lines or a quoted value with a line break, seen as more lines than rows.
    rows = 1 + table.num_rows + len(malformed)
    line_of: list[int] | None = None
    if last_line != rows:
        starts = _row_starts(path, delimiter)
        if len(starts) == rows:
            line_of = [0, *starts]  # line_of[row number] = its first physical line
    if line_of is not None:
        malformed = [line_of[n] if 0 < n < len(line_of) else n for n in malformed]
    lines = None
    if malformed or line_of is not None:
        # the rows kept are the data rows (from 2 on) that were not skipped
        skipped = set(malformed)
        numbers = range(2, rows + 1) if line_of is None else line_of[2:]
        lines = tuple(n for n in numbers if n not in skipped)
    return RawExtract(
        kind=kind,
        source=path.name,
        checksum=file_checksum(path),
        table=table,
        first_line=2,
        malformed_lines=tuple(sorted(malformed)),
        line_numbers=lines,
    )


def _refuse_duplicates(columns: list[str], where: str) -> None:
    """ExtractError when two columns have the same name (one would hide the other)."""
    seen: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if name not in seen:
            seen[name] = position
            continue
        # A header that is really a data line could repeat a value: name the positions
        # instead of echoing anything that looks like an identifier.
        what = (
            f"columns {seen[name]} and {position} have the same name"
            if _DIGITS.search(name)
            else f"column {name!r} appears twice"
        )
        raise ExtractError(
            "ingest.duplicate_column",
            f"{where}: {what}",
            hint="give each column its own name; 'helsestat spec <kind>' lists the columns",
        )


def read_parquet(path: Path, kind: str) -> RawExtract:
    """Read a Parquet extract, casting every column to text."""
    try:
        _refuse_duplicates(pq.read_schema(path).names, path.name)
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ExtractError(
            "ingest.unreadable_parquet",
            f"{path.name}: not a readable Parquet file ({_short(exc)})",
            hint="write the extract with a Parquet writer, or send it as CSV",
        ) from None
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        try:
            cols[name] = col.cast(pa.string()).fill_null("")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Arrow's message may quote a value (an invalid UTF-8 payload): name the column
            # and the kind of problem, never the message
            problem = (
                "holds bytes that are not UTF-8 text"
                if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)
                else f"has type {col.type}, which cannot be read as text"
            )
            raise ExtractError(
                "ingest.unreadable_parquet",
                f"{path.name}: column {name!r} {problem}",
                hint="write every column as text, a number, a date or a time",
            ) from None
    return RawExtract(
        kind=kind,
        source=path.name,
        checksum=file_checksum(path),
        table=pa.table(cols),
        first_line=1,
    )


def read_json(path: Path, kind: str) -> RawExtract:
    """Read a JSON extract: an array of objects (``.json``) or one object per line
    (``.jsonl``/``.ndjson``). Every value becomes text; a missing key an empty value.
    Numbers lose leading zeros in JSON, so identifiers and codes must be strings."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            if path.suffix.lower() == ".json":
                records = json.load(fh, object_pairs_hook=_Object(path.name))
            else:
                records = [
                    json.loads(line, object_pairs_hook=_Object(f"{path.name} line {number}"))
                    for number, line in enumerate(fh, start=1)
                    if line.strip()
                ]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ExtractError(
            "ingest.unreadable_json",
            f"{path.name}{where}: not valid JSON",
            hint="send an array of objects (.json) or one object per line (.jsonl)",
        ) from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ExtractError(
            "ingest.unreadable_json",
            f"{path.name}: expected a list of objects",
            hint="send an array of objects (.json) or one object per line (.jsonl)",
        )
    names = list(dict.fromkeys(k for r in records for k in r))
    cols = {
        n: pa.array(["" if r.get(n) is None else str(r[n]) for r in records], pa.string())
        for n in names
    }
    return RawExtract(
        kind=kind,
        source=path.name,
        checksum=file_checksum(path),
        table=pa.table(cols),
        first_line=1,
    )


class _Object:
    """A JSON object hook that refuses a key given twice (json keeps the last silently)."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __call__(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        record = dict(pairs)
        if len(record) != len(pairs):
            _refuse_duplicates([key for key, _ in pairs], self.where)
        return record


def read_extract(path: Path, kind: str) -> RawExtract:
    """Read an extract by its file ending (.csv, .txt, .parquet).

    Raises ExtractError naming the file when it is missing or unreadable."""
    if not path.is_file():
        raise ExtractError(
            "ingest.file_not_found",
            f"{path}: no such file",
            hint="give the path of a CSV or Parquet extract",
        )
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_csv(path, kind)
    if suffix in (".parquet", ".pq"):
        return read_parquet(path, kind)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return read_json(path, kind)
    raise ExtractError(
        "ingest.unknown_format",
        f"{path.name}: unknown file type {suffix!r}",
        hint="extracts are .csv (UTF-8 or Windows-1252, ';' or ',') or .parquet",
    )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
