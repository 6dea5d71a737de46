"""A :class:`~helsestat.model.cube.CubeSpec` compiled against the Parquet schema: the one
plan that every engine executes, so the engines cannot disagree about what a spec means.

The plan fixes, once:

- which hierarchies carry a key in the finest table (a hierarchy used only at its total level
  has none) and how many of their levels have a column (``depth``);
- the output type of every measure (``sum`` keeps the family of its column: int64 for
  integers, float64 for floats);
- the filter values converted to the type of their column;
- the grouping sets of the count-distinct pass and the bit mask that names each of them.

>>> from helsestat.model.cube import CubeSpec, Hierarchy, Level, Measure, Prefix, Total
>>> geo = Hierarchy("geo", (Level("kommune", column="kommunenr"), Level("fylke", rollup=Prefix(2)),
...                         Level("landet", rollup=Total())))
>>> plan = compile_plan(CubeSpec("demo", (geo,), (Measure("antall", "count"),)))
>>> plan.finest_schema.names, plan.sets
(['kommune', 'antall'], (('kommune',), ('fylke',), ()))
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from helsestat import model
from helsestat.errors import EngineError
from helsestat.model.cube import CubeSpec, FilterOp, Hierarchy, Lookup, MeasureKind, Prefix

#: Prefix of the engines' internal column names; spec names may not start with it.
INTERNAL = "__"
#: Name of the grouping-set mask column in a count-distinct result.
GID = "__gid"
#: Row count of the finest table of a spec that has no additive measure.
ROWS = "__rows"

_SPEC_HINT = "fix the cube spec in helsestat/statistics/"


@dataclass(frozen=True)
class DimPlan:
    """One hierarchy that has a column in some grouping.

    ``depth`` counts the levels, finest first, that some grouping needs a column of (a level
    used only as a step towards a coarser one counts too); :attr:`key`, the finest level's
    name, is the dim's column in the finest table.
    """

    hierarchy: Hierarchy
    depth: int

    @property
    def column(self) -> str:
        """The source column of the finest level."""
        column = self.hierarchy.levels[0].column
        assert column is not None  # Hierarchy.__post_init__ guarantees it
        return column

    @property
    def key(self) -> str:
        """The finest level's name: the dimension's column in the finest table."""
        return self.hierarchy.levels[0].name

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the levels with a column, finest first."""
        return tuple(level.name for level in self.hierarchy.levels[: self.depth])

    def steps(self) -> Iterable[tuple[str, str, Prefix | Lookup]]:
        """(parent level, level, rollup) for each level after the finest, in chain order."""
        levels = self.hierarchy.levels
        for parent, level in itertools.pairwise(levels[: self.depth]):
            assert isinstance(level.rollup, Prefix | Lookup)
            yield parent.name, level.name, level.rollup


@dataclass(frozen=True)
class MeasurePlan:
    """One measure with its output type and, in engine queries, its internal column name."""

    name: str
    kind: MeasureKind
    column: str | None
    dtype: pa.DataType
    internal: str


@dataclass(frozen=True)
class FilterPlan:
    """One filter with its values converted to the type of its column."""

    column: str
    op: FilterOp
    values: tuple[str | int | float, ...]


@dataclass(frozen=True)
class Plan:
    """What the engines execute. Build it with :func:`compile_plan`."""

    spec: CubeSpec
    dims: tuple[DimPlan, ...]
    measures: tuple[MeasurePlan, ...]
    filters: tuple[FilterPlan, ...]
    #: Per grouping, the level index of each dim in ``dims`` (None: the hierarchy's total).
    grouping_levels: Mapping[model.Grouping, tuple[int | None, ...]] = field(repr=False)

    @property
    def additive(self) -> tuple[MeasurePlan, ...]:
        """The measures phase 1 computes (count and sum). A spec without any gets a row
        count named :data:`ROWS`, so the finest table knows its groups even without columns."""
        additive = tuple(m for m in self.measures if m.kind != "count_distinct")
        return additive or (MeasurePlan(ROWS, "count", None, pa.int64(), ROWS),)

    @property
    def distinct(self) -> tuple[MeasurePlan, ...]:
        """The count-distinct measures, computed in their own pass over the rows."""
        return tuple(m for m in self.measures if m.kind == "count_distinct")

    @property
    def level_columns(self) -> tuple[str, ...]:
        """The level columns of the count-distinct pass, dim by dim, finest first: those that
        some grouping set uses (a level only stepped through, such as a code level before its
        lookup, is computed but not grouped)."""
        used = {name for columns in self.sets for name in columns}
        return tuple(name for dim in self.dims for name in dim.names if name in used)

    @property
    def sets(self) -> tuple[tuple[str, ...], ...]:
        """The distinct grouping sets (level columns) of all groupings, in grouping order."""
        return tuple(dict.fromkeys(self.set_of(g) for g in self.spec.all_groupings()))

    def set_of(self, grouping: model.Grouping) -> tuple[str, ...]:
        """The level columns of a grouping."""
        levels = self.grouping_levels[grouping]
        return tuple(d.names[i] for d, i in zip(self.dims, levels, strict=True) if i is not None)

    def mask(self, columns: tuple[str, ...]) -> int:
        """SQL ``GROUPING(level_columns...)`` of a grouping set: a 1 bit for each level column
        *not* in the set, the first column being the most significant bit."""
        cols = self.level_columns
        return sum(1 << (len(cols) - 1 - i) for i, c in enumerate(cols) if c not in columns)

    @property
    def finest_schema(self) -> pa.Schema:
        """Schema of the finest table: the dims' finest levels, then the additive measures."""
        fields = [pa.field(d.key, pa.string()) for d in self.dims]
        return pa.schema(fields + [pa.field(m.name, m.dtype) for m in self.additive])

    def output_schema(self, grouping: model.Grouping) -> pa.Schema:
        """Schema of a grouping's table: its level columns as text, then every measure."""
        fields = [pa.field(name, pa.string()) for name in self.spec.output_columns(grouping)]
        return pa.schema(fields + [pa.field(m.name, m.dtype) for m in self.measures])


