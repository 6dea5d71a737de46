"""A unit's history as pure functions on lists of :class:`~.model.Span`: apply a change from a
date, close or reopen, and list what changed. The repository stores what these compute; the
property tests compare them with a day-by-day model.

The rule of a change: the new value of a field applies from the change's date until the next
recorded change *of that field* (or until an explicit ``until``). So a retroactive rename from
2018 reaches the versions after a 2020 move, but stops at a 2022 rename::

    before:  2015 [A, under 1) 2020 [A, under 2) 2022 [B, under 2) …
    rename to C from 2018:
    after:   2015 [A, under 1) 2018 [C, under 1) 2020 [C, under 2) 2022 [B, under 2) …

>>> from datetime import date
>>> spans = [Span(date(2015, 1, 1), None, UnitFields("avdeling", "A", parent_id=1))]
>>> [(s.valid_from.year, s.fields.name) for s in
...  apply_change(spans, date(2018, 1, 1), {"name": "C"})]
[(2015, 'A'), (2018, 'C')]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from helsestat.reference.units.model import CHANGEABLE, Change, Span, UnitFields


class TimelineError(ValueError):
    """A change that cannot apply to the history (the caller turns it into an InputError)."""


def normalise(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with adjacent spans of equal fields merged into one.

    >>> f = UnitFields("hf", "X")
    >>> y2020, y2021 = date(2020, 1, 1), date(2021, 1, 1)
    >>> len(normalise([Span(y2020, y2021, f), Span(y2021, None, f)]))
    1
    """
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.valid_from):
        last = out[-1] if out else None
        if last is not None and last.valid_to == span.valid_from and last.fields == span.fields:
            out[-1] = Span(last.valid_from, span.valid_to, last.fields)
        else:
            out.append(span)
    return out


def check_contiguous(spans: Sequence[Span]) -> None:
    """Raise :class:`TimelineError` unless ``spans`` are sorted, non-empty and contiguous."""
    if not spans:
        raise TimelineError("a unit has at least one version")
    for before, after in itertools.pairwise(spans):
        if before.valid_to != after.valid_from:
            raise TimelineError(
                f"versions {before.valid_from}–{before.valid_to} and {after.valid_from} "
                "are not contiguous"
            )
    for span in spans:
        if span.valid_to is not None and span.valid_to <= span.valid_from:
            raise TimelineError(f"a version ends ({span.valid_to}) before it starts")


def value_at(spans: Sequence[Span], day: date) -> UnitFields | None:
    """The fields valid on ``day`` (None outside the unit's lifetime)."""
    return next((s.fields for s in spans if s.covers(day)), None)


def _split(spans: Sequence[Span], cuts: Iterable[date]) -> list[Span]:
    pieces = list(spans)
    for cut in sorted(set(cuts)):
        nxt: list[Span] = []
        for span in pieces:
            if span.valid_from < cut and (span.valid_to is None or cut < span.valid_to):
                nxt += [
                    Span(span.valid_from, cut, span.fields),
                    Span(cut, span.valid_to, span.fields),
                ]
            else:
                nxt.append(span)
        pieces = nxt
    return pieces


def _lifetime(spans: Sequence[Span]) -> str:
    end = spans[-1].valid_to
    return f"{spans[0].valid_from} to {end}" if end else f"{spans[0].valid_from} onwards"


def field_end(spans: Sequence[Span], on: date, name: str) -> date | None:
    """The first day after ``on`` on which field ``name`` differs from its value on ``on``
    (None: it never does within the unit's lifetime, so a change reaches its end)."""
    old = getattr(value_at(spans, on), name)
    for span in spans:
        if span.valid_from > on and getattr(span.fields, name) != old:
            return span.valid_from
    return None


