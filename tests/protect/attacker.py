"""An independent attacker for the tests: what published tables pin down, by linear (or
integer) programming written from scratch. Nothing here comes from ``helsestat.protect``:
cells are matched to the unknowns by plain dictionaries, and the programs are handed to
``scipy.optimize`` directly.

The attacker's unknowns are the cells of a *universe* (rows of dimension values; the
finest combinations it can think of, e.g. every kommune × måned × takst, empty ones
included), each a count of at least 0. What it knows:

* every published cell: the sum of the unknowns under it equals the published value;
* for a table that lists only non-empty cells: a combination it does not list is empty
  (every unknown under it is 0), and a listed hidden cell holds at least 1;
* counts are whole numbers: an interval is rounded inwards, so ``[0.5, 1.5]`` pins 1
  (``integers="round"``), or solved as an integer program (``integers="exact"``);
* optionally amounts at a public rate per unknown: every published cell also tells the sum
  of rate × count under it.

For every hidden cell it computes the least and the greatest value it can take.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from helsestat.model import ProtectedTable

Integers = Literal["no", "round", "exact"]


@dataclass
class Hidden:
    """A hidden cell of a published table and what the attacker derived for it."""

    table: str
    row: int
    key: dict[str, object]
    status: str
    members: list[int]
    lo: float = math.nan
    up: float = math.nan


@dataclass
class Attacker:
    """The attacker's knowledge over ``universe`` (a list of rows of dimension values)."""

    universe: list[dict[str, object]]
    integers: Integers = "round"
    equalities: list[tuple[dict[int, float], float]] = field(default_factory=list)
    floors: list[tuple[list[int], float]] = field(default_factory=list)
    zero: set[int] = field(default_factory=set)
    lower: dict[int, float] = field(default_factory=dict)
    hidden: list[Hidden] = field(default_factory=list)

    def members(self, dims: Sequence[str], scope: set[int] | None = None) -> dict[tuple, list[int]]:
        """The unknowns under each combination of ``dims`` (within ``scope``)."""
        out: dict[tuple, list[int]] = defaultdict(list)
        for i, row in enumerate(self.universe):
            if scope is None or i in scope:
                out[tuple(str(row[d]) for d in dims)].append(i)
        return out

    def read(
        self,
        table: ProtectedTable,
        measure: str,
        *,
        non_empty: bool,
        scope: set[int] | None = None,
        rates: Sequence[float] | None = None,
        amounts: Sequence[float] | None = None,
    ) -> None:
        """Learn what ``table`` tells. ``scope``: the unknowns the table's release covers;
        ``rates`` per unknown and ``amounts`` per row: the published rate × count sums."""
        dims = table.dimensions
        groups = self.members(dims, scope)
        rows = table.table.to_pylist()
        listed = set()
        for r, row in enumerate(rows):
            key = tuple(str(row[d]) for d in dims)
            listed.add(key)
            members = groups.get(key, [])
            if row["status"] == "published":
                self.equalities.append(({i: 1.0 for i in members}, float(row[measure])))
                if rates is not None and amounts is not None:
                    self.equalities.append(({i: rates[i] for i in members}, float(amounts[r])))
            else:
                self.hidden.append(
                    Hidden(table.name, r, {d: row[d] for d in dims}, row["status"], members)
                )
                if non_empty:
                    self.floors.append((members, 1.0))
        if non_empty:
            for key, members in groups.items():
                if key not in listed:
                    self.zero.update(members)

    def knows_at_least(self, lower: Mapping[int, float]) -> None:
        """Bounds on single unknowns the attacker knows."""
        self.lower.update(lower)

    def _program(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.universe)
        a_eq = np.zeros((len(self.equalities), n))
        b_eq = np.zeros(len(self.equalities))
        for k, (coef, value) in enumerate(self.equalities):
            for i, c in coef.items():
                a_eq[k, i] = c
            b_eq[k] = value
        a_ub = np.zeros((len(self.floors), n))
        b_ub = np.zeros(len(self.floors))
        for k, (members, floor) in enumerate(self.floors):
            a_ub[k, members] = -1.0  # -sum <= -floor
            b_ub[k] = -floor
        lower = np.array([self.lower.get(i, 0.0) for i in range(n)])
        upper = np.full(n, np.inf)
        for i in self.zero:
            lower[i] = upper[i] = 0.0
        return a_eq, b_eq, a_ub, b_ub, np.column_stack([lower, upper])

    def attack(self) -> list[Hidden]:
        """The least and greatest value of every hidden cell."""
        a_eq, b_eq, a_ub, b_ub, bounds = self._program()
        n = len(self.universe)
        for cell in self.hidden:
            c = np.zeros(n)
            c[cell.members] = 1.0
            ends = []
            for sign in (1.0, -1.0):
                if self.integers == "exact":
                    value = sign * _milp(sign * c, a_eq, b_eq, a_ub, b_ub, bounds)
                else:
                    res = linprog(
                        sign * c,
                        A_eq=a_eq if len(b_eq) else None,
                        b_eq=b_eq if len(b_eq) else None,
                        A_ub=a_ub if len(b_ub) else None,
                        b_ub=b_ub if len(b_ub) else None,
                        bounds=bounds,
                        method="highs",
                    )
                    assert res.status in (0, 3), res.message  # the truth is feasible
                    value = sign * res.fun if res.status == 0 else math.inf
                ends.append(value)
            lo, up = ends
            if self.integers == "round":
                lo, up = math.ceil(lo - 1e-6), (math.floor(up + 1e-6) if math.isfinite(up) else up)
            cell.lo, cell.up = float(lo), float(up)
        return self.hidden


