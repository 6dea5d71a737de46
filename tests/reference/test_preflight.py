"""``helsestat preflight --year``: every code list valid for the statistics year (seed 000)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from helsestat.cli.reference import COMMANDS
from helsestat.errors import ReferenceError_
from helsestat.reference.classifications import Registry
from helsestat.reference.snapshot import Reference
from helsestat.statistics.preflight import DEPENDENCIES, preflight


def test_2025_passes_and_lists_every_dependency(reference: Reference) -> None:
    report = preflight(2025, reference)
    assert report.ok
    subjects = {c.subject for c in report.checks}
    for needs in DEPENDENCIES.values():
        for cid in needs.classifications:
            assert any(s.startswith(f"KLASS {cid} ") for s in subjects)
        for src, dst in needs.correspondences:
            assert f"correspondence KLASS {src} → {dst}" in subjects
    assert "tariff list takstkoder" in subjects


def test_2019_fails_naming_each_list_without_a_version(reference: Reference) -> None:
    # every list has a 2019 version since the catchment lists landed: take 630's away, and
    # the correspondences of 629's 2019 version to 131
    reg = reference.registry
    cls = reg.classification(630)
    cut = replace(cls, versions=tuple(v for v in cls.versions if v.valid_from.year != 2019))
    v629 = reg.version_at(629, date(2019, 6, 1)).id
    broken = Registry.of(
        [cut, *(c for c in reg.classifications.values() if c.id != 630)],
        [t for t in reg.correspondences.values() if t.source_version != v629],
    )
    report = preflight(2019, replace(reference, registry=broken))
    failed = {c.subject for c in report.failures}
    assert (
        "KLASS 630 Kodeliste for opptaksområder i spesialisthelsetjenesten (psykisk helsevern)"
        in failed
    )
    assert "correspondence KLASS 629 → 131" in failed
    assert not any(s.startswith("KLASS 131 ") for s in failed)
    with pytest.raises(ReferenceError_) as raised:
        report.raise_for_failures()
    assert (
        "KLASS 630" in raised.value.message and "no version valid in 2019" in raised.value.message
    )


def test_a_version_that_ends_mid_year_is_a_gap(reference: Reference) -> None:
    reg = reference.registry
    kommuner = reg.classification(131)
    last = replace(kommuner.versions[-1], valid_to=date(2025, 7, 1))
    cut = Registry.of(
        [replace(kommuner, versions=(*kommuner.versions[:-1], last))]
        + [c for c in reg.classifications.values() if c.id != 131],
        reg.correspondences.values(),
    )
    report = preflight(2025, replace(reference, registry=cut), runs=("takstbruk",))
    (failure,) = report.failures
    assert failure.detail == "no version valid from 2025-07-01 until 2026-01-01"


def test_unknown_run(reference: Reference) -> None:
    with pytest.raises(ReferenceError_, match="no production run named nope"):
        preflight(2025, reference, runs=("nope",))


def _cli() -> click.Group:
    group = click.Group("helsestat")
    for command in COMMANDS:
        group.add_command(command)
    return group


def test_cli_preflight_ok_and_failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))  # a new reference database
    runner = CliRunner()
    ok = runner.invoke(_cli(), ["preflight", "--year", "2025"])
    assert ok.exit_code == 0, ok.output
    assert "ok   takstbruk  KLASS 131 Standard for kommuneinndeling" in ok.output
    assert ok.output.strip().endswith("code lists and correspondences valid")
    # every list has a version from 2015 (issue 14): 2014 has none
    failing = runner.invoke(_cli(), ["preflight", "--year", "2014", "--run", "speshelse"])
    assert isinstance(failing.exception, ReferenceError_)
    assert "FAIL speshelse  KLASS 603" in failing.output


#: The catchment-area lists: versions for every kommune structure from 2015 since they
#: landed (the xfail marks that waited for them are gone).
CATCHMENT = (629, 630, 631, 632)


@pytest.mark.parametrize("year", range(2015, 2026))
def test_every_statistics_year_from_2015_passes(year: int, reference: Reference) -> None:
    report = preflight(year, reference)
    assert report.ok, [f"{c.subject}: {c.detail}" for c in report.failures]


def _about_catchment(subject: str) -> bool:
    return any(f"KLASS {cid} " in subject or f"KLASS {cid} →" in subject for cid in CATCHMENT)


@pytest.mark.parametrize("year", range(2015, 2026))
def test_every_other_list_passes_every_year_from_2015(year: int, reference: Reference) -> None:
    report = preflight(year, reference)
    others = [
        f"{c.subject}: {c.detail}" for c in report.failures if not _about_catchment(c.subject)
    ]
    assert others == []
    ok = {c.subject for c in report.checks if c.ok}
    for cid in (603, 604, 605, 610, 602, 606, 612, 628, 639, 608, 609, 131, 104):
        assert any(s.startswith(f"KLASS {cid} ") for s in ok), (cid, year)
    for src, dst in ((610, 6), (612, 610), (628, 7), (639, 207)):
        assert f"correspondence KLASS {src} → {dst}" in ok


def test_a_list_without_a_version_on_1_january_fails_naming_it(reference: Reference) -> None:
    # 605 without its 2022 version: the 2020 one ends on 2022-01-01, nothing covers 2022
    cls = reference.registry.classification(605)
    cut = [v for v in cls.versions if v.valid_from.year < 2022]
    reg = Registry.of(
        [replace(cls, versions=tuple(cut))]
        + [c for c in reference.registry.classifications.values() if c.id != 605],
        reference.registry.correspondences.values(),
    )
    report = preflight(2022, replace(reference, registry=reg), runs=("speshelse",))
    (failure,) = [c for c in report.failures if not _about_catchment(c.subject)]
    assert failure.subject == (
        "KLASS 605 Kodeliste for regionale og felleseide støtteforetak i spesialisthelsetjenesten"
    )
    assert failure.detail.startswith("no version valid in 2022")
    with pytest.raises(ReferenceError_, match=r"KLASS 605 .*no version valid in 2022"):
        report.raise_for_failures()


def test_a_correspondence_missing_a_source_code_fails_naming_it(reference: Reference) -> None:
    # correspondence 898 (610 → 6, 2024 version) without the pair of code 62
    reg = reference.registry
    table = reg.correspondence(898)
    cut = replace(table, maps=tuple(m for m in table.maps if m.source_code != "62"))
    broken = Registry.of(
        reg.classifications.values(),
        [cut if t.id == 898 else t for t in reg.correspondences.values()],
    )
    report = preflight(2025, replace(reference, registry=broken), runs=("speshelse",))
    (failure,) = report.failures
    assert failure.subject == "correspondence KLASS 610 → 6"
    assert "have no target in KLASS 6: 62" in failure.detail
    assert "1 of 17 codes of version 9061024" in failure.detail
    # 2023 uses the 2015-2023 table, which is whole
    assert not [
        c
        for c in preflight(2023, replace(reference, registry=broken), runs=("speshelse",)).failures
        if c.subject == "correspondence KLASS 610 → 6"
    ]


def test_a_catchment_area_made_of_bydeler_counts_as_covered(reference: Reference) -> None:
    # Oslo's areas map to bydeler (KLASS 103), not to a kommune of 131: covered together
    report = preflight(2025, reference, runs=("speshelse",))
    (check,) = [c for c in report.checks if c.subject == "correspondence KLASS 629 → 131"]
    assert check.ok and "with KLASS 103" in check.detail
    alone = replace(DEPENDENCIES["speshelse"], covered_together=())  # type: ignore[arg-type]
    from helsestat.reference.preflight import check_runs

    bare = check_runs(2025, {"speshelse": alone}, reference)
    (failed,) = [c for c in bare.failures if c.subject == "correspondence KLASS 629 → 131"]
    assert "have no target in KLASS 131" in failed.detail
