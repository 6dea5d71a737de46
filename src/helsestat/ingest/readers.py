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

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helsestat.errors import ExtractError
from helsestat.ingest.lines import has_undefined_cp1252, row_spans, scan_lines
from helsestat.model import RawExtract

_SNIFF_BYTES = 1 << 16
#: a run of digits that could be (part of) a fødselsnummer, never echoed in a message
_DIGITS = re.compile(r"\d{5}")
#: The rule of the lines from a quote that the file never closes.
OPEN_QUOTE_RULE = "line.unterminated_quote"


def file_checksum(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of an extract (re-ingesting it is a no-op)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: The first bytes of files that are not CSV text, what they are and what to do.
_NOT_TEXT = (
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook", "unzip it, or save the sheet as CSV"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it first (unzstd)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz)"),
    (b"PAR1", "a Parquet file", "give it the ending .parquet"),
    (b"\xff\xfe", "UTF-16 text", "save it as UTF-8 or Windows-1252"),
    (b"\xfe\xff", "UTF-16 text", "save it as UTF-8 or Windows-1252"),
)


def _refuse_binary(head: bytes, name: str) -> None:
    """ExtractError for a file that is not text: compressed, Parquet, UTF-16, or holding NUL
    bytes (a text file in UTF-8 or Windows-1252 has none)."""
    for magic, what, hint in _NOT_TEXT:
        if head.startswith(magic):
            raise ExtractError(
                "ingest.not_text", f"{name}: not a CSV text file but {what}", hint=hint
            )
    if b"\0" in head:
        raise ExtractError(
            "ingest.not_text",
            f"{name}: not a CSV text file (it holds NUL bytes)",
            hint="extracts are CSV text in UTF-8 or Windows-1252, Parquet or JSON",
        )


def _first_line(text: str) -> str:
    """The text up to the first line break (``\\n``, ``\\r``), as the CSV parser splits."""
    return re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]


def _detect_delimiter(head: str, source: str) -> str:
    first = _first_line(head)
    if not first.strip():
        raise ExtractError(
            "ingest.empty_file",
            f"{source}: the file is empty or has no header line",
            hint="an extract starts with a header line naming its columns",
        )
    return ";" if first.count(";") >= first.count(",") else ","


def _utf8_copy(path: Path) -> pa.Buffer:
    """The file's Windows-1252 text as UTF-8 bytes, each undefined byte as U+FFFD (Arrow's
    own transcoding stops at the first one)."""
    out = bytearray()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 24), b""):
            out += chunk.decode("cp1252", errors="replace").encode("utf-8")
    return pa.py_buffer(bytes(out))


