"""Check digits of personal identifiers: the one place that knows how a fødselsnummer
(and d-nummer) is checked, used by validation and by the synthetic generators.

>>> import numpy as np
>>> k1, k2, ok = fnr_check_digits(np.array([[0, 1, 0, 1, 8, 0, 0, 1, 2]]))
>>> int(k1[0]), int(k2[0]), bool(ok[0])
(7, 2, True)
"""

from __future__ import annotations

import numpy as np

_W1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2])
_W2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])


def fnr_check_digits(nine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check digits k1, k2 of fødselsnummer (mod 11) for an (n, 9) digit array, and a mask
    of the rows where a valid number exists (a remainder of 10 makes it impossible)."""
    nine = np.asarray(nine, dtype=np.int32)
    s1 = np.zeros(len(nine), dtype=np.int32)
    s2 = np.zeros(len(nine), dtype=np.int32)
    for i in range(9):  # column by column: cheaper than an integer matrix product
        s1 += int(_W1[i]) * nine[:, i]
        s2 += int(_W2[i]) * nine[:, i]
    k1: np.ndarray = (11 - s1 % 11) % 11
    k2: np.ndarray = (11 - (s2 + int(_W2[9]) * k1) % 11) % 11
    return k1, k2, (k1 != 10) & (k2 != 10)


__all__ = ["fnr_check_digits"]
