"""Keyed pseudonyms for personal identifiers (fødselsnummer, d-nummer, personnummer).

A pseudonym is HMAC-SHA256(key, identifier) truncated to 128 bits, hex-encoded: stable for
one key (the same person links across extracts), different across keys, and not reversible
without the key. The identifier itself is never stored, logged or put in an error.

>>> p = pseudonymise_values(["01010112345"], b"k" * 32)
>>> len(p[0]), p == pseudonymise_values(["01010112345"], b"k" * 32)
(32, True)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import pyarrow as pa

PSEUDONYM_BYTES = 16


def pseudonymise_values(values: Sequence[str], key: bytes) -> list[str]:
    """Pseudonyms for a list of identifiers (whitespace stripped first)."""
    base = hmac.new(key, digestmod=hashlib.sha256)
    out = []
    for value in values:
        h = base.copy()
        h.update(value.strip().encode())
        out.append(h.hexdigest()[: PSEUDONYM_BYTES * 2])
    return out


def pseudonymise_column(column: pa.ChunkedArray | pa.Array, key: bytes) -> pa.Array:
    """Pseudonyms for an Arrow text column; each distinct value is hashed once."""
    encoded = (
        pa.chunked_array(column).combine_chunks().dictionary_encode()
        if isinstance(column, pa.ChunkedArray)
        else column.dictionary_encode()
    )
    dictionary = encoded.dictionary.to_pylist()
    hashed = pa.array(pseudonymise_values([v or "" for v in dictionary], key), pa.string())
    return hashed.take(encoded.indices)
