"""What the 1177 Stöd och behandling generator (:mod:`helsestat.synth.sob`) draws from, built
once per call as arrays: the calendar (day 0 is 1 January 2015), the Swedish vårdenheter of a
unit plan with the vårdgivare each is under on every day (or ``-1`` when it is not open),
the regions' population, the staff pools and the synthetic persons.

The unit table follows the registry's reading of a plan exactly: a unit is open from its
opening date up to, not including, the date of its closure, and a move to another
vårdgivare takes effect on its date (validity periods are half-open).

>>> from helsestat.synth.units import generate_unit_plan
>>> frame = build_frame(generate_unit_plan(3, hf_limit=1, lan_limit=1), date(2020, 12, 31))
>>> frame.day_text[frame.first_day].as_py(), len(frame.regions)
('2015-10-01', 1)
>>> int((frame.state[:, frame.first_day] >= 0).sum()) <= len(frame.unit_text) // 2
True
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

import numpy as np
import pyarrow as pa

from helsestat.errors import InputError
from helsestat.reference.units.plan import PlannedEvent, UnitPlan

EPOCH = date(2015, 1, 1)
#: The first day of SOB data (seed 003: "Data visas för oktober 2015 och framåt").
FIRST_DAY = date(2015, 10, 1)
DAY = 86_400
#: Relative volume of each kind of vårdenhet (internet treatment units carry most).
UNIT_WEIGHTS = {"ibt": 10.0, "psy": 3.0, "private": 3.0, "vc": 1.0}
#: Staff (treaters) of a vårdenhet of each kind at full volume.
STAFF = {"ibt": 120, "psy": 40, "private": 30, "vc": 12}
#: Person HSA-id serials: two lower-case letters and two digits (``ab12``).
_SERIALS = 26 * 26 * 100


@dataclass(frozen=True)
class Frame:
    """Arrays a generator run draws from (see the module docstring)."""

    end_day: int
    first_day: int
    day_text: pa.Array  # 'YYYY-MM-DD' of day 0 … end_day
    day_year: np.ndarray
    day_md: np.ndarray  # month * 100 + day
    state: np.ndarray  # (unit, day 0 … end_day) → vårdgivare index, -1 when not open
    final: np.ndarray  # (unit,) vårdgivare after every event of the plan, -1 when closed
    unit_text: pa.Array  # HSA-ids of the units, then one unknown HSA-id per unit
    unit_region: np.ndarray
    unit_weight: np.ndarray
    vg_text: pa.Array
    vg_opened: np.ndarray  # day each vårdgivare opened
    regions: tuple[str, ...]  # län codes
    population: np.ndarray  # (region, year - 2015) inhabitants
    staff_base: np.ndarray  # first treater index of each unit
    staff_size: np.ndarray
    staff_text: pa.Array


def day_of(d: date) -> int:
    """Day number of a date (0 is 1 January 2015).

    >>> day_of(date(2015, 10, 1))
    273
    """
    return (d - EPOCH).days


def _hsa(unit: object) -> str:
    ids = dict(getattr(unit, "identifiers", ()))
    return str(ids["hsa"])


def _kind(hsa: str, vardgivare_name: str) -> str:
    if hsa.endswith("-IBT"):
        return "ibt"
    if hsa.endswith("-PSY"):
        return "psy"
    return "vc" if vardgivare_name.startswith("Region ") else "private"


def _population(regions: tuple[str, ...], last_year: int) -> np.ndarray:
    """Inhabitants per län and year (SCB, 31 December; years without figures interpolated
    linearly, after the last held flat)."""
    known: dict[str, dict[int, int]] = defaultdict(dict)
    path = resources.files("helsestat.data.refdata").joinpath("se_befolkning_lan.csv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kon"] == "T":
                known[row["lanskod"]][int(row["ar"])] = int(row["folkmangd"])
    years = np.arange(2015, max(last_year, 2015) + 1)
    out = np.empty((len(regions), len(years)))
    for i, lan in enumerate(regions):
        have = sorted(known[lan].items())
        out[i] = np.interp(years, [y for y, _ in have], [p for _, p in have])
    return out


def _staff_text(orgnr: str, serials: np.ndarray) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"SE{orgnr}-{letters[s // 2600]}{letters[s // 100 % 26]}{s % 100:02d}" for s in serials]


def build_frame(plan: UnitPlan, end: date, seed: int = 0) -> Frame:
    """The arrays for ``plan`` (its Swedish side) from 1 January 2015 to ``end``."""
    vgs = [u for u in plan.units if u.country == "SE" and u.kind == "vardgivare"]
    units = [u for u in plan.units if u.country == "SE" and u.kind == "vardenhet"]
    if not units:
        raise InputError(
            "input.no_swedish_units",
            "the unit plan has no Swedish vårdenheter to place SOB events at",
            hint="use the demo plan (helsestat.synth.units.generate_unit_plan)",
        )
    end_day = day_of(end)
    vg_index = {u.key: i for i, u in enumerate(vgs)}
    vg_opened = np.array([max(day_of(u.opened), 0) for u in vgs])
    state = np.full((len(units), end_day + 1), -1, dtype=np.int16)
    final = np.full(len(units), -1, dtype=np.int16)
    events: dict[str, list[PlannedEvent | None]] = defaultdict(list)
    for event in plan.events:  # in the plan's order, as the registry applies them
        events[event.key].append(event)
    for i, unit in enumerate(units):
        parent, since, open_ = unit.parent, day_of(unit.opened), True
        for e in [*events[unit.key], None]:
            until = day_of(e.on) if e is not None else end_day + 1
            if open_ and parent is not None:
                vg = vg_index[parent]
                lo = max(since, int(vg_opened[vg]), 0)
                state[i, lo : max(min(until, end_day + 1), lo)] = vg
            if e is None:
                final[i] = vg_index[parent] if open_ and parent is not None else -1
                break
            since = max(since, until)
            if e.what == "close":
                open_ = False
            elif e.what == "change":
                parent = str(dict(e.changes).get("parent", parent))
    regions = tuple(sorted({str(u.lan) for u in vgs}))
    region_of = {lan: i for i, lan in enumerate(regions)}
    kinds = [_kind(_hsa(u), vgs[vg_index[str(u.parent)]].name) for u in units]
    staff_size = np.array([STAFF[k] for k in kinds])
    # Each unit's staff have HSA-ids of the vårdgivare the unit opened under, distinct
    # serials per vårdgivare, shuffled so that they do not look sequential.
    rng = np.random.default_rng([seed, 0x50B])
    serial_order = {vg: rng.permutation(_SERIALS) for vg in range(len(vgs))}
    used: dict[int, int] = defaultdict(int)
    staff: list[str] = []
    staff_base = np.zeros(len(units), dtype=np.int64)
    for i, unit in enumerate(units):
        vg = vg_index[str(unit.parent)]
        staff_base[i] = len(staff)
        serials = serial_order[vg][used[vg] : used[vg] + staff_size[i]]
        used[vg] += int(staff_size[i])
        staff += _staff_text(str(vgs[vg].orgnr), serials)
    unknown = [f"SE{vgs[vg_index[str(u.parent)]].orgnr}-X{i:03d}" for i, u in enumerate(units)]
    days = [EPOCH + timedelta(d) for d in range(end_day + 1)]
    return Frame(
        end_day=end_day,
        first_day=day_of(FIRST_DAY),
        day_text=pa.array([d.isoformat() for d in days], pa.string()),
        day_year=np.array([d.year for d in days], dtype=np.int16),
        day_md=np.array([d.month * 100 + d.day for d in days], dtype=np.int16),
        state=state,
        final=final,
        unit_text=pa.array([_hsa(u) for u in units] + unknown, pa.string()),
        unit_region=np.array([region_of[str(u.lan)] for u in units]),
        unit_weight=np.array([UNIT_WEIGHTS[k] for k in kinds]),
        vg_text=pa.array([_hsa(u) for u in vgs], pa.string()),
        vg_opened=vg_opened,
        regions=regions,
        population=_population(regions, end.year),
        staff_base=staff_base,
        staff_size=staff_size,
        staff_text=pa.array(staff, pa.string()),
    )


def luhn_check_digits(nine: np.ndarray) -> np.ndarray:
    """Luhn check digits of numbers of nine digits (``YYMMDDNNN`` of a personnummer or
    samordningsnummer), column-wise.

    >>> luhn_check_digits(np.array([881224123, 640823323, 11218987]))  # 011218987: born 2001
    array([3, 4, 3])
    """
    total = np.zeros(len(nine), dtype=np.int64)
    rest = np.asarray(nine, dtype=np.int64)
    for position in range(9):  # from the right: weights 2, 1, 2, … (the leftmost is 2)
        digit = rest % 10
        rest = rest // 10
        if position % 2 == 0:
            digit = digit * 2
            digit = digit - 9 * (digit > 9)
        total += digit
    out: np.ndarray = (10 - total % 10) % 10
    return out


class Persons:
    """The synthetic vårdtagare created so far (SYNTHETIC DATA), grown in place: birth date,
    kön code (0 unknown, 1 ``K``, 2 ``M``), whether the age is recorded, the 12-digit
    personnummer or samordningsnummer (0 when unknown) and the region of first contact."""

    def __init__(self, regions: int) -> None:
        self.count = 0
        self._cap = 0
        self.birth_year = np.zeros(0, dtype=np.int16)
        self.birth_md = np.zeros(0, dtype=np.int16)
        self.kon = np.zeros(0, dtype=np.int8)
        self.age_known = np.zeros(0, dtype=bool)
        self.number = np.zeros(0, dtype=np.int64)
        #: persons of each region, in order of creation, and how many there were at the
        #: end of each month (so returning persons are drawn from earlier months)
        self.of_region: list[list[np.ndarray]] = [[] for _ in range(regions)]
        self.region_counts: list[list[int]] = [[] for _ in range(regions)]
        self._region_flat: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * regions

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        self._cap = max(need, 2 * self._cap, 1024)
        for name in ("birth_year", "birth_md", "kon", "age_known", "number"):
            old = getattr(self, name)
            new = np.zeros(self._cap, dtype=old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)

    def add(
        self,
        rng: np.random.Generator,
        region: np.ndarray,
        birth_day: np.ndarray,
        women: np.ndarray,
    ) -> np.ndarray:
        """New persons born on ``birth_day`` (day numbers), women with probability ``women``;
        returns their indices. 2 % have a samordningsnummer (day of birth + 60), 1.5 % are
        unknown (no number, kön or age), 0.5 % have no kön and 0.5 % no age recorded."""
        n = len(region)
        first = self.count
        self._grow(first + n)
        born = np.datetime64(EPOCH, "D") + birth_day.astype("timedelta64[D]")
        year = born.astype("datetime64[Y]").astype(np.int64) + 1970
        month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
        woman = rng.random(n) < women
        # the third digit of the birth number is odd for men, even for women
        serial = rng.integers(0, 100, n) * 10 + rng.integers(0, 5, n) * 2 + (~woman)
        day_in_number = day + 60 * (rng.random(n) < 0.02)
        nine = ((year % 100) * 10_000 + month * 100 + day_in_number) * 1000 + serial
        number = (year * 10_000 + month * 100 + day_in_number) * 10_000 + serial * 10
        number += luhn_check_digits(nine)
        unknown = rng.random(n) < 0.015
        sl = slice(first, first + n)
        self.birth_year[sl] = year
        self.birth_md[sl] = month * 100 + day
        self.kon[sl] = np.where(unknown | (rng.random(n) < 0.005), 0, np.where(woman, 1, 2))
        self.age_known[sl] = ~unknown & (rng.random(n) >= 0.005)
        self.number[sl] = np.where(unknown, 0, number)
        self.count += n
        made = np.arange(first, first + n)
        for r in np.unique(region):
            self.of_region[int(r)].append(made[region == r])
        return made

    def close_month(self) -> None:
        """Record how many persons each region has at the end of a month."""
        for r, parts in enumerate(self.of_region):
            if len(parts) > 1:
                self._region_flat[r] = np.concatenate([self._region_flat[r], *parts])
            elif parts:
                self._region_flat[r] = np.concatenate([self._region_flat[r], parts[0]])
            parts.clear()
            self.region_counts[r].append(len(self._region_flat[r]))

    def returning(
        self, rng: np.random.Generator, region: int, months_ago: int, n: int
    ) -> np.ndarray:
        """Up to ``n`` persons of ``region`` created at least ``months_ago`` months before
        the current one (fewer when there are none)."""
        counts = self.region_counts[region]
        if len(counts) < months_ago or counts[-months_ago] == 0:
            return np.zeros(0, dtype=np.int64)
        pool = self._region_flat[region][: counts[-months_ago]]
        out: np.ndarray = pool[rng.integers(0, len(pool), n)]
        return out

    def age(self, person: np.ndarray, day: np.ndarray, frame: Frame) -> np.ndarray:
        """Whole years at ``day`` (-1 where the age is not recorded)."""
        years = frame.day_year[day].astype(np.int64) - self.birth_year[person]
        years -= frame.day_md[day] < self.birth_md[person]
        out: np.ndarray = np.where(self.age_known[person], years, -1)
        return out


__all__ = ["DAY", "EPOCH", "FIRST_DAY", "Frame", "Persons", "build_frame", "day_of"]
