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
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helsestat.errors import ExtractError
from helsestat.model import RawExtract

_SNIFF_BYTES = 1 << 16


def file_checksum(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of an extract (re-ingesting it is a no-op)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _detect_encoding(path: Path) -> str:
    """``utf-8`` when the whole file decodes as UTF-8 (a character split between two reads
    is carried over), otherwise ``cp1252``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk, final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


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
    encoding = _detect_encoding(path)
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES).decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = _detect_delimiter(head, path.name)
    names = next(csv.reader([head.splitlines()[0]], delimiter=delimiter))
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
                delimiter=delimiter, newlines_in_values=False, invalid_row_handler=skip_malformed
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
    table = table.rename_columns([c.lstrip("\ufeff").strip() for c in table.column_names])
    table = pa.table({c: table.column(c).cast(pa.string()) for c in table.column_names})
    lines = None
    if malformed:
        # the rows kept are the data lines (from 2 on) that were not skipped
        skipped = set(malformed)
        total = table.num_rows + len(malformed)
        lines = tuple(n for n in range(2, total + 2) if n not in skipped)
    return RawExtract(
        kind=kind,
        source=path.name,
        checksum=file_checksum(path),
        table=table,
        first_line=2,
        malformed_lines=tuple(sorted(malformed)),
        line_numbers=lines,
    )


def read_parquet(path: Path, kind: str) -> RawExtract:
    """Read a Parquet extract, casting every column to text."""
    try:
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
        cols[name] = col.cast(pa.string()).fill_null("")
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
                records = json.load(fh)
            else:
                records = [json.loads(line) for line in fh if line.strip()]
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
