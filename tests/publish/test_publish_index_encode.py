"""A short text column is encoded in Python (a table computed per query is indexed on every
request): the same sorted values and codes as Arrow's encoding of a long one."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from helsestat.publish import index

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)


@given(
    st.lists(
        st.one_of(st.none(), TEXT, st.sampled_from(["Å", "ä", "Z", "a", "10", "9"])), max_size=64
    )
)
def test_a_short_column_is_encoded_as_arrow_encodes_it(values: list[str | None]) -> None:
    column = pa.chunked_array([pa.array(values, pa.string())])
    short = index._encode(column)
    assert len(values) <= index.SHORT_TEXT  # the Python path was taken
    arrow = index._encode(column.cast(pa.large_string()))  # not str: the Arrow kernels
    assert short.values.tolist() == arrow.values.tolist()
    assert short.codes.tolist() == arrow.codes.tolist()


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), TEXT, st.sampled_from(["Å", "ä", "Z", "a", "10", "9"])),
        min_size=1,
        max_size=40,
    ).map(lambda some: some * (index.SHORT_TEXT // len(some) + 2))  # long: past SHORT_TEXT
)
def test_a_long_column_of_one_chunk_is_encoded_as_one_of_many(values: list[str | None]) -> None:
    """A long column in one piece is hashed once and its dictionary sorted in Python
    (:func:`index._encode_dictionary`): the same values and codes as Arrow's unique, sort
    and look-up of a column in several pieces."""
    assert len(values) > index.SHORT_TEXT
    whole = index._encode(pa.chunked_array([pa.array(values, pa.string())]))
    half = len(values) // 2
    pieces = pa.chunked_array(
        [pa.array(values[:half], pa.string()), pa.array(values[half:], pa.string())]
    )
    kernels = index._encode(pieces)
    assert whole.values.tolist() == kernels.values.tolist()
    assert whole.codes.tolist() == kernels.codes.tolist()
    assert [whole.values[c] for c in whole.codes] == values
