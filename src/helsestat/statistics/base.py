"""What a published statistic is: one cube spec, the tables published from it, and the
rules that protect each table. The data source catalogue and the docs are generated from
these definitions, so nothing is written twice.

>>> from helsestat.statistics import STATISTICS
>>> [s.name for s in STATISTICS][:4]
['takstbruk', 'sob', 'opptak', 'npr']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from helsestat.errors import ProtectionError
from helsestat.model import Grouping, ProtectedTable
from helsestat.model.cube import CubeSpec
from helsestat.protect import Protection
from helsestat.protect.rules import Rule
from helsestat.reference.preflight import Needs
from helsestat.reference.snapshot import Reference
from helsestat.statistics.serving import Serving


@dataclass(frozen=True)
class TableDef:
    """One published table: the cube grouping it comes from, its name and its rules in
    compatibility mode (the documented rules of the API it replaces).

    ``reference_rules`` makes the compat rules that read reference data (population …) from
    the snapshot a build passes (:meth:`Statistic.with_reference`); until then the table
    cannot be protected (:meth:`rules`)."""

    name: str
    title: str
    grouping: Grouping
    compat_rules: tuple[Rule, ...] = ()
    rules_note: str = ""
    reference_rules: Callable[[Reference], tuple[Rule, ...]] | None = None

    def with_reference(self, reference: Reference) -> TableDef:
        """This table with its reference rules made from ``reference`` and added to its
        compat rules."""
        if self.reference_rules is None:
            return self
        made = self.reference_rules(reference)
        return replace(self, compat_rules=(*self.compat_rules, *made), reference_rules=None)

    def rules(self) -> tuple[Rule, ...]:
        """The compat rules; ``ProtectionError`` while rules that read the reference are
        not made yet (protecting without them would publish what they suppress)."""
        if self.reference_rules is not None:
            raise ProtectionError(
                "protect.reference_missing",
                f"table {self.name}: its rules read the reference data, and none was given",
                hint="build with the reference snapshot (Statistic.with_reference, or "
                "helsestat.build.build(..., reference=…))",
            )
        return self.compat_rules


#: How a statistic turns a cube table of one of its tables into the published shape.
Finish = Callable[[pa.Table, TableDef], pa.Table]


@dataclass(frozen=True)
class Statistic:
    """A statistic: a cube over one extract kind, and the tables published from it.

    ``finish`` turns a cube table into the published shape (column names, units), row by
    row (same rows, same order: a table can be finished in pieces, see
    ``incremental.protect_by_period``); a finish that reads reference data (names from the
    unit registry) is made by ``reference_finish`` from the snapshot a build passes
    (:meth:`with_reference`), and until then finishing a table is a ``ProtectionError``;
    ``count_measure`` is the count the frequency rule looks at in full protection mode;
    ``protection`` says how full mode protects the tables together (the measure it works
    on, the interval an attacker must be left with); without it full mode only adds the
    frequency rule table by table."""

    name: str
    title: str
    description: str
    source_kind: str
    spec: CubeSpec
    tables: tuple[TableDef, ...]
    measures: tuple[str, ...]
    count_measure: str
    #: The published dimension columns of a table (default: its grouping's columns).
    dimensions: Callable[[TableDef], tuple[str, ...]] = None  # type: ignore[assignment]
    #: A cube table in its published shape (default: as aggregated).
    finish: Finish = None  # type: ignore[assignment]
    protection: Protection | None = None
    #: The code lists a production run of the statistic needs (checked by preflight).
    needs: Needs | None = None
    #: How its tables are indexed, queried, labelled and shown (routes, pages).
    serving: Serving = field(default_factory=Serving)
    #: Other extract kinds the tables are finished with (e.g. ``folkemengde`` for rates
    #: per inhabitant), and how: ``prepare(statistic, files)`` returns the statistic ready
    #: to build from the stored files of each kind in ``inputs`` (:meth:`with_inputs`).
    inputs: tuple[str, ...] = ()
    prepare: Callable[[Statistic, Mapping[str, Sequence[Path]]], Statistic] | None = None
    #: Measures computed after protection from the published values only (a cell's share
    #: of a published total): ``derive(tables)`` returns the protected tables with them
    #: filled in, so they reveal nothing the tables do not.
    derive: Callable[[Sequence[ProtectedTable]], list[ProtectedTable]] | None = None
    #: Makes ``finish`` from the reference snapshot: ``reference_finish(reference)``
    #: returns the finish and a digest of the reference data it reads (:meth:`with_reference`).
    reference_finish: Callable[[Reference], tuple[Finish, str]] | None = None
    #: The digest of the reference data ``finish`` reads ("" when it reads none): it keys
    #: the cached pieces of the tables, so a change of those data (a unit renamed) finishes
    #: them again on the next build.
    finish_reads: str = ""
    #: Dimension columns that only name another dimension's code, by reference data that
    #: may differ from period to period (a behandlingssted renamed: its month rows and its
    #: year row carry different names). Published, but left out of the cells that full
    #: protection links across tables and releases: a cell is its codes.
    name_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        spec = self.spec
        if self.dimensions is None:

            def dimensions(table: TableDef) -> tuple[str, ...]:
                return spec.output_columns(table.grouping)

            object.__setattr__(self, "dimensions", dimensions)
        if self.finish is None and self.reference_finish is not None:
            name = self.name

            def unready(cube_table: pa.Table, table: TableDef) -> pa.Table:
                raise ProtectionError(
                    "protect.reference_missing",
                    f"table {table.name} of {name}: its published shape reads the reference "
                    "data, and none was given",
                    hint="build with the reference snapshot (Statistic.with_reference, or "
                    "helsestat.build.build(..., reference=…))",
                )

            object.__setattr__(self, "finish", unready)
        elif self.finish is None:

            def finish(cube_table: pa.Table, table: TableDef) -> pa.Table:
                return cube_table

            object.__setattr__(self, "finish", finish)

    def with_inputs(self, files: Mapping[str, Sequence[Path]]) -> Statistic:
        """This statistic ready to finish its tables with the stored files of its other
        input kinds (``files``: kind → files; a kind with none is given no files).

        >>> from helsestat.statistics import STATISTICS
        >>> STATISTICS[0].with_inputs({}) is STATISTICS[0]
        True
        """
        if self.prepare is None:
            return self
        return self.prepare(self, {kind: tuple(files.get(kind, ())) for kind in self.inputs})

    def with_reference(self, reference: Reference) -> Statistic:
        """This statistic with every table's reference rules made from ``reference`` (what
        a build protects with), and its ``finish`` too when it reads the reference
        (``reference_finish``): the one way a build hands a statistic reference data.

        >>> from helsestat.reference.seed import packaged_reference
        >>> from helsestat.statistics.npr import NPR_ACTIVITY
        >>> ready = NPR_ACTIVITY.with_reference(packaged_reference())
        >>> ready.reference_finish is None, len(ready.finish_reads)
        (True, 64)
        """
        tables = tuple(t.with_reference(reference) for t in self.tables)
        if self.reference_finish is None:
            return replace(self, tables=tables)
        finish, reads = self.reference_finish(reference)
        return replace(
            self, tables=tables, finish=finish, finish_reads=reads, reference_finish=None
        )
