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
    report = preflight(2019, reference)
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
    failing = runner.invoke(_cli(), ["preflight", "--year", "2019", "--run", "speshelse"])
    assert isinstance(failing.exception, ReferenceError_)
    assert "FAIL speshelse  KLASS 603" in failing.output
