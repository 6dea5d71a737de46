"""Load the anchor cases (``tests/protect/anchor_cases``, see its PROVENANCE.md) as model
matrices in the anchor's own cell order, so helsestat's engine can be compared with
GaussSuppression cell for cell."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

CASES = Path(__file__).resolve().parent / "anchor_cases"
TOTALS = {"Total", "total", "tot"}


@dataclass
class Case:
    name: str
    inner: list[dict[str, str]]
    cells: list[dict[str, str]]
    x: sparse.csc_matrix
    freq_inner: np.ndarray
    expected: dict[str, object]
    primary: np.ndarray
    suppressed: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def secondary(self) -> np.ndarray:
        return self.suppressed & ~self.primary


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _flag(v: str) -> bool:
    return v.strip().upper() == "TRUE"


def load(
    name: str,
    *,
    freq: str,
    columns: dict[str, list[str]] | None = None,
    subdir: str = "",
    extend0: list[list[str]] | None = None,
    out_freq: str | None = None,
) -> Case:
    """``columns`` maps an output column to the input columns whose codes it holds (default:
    itself); ``extend0`` lists the variable groups whose missing combinations are added as
    zero inner cells (the anchor's ``extend0``)."""
    d = CASES / name / subdir if subdir else CASES / name
    inner = read_csv(d / "input.csv")
    out = read_csv(d / "expected_output.csv")
    expected = json.loads((d / "expected.json").read_text())
    ofreq = out_freq or freq
    dims = [c for c in out[0] if c not in {ofreq, "primary", "suppressed", "lo", "up"}]
    dims = [c for c in dims if c in (columns or {}) or c in inner[0]]
    if extend0:
        inner = _extend0(inner, extend0, freq)
    cols = columns or {}
    rows, colidx = [], []
    for j, cell in enumerate(out):
        match = np.ones(len(inner), dtype=bool)
        for c in dims:
            v = cell[c]
            if v in TOTALS:
                continue
            srcs = cols.get(c, [c])
            hit = np.zeros(len(inner), dtype=bool)
            for s in srcs:
                hit |= np.array([r[s] == v for r in inner])
            match &= hit
        idx = np.flatnonzero(match)
        rows += idx.tolist()
        colidx += [j] * len(idx)
    x = sparse.csc_matrix(
        (np.ones(len(rows), dtype=np.int64), (rows, colidx)), shape=(len(inner), len(out))
    )
    fi = np.array([float(r[freq]) for r in inner])
    got = x.T @ fi
    want = np.array([float(c[ofreq]) for c in out])
    if not np.allclose(got, want):
        bad = np.flatnonzero(~np.isclose(got, want))[:5]
        raise AssertionError(
            f"{name}: cell sums differ at rows {bad + 1}: {got[bad]} vs {want[bad]}"
        )
    return Case(
        name=name,
        inner=inner,
        cells=out,
        x=x,
        freq_inner=fi,
        expected=expected,
        primary=np.array([_flag(c["primary"]) for c in out]),
        suppressed=np.array([_flag(c["suppressed"]) for c in out]),
    )


def _extend0(
    inner: list[dict[str, str]], groups: list[list[str]], freq: str
) -> list[dict[str, str]]:
    import itertools

    seen = {tuple(r[c] for g in groups for c in g) for r in inner}
    combos = [list(dict.fromkeys(tuple(r[c] for c in g) for r in inner)) for g in groups]
    out = list(inner)
    for combo in itertools.product(*combos):
        key = tuple(v for part in combo for v in part)
        if key not in seen:
            row = {
                c: v
                for g, part in zip(groups, combo, strict=True)
                for c, v in zip(g, part, strict=True)
            }
            row[freq] = "0"
            out.append(row)
    return out
