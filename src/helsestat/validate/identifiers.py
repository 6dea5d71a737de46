"""Check digits of personal identifiers: the one place that knows how a fødselsnummer
(and d-nummer) and a Swedish personnummer (and samordningsnummer) are checked, used by
validation and by the synthetic generators.

>>> import numpy as np
>>> k1, k2, ok = fnr_check_digits(np.array([[0, 1, 0, 1, 8, 0, 0, 1, 2]]))
>>> int(k1[0]), int(k2[0]), bool(ok[0])
(7, 2, True)
>>> luhn_check_digit(np.array([[1, 2, 1, 2, 1, 2, 1, 2, 1]])).tolist()  # 121212-1212
[2]
"""

from __future__ import annotations

import numpy as np

_W1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2])
_W2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
#: the digit sum of 2 × d, for d = 0 … 9 (Luhn doubles every other digit)
_LUHN_DOUBLE = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], np.int32)


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


def luhn_check_digit(nine: np.ndarray) -> np.ndarray:
    """The Luhn check digit of a personnummer or samordningsnummer (its tenth digit) for an
    (n, 9) array of the digits ``YYMMDDNNN``: the first, third, … digit doubled."""
    nine = np.asarray(nine, dtype=np.int32)
    total = np.zeros(len(nine), dtype=np.int32)
    for i in range(9):
        total += _LUHN_DOUBLE[nine[:, i]] if i % 2 == 0 else nine[:, i]
    out: np.ndarray = (10 - total % 10) % 10
    return out


__all__ = ["fnr_check_digits", "luhn_check_digit"]