def engine_failed(plan: Plan, engine: str, exc: Exception) -> EngineError:
    """The error for an engine failure. Only the exception's type is shown: engine messages
    can quote values from the rows. The most likely cause is an int64 sum overflowing.

    >>> from helsestat.model.cube import CubeSpec
    >>> engine_failed(compile_plan(CubeSpec("x", (), ())), "DuckDB", ValueError()).message
    "cube 'x': DuckDB failed (ValueError)"
    """
    return EngineError(
        "aggregate.engine_failed",
        f"cube {plan.spec.name!r}: {engine} failed ({type(exc).__name__})",
        hint="an integer sum beyond the int64 range needs a float column; "
        "otherwise run with log level DEBUG and report the spec",
    )


@lru_cache(maxsize=4096)
def _schema(path: str, mtime_ns: int, size: int) -> pa.Schema:
    return pq.read_schema(path)


def file_schema(path: Path) -> pa.Schema:
    """The schema of a Parquet file, read once per process while the file is unchanged (a
    build reads every stored file's schema, for its columns and for its code columns)."""
    stat = path.stat()
    return _schema(str(path), stat.st_mtime_ns, stat.st_size)


def read_schema(files: Sequence[Path], spec: CubeSpec) -> pa.Schema | None:
    """The schema of the first file, after checking that every file has the spec's columns.

    >>> read_schema([], CubeSpec("demo", (), ())) is None
    True
    """
    schema: pa.Schema | None = None
    for file in files:
        try:
            found = file_schema(file)
        except (OSError, pa.ArrowInvalid) as exc:
            raise EngineError(
                "aggregate.unreadable",
                f"cube {spec.name!r}: {file} cannot be read as Parquet ({type(exc).__name__})",
                hint="check that the lake holds the file and that it is not truncated",
            ) from None
        for column in spec.source_columns:
            if found.get_field_index(column) < 0:
                raise EngineError(
                    "aggregate.missing_column",
                    f"cube {spec.name!r}: column {column!r} missing in {file}",
                    hint=f"the spec reads {', '.join(spec.source_columns)}; "
                    "check that the file is an extract of the kind the spec is written for",
                )
        schema = schema or found
    return schema


def compile_plan(
    spec: CubeSpec,
    source: pa.Schema | None = None,
    *,
    finest: pa.Schema | None = None,
) -> Plan:
    """Compile ``spec`` against the ``source`` schema of the Parquet files (or the schema of
    a ``finest`` table). Without either, sums are typed float64.

    >>> from helsestat.model.cube import CubeSpec, Hierarchy, Level, Measure
    >>> h = Hierarchy("tid", (Level("maaned", column="maaned"),))
    >>> spec = CubeSpec("demo", (h,), (Measure("kr", "sum", "belop"),))
    >>> schema = pa.schema([("maaned", pa.int32()), ("belop", pa.int32())])
    >>> compile_plan(spec, schema).measures[0].dtype
    DataType(int64)
    """
    _check_names(spec)
    groupings = list(spec.all_groupings())
    levels_of: dict[model.Grouping, list[int | None]] = {g: [] for g in groupings}
    dims: list[DimPlan] = []
    for index, hierarchy in enumerate(spec.hierarchies):
        _check_hierarchy(spec, hierarchy)
        names = [level.name for level in hierarchy.levels]
        used = [names.index(g[index]) for g in groupings]
        columns = [i for i in used if not hierarchy.levels[i].is_total]
        if not columns:
            continue
        dims.append(DimPlan(hierarchy, depth=max(columns) + 1))
        for g, i in zip(groupings, used, strict=True):
            levels_of[g].append(None if hierarchy.levels[i].is_total else i)
    for dim in dims:
        _check_type(spec, source, dim.column, "dimension", _is_dim_type)
    measures = []
    for i, m in enumerate(spec.measures):
        internal = f"{INTERNAL}m{i}"
        if m.kind == "sum":
            assert m.column is not None
            dtype = _sum_type(spec, source, finest, m.column, m.name)
        else:
            dtype = pa.int64()
        measures.append(MeasurePlan(m.name, m.kind, m.column, dtype, internal))
    for f in spec.filters:
        if not f.values or (f.op in ("ge", "le") and len(f.values) != 1):
            need = "one value" if f.op in ("ge", "le") else "values"
            raise _invalid(spec, f"filter on {f.column!r}: {f.op!r} needs {need}")
    filters = tuple(
        FilterPlan(f.column, f.op, _convert_values(spec, source, f.column, f.values))
        for f in spec.filters
    )
    return Plan(
        spec,
        tuple(dims),
        tuple(measures),
        filters,
        {g: tuple(v) for g, v in levels_of.items()},
    )


