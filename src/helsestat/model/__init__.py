"""Frozen values handed between the stages.

ingest → :class:`RawExtract` → validate → :class:`CleanExtract` → store → (Parquet lake)
→ aggregate → :class:`Cube` → protect → :class:`ProtectedTable` → publish.

``publish`` renders only a :class:`ProtectedTable`, which only ``protect`` makes, so skipping
disclosure control is a type error rather than a review comment.

>>> report = IngestReport(source="claims.csv", rows_in=3, accepted=2, quarantined=1,
...                       by_rule=(("takstkode.unknown", 1),))
>>> report.balanced
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa

from helsestat.model.cube import CubeSpec

#: The status of one published cell. A *cell* is one combination of dimension values (one
#: row); its measures share the status.
CellStatus = Literal["published", "primary", "secondary"]
STATUS_COLUMN = "status"
RULE_COLUMN = "status_rule"


@dataclass(frozen=True)
class RawExtract:
    """An extract file read into Arrow, unvalidated: every column as text.

    ``first_line`` is the file line number of ``table``'s first row (2 for a CSV with a
    header), so a finding can name the line a user sees in an editor. ``malformed_lines``
    are CSV lines that could not be split into the header's fields; they are not in
    ``table`` (their text is dropped: it may hold identifiers) and go to quarantine.
    ``table``'s rows then no longer map to consecutive lines, so ``line_numbers`` does.
    ``rejected_lines`` are other lines left out of ``table``, each with the rule that
    rejected it (e.g. ``line.unterminated_quote``). ``undecodable`` says the reader replaced
    bytes that are no character of the file's encoding with U+FFFD (their rows go to
    quarantine).
    """

    kind: str
    source: str
    checksum: str
    table: pa.Table
    first_line: int = 2
    malformed_lines: tuple[int, ...] = ()
    line_numbers: tuple[int, ...] | None = None
    rejected_lines: tuple[tuple[int, str], ...] = ()
    undecodable: bool = False


@dataclass(frozen=True)
class IngestReport:
    """What became of every input row: accepted + quarantined == rows_in, always."""

    source: str
    rows_in: int
    accepted: int
    quarantined: int
    by_rule: tuple[tuple[str, int], ...] = ()

    @property
    def balanced(self) -> bool:
        """True when no row was lost."""
        return self.accepted + self.quarantined == self.rows_in


@dataclass(frozen=True)
class CleanExtract:
    """Validated, pseudonymised rows, and the rejected rows with their reasons.

    Neither table holds a personal identifier in clear: identifiers are HMAC pseudonyms.
    """

    kind: str
    source: str
    checksum: str
    accepted: pa.Table
    quarantined: pa.Table
    report: IngestReport


@dataclass(frozen=True)
class Batch:
    """One stored extract: where its rows went in the lake."""

    kind: str
    source: str
    checksum: str
    report: IngestReport
    partitions: tuple[str, ...]
    already_stored: bool = False


Grouping = tuple[str, ...]


@dataclass(frozen=True)
class Cube:
    """The result of aggregating one :class:`CubeSpec`: a table per grouping (one level per
    hierarchy, in the spec's hierarchy order). Dimension columns are text, measures numbers."""

    spec: CubeSpec
    tables: Mapping[Grouping, pa.Table]


@dataclass(frozen=True)
class ProtectedTable:
    """A table that passed disclosure control.

    ``table`` holds the dimension columns, the measure columns (null where suppressed), a
    ``status`` column (:data:`CellStatus`) and a ``status_rule`` column naming the rule that
    suppressed the cell (empty when published).

    ``guarded``: the measures the status applies to, when not all of them (a row of ärenden
    started and persons who started them: only the person count is ever suppressed, the
    other measures of a suppressed row stay published). Empty: every measure.
    """

    name: str
    title: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    table: pa.Table
    release: str = ""
    notes: tuple[str, ...] = field(default=())
    guarded: tuple[str, ...] = ()

    @property
    def suppressible(self) -> tuple[str, ...]:
        """The measures a suppressed row holds no value of (:attr:`guarded`, or all)."""
        return self.guarded or self.measures


@dataclass(frozen=True)
class TablePart:
    """One file of a table published in parts: the protected rows of one period (a month of
    a month table, a year of a year table), in the table's row order, with the columns that
    put the parts back in that order (:data:`~helsestat.store.lake.parts.ORDER_PREFIX`)."""

    path: Path
    period: str | None


@dataclass(frozen=True)
class PartedTable:
    """A protected table held as files per period (compat-mode builds, see
    :func:`helsestat.build.incremental.protect_by_period`). A release links the files of the
    periods that did not change instead of writing the whole table again; reading it back
    gives the same :class:`ProtectedTable` as a table written whole."""

    name: str
    title: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    parts: tuple[TablePart, ...]
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ReleaseInfo:
    """A published release: an immutable directory of protected tables."""

    id: str
    path: Path
    created: str
    tables: tuple[str, ...]


__all__ = [
    "RULE_COLUMN",
    "STATUS_COLUMN",
    "Batch",
    "CellStatus",
    "CleanExtract",
    "Cube",
    "Grouping",
    "IngestReport",
    "PartedTable",
    "ProtectedTable",
    "RawExtract",
    "ReleaseInfo",
    "TablePart",
]
