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


@dataclass(frozen=True)
class Statistic:
    """A statistic: a cube over one extract kind, and the tables published from it.

    ``finish`` turns a cube table into the published shape (column names, units), row by
    row (same rows, same order: a table can be finished in pieces, see
    ``incremental.protect_by_period``);
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
    finish: Callable[[pa.Table, TableDef], pa.Table] = None  # type: ignore[assignment]
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

    def __post_init__(self) -> None:
        spec = self.spec
        if self.dimensions is None:

            def dimensions(table: TableDef) -> tuple[str, ...]:
                return spec.output_columns(table.grouping)

            object.__setattr__(self, "dimensions", dimensions)
        if self.finish is None:

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
        a build protects with)."""
        return replace(self, tables=tuple(t.with_reference(reference) for t in self.tables))
