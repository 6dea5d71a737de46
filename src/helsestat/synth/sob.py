"""Synthetic 1177 Stöd och behandling extracts (SYNTHETIC DATA — no real person is in it).

One row is one status change of an ärende, as SOB's transaction log has it, every column
text as a supplier sends it (:data:`SOB_COLUMNS`). A vårdtagare enrols in a programme
(:mod:`helsestat.synth.sob_programmes`) at a vårdenhet of the demo unit registry and goes
through its moments one after another, one ärende of type ``Process`` per moment: the
ärende starts with ``Inprogress``, may pause (``Paused``, then ``Inprogress`` again), and
ends with ``Done`` — or never, the long tail of abandoned ärenden. A finished moment with
the reason ``Genomförd`` leads to the next; any other reason ends the programme. Rarely an
ärende is re-opened after ``Done`` (``Inprogress`` and ``Done`` again). Some moments also
have ärenden of type ``Meddelande`` and ``Formulär``, which the statistic does not count.
Some vårdtagare come back later for another programme. Volumes follow each region's
population and grow several-fold from 2016 to 2024; ``avslutningsorsak`` is recorded from
March 2022.

The rows are sorted by ``tidpunkt``. A share ``bad_share`` of the rows is deliberately bad,
one defect each (:data:`DEFECTS`); apart from duplicates and out-of-order events, which
repeat an event of a normal ärende, every bad row is an ärende of its own, so the normal
rows alone are a clean, consistent extract (``labels=True`` adds a column naming each row's
defect).

>>> batches = list(generate_sob(3_000, seed=1, lan_limit=2))
>>> batches[0].schema.names == list(SOB_COLUMNS)
True
>>> 2_500 < sum(b.num_rows for b in batches) < 3_500
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

import numpy as np
import pyarrow as pa

from helsestat.errors import InputError
from helsestat.reference.units.plan import UnitPlan
from helsestat.synth.core import BATCH_ROWS
from helsestat.synth.sob_frame import DAY, FIRST_DAY, Frame, Persons, build_frame, day_of
from helsestat.synth.sob_programmes import PARENTS, PROGRAMMES, YOUNG
from helsestat.synth.sob_rows import (
    ARENDETYPER,
    DEFECTS,
    DONE,
    FORMULAR,
    INPROGRESS,
    MEDDELANDE,
    PAUSED,
    PROCESS,
    REASONS,
    REASONS_FROM,
    SOB_COLUMNS,
    STATUSES,
    Cols,
    Defect,
    Output,
    Texts,
    concat,
    take,
)
from helsestat.synth.units import generate_unit_plan

#: The last day of the generated data unless told otherwise (fixed, so output is reproducible).
DEFAULT_END = date(2026, 11, 30)
#: Share of moments never finished (the long tail of ärenden ongoing for ever).
NEVER_FINISHED = 0.045
_GENOMFORD, _INAKTIVITET = 1, 3  # codes are 1-based positions in REASONS (0: none)
#: How often an event happens in each hour of the day (none from 00 to 06, so never in
#: the hour clocks skip in March).
_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 1, 3, 7, 9, 9, 8, 6, 8, 8, 7, 5, 4, 4, 5, 5, 4, 2, 1], dtype=np.float64
)
_HOURS /= _HOURS.sum()
#: Relative volume by calendar month (summer and Christmas are quiet).
_SEASON = np.array([1.1, 1.05, 1.05, 1.0, 0.95, 0.85, 0.55, 0.85, 1.1, 1.1, 1.05, 0.8])
#: Per kind of event of a moment: its arendetyp and status (the Process ärende's start,
#: pause, resumption, finish, re-opening and second finish; a Meddelande; a Formulär).
_STEP_TYPES = np.array([PROCESS] * 6 + [MEDDELANDE] * 2 + [FORMULAR] * 2, dtype=np.int8)
_STEP_STATUSES = np.array(
    [INPROGRESS, PAUSED, INPROGRESS, DONE, INPROGRESS, DONE] + [INPROGRESS, DONE] * 2,
    dtype=np.int8,
)
_HOUR_CUM = np.cumsum(_HOURS)
#: How a moment ends: never (0), or finished for each of REASONS (1…).
_OUTCOME_CUM = np.cumsum([NEVER_FINISHED] + [p * (1 - NEVER_FINISHED) for _, p in REASONS])
_PILOT = 20_000  # enrolments simulated to learn how many events one makes


def level(year: float | np.ndarray) -> np.ndarray:
    """Relative volume of SOB in a (fractional) year: a logistic rise, several-fold from
    2016 to 2024, then levelling off towards 1.08.

    >>> round(float(level(2024) / level(2016)), 1)
    6.7
    """
    out: np.ndarray = 0.08 + 1.0 / (1.0 + np.exp(-(np.asarray(year, np.float64) - 2019.5) / 1.4))
    return out


@dataclass(frozen=True)
class _Catalogue:
    names: pa.Array
    moments: pa.Array  # every moment of every programme, in order
    first_moment: np.ndarray
    steps: np.ndarray
    weight: np.ndarray
    launched: np.ndarray  # day number
    young: np.ndarray
    parents: np.ndarray
    women: np.ndarray
    step_days: np.ndarray


@cache
def _catalogue() -> _Catalogue:
    steps = np.array([len(p.moments) for p in PROGRAMMES])
    return _Catalogue(
        names=pa.array([p.name for p in PROGRAMMES], pa.string()),
        moments=pa.array([m for p in PROGRAMMES for m in p.moments], pa.string()),
        first_moment=np.concatenate([[0], np.cumsum(steps)[:-1]]),
        steps=steps,
        weight=np.array([p.weight for p in PROGRAMMES]),
        launched=np.array([day_of(p.launched) for p in PROGRAMMES]),
        young=np.array([p.audience == YOUNG for p in PROGRAMMES]),
        parents=np.array([p.audience == PARENTS for p in PROGRAMMES]),
        women=np.array([p.women for p in PROGRAMMES]),
        step_days=np.array([p.step_days for p in PROGRAMMES]),
    )


@lru_cache(maxsize=4)
def _demo_plan(seed: int, lan_limit: int | None) -> UnitPlan:
    """The demo unit plan (immutable, so kept for the next call with the same seed)."""
    return generate_unit_plan(seed, lan_limit=lan_limit)


def _months(end: date) -> list[tuple[int, int, int]]:
    """(first day, first day of the next month, calendar month) from October 2015 to
    ``end``'s month; the last month stops after ``end``."""
    out = []
    year, month = FIRST_DAY.year, FIRST_DAY.month
    while date(year, month, 1) <= end:
        nxt = (year + month // 12, month % 12 + 1)
        stop = min(day_of(date(*nxt, 1)), day_of(end) + 1)
        out.append((day_of(date(year, month, 1)), stop, month))
        year, month = nxt
    return out


def _draw(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probabilities proportional to ``weights`` (cheaper than
    ``Generator.choice`` for the many small draws here)."""
    cum = np.cumsum(weights)
    found = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    out: np.ndarray = np.minimum(found, len(cum) - 1)
    return out


class _Simulator:
    """Enrolments month by month and the events they make (numbers only, no text)."""

    def __init__(self, frame: Frame, rng: np.random.Generator, region_factor: np.ndarray):
        self.fr = frame
        self.rng = rng
        self.region_factor = region_factor
        self.persons = Persons(len(frame.regions))
        self.next_id = 1
        self.dow0 = date(2015, 1, 1).weekday()

    def ids(self, n: int) -> np.ndarray:
        out = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        return out

    def snap(self, t: np.ndarray, floor: np.ndarray | None = None) -> np.ndarray:
        """Times moved to a plausible hour of their day (most weekend events two days on),
        and later than ``floor`` (so an ärende's events stay in order)."""
        u = self.rng.random((4, len(t)))
        day = t // DAY
        dow = (day + self.dow0) % 7
        day += (dow >= 5) * (u[0] < 0.6) * 2  # Saturday to Monday, Sunday to Tuesday
        hour = np.minimum(np.searchsorted(_HOUR_CUM, u[1], side="right"), 23)
        out: np.ndarray = day * DAY + hour * 3600 + (u[2] * 3600).astype(np.int64)
        if floor is not None:
            out = np.where(out <= floor, floor + 60 + (u[3] * 5400).astype(np.int64), out)
            out += 3600 * ((out % DAY) // 3600 == 2)  # no time in the hour skipped in March
        return out

    def month(self, first: int, stop: int, n: int) -> Cols:
        """Events of the ``n`` enrolments starting from day ``first`` to before ``stop``."""
        fr, rng, cat = self.fr, self.rng, _catalogue()
        self.persons.close_month()
        # units open (and under the same vårdgivare) the whole month; regions that have one
        stable = (fr.state[:, first:stop] >= 0).all(axis=1) & (
            fr.state[:, first:stop] == fr.state[:, first : first + 1]
        ).all(axis=1)
        year = min(fr.day_year[first] - 2015, fr.population.shape[1] - 1)
        weights = fr.population[:, year] * self.region_factor
        weights *= np.bincount(fr.unit_region[stable], minlength=len(fr.regions)) > 0
        if n == 0 or weights.sum() == 0:
            return {}
        region = _draw(rng, weights, n)
        unit = np.empty(n, dtype=np.int64)
        for r in np.unique(region):
            sel = region == r
            cand = np.flatnonzero(stable & (fr.unit_region == r))
            unit[sel] = cand[_draw(rng, fr.unit_weight[cand], int(sel.sum()))]
        start_day = rng.integers(first, stop, n)
        # programme and person: about 10 % come back for another programme (not a youth one)
        open_ = cat.launched <= first
        person = np.full(n, -1, dtype=np.int64)
        back = rng.random(n) < 0.10
        for r in np.unique(region[back]):
            sel = np.flatnonzero(back & (region == r))
            found = self.persons.returning(rng, int(r), 6, len(sel))
            person[sel[: len(found)]] = found
        back = person >= 0
        proc = np.empty(n, dtype=np.int64)
        for returning, allowed in ((False, open_), (True, open_ & ~cat.young)):
            sel = back == returning
            proc[sel] = _draw(rng, cat.weight * allowed, int(sel.sum()))
        new = ~back
        age = np.where(
            cat.young[proc],
            rng.uniform(13, 18, n),
            np.where(
                cat.parents[proc],
                np.clip(rng.normal(38, 6, n), 22, 62),
                np.minimum(18 + rng.gamma(2.2, 9.5, n), 94),
            ),
        )
        birth = start_day - (age * 365.25).astype(np.int64)
        person[new] = self.persons.add(rng, region[new], birth[new], cat.women[proc[new]])
        return self._steps(unit, person, proc, start_day)

    def _treaters(self, unit: np.ndarray, day: np.ndarray) -> np.ndarray:
        fr = self.fr
        # the staff grows with the volume
        scale = level(fr.day_year[np.minimum(day, fr.end_day)] + 0.5) / 1.08
        size = np.maximum((fr.staff_size[unit] * scale).astype(np.int64), 1)
        out: np.ndarray = fr.staff_base[unit] + (self.rng.random(len(unit)) * size).astype(np.int64)
        return out

    def _steps(
        self, unit: np.ndarray, person: np.ndarray, proc: np.ndarray, start_day: np.ndarray
    ) -> Cols:
        """Every moment of every enrolment, one vectorised step per moment number."""
        rng, cat, fr = self.rng, _catalogue(), self.fr
        n = len(unit)
        t1 = self._treaters(unit, start_day)
        t2 = np.where(rng.random(n) < 0.2, self._treaters(unit, start_day), -1)
        t2 = np.where(t2 == t1, -1, t2)
        parts: list[Cols] = []
        active = np.arange(n)
        cur = self.snap(start_day * DAY)
        for k in range(int(cat.steps.max())):
            more = k < cat.steps[proc[active]]
            active, cur = active[more], cur[more]
            if len(active) == 0:
                break
            m = len(active)
            s = cur
            u = rng.random((15, m))
            z = np.exp(0.7 * rng.standard_normal((4, m))) * DAY  # log-normal, median 1 day
            outcome = np.minimum(np.searchsorted(_OUTCOME_CUM, u[0], side="right"), len(REASONS))
            done = outcome > 0
            duration = (cat.step_days[proc[active]] * z[0]).astype(np.int64)
            pause = (10.0 * z[1]).astype(np.int64)
            paused = u[1] < 0.12
            resumed = paused & (done | (u[2] < 0.4))
            reopen = done & (u[3] < 0.015)
            has = np.stack([done & (u[4] < 0.2), done & (u[5] < 0.1)])  # Meddelande, Formulär
            late = (outcome == _INAKTIVITET) * (30 + (u[6] * 61).astype(np.int64)) * DAY
            p1 = self.snap(s + (duration * (0.2 + 0.6 * u[7])).astype(np.int64), s)
            p2 = self.snap(p1 + pause, p1)
            last = np.where(resumed, p2, np.where(paused, p1, s))
            f = self.snap(s + duration + paused * pause + late, last)
            # after the finish: the other ärenden inside the moment, the re-opening
            span = f - s
            e1a, e1b, r1 = np.split(
                self.snap(
                    np.concatenate(
                        [
                            s + (span * u[8]).astype(np.int64),
                            s + (span * u[9]).astype(np.int64),
                            f + (1 + (u[10] * 29).astype(np.int64)) * DAY,
                        ]
                    ),
                    np.concatenate([s, s, f]),
                ),
                3,
            )
            gap = np.where(u[11] < 0.5, 300 + (u[12] * 4 * 3600).astype(np.int64), 2.0 * z[2])
            e2a, e2b, r2, cur = np.split(
                self.snap(
                    np.concatenate(
                        [
                            e1a + 3600 + (u[13] * 3 * DAY).astype(np.int64),
                            e1b + 3600 + (u[14] * 3 * DAY).astype(np.int64),
                            r1 + (5.0 * z[3]).astype(np.int64),
                            f + gap.astype(np.int64),
                        ]
                    ),
                    np.concatenate([e1a, e1b, r1, f]),
                ),
                4,
            )
            if k > 0 and (swap := rng.random(m) < 0.1).any():  # another treater takes over
                t1[active[swap]] = self._treaters(unit[active[swap]], s[swap] // DAY)
            arende = self.ids(m)
            other = np.full((2, m), -1, dtype=np.int64)
            other[has] = self.ids(int(has.sum()))
            on = np.stack([s >= 0, paused, resumed, done, reopen, reopen, *has[[0, 0, 1, 1]]])
            row, col = np.nonzero(on)
            none = np.full(m, -1, dtype=np.int64)
            reason = np.zeros((10, m), dtype=np.int64)
            reason[3], reason[5] = outcome, _GENOMFORD
            parts.append(
                {
                    "t": np.stack([s, p1, p2, f, r1, r2, e1a, e2a, e1b, e2b])[on],
                    "arende": np.stack([arende] * 6 + [other[0]] * 2 + [other[1]] * 2)[on],
                    "typ": _STEP_TYPES[row],
                    "status": _STEP_STATUSES[row],
                    "reason": reason[on],
                    "prev": np.stack([none, s, p1, last, f, r1, none, e1a, none, e1b])[on],
                    "moment": cat.first_moment[proc[active]][col] + k,
                    "enrol": active[col],
                    "t1": t1[active][col],
                }
            )
            keep = outcome == _GENOMFORD
            active, cur = active[keep], cur[keep]
        if not parts:
            return {}
        cols = concat(parts)
        enrol = cols.pop("enrol")
        cols.update(
            unit=unit[enrol],
            person=person[enrol],
            proc=proc[enrol],
            t2=t2[enrol],
        )
        day = cols["t"] // DAY
        ok = day <= fr.end_day
        ok[ok] = fr.state[cols["unit"][ok], day[ok]] >= 0  # the unit closed: no more events
        return take(cols, np.flatnonzero(ok))


def _month_weights(months: list[tuple[int, int, int]]) -> np.ndarray:
    w = np.array(
        [
            float(level(2015 + (first + stop) / 2 / 365.25)) * _SEASON[month - 1] * (stop - first)
            for first, stop, month in months
        ]
    )
    out: np.ndarray = w / w.sum()
    return out


def _counts(total: float, weights: np.ndarray) -> np.ndarray:
    """Whole numbers in proportion to ``weights`` summing to ``total`` (rounded)."""
    edges = np.floor(np.cumsum(weights) * total + 1e-9).astype(np.int64)
    out: np.ndarray = np.diff(np.concatenate([[0], edges]))
    return out


def _enrolments(
    frame: Frame, events: float, seed: int, months: list[tuple[int, int, int]]
) -> np.ndarray:
    """Enrolments per month so that the run makes about ``events`` normal events: a pilot
    run, by quarter, learns how many events an enrolment makes (closures and the end cut
    some off)."""
    weights = _month_weights(months)
    pilot = _Simulator(frame, np.random.default_rng([seed, 0x9170]), np.ones(len(frame.regions)))
    made = 0
    quarters = range(0, len(months), 3)
    shares = [weights[q : q + 3].sum() for q in quarters]
    for q, n in zip(quarters, _counts(_PILOT, np.array(shares)), strict=True):
        first, stop = months[q][0], months[min(q + 2, len(months) - 1)][1]
        made += len(pilot.month(first, stop, int(n)).get("t", ()))
    return _counts(events * _PILOT / max(made, 1), weights)


def generate_sob(
    events: int,
    seed: int,
    *,
    end: date = DEFAULT_END,
    bad_share: float = 0.01,
    lan_limit: int | None = None,
    plan: UnitPlan | None = None,
    batch_rows: int = BATCH_ROWS,
    labels: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Yield batches of synthetic SOB events (every column text, :data:`SOB_COLUMNS`),
    about ``events`` rows from 1 October 2015 to ``end``, sorted by ``tidpunkt``.

    Units come from ``plan``, by default the demo unit plan of the same seed (as
    ``helsestat demo`` loads it) for the first ``lan_limit`` län. A share ``bad_share`` of
    the rows is bad, one :data:`DEFECTS` each, in turn; ``labels`` adds a last column
    ``defect`` with the defect's name (empty on normal rows). The same arguments give the
    same rows; batches hold at most ``batch_rows`` rows.

    >>> rows = pa.Table.from_batches(generate_sob(2_000, seed=4, lan_limit=1, labels=True))
    >>> rows.schema.names[-2:], sorted(set(rows.column("arendetyp").to_pylist()))
    (['avslutningsorsak', 'defect'], ['Formulär', 'Meddelande', 'Process'])
    """
    if events < 0 or not 0 <= bad_share < 0.5 or batch_rows < 1:
        raise InputError(
            "input.synthetic_arguments",
            f"cannot generate {events} SOB events with bad_share {bad_share} in batches of "
            f"{batch_rows}",
            hint="use events >= 0, 0 <= bad_share < 0.5 and batch_rows >= 1",
        )
    if end < FIRST_DAY:
        raise InputError(
            "input.synthetic_arguments",
            f"SOB data start on {FIRST_DAY}; the end {end} is before that",
            hint="choose an end date from 2015-10-01 on",
        )
    if events == 0:
        return
    plan = plan if plan is not None else _demo_plan(seed, lan_limit)
    frame = build_frame(plan, end, seed)
    months = _months(end)
    counts = _enrolments(frame, events * (1 - bad_share), seed, months)
    rng = np.random.default_rng([seed, 0x50B])
    factor = rng.lognormal(0.0, 0.25, len(frame.regions))
    sim = _Simulator(frame, rng, factor)
    cat = _catalogue()
    texts = Texts(cat.names, cat.moments, pa.array(["", *(r for r, _ in REASONS)], pa.string()))
    out = Output(
        frame,
        sim.persons,
        sim.ids,
        np.random.default_rng([seed, 0xBAD]),
        texts,
        bad_share=bad_share,
        batch_rows=batch_rows,
        labels=labels,
    )
    pending: Cols = {}
    for (first, stop, _), n in zip(months, counts, strict=True):
        made = sim.month(first, stop, int(n))
        parts = [p for p in (pending, made) if p]
        if not parts:
            continue
        pending = concat(parts)
        now = pending["t"] < stop * DAY
        ready = take(pending, np.flatnonzero(now))
        pending = take(pending, np.flatnonzero(~now))
        yield from out.add(take(ready, np.argsort(ready["t"], kind="stable")))
    yield from out.finish()


__all__ = [
    "ARENDETYPER",
    "DEFAULT_END",
    "DEFECTS",
    "REASONS",
    "REASONS_FROM",
    "SOB_COLUMNS",
    "STATUSES",
    "Defect",
    "generate_sob",
    "level",
]
