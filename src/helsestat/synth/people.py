"""A fixed synthetic population of patients (SYNTHETIC DATA — no real person is in it), so
that the same person comes back: to the doctor several times a year, and year after year
across the kommune reforms.

Each person has a home kommune in the 2024 structure (persons in proportion to the
population), a birth date, a sex, a fødselsnummer (3 % d-nummer) and an activity weight: a
skewed (log-normal) propensity to visit, so a few persons make many bills and many make few,
as in the claims registers. In an earlier year a person lives in the predecessor of the home
kommune valid then (where two or more kommuner merged, one of them, in proportion to their
population), so a person keeps one identity across the 2020 and 2024 reforms.

A bill's patient is drawn from the persons living in the treater's kommune that year (90 %)
or from anyone (10 %), each with probability proportional to the activity weight.

>>> from helsestat.reference.geography import packaged_geography
>>> geo = packaged_geography()
>>> people = People.generate(geo, 2_000, np.random.default_rng(1))
>>> codes = sorted(geo.kommuner_valid_in(2024))
>>> picked = people.draw(geo, 2024, np.array([codes.index("0301")] * 5), codes,
...                      np.random.default_rng(2))
>>> len(picked), bool((people.residence(geo, 2024, codes)[picked] >= 0).all())
(5, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from helsestat.reference.geography import Geography
from helsestat.validate.identifiers import fnr_check_digits

#: Share of bills whose patient lives in the treater's kommune (drawn from its residents).
LOCAL_SHARE = 0.9
#: Spread of the log-normal activity weights: the busiest 10 % of persons make about 40 %
#: of the bills.
ACTIVITY_SIGMA = 1.2
#: The structure every person's home kommune is coded in.
HOME_STRUCTURE = 2024


def make_fnr(rng: np.random.Generator, birth: np.ndarray, d_number: np.ndarray) -> np.ndarray:
    """Valid fødselsnummer (or d-nummer: day + 40) for birth dates given as numpy
    datetime64[D], as 11-digit int64 numbers (format with 11 digits, leading zeros kept).

    >>> rng = np.random.default_rng(1)
    >>> n = make_fnr(rng, np.array(["1980-01-01"], dtype="datetime64[D]"), np.array([False]))
    >>> f"{n[0]:011d}"[:6]
    '010180'
    """
    n = len(birth)
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1 + np.where(d_number, 40, 0)
    # individnummer 500-749 covers 1854-1899, 000-499 1900-1999, 500-999 2000-2039
    # The nine digits as one number DDMMYYIII; the check digits are weighted digit sums.
    base = (days * 100 + months) * 100 + years % 100
    out = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        y = years[todo]
        ind = rng.integers(np.where(y >= 2000, 500, 0), np.where(y >= 2000, 999, 499) + 1)
        nine = base[todo] * 1000 + ind
        digits = np.stack([(nine // 10**p) % 10 for p in range(8, -1, -1)], axis=1)
        k1, k2, ok = fnr_check_digits(digits)
        k1, k2 = k1.astype(np.int64), k2.astype(np.int64)
        out[todo[ok]] = (nine * 100 + k1 * 10 + k2)[ok]
        todo = todo[~ok]
    return out


@dataclass
class People:
    """The persons, as arrays indexed by person number (see the module docstring)."""

    home: tuple[str, ...]  # the 2024 kommuner; ``home_of`` indexes it
    home_of: np.ndarray
    birth: np.ndarray  # datetime64[D]
    kjonn: np.ndarray  # 0 = K, 1 = M
    fnr: np.ndarray  # 11-digit numbers as int64
    activity: np.ndarray
    pick: np.ndarray  # uniform [0, 1): which predecessor kommune in earlier structures
    _residents: dict[tuple[int, tuple[str, ...]], _Residents] = field(default_factory=dict)

    @classmethod
    def generate(
        cls, geo: Geography, count: int, rng: np.random.Generator, born_before: str = "2015-01-01"
    ) -> People:
        """``count`` persons (at least one per kommune), ages on ``born_before`` gamma(4, 11)
        distributed (0–104 years) as the patients of the claims generator."""
        home = tuple(sorted(geo.kommuner_valid_in(HOME_STRUCTURE)))
        pops = np.array([max(geo.population(k, HOME_STRUCTURE) or 0, 50) for k in home], float)
        count = max(count, len(home))
        per = np.maximum(1, np.floor(pops / pops.sum() * count).astype(np.int64))
        home_of = np.repeat(np.arange(len(home)), per)
        n = len(home_of)
        age = np.clip(rng.gamma(4.0, 11.0, n).astype(np.int64), 0, 104)
        birth = (
            np.datetime64(born_before)
            - (age * 365.25 + rng.integers(0, 365, n)).astype("timedelta64[D]")
        ).astype("datetime64[D]")
        return cls(
            home=home,
            home_of=home_of,
            birth=birth,
            kjonn=(rng.random(n) >= 0.54).astype(np.int64),
            fnr=make_fnr(rng, birth, rng.random(n) < 0.03),
            activity=rng.lognormal(0.0, ACTIVITY_SIGMA, n),
            pick=rng.random(n),
        )

    def __len__(self) -> int:
        return len(self.home_of)

    def residence(self, geo: Geography, year: int, codes: list[str]) -> np.ndarray:
        """Per person, the index in ``codes`` of the kommune lived in during ``year`` (-1 if
        that kommune is not in ``codes``)."""
        return self._for(geo, year, codes).residence

    def draw(
        self,
        geo: Geography,
        year: int,
        kommune: np.ndarray,
        codes: list[str],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """A patient (person number) for each bill of ``year`` whose treater practises in
        ``codes[kommune[i]]``."""
        r = self._for(geo, year, codes)
        total = r.cum[-1]
        lo = np.where(r.start[kommune] > 0, r.cum[np.maximum(r.start[kommune] - 1, 0)], 0.0)
        hi = np.where(r.end[kommune] > 0, r.cum[np.maximum(r.end[kommune] - 1, 0)], 0.0)
        local = (rng.random(len(kommune)) < LOCAL_SHARE) & (hi > lo)
        u = rng.random(len(kommune))
        target = np.where(local, lo + u * (hi - lo), u * total)
        pos = np.minimum(np.searchsorted(r.cum, target, side="right"), len(r.cum) - 1)
        out: np.ndarray = r.order[pos]
        return out

    def _for(self, geo: Geography, year: int, codes: list[str]) -> _Residents:
        structure = geo.structure_year(year) or year
        key = (structure, tuple(codes))
        if key not in self._residents:
            self._residents[key] = self._build(geo, structure, codes)
        return self._residents[key]

    def _build(self, geo: Geography, year: int, codes: list[str]) -> _Residents:
        index = {k: i for i, k in enumerate(codes)}
        valid = sorted(geo.kommuner_valid_in(year))
        # each home kommune's kommuner in ``year``, with their population share of it
        before: dict[str, list[tuple[str, float]]] = {}
        for k in valid:
            successors = (
                ((k, 1.0),) if year >= HOME_STRUCTURE else geo.recode_to_2024(k, min(year, 2023))
            )
            for successor, weight in successors:
                share = weight * max(geo.population_estimate(k, year), 1)
                before.setdefault(successor, []).append((k, share))
        residence = np.full(len(self), -1, dtype=np.int64)
        bounds = np.searchsorted(self.home_of, np.arange(len(self.home) + 1))  # sorted by home
        for h, home in enumerate(self.home):
            options = before.get(home) or ([(home, 1.0)] if home in index else [])
            if not options:
                continue
            who = np.arange(bounds[h], bounds[h + 1])
            shares = np.cumsum([s for _, s in options])
            chosen = np.searchsorted(shares / shares[-1], self.pick[who], side="right")
            chosen = np.minimum(chosen, len(options) - 1)
            residence[who] = np.array([index.get(k, -1) for k, _ in options])[chosen]
        order = np.argsort(residence, kind="stable")
        ordered = residence[order]
        slots = np.arange(len(codes))
        return _Residents(
            residence=residence,
            order=order,
            cum=np.cumsum(np.where(ordered >= 0, self.activity[order], 0.0)),
            start=np.searchsorted(ordered, slots, side="left"),
            end=np.searchsorted(ordered, slots, side="right"),
        )


@dataclass(frozen=True)
class _Residents:
    """Persons ordered by their kommune in one structure: ``order[start[k]:end[k]]`` live in
    ``codes[k]``; ``cum`` is the running sum of their activity weights in that order."""

    residence: np.ndarray
    order: np.ndarray
    cum: np.ndarray
    start: np.ndarray
    end: np.ndarray