def apply_change(
    spans: Sequence[Span], on: date, changes: Mapping[str, Any], until: date | None = None
) -> list[Span]:
    """The history after setting ``changes`` from ``on`` (see the module docstring for how
    far each field's new value reaches; ``until`` caps every field at that day).

    >>> f = UnitFields("klinikk", "K", parent_id=1)
    >>> out = apply_change([Span(date(2015, 1, 1), None, f)], date(2019, 6, 1),
    ...                    {"parent_id": 2}, until=date(2021, 1, 1))
    >>> [(s.valid_from.isoformat(), s.fields.parent_id) for s in out]
    [('2015-01-01', 1), ('2019-06-01', 2), ('2021-01-01', 1)]
    """
    check_contiguous(spans)
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise TimelineError(f"unknown field(s) {', '.join(unknown)}; changeable: {CHANGEABLE}")
    if value_at(spans, on) is None:
        raise TimelineError(
            f"the change's date {on} lies outside the unit's lifetime ({_lifetime(spans)})"
        )
    if until is not None and until <= on:
        raise TimelineError(f"'until' {until} is not after the change's date {on}")
    ends = {name: until if until is not None else field_end(spans, on, name) for name in changes}
    pieces = _split(spans, [on, *(e for e in ends.values() if e is not None)])
    out = []
    for piece in pieces:
        apply = {
            name: value
            for name, value in changes.items()
            if on <= piece.valid_from and (ends[name] is None or piece.valid_from < ends[name])  # type: ignore[operator]
        }
        out.append(
            Span(piece.valid_from, piece.valid_to, piece.fields.replace(**apply))
            if apply
            else piece
        )
    return normalise(out)


def set_end(spans: Sequence[Span], end: date | None) -> list[Span]:
    """The history closed on ``end`` (the first day the unit is no longer valid), or reopened
    when ``end`` is None. Refuses to drop versions that start on or after ``end``.

    >>> f = UnitFields("seksjon", "S", parent_id=1)
    >>> set_end([Span(date(2015, 1, 1), None, f)], date(2020, 1, 1))[-1].valid_to
    datetime.date(2020, 1, 1)
    """
    check_contiguous(spans)
    if end is not None and end <= spans[0].valid_from:
        raise TimelineError(
            f"close date {end} is not after the unit opened ({spans[0].valid_from})"
        )
    if end is not None:
        later = [s for s in spans if s.valid_from >= end]
        if later:
            raise TimelineError(
                f"the unit has a version from {later[0].valid_from}, "
                f"on or after the close date {end}"
            )
    kept = [s for s in spans if end is None or s.valid_from < end]
    last = kept[-1]
    return [*kept[:-1], Span(last.valid_from, end, last.fields)]


def changed_spans(old: Sequence[Span], new: Sequence[Span]) -> tuple[list[Span], list[Span]]:
    """(spans of ``old`` that are gone, spans of ``new`` that are new): what an edit
    supersedes and what it records."""
    old_set, new_set = set(old), set(new)
    return [s for s in old if s not in new_set], [s for s in new if s not in old_set]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _what(name: str) -> str:
    return {"parent_id": "moved", "name": "renamed"}.get(name, "changed")


def changes_of(unit_id: int, spans: Sequence[Span]) -> list[Change]:
    """Every change in a unit's history: opened, field changes between consecutive versions
    (``moved`` for the parent, ``renamed`` for the name), closed.

    >>> f = UnitFields("hf", "X")
    >>> [c.what for c in changes_of(7, [Span(date(2020, 1, 1), date(2021, 1, 1), f),
    ...                                 Span(date(2021, 1, 1), None, f.replace(name="Y"))])]
    ['opened', 'renamed']
    """
    if not spans:
        return []
    first = spans[0]
    out = [Change(unit_id, first.valid_from, "opened", name=first.fields.name)]
    for before, after in itertools.pairwise(spans):
        for name in CHANGEABLE:
            old, new = getattr(before.fields, name), getattr(after.fields, name)
            if old != new:
                out.append(
                    Change(
                        unit_id,
                        after.valid_from,
                        _what(name),
                        name,
                        _plain(old),
                        _plain(new),
                        after.fields.name,
                    )
                )
    last = spans[-1]
    if last.valid_to is not None:
        out.append(Change(unit_id, last.valid_to, "closed", name=last.fields.name))
    return out


__all__ = [
    "TimelineError",
    "apply_change",
    "changed_spans",
    "changes_of",
    "check_contiguous",
    "field_end",
    "normalise",
    "set_end",
    "value_at",
]
