"""No personal identifier in clear outside the identifier columns, for every extract kind.

``validate`` scans every text column of an extract except its identifier columns (which are
pseudonymised whole) with :mod:`helsestat.validate.identifier_scan`:

* a row with an identifier in such a column goes to quarantine, with the rule
  ``<column>.<shape>`` (e.g. ``diagnose.fodselsnummer``): an identifier where none belongs
  is its own reason;
* in the quarantined row the identifier is replaced by ``<shape:pseudonym>``, the keyed
  pseudonym of its digits (the one the identifier column would give), so the rest of the
  value stays readable and nothing is kept in clear;
* a column holding identifiers in most rows while the identifier column does not is a
  header in the wrong order: :func:`refuse_misplaced` stops the ingest before anything is
  stored, naming the columns.

>>> import pyarrow as pa
>>> table = pa.table({"id": ["01018012371"], "diagnose": ["R74 010180 12371"]})
>>> found = scan_columns(table, identifiers=("id",))
>>> sorted(failures(found))
['diagnose.fodselsnummer']
>>> pseudonymise_found(table, found, b"k" * 32).column("diagnose")[0].as_py()[:19]
'R74 <fodselsnummer:'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import ExtractError
from helsestat.validate.identifier_scan import SHAPES, identifier_rows, replace_identifiers
from helsestat.validate.pseudonymise import pseudonymise_values

#: A column holding identifiers in more than this share of rows, while the identifier
#: columns do not, is a header in the wrong order.
MISPLACED_SHARE = 0.5


def scan_columns(table: pa.Table, identifiers: Sequence[str]) -> dict[str, np.ndarray]:
    """Per text column other than ``identifiers`` that holds any identifier: the rule found in
    each row (an index into :data:`~helsestat.validate.identifier_scan.SHAPES`, -1: none).
    A column whose first rows repeat their values (a unit's HSA-id, a name) is scanned once
    per distinct value."""
    found = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in identifiers or not _is_text(column.type):
            continue
        rows = identifier_rows(_distinct_if_few(column))
        if (rows >= 0).any():
            found[name] = rows
    return found


def _distinct_if_few(column: pa.ChunkedArray, sample: int = 1 << 14) -> pa.ChunkedArray | pa.Array:
    """``column`` dictionary-encoded when its first ``sample`` values hold at most a tenth as
    many distinct ones (encoding costs about as much as scanning, so it pays only then)."""
    if pa.types.is_dictionary(column.type) or len(column) <= sample:
        return column
    head = column.slice(0, sample)
    if pc.count_distinct(head).as_py() * 10 > sample:
        return column
    return pc.dictionary_encode(column.combine_chunks())


def failures(found: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One quarantine rule per column and shape found: ``<column>.<shape>``."""
    out = {}
    for name, rows in found.items():
        for code in np.unique(rows[rows >= 0]):
            out[f"{name}.{SHAPES[code]}"] = rows == code
    return out


def refuse_misplaced(
    found: dict[str, np.ndarray], table: pa.Table, identifiers: Sequence[str], where: str
) -> None:
    """ExtractError when a column holds identifiers in most rows and no identifier column
    does: the header names the columns in the wrong order (``regning_id`` and
    ``pasient_id`` swapped, say). Raised before any row is stored; names columns and
    counts, never a value."""
    n = table.num_rows
    crowded = {name: int((rows >= 0).sum()) for name, rows in found.items()}
    crowded = {name: k for name, k in crowded.items() if k > MISPLACED_SHARE * n}
    if not crowded or not identifiers:
        return
    held = {name: int((identifier_rows(table.column(name)) >= 0).sum()) for name in identifiers}
    if any(k > MISPLACED_SHARE * n for k in held.values()):
        return
    these = ", ".join(f"{name!r} in {k:,}" for name, k in crowded.items())
    ids = ", ".join(f"{name!r} in {k:,}" for name, k in held.items())
    raise ExtractError(
        "ingest.misplaced_identifier",
        f"{where}: personal identifiers are in the wrong column: {these} of {n:,} rows, "
        f"but the identifier column {ids}; nothing was stored",
        hint=f"check the order of the names in the header line: identifiers belong in "
        f"{', '.join(repr(i) for i in identifiers)} and nowhere else",
    )


def pseudonymise_found(quarantined: pa.Table, found: dict[str, np.ndarray], key: bytes) -> pa.Table:
    """``quarantined`` with every identifier in the scanned columns replaced by
    ``<shape:pseudonym>`` (only the values holding one are rebuilt)."""

    def token(rule: str, digits: str) -> str:
        return f"<{rule}:{pseudonymise_values([digits], key)[0]}>"

    for name in found:
        if name not in quarantined.column_names:
            continue
        index = quarantined.column_names.index(name)
        replaced = replace_identifiers(quarantined.column(name), token)
        quarantined = quarantined.set_column(index, name, replaced)
    return quarantined


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


__all__ = [
    "MISPLACED_SHARE",
    "failures",
    "pseudonymise_found",
    "refuse_misplaced",
    "scan_columns",
]
