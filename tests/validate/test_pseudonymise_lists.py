"""Pseudonyms of columns of identifiers: each identifier of a ';'-separated list gets the
pseudonym it would get alone, stable for one key and different across keys; an empty value
stays empty (an unknown person is nobody)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from helsestat.validate.pseudonymise import (
    pseudonymise_column,
    pseudonymise_listed,
    pseudonymise_values,
)

#: personal HSA-ids and other text without the separator, with stray spaces now and then
PART = st.text(alphabet="SE0123456789-abcXYZ ", min_size=0, max_size=20)
LISTS = st.lists(st.lists(PART, min_size=1, max_size=4), min_size=1, max_size=12)
KEYS = st.binary(min_size=32, max_size=80)


@settings(deadline=None)  # no timing in unit tests: a loaded machine is slow
@given(LISTS, KEYS, KEYS)
def test_each_identifier_of_a_list_is_pseudonymised_on_its_own(
    lists: list[list[str]], key: bytes, other: bytes
) -> None:
    values = [";".join(parts) for parts in lists]
    out = pseudonymise_listed(pa.array(values), key, ";").to_pylist()
    assert out == pseudonymise_listed(pa.chunked_array([pa.array(values)]), key, ";").to_pylist()
    for value, parts, pseudo in zip(values, lists, out, strict=True):
        if not value.strip():
            assert pseudo == ""
            continue
        want = [pseudonymise_values([p], key)[0] if p.strip() else "" for p in parts]
        assert pseudo.split(";") == want
    if key != other:
        moved = pseudonymise_listed(pa.array(values), other, ";").to_pylist()
        for parts, a, b in zip(lists, out, moved, strict=True):
            for p, x, y in zip(parts, a.split(";"), b.split(";"), strict=False):
                assert (x != y) if p.strip() else (x == y == "")


@settings(deadline=None)  # no timing in unit tests: a loaded machine is slow
@given(st.lists(PART, min_size=1, max_size=20), KEYS)
def test_a_column_keeps_empty_values_empty(values: list[str], key: bytes) -> None:
    out = pseudonymise_column(pa.array(values), key).to_pylist()
    for value, pseudo in zip(values, out, strict=True):
        assert pseudo == ("" if not value.strip() else pseudonymise_values([value], key)[0])