def _invalid(spec: CubeSpec, message: str) -> EngineError:
    return EngineError("aggregate.invalid_spec", f"cube {spec.name!r}: {message}", hint=_SPEC_HINT)


def _check_names(spec: CubeSpec) -> None:
    names = [lv.name for h in spec.hierarchies for lv in h.levels if not lv.is_total]
    names += [m.name for m in spec.measures]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _invalid(spec, f"the name {name!r} is used twice as an output column")
        if name.startswith(INTERNAL):
            raise _invalid(spec, f"the name {name!r} starts with {INTERNAL!r}, kept for engines")
        seen.add(name)


def _check_hierarchy(spec: CubeSpec, hierarchy: Hierarchy) -> None:
    for position, level in enumerate(hierarchy.levels):
        if level.is_total and position != len(hierarchy.levels) - 1:
            raise _invalid(
                spec, f"total level {level.name!r} must be the last of {hierarchy.name!r}"
            )
        if isinstance(level.rollup, Prefix) and level.rollup.length < 1:
            raise _invalid(spec, f"level {level.name!r}: a prefix needs at least one character")
        if isinstance(level.rollup, Lookup):
            mapped: dict[str, str] = {}
            for key, value in level.rollup.pairs:
                if mapped.setdefault(key, value) != value:
                    raise _invalid(spec, f"level {level.name!r}: lookup maps {key!r} twice")


def _is_dim_type(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_integer(t) or _is_text(t))


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _check_type(
    spec: CubeSpec,
    source: pa.Schema | None,
    column: str,
    role: str,
    ok: Callable[[pa.DataType], bool],
) -> pa.DataType | None:
    if source is None:
        return None
    dtype = source.field(column).type
    if not ok(dtype):
        raise EngineError(
            "aggregate.column_type",
            f"cube {spec.name!r}: {role} column {column!r} has type {dtype}",
            hint="dimensions must be text or integers, summed columns integers or floats",
        )
    return dtype


def _sum_type(
    spec: CubeSpec, source: pa.Schema | None, finest: pa.Schema | None, column: str, name: str
) -> pa.DataType:
    def numeric(t: pa.DataType) -> bool:
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

    if finest is not None and finest.get_field_index(name) >= 0:
        dtype = _check_type(spec, finest, name, "summed", numeric)
    else:
        dtype = _check_type(spec, source, column, "summed", numeric)
    return pa.int64() if dtype is not None and pa.types.is_integer(dtype) else pa.float64()


def _convert_values(
    spec: CubeSpec, source: pa.Schema | None, column: str, values: tuple[str | int | float, ...]
) -> tuple[str | int | float, ...]:
    """Filter values in the type of their column, so both engines compare alike."""
    if source is None:
        return values
    dtype = source.field(column).type
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    converted: list[str | int | float] = []
    for value in values:
        try:
            if isinstance(value, bool) != pa.types.is_boolean(dtype):
                raise TypeError
            # a flag column (e.g. npr_episode's ssb_utvalg) takes True or False
            if isinstance(value, bool) or (_is_text(dtype) and isinstance(value, str)):
                converted.append(value)
            elif pa.types.is_integer(dtype) and not isinstance(value, float):
                converted.append(int(value))
            elif pa.types.is_floating(dtype):
                number = float(value)
                if number != number:  # NaN matches nothing in SQL
                    raise ValueError
                converted.append(number)
            else:
                raise TypeError
        except (TypeError, ValueError):
            raise EngineError(
                "aggregate.filter_value",
                f"cube {spec.name!r}: filter value {value!r} does not fit column {column!r} "
                f"of type {dtype}",
                hint="give text values for text columns, numbers for numeric columns and True or "
                "False for boolean columns",
            ) from None
    return tuple(converted)


__all__ = [
    "GID",
    "ROWS",
    "DimPlan",
    "FilterPlan",
    "MeasurePlan",
    "Plan",
    "compile_plan",
    "file_schema",
    "read_schema",
]
