"""Read a cube from integer code columns instead of text: same cube, faster phase 1.

When the lake stores a text column together with an integer code column (see
:mod:`helsestat.store.lake.codebooks`), grouping the codes is cheaper than grouping the text, and
integers with small ranges can be packed into one key. :func:`read_codes` rewrites a spec
written against the text columns so that each such hierarchy starts at the code column and
climbs back to the text with a :class:`~helsestat.model.cube.Lookup`::

    Level("takstkode", column="takstkode")
      → Level("takstkode_kode", column="takstkode_kode")
        → Level("takstkode", rollup=Lookup(codebook pairs))

The text levels keep their names, the groupings name only those, and a lookup maps whole
dictionaries in phase 2, so every grouping's table is identical to the one the text spec
gives (the test ``tests/store/test_lake_layout.py`` proves it cell by cell).

>>> from helsestat.model.cube import Hierarchy, Level, Measure
>>> spec = CubeSpec("demo", (Hierarchy("takst", (Level("takstkode", column="takstkode"),)),),
...                 (Measure("antall", "count"),))
>>> coded = read_codes(spec, {"takstkode": CodeColumn("takstkode_kode", (("0", "2ad"),))})
>>> [lv.name for lv in coded.hierarchies[0].levels], coded.source_columns
(['takstkode_kode', 'takstkode'], ('takstkode_kode',))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from helsestat.model.cube import CubeSpec, Hierarchy, Level, Lookup


@dataclass(frozen=True)
class CodeColumn:
    """The integer code column stored beside a text column, and (code, text) pairs."""

    column: str
    pairs: tuple[tuple[str, str], ...]


def read_codes(spec: CubeSpec, codes: Mapping[str, CodeColumn]) -> CubeSpec:
    """``spec`` with every hierarchy whose finest level reads a text column of ``codes``
    reading its code column instead (then a lookup back to the text). Filters and
    measures are unchanged."""
    taken = {lv.name for h in spec.hierarchies for lv in h.levels}
    hierarchies = []
    for hierarchy in spec.hierarchies:
        finest = hierarchy.levels[0]
        code = codes.get(finest.column or "")
        if code is None:
            hierarchies.append(hierarchy)
            continue
        name = f"{finest.name}_kode"
        while name in taken:
            name += "_"
        taken.add(name)
        levels = (
            Level(name, column=code.column),
            Level(finest.name, rollup=Lookup(code.pairs)),
            *hierarchy.levels[1:],
        )
        hierarchies.append(Hierarchy(hierarchy.name, levels))
    # the same groupings: an empty list would now include the code levels
    return replace(spec, hierarchies=tuple(hierarchies), groupings=tuple(spec.all_groupings()))


__all__ = ["CodeColumn", "read_codes"]
