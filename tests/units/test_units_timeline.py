"""A unit's history as pure functions: each change reaches until that field's next change,
closing and reopening, and a property test against a day-by-day model of the same rules."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helsestat.reference.units.model import Span, UnitFields
from helsestat.reference.units.timeline import (
    TimelineError,
    apply_change,
    changes_of,
    check_contiguous,
    set_end,
    value_at,
)

D0 = date(2020, 1, 1)


def d(offset: int) -> date:
    return D0 + timedelta(days=offset)


def fields(name: str = "A", parent: int = 1, sector: str | None = None) -> UnitFields:
    return UnitFields("avdeling", name, parent_id=parent, sector=sector)


def summary(spans: list[Span]) -> list[tuple[int, int | None, str, int | None]]:
    return [
        (
            (s.valid_from - D0).days,
            (s.valid_to - D0).days if s.valid_to else None,
            s.fields.name,
            s.fields.parent_id,
        )
        for s in spans
    ]


def test_a_retroactive_rename_reaches_until_the_next_rename_and_keeps_moves() -> None:
    spans = [Span(d(0), None, fields("A", 1))]
    spans = apply_change(spans, d(20), {"parent_id": 2})  # move
    spans = apply_change(spans, d(30), {"name": "B"})  # rename
    spans = apply_change(spans, d(10), {"name": "C"})  # retroactive rename
    assert summary(spans) == [
        (0, 10, "A", 1),
        (10, 20, "C", 1),
        (20, 30, "C", 2),
        (30, None, "B", 2),
    ]


def test_until_caps_a_change() -> None:
    spans = apply_change([Span(d(0), None, fields())], d(5), {"parent_id": 9}, until=d(8))
    assert summary(spans) == [(0, 5, "A", 1), (5, 8, "A", 9), (8, None, "A", 1)]


def test_setting_a_value_it_already_has_changes_nothing() -> None:
    spans = [Span(d(0), None, fields())]
    assert apply_change(spans, d(5), {"name": "A"}) == spans


@pytest.mark.parametrize(
    ("on", "until", "message"),
    [
        (d(-1), None, "outside the unit's lifetime"),
        (d(40), None, "outside the unit's lifetime"),
        (d(5), d(5), "is not after"),
    ],
)
def test_changes_outside_the_lifetime_are_refused(
    on: date, until: date | None, message: str
) -> None:
    spans = [Span(d(0), d(30), fields())]
    with pytest.raises(TimelineError, match=message):
        apply_change(spans, on, {"name": "X"}, until)


def test_close_reopen_and_refuse_to_drop_later_versions() -> None:
    spans = apply_change([Span(d(0), None, fields())], d(10), {"name": "B"})
    closed = set_end(spans, d(20))
    assert summary(closed)[-1] == (10, 20, "B", 1)
    assert set_end(closed, None)[-1].valid_to is None
    with pytest.raises(TimelineError, match="version from 2020-01-11"):
        set_end(spans, d(5))
    with pytest.raises(TimelineError, match="not after the unit opened"):
        set_end(spans, d(0))


def test_changes_of_lists_opened_moved_renamed_closed() -> None:
    spans = apply_change([Span(d(0), None, fields())], d(10), {"parent_id": 2, "name": "B"})
    spans = set_end(spans, d(20))
    assert [(c.what, c.field, c.before, c.after) for c in changes_of(7, spans)] == [
        ("opened", None, None, None),
        ("renamed", "name", "A", "B"),
        ("moved", "parent_id", 1, 2),
        ("closed", None, None, None),
    ]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(TimelineError, match="unknown field"):
        apply_change([Span(d(0), None, fields())], d(1), {"colour": "red"})


# -- the property: the span functions agree with a day-by-day model --------------------------

HORIZON = 60
Day = dict[str, Any] | None

op = st.one_of(
    st.tuples(
        st.just("change"),
        st.integers(-2, HORIZON - 1),
        st.dictionaries(
            st.sampled_from(["name", "parent_id", "sector"]),
            st.sampled_from(["A", "B", "C", 1, 2, 3, "phv", "tsb", None]),
            min_size=1,
            max_size=2,
        ),
        st.one_of(st.none(), st.integers(0, HORIZON)),
    ),
    st.tuples(st.just("close"), st.integers(-2, HORIZON - 1), st.just({}), st.none()),
    st.tuples(st.just("reopen"), st.just(0), st.just({}), st.none()),
)


def _valid_value(field: str, value: Any) -> Any:
    """Map the drawn value into the field's domain (names are text, parents numbers)."""
    if field == "name":
        return value if isinstance(value, str) and value in "ABC" else "A"
    if field == "parent_id":
        return value if isinstance(value, int) else 1
    return value if value in ("phv", "tsb", None) else None


class DayModel:
    """The registry's rules applied one day at a time."""

    def __init__(self, opened: int) -> None:
        self.days: list[Day] = [
            None if i < opened else {"name": "A", "parent_id": 1, "sector": None}
            for i in range(HORIZON + 5)
        ]
        self.opened = opened

    def lifetime(self) -> list[int]:
        return [i for i, v in enumerate(self.days) if v is not None]

    def change(self, on: int, changes: dict[str, Any], until: int | None) -> bool:
        if on < 0 or self.days[on] is None or (until is not None and until <= on):
            return False
        before = [dict(v) if v is not None else None for v in self.days]
        for field, value in changes.items():
            old = before[on][field]  # type: ignore[index]
            i = on
            while i < len(self.days) and self.days[i] is not None:
                if until is not None and i >= until:
                    break
                if until is None and before[i][field] != old:  # type: ignore[index]
                    break
                self.days[i][field] = value  # type: ignore[index]
                i += 1
        return True

    def close(self, end: int) -> bool:
        alive = self.lifetime()
        if end <= alive[0]:
            return False
        changes_at = [i for i in alive[1:] if self.days[i] != self.days[i - 1]]
        if any(i >= end for i in changes_at):
            return False
        last = self.days[alive[-1]]
        for i in range(alive[0], len(self.days)):
            self.days[i] = dict(last) if i >= alive[-1] and i < end else self.days[i]
            if i >= end:
                self.days[i] = None
        return True

    def reopen(self) -> None:
        alive = self.lifetime()
        for i in range(alive[-1] + 1, len(self.days)):
            self.days[i] = dict(self.days[alive[-1]])  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(opened=st.integers(0, 10), ops=st.lists(op, max_size=8))
def test_spans_agree_with_a_day_by_day_model(opened: int, ops: list[Any]) -> None:
    spans = [Span(d(opened), None, fields())]
    model = DayModel(opened)
    for kind, at, raw, until in ops:
        changes = {f: _valid_value(f, v) for f, v in raw.items()}
        if kind == "change":
            try:
                spans = apply_change(spans, d(at), changes, d(until) if until is not None else None)
                accepted = True
            except TimelineError:
                accepted = False
            assert accepted == model.change(at, changes, until)
        elif kind == "close":
            try:
                spans = set_end(spans, d(at))
                accepted = True
            except TimelineError:
                accepted = False
            assert accepted == model.close(at)
        else:
            spans = set_end(spans, None)
            model.reopen()
        check_contiguous(spans)
        assert all(a.fields != b.fields for a, b in itertools.pairwise(spans))
        for i in range(HORIZON + 5):
            found = value_at(spans, d(i))
            got = (
                None
                if found is None
                else {"name": found.name, "parent_id": found.parent_id, "sector": found.sector}
            )
            assert got == model.days[i], f"day {i}"
