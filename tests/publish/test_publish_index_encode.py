"""A short text column is encoded in Python (a table computed per query is indexed on every
request): the same sorted values and codes as Arrow's encoding of a long one."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
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
