"""The order in which cells are offered for publication: the first are kept, the last are
the ones secondary suppression falls on.

As GaussSuppression's ``CandidatesDefault`` (``R/Candidates.R``): decreasing
``(freq + 1) · weight``, ties broken in favour of cells built from many inner cells (totals),
zeros first unless they may be suppressed secondarily. ``magnitude_order`` is
``CandidatesNum``: decreasing absolute value, so small amounts are hidden first. Sorting is
stable, so equal cells keep their column order, exactly as R's ``order``.

>>> import numpy as np
>>> from scipy import sparse
>>> x = sparse.csc_matrix(np.array([[1, 1, 0], [1, 0, 1]]))  # total, a, b
>>> candidate_order(x, np.array([9, 2, 7])).tolist()
[0, 2, 1]
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def _freq_plus_1(freq: np.ndarray) -> np.ndarray:
    out = np.asarray(freq, dtype=np.float64) + 1.0
    out[out <= 0] -= 1.0  # negative frequencies (special hierarchies) keep their size
    return out


def candidate_order(
    x: sparse.spmatrix,
    freq: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    secondary_zeros: bool = False,
) -> np.ndarray:
    """Column indices of ``x`` from most to least wanted for publication.

    >>> import numpy as np
    >>> from scipy import sparse
    >>> candidate_order(sparse.csc_matrix(np.eye(3)), np.array([5, 0, 9])).tolist()
    [1, 2, 0]
    """
    freq = np.asarray(freq, dtype=np.float64)
    if weight is None:
        w: np.ndarray | float = 1.0
    else:
        w = np.clip(np.asarray(weight, dtype=np.float64), 0.0, None)
        if w.min() == 0:
            w = w + w.max() * 1e-20
    f1w = _freq_plus_1(freq) * w
    xs = sparse.csc_matrix(x, dtype=np.float64)
    tie = np.abs(xs.T @ (xs @ f1w))
    top = tie.max() if tie.size else 0.0
    if top > 0:
        tie = tie / top
    order_key = np.abs(f1w) + 0.99 * tie
    if not secondary_zeros and order_key.size:
        zero = freq == 0
        order_key[zero] = 0.01 + order_key.max() + order_key[zero]
    return np.argsort(-order_key, kind="stable")


def magnitude_order(
    x: sparse.spmatrix,
    value: np.ndarray,
    freq: np.ndarray | None = None,
    *,
    weight: np.ndarray | None = None,
    secondary_zeros: bool = False,
) -> np.ndarray:
    """Candidate order for magnitude tables: decreasing absolute value (``CandidatesNum``).

    >>> import numpy as np
    >>> from scipy import sparse
    >>> magnitude_order(sparse.csc_matrix(np.eye(3)), np.array([5.0, 50.0, 0.5])).tolist()
    [1, 0, 2]
    """
    xs = sparse.csc_matrix(x)
    f = np.asarray(xs.sum(axis=0)).ravel() if freq is None else np.asarray(freq, np.float64)
    new_weight = np.abs(np.asarray(value, dtype=np.float64) / _freq_plus_1(f))
    if weight is not None:
        new_weight = new_weight * np.asarray(weight, dtype=np.float64)
    return candidate_order(xs, f, weight=new_weight, secondary_zeros=secondary_zeros)


__all__ = ["candidate_order", "magnitude_order"]
