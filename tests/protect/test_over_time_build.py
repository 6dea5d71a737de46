"""Over-time protection through the real build (SYNTHETIC DATA, hand-made claim lines).

March: claims for January–March 2024 are ingested and built in full protection mode. April:
the April claims arrive and the statistic is built again. The 2024 year cells of the April
release cover one month more than March's, so an attacker who downloads both releases
learns April's cells from the difference. April has one small cell (Bergen, 2 bills); the
March release already published every January–March cell. Protected alone, the April release
hides the small cell and one more cell that March published — the attacker gets April back.
``build`` protects each release against every release kept on disk, so it does not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from attacker import disclosed_primary
from scipy import sparse

from helsestat.aggregate import DuckDBEngine
from helsestat.build import aggregate_statistic, build, ingest_file, protect_statistic
from helsestat.model import ProtectedTable
from helsestat.protect.audit import audit
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.takstbruk import TAKSTBRUK
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files

KEY = b"test-key-" + b"x" * 32
#: The reference data claims are checked against and rules read: the packaged files.
REFERENCE = packaged_reference()
# Bergen, Øygarden and Askøy (Vestland, all over 10 000 inhabitants); bills per month.
BILLS = {
    "4601": {"01": 9, "02": 14, "03": 17, "04": 2},
    "4626": {"01": 11, "02": 16, "03": 13, "04": 15},
    "4627": {"01": 12, "02": 10, "03": 18, "04": 19},
}
COLUMNS = (
    "regning_id;behandlingsdato;klokkeslett;behandler_praksistype;behandler_fagomraade;"
    "behandler_kommunenr;pasient_id;pasient_kommunenr;pasient_kjonn;pasient_alder;diagnose;"
    "takstkode;antall;fritaksgrunn;egenandel_betalt_av_pasient;"
    "egenandel_dekket_av_folketrygden;refusjon;resultat"
)


def _extract(tmp_path: Path, months: tuple[str, ...]) -> Path:
    lines = [COLUMNS]
    for kommune, per_month in BILLS.items():
        for month in months:
            for bill in range(per_month[month]):
                lines.append(
                    f"R{kommune}{month}{bill};2024-{month}-{bill + 1:02d};10:15;FALE;LE;"
                    f"{kommune};01018010018;{kommune};K;47;R74;2ad;1;;160.00;0.00;194.00;"
                    "godkjent"
                )
    path = tmp_path / f"claims-{'-'.join(months)}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _release_tables(lake: Lake) -> tuple[ProtectedTable, ...]:
    current = lake.current()
    assert current is not None
    return tuple(lake.read_table(current, t.name) for t in TAKSTBRUK.tables)


def _disclosed(inner: pa.Table, releases: list[tuple[ProtectedTable, ...]]) -> list[str]:
    """Primary cells of any release that the published cells of all releases pin down,
    found by the LP attacker over the finest cells of the last release."""
    found = disclosed_primary(inner, releases, "antall_regninger")
    return sorted({f"{name} {row}" for name, _, row in found})


def test_build_protects_each_release_against_the_earlier_ones(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with DuckDBEngine(threads=1) as engine:
        ingest_file(_extract(tmp_path, ("01", "02", "03")), "claims", KEY, lake, REFERENCE)
        build(lake, engine, mode="full", threshold=5, reference=REFERENCE, release_id="2024-03")
        march = _release_tables(lake)
        assert all(s == "published" for t in march for s in t.table.column("status").to_pylist())

        ingest_file(_extract(tmp_path, ("04",)), "claims", KEY, lake, REFERENCE)
        cube = aggregate_statistic(TAKSTBRUK, lake, engine)
        files = committed_files(lake, "claims")
        alone = tuple(
            protect_statistic(
                TAKSTBRUK.with_reference(REFERENCE), files, engine, "full", 5, cube=cube
            )
        )
        build(lake, engine, mode="full", threshold=5, reference=REFERENCE, release_id="2024-04")
        april = _release_tables(lake)

    finest = TAKSTBRUK.finish(cube.tables[TAKSTBRUK.tables[0].grouping], TAKSTBRUK.tables[0])
    small = "takstbruk/kommune/maned {'ar': '2024', 'maned': '04', 'takstkode': '2ad', "
    small += "'fagomraade': 'LE', 'praksis_type_kode': 'FALE', 'behandler_kommunenr': '4601', "
    small += "'behandler_fylke': '46'}"
    # The control: the April release protected alone is safe alone, and leaks with March's.
    assert _disclosed(finest, [alone]) == []
    assert _disclosed(finest, [march, alone]) == [small]
    # The build: nothing leaks from the two releases together, and the note says why.
    assert _disclosed(finest, [march, april]) == []
    rows = april[0].table.to_pylist()
    assert [(r["behandler_kommunenr"], r["maned"]) for r in rows if r["status"] == "primary"] == [
        ("4601", "04")
    ]
    assert [t.table.column("status") for t in april] != [t.table.column("status") for t in alone]
    assert "no suppressed cell can be derived" in april[0].notes[-1]


def test_a_rebuild_from_unchanged_data_adds_no_history(tmp_path: Path) -> None:
    from helsestat.build import published_history

    lake = Lake(tmp_path / "lake")
    with DuckDBEngine(threads=1) as engine:
        ingest_file(_extract(tmp_path, ("01", "02")), "claims", KEY, lake, REFERENCE)
        build(lake, engine, mode="full", threshold=5, reference=REFERENCE, release_id="a")
        build(lake, engine, mode="full", threshold=5, reference=REFERENCE, release_id="b")
        assert len(published_history(lake, TAKSTBRUK)) == 1
        ingest_file(_extract(tmp_path, ("03",)), "claims", KEY, lake, REFERENCE)
        build(lake, engine, mode="full", threshold=5, reference=REFERENCE, release_id="c")
        history = published_history(lake, TAKSTBRUK)
    assert [len(r) for r in history] == [6, 6]
    assert [r[0].release for r in history] == ["a", "c"]


def test_explicit_zeros_in_the_model_matrix_are_not_membership() -> None:
    # Inner cells r0, r1; cells: a = r0 (hidden), b = r1 and b' = r1 (published). Nothing
    # published involves r0, so a is unbounded above. A stored zero for r0 in b's column (as
    # a masked sparse product leaves) must not read as "b = r0 + r1".
    y = np.array([4.0, 9.0])
    stored = sparse.csc_matrix(
        (np.array([1.0, 0.0, 1.0, 1.0]), np.array([0, 0, 1, 1]), np.array([0, 1, 3, 4])),
        shape=(2, 3),
    )
    assert stored.nnz == 4 and stored.toarray().tolist() == [[1, 0, 0], [0, 1, 1]]
    hidden = np.array([True, False, False])
    result = audit(stored, stored.T @ y, y, hidden, lower=1.0)
    assert (result.lo[0], result.up[0]) == (1.0, np.inf)
    assert not result.disclosed(hidden).any()


def test_full_mode_after_compat_releases_counts_what_they_disclosed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bergen's two small months (2 bills each) were published by the compat release (Bergen
    # is large); its year (4 takster, not over 5) was hidden there but is their sum. Full mode
    # cannot hide either any more: the build says so instead of failing.
    small = {**BILLS, "4601": {"01": 2, "02": 2, "03": 9, "04": 9}}
    monkeypatch.setattr(sys.modules[__name__], "BILLS", small)
    lake = Lake(tmp_path / "lake")
    with DuckDBEngine(threads=1) as engine:
        ingest_file(_extract(tmp_path, ("01", "02")), "claims", KEY, lake, REFERENCE)
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, release_id="compat")
        build(lake, engine, mode="full", threshold=5, reference=REFERENCE, release_id="full")
        full = _release_tables(lake)
    assert "3 primary cell(s) were already disclosed by earlier releases" in full[0].notes[-1]
    year = [r for r in full[1].table.to_pylist() if r["behandler_kommunenr"] == "4601"]
    assert [r["status"] for r in year] == ["primary"]
