"""Looking for personal identifiers in clear in what helsestat stored, logged or printed:
every text value of every Parquet or Arrow file, and the text of every other file, through
the one scan of :mod:`helsestat.validate.identifier_scan`.

A pseudonym is 32 hex digits; about one in 4,000 holds a run of decimal digits with valid check
digits by chance, so pseudonyms (a whole value, or inside ``<rule:pseudonym>``) are left out
before the scan. Findings name the file, the column and the rule, never the value."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from helsestat.validate.identifier_scan import SHAPES, find_identifiers

#: a pseudonym (RE2 has no look-behind: word boundaries, as hex is letters and digits)
PSEUDONYM = r"\b[0-9a-f]{32}\b"


def identifiers_in(values: pa.Array | pa.ChunkedArray) -> Counter[str]:
    """The rules of the identifiers found in a text array, pseudonyms left out."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return Counter()
    found = find_identifiers(pc.replace_substring_regex(values, PSEUDONYM, ""))
    return Counter(SHAPES[s] for s in found.shape)


def identifiers_in_table(table: pa.Table) -> dict[str, Counter[str]]:
    """Per column holding any: the rules found."""
    out = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if found := identifiers_in(column):
            out[name] = found
    return out


def _read_arrow(path: Path) -> pa.Table:
    try:
        with pa.memory_map(str(path)) as source:
            return ipc.open_file(source).read_all()
    except pa.ArrowInvalid:
        with pa.memory_map(str(path)) as source:
            return ipc.open_stream(source).read_all()


#: The first bytes of an SQLite database file.
_SQLITE = b"SQLite format 3\x00"


def _sqlite_tables(path: Path) -> Iterator[tuple[str, pa.Table]]:
    """Every table of an SQLite database, each value as text (numbers too). A database is
    read value by value, not as bytes: its records store values side by side, so two codes
    (a kommune ``0710`` and a code ``071036``) would read as one number."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            cursor = con.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            yield (
                name,
                pa.table(
                    {
                        column: pa.array(
                            [None if v is None else str(v) for v in values], pa.large_string()
                        )
                        for column, values in zip(
                            columns,
                            zip(*rows, strict=True) if rows else [()] * len(columns),
                            strict=True,
                        )
                    }
                ),
            )
    finally:
        con.close()


def scan_file(path: Path) -> list[str]:
    """The findings in one file: ``path column: rule × n`` (``path table.column: …`` for an
    SQLite database; its ``-wal`` and ``-shm`` files are read through the database)."""
    if path.name.endswith(("-wal", "-shm")) and path.with_name(path.name[:-4]).is_file():
        return []
    with open(path, "rb") as head:
        if head.read(len(_SQLITE)) == _SQLITE:
            return [
                f"{path} {name}.{column}: {rule} × {n}"
                for name, table in _sqlite_tables(path)
                for column, found in identifiers_in_table(table).items()
                for rule, n in found.items()
            ]
    table = None
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        elif path.suffix == ".arrow":
            table = _read_arrow(path)
    except (pa.ArrowException, OSError):  # not what its name says: read as bytes
        table = None
    if table is None:
        text = path.read_bytes().decode("latin-1")
        table = pa.table({"(text)": pa.array(text.splitlines(), pa.large_string())})
    return [
        f"{path} {column}: {rule} × {n}"
        for column, found in identifiers_in_table(table).items()
        for rule, n in found.items()
    ]


def scan_tree(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """The findings in every file under ``root`` (directories named in ``skip`` left out)."""
    findings = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not set(path.relative_to(root).parts) & set(skip):
            findings += scan_file(path)
    return findings


#: The parts of a data directory that hold row-level text: the stored rows, the quarantine,
#: the batch records and the codebooks (releases and caches hold aggregates of those).
ROW_LEVEL = ("extracts", "quarantine", "batches", "codebooks")


def scan_stored_rows(root: Path) -> list[str]:
    """The findings in the row-level parts of every data directory under ``root`` (a data
    directory is found by its ``batches`` directory)."""
    findings = []
    for batches in sorted(root.rglob("batches")):
        if batches.is_dir():
            for part in ROW_LEVEL:
                if (batches.parent / part).is_dir():
                    findings += scan_tree(batches.parent / part)
    return findings