def read_csv(path: Path, kind: str) -> RawExtract:
    """Read a CSV extract; every value as text, empty fields as empty strings.

    A line whose fields do not match the header goes to quarantine as ``line.field_count``
    (each physical line of it), the lines from a quote the file never closes as
    ``line.unterminated_quote``, and a row with a byte that is no character of
    Windows-1252 as ``line.encoding`` (marked ``undecodable``, checked by validate)."""
    name = path.name
    with open(path, "rb") as fh:
        head_bytes = fh.read(_SNIFF_BYTES)
    _refuse_binary(head_bytes, name)
    lines = scan_lines(path)
    head = head_bytes.decode(lines.encoding, errors="replace").lstrip("\ufeff")
    delimiter = _detect_delimiter(head, name)
    names = next(csv.reader([_first_line(head)], delimiter=delimiter))
    columns = [n.lstrip("\ufeff").strip() for n in names]
    _refuse_duplicates(columns, f"{name} line 1")
    if lines.last_line == 1 and len(head_bytes) < _SNIFF_BYTES:
        # a header without a line break: no rows (the Arrow parser refuses it as empty)
        return RawExtract(
            kind=kind,
            source=name,
            checksum=file_checksum(path),
            table=pa.table({c: pa.array([], pa.string()) for c in columns}),
            first_line=2,
        )
    undecodable = lines.encoding == "cp1252" and has_undefined_cp1252(path)
    source: Path | pa.BufferReader = path
    encoding = lines.encoding
    if undecodable:
        source, encoding = pa.BufferReader(_utf8_copy(path)), "utf-8"
    malformed: list[int] = []

    def skip_malformed(row: pacsv.InvalidRow) -> str:
        malformed.append(row.number if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            source,
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
    except pa.ArrowException as exc:
        raise ExtractError(
            "ingest.unreadable_csv",
            f"{name}: not a readable CSV file ({_short(exc)})",
            hint="check that every line has the header's number of fields; "
            "'helsestat spec <kind>' lists the expected columns",
        ) from None
    if table.column_names != names:
        # the parser saw another header than its first line (a quote or line break in it)
        raise ExtractError(
            "ingest.unreadable_csv",
            f"{name} line 1: the header line cannot be split into column names",
            hint="write the header as one line of names separated by ';' or ',' without quotes",
        )
    table = table.rename_columns(columns)
    table = pa.table({c: table.column(c).cast(pa.string()) for c in table.column_names})
    rows, lines_of = _physical_lines(path, delimiter, lines.last_line, table, malformed)
    return RawExtract(
        kind=kind,
        source=name,
        checksum=file_checksum(path),
        table=rows.table,
        first_line=2,
        malformed_lines=rows.malformed,
        line_numbers=lines_of,
        rejected_lines=rows.rejected,
        undecodable=undecodable,
    )


@dataclass(frozen=True)
class _Rows:
    table: pa.Table
    malformed: tuple[int, ...]
    rejected: tuple[tuple[int, str], ...]


def _physical_lines(
    path: Path, delimiter: str, last_line: int, table: pa.Table, malformed: list[int]
) -> tuple[_Rows, tuple[int, ...] | None]:
    """The rows kept, the lines left out, and the line each kept row starts on (None: one
    row per line from line 2).

    Arrow numbers rows (header = 1), not lines: they differ only when a file has blank
    lines or a quoted value with a line break, seen as more lines than rows. Then every
    physical line is accounted for: a malformed row spanning several lines counts each,
    and a quote left open to the end of the file rejects the lines from its row on (the
    parser took them all into one value)."""
    rows = 1 + table.num_rows + len(malformed)
    if last_line == rows:
        if not malformed:
            return _Rows(table, (), ()), None
        kept = tuple(np.setdiff1d(np.arange(2, rows + 1), malformed).tolist())
        return _Rows(table, tuple(sorted(malformed)), ()), kept
    found = row_spans(path, delimiter)
    if len(found.spans) != rows:  # the two parsers disagree: name rows, not lines
        skipped = set(malformed)
        kept = tuple(n for n in range(2, rows + 1) if n not in skipped)
        return _Rows(table, tuple(sorted(malformed)), ()), kept
    span = dict(enumerate(found.spans, start=1))  # row number → (first, last line)
    bad = set(malformed)
    rejected: list[tuple[int, str]] = []
    if found.open_quote and rows > 1:
        first, _ = span[rows]
        rejected = [(line, OPEN_QUOTE_RULE) for line in range(first, last_line + 1)]
        if rows in bad:
            bad.discard(rows)
        else:
            table = table.slice(0, table.num_rows - 1)
        rows -= 1
    out_lines = sorted(line for n in bad for line in range(span[n][0], span[n][1] + 1))
    kept = tuple(span[n][0] for n in range(2, rows + 1) if n not in bad)
    return _Rows(table, tuple(out_lines), tuple(rejected)), kept


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
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        # (a column name that is not UTF-8 fails in Arrow's decoding of the schema)
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
        except pa.ArrowException:
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
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError, UnicodeDecodeError, a number of too many digits (ValueError),
        # or arrays nested deeper than Python's recursion limit
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
    """The first line of a parser's message, without runs of digits (it may quote a row)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _DIGITS.sub("#####", re.sub(r"\d{6,}", "#####", text))[:200]
