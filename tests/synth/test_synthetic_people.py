"""The synthetic patient population (SYNTHETIC DATA): persons come back, keep their
identity, age and sex, and live in the kommune of the structure valid at the time."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.geography import packaged_geography
from helsestat.synth.claims import generate_claims
from helsestat.synth.people import People


def _claims(rows: int, **kwargs: Any) -> pa.Table:
    return pa.Table.from_batches(list(generate_claims(rows, seed=5, bad_share=0.0, **kwargs)))


def test_persons_come_back_with_skewed_visits() -> None:
    claims = _claims(60_000, first_year=2024, last_year=2024)
    bills = claims.group_by(["regning_id", "pasient_id"]).aggregate([])
    per_person = bills.group_by("pasient_id").aggregate([("regning_id", "count")])
    visits = np.sort(np.asarray(per_person.column("regning_id_count")))[::-1]
    # 12 lines a person a year by default: about 5,000 persons for 60,000 lines
    assert 3_000 < len(visits) < 6_000
    assert visits.mean() > 5  # persons return
    top_tenth = visits[: len(visits) // 10].sum() / visits.sum()
    assert 0.3 < top_tenth < 0.7  # a few persons make many of the bills


def test_a_person_keeps_sex_and_ages_with_the_date() -> None:
    claims = _claims(30_000, first_year=2022, last_year=2025)
    rows = claims.select(["pasient_id", "pasient_kjonn", "behandlingsdato", "pasient_alder"])
    by_person: dict[str, list[tuple[str, str, int]]] = {}
    for r in rows.to_pylist():
        by_person.setdefault(r["pasient_id"], []).append(
            (r["behandlingsdato"], r["pasient_kjonn"], int(r["pasient_alder"]))
        )
    assert max(len(v) for v in by_person.values()) > 10
    for fnr, visits in by_person.items():
        assert len({kjonn for _, kjonn, _ in visits}) == 1, fnr
        ordered = sorted(visits)
        ages = [age for _, _, age in ordered]
        assert ages == sorted(ages), fnr
        first, last = date.fromisoformat(ordered[0][0]), date.fromisoformat(ordered[-1][0])
        assert ages[-1] - ages[0] <= (last - first).days / 365.25 + 1, fnr


def test_residence_is_a_kommune_of_its_time_that_became_the_home_kommune() -> None:
    geo = packaged_geography()
    people = People.generate(geo, 50_000, np.random.default_rng(3))
    home = np.array(people.home)[people.home_of]
    for year in (2019, 2020, 2023, 2024):
        codes = sorted(geo.kommuner_valid_in(year))
        residence = people.residence(geo, year, codes)
        assert (residence >= 0).all(), year
        lived = np.array(codes)[residence]
        for k, h in set(zip(lived.tolist(), home.tolist(), strict=True)):
            became = {s for s, _ in geo.recode_to_2024(k, min(year, 2023))} if year < 2024 else {k}
            assert h in became, (year, k, h)
    # Ålesund (1507, 2020-2023) was split in 2024 into Ålesund (1508) and Haram (1580)
    codes = sorted(geo.kommuner_valid_in(2023))
    lived_2023 = np.array(codes)[people.residence(geo, 2023, codes)]
    assert set(lived_2023[np.isin(home, ["1508", "1580"])].tolist()) == {"1507"}


def test_monthly_extracts_share_their_patients() -> None:
    kwargs = {"persons": 2_000}
    jan = _claims(8_000, start=date(2024, 1, 1), end=date(2024, 1, 31), **kwargs)
    feb = _claims(8_000, start=date(2024, 2, 1), end=date(2024, 2, 29), **kwargs)
    shared = set(jan.column("pasient_id").to_pylist()) & set(feb.column("pasient_id").to_pylist())
    assert len(shared) > 500
    assert pc.count_distinct(jan.column("pasient_id")).as_py() <= 2_000
