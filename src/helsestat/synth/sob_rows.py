"""The rows of a synthetic SOB extract: the columns and codes, the deliberate defects
(:data:`DEFECTS`), and :class:`Output`, which puts the defects among the normal events and
turns the numbers into text batches (SYNTHETIC DATA).

The generator (:mod:`helsestat.synth.sob`) hands over events as integer columns sorted by
time; every text is made once per batch with Arrow compute (``take`` from small
dictionaries), so no Python loop runs over rows.

>>> [d.name for d in DEFECTS][:3]
['vardenhet_unknown', 'vardenhet_not_under_vardgivare', 'vardtagare_check_digit']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.synth.sob_frame import DAY, Frame, Persons, day_of
from helsestat.validate.sob import SOB

#: The columns of the ``sob`` extract, as its spec lists them.
SOB_COLUMNS = SOB.column_names
#: avslutningsorsak is recorded from this day (seed 003: "finns endast från Mars 2022").
REASONS_FROM = date(2022, 3, 1)
ARENDETYPER = ("Process", "Meddelande", "Formulär")
STATUSES = ("Inprogress", "Done", "Paused")
#: Reasons for finishing a moment, and how often each ends one; only ``Genomförd`` leads
#: on to the next moment. ``Inaktivitet`` closes an ärende 30–90 days late.
REASONS = (
    ("Genomförd", 0.87),
    ("Avbruten av invånare", 0.047),
    ("Inaktivitet", 0.047),
    ("Avbruten av vårdgivare", 0.021),
    ("Hänvisad till annan vårdform", 0.015),
)
PROCESS, MEDDELANDE, FORMULAR = 0, 1, 2
INPROGRESS, DONE, PAUSED = 0, 1, 2
#: kön codes: 0 empty, 1 K, 2 M (3 is the defect's 'X')
_KON = ("", "K", "M", "X")


@dataclass(frozen=True)
class Defect:
    """A kind of deliberately bad row: its name (the ``defect`` label), the column it spoils
    and what the row holds."""

    name: str
    column: str
    description: str


DEFECTS: tuple[Defect, ...] = (
    Defect(
        "vardenhet_unknown",
        "vardenhet_hsaid",
        "an HSA-id no unit has: the vårdgivare's stem with '-X' and three digits",
    ),
    Defect(
        "vardenhet_not_under_vardgivare",
        "vardgivare_hsaid",
        "an open vårdenhet named with another vårdgivare (open that day) it is not under",
    ),
    Defect(
        "vardtagare_check_digit",
        "vardtagare_id",
        "a personnummer or samordningsnummer whose Luhn check digit is wrong",
    ),
    Defect(
        "tidpunkt_before_start",
        "tidpunkt",
        "a time from 1 January to 30 September 2015, at a unit open then",
    ),
    Defect(
        "tidpunkt_in_future",
        "tidpunkt",
        "a time 100 years after an event (year 21xx), at a unit open at the end of the plan",
    ),
    Defect("done_without_start", "status", "a Process ärende whose only event is Done"),
    Defect("duplicate", "*", "an exact copy of the row before it"),
    Defect(
        "out_of_order",
        "tidpunkt",
        "a Paused event of a normal ärende, right after that ärende's latest event but "
        "timed between its two latest events",
    ),
    Defect(
        "behandlare_malformed",
        "behandlare_hsaid",
        "the person HSA-ids written without their hyphen (SE2321000016ab12)",
    ),
    Defect("kon_invalid", "kon", "kön 'X'"),
    Defect("alder_not_numeric", "alder", "the age followed by ' år' ('34 år')"),
)
KIND = {d.name: i for i, d in enumerate(DEFECTS)}
#: Defects that are ärenden of their own (one event), not repeats of a normal event.
_REPEATS = (KIND["duplicate"], KIND["out_of_order"])

Cols = dict[str, np.ndarray]


def concat(parts: list[Cols]) -> Cols:
    """Columns of several parts, one after the other."""
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def take(cols: Cols, index: np.ndarray) -> Cols:
    """The rows ``index`` of every column."""
    return {k: v[index] for k, v in cols.items()}


@cache
def _clock() -> pa.Array:
    """Seconds after midnight as ``HH:MM:SS``."""
    return pa.array(
        [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)], pa.string()
    )


@cache
def _ages() -> pa.Array:
    return pa.array(["", *(str(a) for a in range(131))], pa.string())


@dataclass(frozen=True)
class Texts:
    """The names the numbers stand for: programmes, moments and reasons."""

    programmes: pa.Array
    moments: pa.Array
    reasons: pa.Array  # '' then the reasons


class Output:
    """Turns sorted chunks of normal events into text batches with the defects among them.

    The defects come in turn (so a few thousand rows hold every kind) at ``bad_share`` of
    the rows; each repeats or imitates a random normal row of its chunk and sits right after
    it."""

    def __init__(
        self,
        frame: Frame,
        persons: Persons,
        ids: Callable[[int], np.ndarray],
        rng: np.random.Generator,
        texts: Texts,
        *,
        bad_share: float,
        batch_rows: int,
        labels: bool,
    ) -> None:
        self.fr, self.persons, self.ids, self.rng, self.texts = frame, persons, ids, rng, texts
        self.rate = bad_share / (1 - bad_share)
        self.batch_rows, self.labels = batch_rows, labels
        self.normal = self.made = self.held = 0
        self.buffer: list[Cols] = []
        self.reasons_from = day_of(REASONS_FROM)
        self.before = np.argwhere(frame.state[:, : frame.first_day] >= 0)  # (unit, day)
        self.open_at_end = np.flatnonzero(frame.final >= 0)

    def add(self, chunk: Cols) -> Iterator[pa.RecordBatch]:
        """Take a chunk of normal events sorted by time; yield the batches that are full."""
        fr = self.fr
        day = chunk["t"] // DAY
        person = chunk.pop("person")
        chunk["vg"] = fr.state[chunk["unit"], day].astype(np.int64)
        chunk["number"] = self.persons.number[person]
        chunk["kon"] = self.persons.kon[person].astype(np.int64)
        chunk["alder"] = self.persons.age(person, day, fr)
        chunk["reason"] = np.where(day >= self.reasons_from, chunk["reason"], 0)
        chunk = self._with_defects(chunk)
        self.buffer.append(chunk)
        self.held += len(chunk["t"])
        while self.held >= self.batch_rows:
            rows, size = concat(self.buffer), self.batch_rows
            self.buffer = [{k: v[size:].copy() for k, v in rows.items()}]  # not a view
            self.held -= size
            yield self._batch({k: v[:size] for k, v in rows.items()})

    def finish(self) -> Iterator[pa.RecordBatch]:
        """The last, partial batch."""
        if self.held:
            yield self._batch(concat(self.buffer))
        self.buffer, self.held = [], 0

    def _kinds(self, chunk: Cols) -> tuple[np.ndarray, np.ndarray]:
        """The defects due after this chunk, in turn, with a source row each; the turn stops
        at a kind the chunk has no row for (it comes first in the next chunk)."""
        rng, n = self.rng, len(chunk["t"])
        self.normal += n
        due = int(np.floor(self.normal * self.rate + 1e-9)) - self.made
        kinds = (self.made + np.arange(max(due, 0))) % len(DEFECTS)
        process = chunk["typ"] == PROCESS
        known = (chunk["number"] > 0) & (chunk["kon"] > 0) & (chunk["alder"] >= 0)
        pools = {
            KIND["duplicate"]: np.arange(n),
            KIND["out_of_order"]: np.flatnonzero(
                process & (chunk["prev"] >= 0) & (chunk["t"] - chunk["prev"] >= 2)
            ),
        }
        imitable = np.flatnonzero(process & known & (chunk["t1"] >= 0))
        empty = [k for k in range(len(DEFECTS)) if len(pools.get(k, imitable)) == 0]
        stuck = np.flatnonzero(np.isin(kinds, empty))
        if len(stuck):
            kinds = kinds[: stuck[0]]
        sources = np.empty(len(kinds), dtype=np.int64)
        for kind in np.unique(kinds):  # a loop per kind of defect, not per row
            sel = kinds == kind
            pool = pools.get(int(kind), imitable)
            sources[sel] = pool[rng.integers(0, len(pool), int(sel.sum()))]
        self.made += len(kinds)
        return kinds, sources

    def _with_defects(self, chunk: Cols) -> Cols:
        fr, rng = self.fr, self.rng
        kinds, src = self._kinds(chunk)
        n = len(chunk["t"])
        chunk["defect"] = np.zeros(n, dtype=np.int64)
        if len(kinds) == 0:
            return chunk
        bad = take(chunk, src)
        bad["defect"] = kinds + 1

        def of(name: str) -> np.ndarray:
            return np.asarray(kinds == KIND[name])

        alone = ~np.isin(kinds, _REPEATS)
        bad["arende"][alone] = self.ids(int(alone.sum()))
        bad["typ"][alone] = PROCESS
        bad["status"][alone] = INPROGRESS
        bad["reason"][alone] = 0
        bad["prev"][alone] = -1
        # a Done alone: its reason as recorded on the day
        sel = of("done_without_start")
        bad["status"][sel] = DONE
        picked = rng.choice(len(REASONS), int(sel.sum()), p=[p for _, p in REASONS]) + 1
        bad["reason"][sel] = np.where(bad["t"][sel] // DAY >= self.reasons_from, picked, 0)
        bad["unit"][of("vardenhet_unknown")] += len(fr.unit_region)
        sel = of("vardenhet_not_under_vardgivare")
        day = bad["t"][sel] // DAY
        others = (fr.vg_opened[None, :] <= day[:, None]) & (
            np.arange(len(fr.vg_opened))[None, :] != bad["vg"][sel][:, None]
        )
        others |= ~others.any(axis=1, keepdims=True) & (
            np.arange(len(fr.vg_opened))[None, :] != bad["vg"][sel][:, None]
        )
        bad["vg"][sel] = np.argmax(rng.random(others.shape) * others, axis=1)
        sel = of("vardtagare_check_digit")
        check = bad["number"][sel] % 10
        bad["number"][sel] += (check + rng.integers(1, 10, len(check))) % 10 - check
        sel = np.flatnonzero(of("tidpunkt_before_start"))
        if len(self.before) and len(sel):
            pair = self.before[rng.integers(0, len(self.before), len(sel))]
            bad["unit"][sel], when = pair[:, 0], pair[:, 1]
            bad["vg"][sel] = fr.state[pair[:, 0], pair[:, 1]]
        else:  # no unit was open before October 2015 in this plan: the unit as it was
            when = rng.integers(0, fr.first_day, len(sel))
        bad["t"][sel] = when * DAY + rng.integers(8 * 3600, 17 * 3600, len(sel))
        sel = np.flatnonzero(of("tidpunkt_in_future"))
        closed = sel[fr.final[bad["unit"][sel]] < 0]
        if len(self.open_at_end):
            bad["unit"][closed] = self.open_at_end[
                rng.integers(0, len(self.open_at_end), len(closed))
            ]
        bad["vg"][sel] = np.maximum(fr.final[bad["unit"][sel]], 0)
        sel = of("out_of_order")
        prev, t = bad["prev"][sel], bad["t"][sel]
        mid = prev + (t - prev) // 2
        bad["t"][sel] = np.where((mid % DAY) // 3600 == 2, prev + 1, mid)
        bad["status"][sel] = PAUSED
        bad["reason"][sel] = 0
        bad["kon"][of("kon_invalid")] = 3
        order = np.argsort(np.concatenate([2 * np.arange(n), 2 * src + 1]), kind="stable")
        return take(concat([chunk, bad]), order)

    def _batch(self, c: Cols) -> pa.RecordBatch:
        fr, tx = self.fr, self.texts
        defect = c["defect"]

        def flag(name: str) -> pa.Array:
            return pa.array(defect == KIND[name] + 1)

        t = c["t"]
        stamp = pc.binary_join_element_wise(
            fr.day_text.take(pa.array(t // DAY)), _clock().take(pa.array(t % DAY)), "T"
        )
        stamp = pc.if_else(
            flag("tidpunkt_in_future"),
            pc.binary_join_element_wise("21", pc.utf8_slice_codeunits(stamp, 2), ""),
            stamp,
        )
        number = c["number"]
        vardtagare = pc.if_else(pa.array(number > 0), pc.cast(pa.array(number), pa.string()), "")
        alder = _ages().take(pa.array(np.clip(c["alder"], -1, 130) + 1))
        alder = pc.if_else(
            flag("alder_not_numeric"), pc.binary_join_element_wise(alder, " år", ""), alder
        )
        first = fr.staff_text.take(pa.array(np.maximum(c["t1"], 0)))
        second = fr.staff_text.take(pa.array(np.maximum(c["t2"], 0)))
        staff = pc.if_else(
            pa.array(c["t2"] >= 0), pc.binary_join_element_wise(first, second, ";"), first
        )
        staff = pc.if_else(pa.array(c["t1"] >= 0), staff, "")
        staff = pc.if_else(
            flag("behandlare_malformed"), pc.replace_substring(staff, "-", ""), staff
        )
        cols = {
            "arende_id": pc.cast(pa.array(c["arende"]), pa.string()),
            "arendetyp": pa.array(ARENDETYPER, pa.string()).take(pa.array(c["typ"])),
            "status": pa.array(STATUSES, pa.string()).take(pa.array(c["status"])),
            "tidpunkt": stamp,
            "process_namn": tx.programmes.take(pa.array(c["proc"])),
            "moment_namn": tx.moments.take(pa.array(c["moment"])),
            "vardgivare_hsaid": fr.vg_text.take(pa.array(c["vg"])),
            "vardenhet_hsaid": fr.unit_text.take(pa.array(c["unit"])),
            "vardtagare_id": vardtagare,
            "kon": pa.array(_KON, pa.string()).take(pa.array(c["kon"])),
            "alder": alder,
            "behandlare_hsaid": staff,
            "avslutningsorsak": tx.reasons.take(pa.array(c["reason"])),
        }
        names = list(SOB_COLUMNS)
        if self.labels:
            cols["defect"] = pa.array(["", *(d.name for d in DEFECTS)], pa.string()).take(
                pa.array(defect)
            )
            names.append("defect")
        return pa.record_batch([cols[n] for n in names], names=names)


__all__ = [
    "ARENDETYPER",
    "DEFECTS",
    "REASONS",
    "REASONS_FROM",
    "SOB_COLUMNS",
    "STATUSES",
    "Defect",
    "Output",
    "Texts",
]
