"""The cells protection hides do not depend on the order the rows come in: equal
candidates are told apart by their dimension values, not by their position (SYNTHETIC
counts with many ties)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from helsestat.protect import FrequencyRule, Protection, TableToProtect, protect_tables

RULE = (FrequencyRule("n", 3),)


def _tables(rng: np.random.Generator, shuffle: bool) -> list[TableToProtect]:
    """kommune × takst with kommune, fylke and takst margins; counts drawn from a few
    values, so that many candidates for secondary suppression cost the same."""
    kommuner = [f"{f:02d}{k:02d}" for f in (3, 11, 15) for k in range(1, 5)]
    takster = ["2ad", "2cd", "2dd", "11ad"]
    values = np.random.default_rng(7).choice([1, 2, 4, 4, 6, 6, 9], (len(kommuner), len(takster)))
    fine = pa.table(
        {
            "kommune": [k for k in kommuner for _ in takster],
            "fylke": [k[:2] for k in kommuner for _ in takster],
            "takst": takster * len(kommuner),
            "n": values.ravel().tolist(),
        }
    )

    def margin(keys: list[str]) -> pa.Table:
        summed = fine.group_by(keys, use_threads=False).aggregate([("n", "sum")])
        return summed.rename_columns([*keys, "n"]).sort_by([(k, "ascending") for k in keys])

    parts = [
        ("fine", fine, ("kommune", "fylke", "takst")),
        ("kommune", margin(["kommune", "fylke"]), ("kommune", "fylke")),
        ("fylke_takst", margin(["fylke", "takst"]), ("fylke", "takst")),
        ("fylke", margin(["fylke"]), ("fylke",)),
        ("takst", margin(["takst"]), ("takst",)),
    ]
    out = []
    for name, table, dims in parts:
        if shuffle:
            table = table.take(pa.array(rng.permutation(table.num_rows)))
        out.append(TableToProtect(name, name, table, dims, RULE))
    return out


def _pattern(tables: list[TableToProtect]) -> dict[tuple[str, ...], str]:
    report = protect_tables(tables, ("n",), Protection("n"))
    pattern = {}
    for given, out in zip(tables, report.tables, strict=True):
        # rows come back in the order they were given
        for d in given.dimensions:
            assert out.table.column(d).to_pylist() == given.table.column(d).to_pylist()
        for row in out.table.to_pylist():
            pattern[(given.name, *(str(row[d]) for d in given.dimensions))] = row["status"]
    return pattern


def test_the_same_cells_are_hidden_whatever_the_row_order() -> None:
    ordered = _pattern(_tables(np.random.default_rng(0), shuffle=False))
    assert "secondary" in ordered.values()  # the case has secondary suppression to choose
    for seed in range(6):
        assert _pattern(_tables(np.random.default_rng(seed), shuffle=True)) == ordered
