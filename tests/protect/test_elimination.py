"""The compiled elimination against two references on random hierarchical tables: the
dict-based loop it replaced (``reference_gauss``, every option: singletons, forced and hidden
cells, both pivot rules) cell for cell, and, without singletons, a brute-force greedy that
decides each candidate from matrix ranks alone (no elimination order at all)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference_gauss
from scipy import sparse

from helsestat.protect import elimination
from helsestat.protect.candidates import candidate_order
from helsestat.protect.gauss import gauss_suppress


def hierarchical(seed: int, most: int = 5) -> tuple[sparse.csc_matrix, np.ndarray]:
    """A random table over 2 or 3 hierarchical dimensions with every margin: the model
    matrix (inner cells × cells) and the inner counts (skewed: many small, some zero)."""
    rng = np.random.default_rng(seed)
    dims = []
    for _ in range(int(rng.integers(2, 4))):
        leaves = int(rng.integers(2, most + 1))
        groups = rng.integers(0, int(rng.integers(1, 3)), leaves)
        # levels: the leaf, its group (when there are two), the total
        levels = [np.arange(leaves)]
        if groups.max() > 0:
            levels.append(groups)
        levels.append(np.zeros(leaves, dtype=np.int64))
        dims.append(levels)
    inner = list(itertools.product(*[range(len(d[0])) for d in dims]))
    columns = []
    for combo in itertools.product(*[range(len(d)) for d in dims]):
        keys = [tuple(dims[k][lv][i[k]] for k, lv in enumerate(combo)) for i in inner]
        for key in dict.fromkeys(keys):
            columns.append([int(k == key) for k in keys])
    x = sparse.csc_matrix(np.array(columns, dtype=np.int64).T)
    y = rng.poisson(np.exp(rng.normal(0.8, 1.0, len(inner))))
    return x, y


def _options(seed: int) -> dict[str, object]:
    rng = np.random.default_rng(1000 + seed)
    return {
        "singletons": bool(rng.integers(0, 2)),
        "zeros": bool(rng.integers(0, 2)),
        "method": ["anySum", "anySumNOTprimary"][int(rng.integers(0, 2))],
        "forced": float(rng.choice([0.0, 0.0, 0.05])),
        "hidden": float(rng.choice([0.0, 0.0, 0.05])),
    }


def _case(seed: int, most: int = 5) -> tuple[sparse.csc_matrix, np.ndarray, dict[str, object]]:
    x, y = hierarchical(seed, most)
    opt = _options(seed)
    rng = np.random.default_rng(2000 + seed)
    f = np.asarray(x.T @ y)
    primary = (f <= 2) & ((f > 0) | bool(opt["zeros"]))
    n = x.shape[1]
    kwargs: dict[str, object] = {
        "forced": rng.random(n) < float(opt["forced"]),  # type: ignore[arg-type]
        "hidden": rng.random(n) < float(opt["hidden"]),  # type: ignore[arg-type]
        "singleton": (y == 0 if opt["zeros"] else y == 1) if opt["singletons"] else None,
        "singleton_method": opt["method"],
    }
    order = candidate_order(x, f)
    return x, order, {"primary": primary, **kwargs}


SEEDS = range(40)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "interpreted"])
@pytest.mark.parametrize("sparse_pivot", [False, True], ids=["first-row", "sparse"])
def test_same_decisions_as_the_reference_loop(
    compiled: bool, sparse_pivot: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(elimination, "COMPILE_ENTRIES", 0 if compiled else 10**12)
    checked = 0
    for seed in SEEDS:
        x, order, kw = _case(seed)
        primary = kw.pop("primary")
        new = gauss_suppress(x, order, primary, sparse_pivot=sparse_pivot, **kw)  # type: ignore[arg-type]
        old = reference_gauss.gauss_suppress(x, order, primary, sparse_pivot=sparse_pivot, **kw)  # type: ignore[arg-type]
        assert new.secondary.tolist() == old.secondary.tolist(), seed
        assert new.unsafe.tolist() == old.unsafe.tolist(), seed
        checked += int(old.secondary.sum() > 0)
    assert checked > len(SEEDS) // 2  # most cases do need secondary suppression


def cube(seed: int, leaves: int) -> tuple[sparse.csc_matrix, np.ndarray]:
    """A table over three dimensions of ``leaves`` leaves, two groups and a total each, with
    every margin: one connected block whose row lists grow long, so that they fill up, are
    compacted and grow many times during the elimination (the stress case's shape)."""
    rng = np.random.default_rng(seed)
    levels = [np.arange(leaves), np.arange(leaves) % 2, np.zeros(leaves, dtype=np.int64)]
    inner = list(itertools.product(range(leaves), repeat=3))
    columns = []
    for combo in itertools.product(range(3), repeat=3):
        keys = [tuple(levels[lv][i[k]] for k, lv in enumerate(combo)) for i in inner]
        for key in dict.fromkeys(keys):
            columns.append([int(k == key) for k in keys])
    x = sparse.csc_matrix(np.array(columns, dtype=np.int64).T)
    y = rng.poisson(np.exp(rng.normal(0.8, 1.0, len(inner))))
    return x, y


@pytest.mark.parametrize("singletons", [False, True], ids=["plain", "singletons"])
@pytest.mark.parametrize("sparse_pivot", [False, True], ids=["first-row", "sparse"])
def test_a_cube_with_every_margin_decides_as_the_reference_loop(
    singletons: bool, sparse_pivot: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(elimination, "COMPILE_ENTRIES", 0)
    x, y = cube(3, 8)
    f = np.asarray(x.T @ y)
    primary = (f <= 2) & (f > 0)
    order = candidate_order(x, f)
    single = (y == 1) if singletons else None
    new = gauss_suppress(x, order, primary, singleton=single, sparse_pivot=sparse_pivot)
    old = reference_gauss.gauss_suppress(
        x, order, primary, singleton=single, sparse_pivot=sparse_pivot
    )
    assert new.secondary.tolist() == old.secondary.tolist()
    assert new.unsafe.tolist() == old.unsafe.tolist()
    assert new.secondary.sum() > 100


def _derivable(published: list[np.ndarray], prims: np.ndarray) -> np.ndarray:
    """Which primary columns (rows of ``prims``) lie in the span of ``published``."""
    if not published:
        return np.zeros(len(prims), dtype=bool)
    u, s, _ = np.linalg.svd(np.array(published, dtype=float).T, full_matrices=False)
    basis = u[:, s > 1e-9 * s[0]]
    rest = prims.T - basis @ (basis.T @ prims.T)
    return np.asarray(np.abs(rest).max(axis=0) < 1e-8)


def _greedy_by_rank(x: sparse.csc_matrix, order: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """GaussSuppression's rule from first principles: publish candidates in order unless
    publishing one makes a primary cell a linear combination of published cells."""
    cols = x.toarray().T
    published: list[np.ndarray] = []
    secondary = np.zeros(x.shape[1], dtype=bool)
    prims = cols[primary].astype(float)
    for c in order.tolist():
        if primary[c]:
            continue
        if _derivable([*published, cols[c]], prims).any():
            secondary[c] = True
        else:
            published.append(cols[c])
    return secondary


@pytest.mark.parametrize("seed", range(12))
def test_without_singletons_the_rank_greedy_decides_the_same(seed: int) -> None:
    x, order, kw = _case(seed, most=4)
    primary = np.asarray(kw["primary"])
    assert primary.any()
    got = gauss_suppress(x, order, primary, sparse_pivot=True, singleton_method="none")
    assert got.secondary.tolist() == _greedy_by_rank(x, order, primary).tolist()


def test_large_coefficients_fall_back_to_exact_integers() -> None:
    # integer coefficients up to 5 grow under elimination; a limit of 1 forces the
    # interpreted rerun over Python integers, which must decide exactly as the compiled run
    rng = np.random.default_rng(7)
    x = sparse.csc_matrix(rng.integers(-5, 6, (12, 30)) * (rng.random((12, 30)) < 0.4))
    x.sort_indices()
    primary = np.zeros(30, dtype=bool)
    primary[[3, 11, 17]] = True
    cands = np.array([c for c in range(30) if not primary[c]])
    c = sparse.csc_matrix(x[:, cands])
    p = sparse.csc_matrix(x[:, primary])
    blocks = np.zeros(30, dtype=np.int64)
    args = ((c.indptr, c.indices, c.data), (p.indptr, p.indices, p.data), blocks)
    exact = elimination.eliminate(*args, rows=12, compiled=True)
    tight = elimination.eliminate(*args, rows=12, compiled=True, limit=1)
    assert tight.secondary.tolist() == exact.secondary.tolist()
    assert exact.secondary.any()