def _milp(
    c: np.ndarray,
    a_eq: np.ndarray,
    b_eq: np.ndarray,
    a_ub: np.ndarray,
    b_ub: np.ndarray,
    bounds: np.ndarray,
) -> float:
    """min c @ y over whole-number y (-inf when unbounded)."""
    constraints = []
    if len(b_eq):
        constraints.append(LinearConstraint(a_eq, b_eq, b_eq))
    if len(b_ub):
        constraints.append(LinearConstraint(a_ub, -np.inf, b_ub))
    res = milp(
        c,
        constraints=constraints,
        integrality=np.ones(len(c)),
        bounds=Bounds(bounds[:, 0], bounds[:, 1]),
    )
    if res.status == 0:
        return float(res.fun)
    assert res.status in (3, 4), res.message  # unbounded; the truth is feasible
    return -math.inf


def disclosed_primary(
    inner: pa.Table,
    releases: Sequence[Sequence[ProtectedTable]],
    measure: str,
    *,
    rates: np.ndarray | None = None,
) -> list[tuple[str, int, dict[str, str]]]:
    """Primary cells of any release that the published cells of all releases pin down, as
    (table, row, dimension values), sorted. The unknowns are the rows of ``inner`` (each
    holds at least 1: every table lists only non-empty cells); a release covers the inner
    cells its first (finest) table lists. ``rates`` (per inner cell): every published cell
    also tells rate × ``measure`` (an amount at a public tariff)."""
    universe = inner.to_pylist()
    attacker = Attacker(universe, integers="round")
    truth = [float(r[measure]) for r in universe]
    attacker.knows_at_least({i: 1.0 for i, v in enumerate(truth) if v >= 1})
    for release in releases:
        finest = release[0]
        listed = {tuple(str(r[d]) for d in finest.dimensions) for r in finest.table.to_pylist()}
        scope = {
            i
            for i, row in enumerate(universe)
            if tuple(str(row[d]) for d in finest.dimensions) in listed
        }
        for t in release:
            amounts = None
            if rates is not None:
                groups = attacker.members(t.dimensions, scope)
                amounts = [
                    sum(
                        rates[i] * truth[i]
                        for i in groups.get(tuple(str(r[d]) for d in t.dimensions), [])
                    )
                    for r in t.table.to_pylist()
                ]
            # the window's finest table defines the scope; nothing outside it is known 0
            attacker.read(t, measure, non_empty=False, scope=scope, rates=rates, amounts=amounts)
    found = []
    for cell in attacker.attack():
        if cell.status == "primary" and cell.up - cell.lo <= 1e-6:
            found.append((cell.table, cell.row, {k: str(v) for k, v in cell.key.items()}))
    return sorted(found, key=lambda c: (c[0], c[1]))
