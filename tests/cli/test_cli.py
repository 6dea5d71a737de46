"""The CLI runs every stage verb in-process; errors come out as error:/hint: lines, never a
traceback, and never carry an identifier."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helsestat.cli import main

GOOD_KEY = "k" * 40


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", GOOD_KEY)
    return tmp_path


def test_spec_lists_columns(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    assert main(["spec", "claims"]) == 0
    out = capsys.readouterr().out
    assert "takstkode" in out and "pasient_id" in out and "takstkode.not_valid_on_date" in out


def test_unknown_kind_is_a_clear_error(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    assert main(["spec", "nope"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown extract kind 'nope'" in err and "hint: known kinds: claims" in err
    assert "Traceback" not in err


def test_settings_refused_at_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", "too-short")
    monkeypatch.setenv("HELSESTAT_DEMO_MODE", "0")
    assert main(["releases"]) == 2
    err = capsys.readouterr().err
    assert "shorter than 32" in err and "hint:" in err and "too-short" not in err


def test_synth_ingest_validate_build_releases(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    extract = env / "claims.csv"
    assert main(["synth", "claims", "--rows", "3000", "--out", str(extract)]) == 0
    assert main(["validate", "claims", str(extract)]) == 0
    assert "3,000 rows" in capsys.readouterr().out
    assert main(["ingest", "claims", str(extract)]) == 0
    assert "stored" in capsys.readouterr().out
    assert main(["ingest", "claims", str(extract)]) == 0
    assert "already stored" in capsys.readouterr().out
    assert main(["build", "--release", "r1"]) == 0
    assert main(["build", "--release", "r2"]) == 0
    assert main(["releases"]) == 0
    out = capsys.readouterr().out
    assert "  r1 " in out and "* r2 " in out
    assert main(["build", "--release", "r2"]) == 2  # releases are immutable
    assert "exists already" in capsys.readouterr().err


def test_bad_file_error_names_the_file(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    bad = env / "claims_2024.csv"
    bad.write_text("regning_id;behandlingsdato\nR1;2024-01-01\n")
    assert main(["ingest", "claims", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "claims_2024.csv line 1: column" in err and "helsestat spec claims" in err


def test_identifier_never_in_cli_output(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    path = env / "c.csv"
    path.write_text(
        "regning_id;behandlingsdato;behandler_praksistype;behandler_fagomraade;behandler_kommunenr;"
        "pasient_id;pasient_kjonn;pasient_alder;takstkode;antall;egenandel_betalt_av_pasient;"
        "egenandel_dekket_av_folketrygden;refusjon;resultat\n"
        "R1;2024-03-18;FALE;LE;0301;01018010019;K;47;2ad;1;160.00;0.00;194.00;godkjent\n"
    )
    assert main(["ingest", "claims", str(path)]) == 0
    captured = capsys.readouterr()
    assert "01018010019" not in captured.out + captured.err
    assert "pasient_id.invalid" in captured.out


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "helsestat.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "demo" in result.stdout


@pytest.mark.slow
def test_demo_without_serving_builds_a_release_and_runs_again(tmp_path: Path) -> None:
    # `make demo` runs `helsestat demo`; here without the server, on a small synthetic lake
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELSESTAT_")}
    env |= {
        "HELSESTAT_DATA_DIR": str(tmp_path / "demo"),
        "HELSESTAT_DEMO_MODE": "1",
        "COLUMNS": "200",
    }
    command = [sys.executable, "-m", "helsestat.cli", "demo", "--no-serve", "--rows", "20000"]
    command += ["--sob-events", "5000", "--npr-episodes", "5000"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert first.returncode == 0, first.stderr
    # takstbruk's six tables, the twelve of 1177 Stöd och behandling, opptak's four and the
    # 24 of the NPR activity statistic (NPR's and SSB's figure)
    assert "stored" in first.stdout and "46 tables" in first.stdout
    assert "sob_seed" in first.stdout and "npr_episode_seed" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert again.returncode == 0, again.stderr
    assert "already stored: nothing changed" in again.stdout and "46 tables" in again.stdout
    releases = [p for p in (tmp_path / "demo" / "releases").iterdir() if p.is_dir()]
    assert len(releases) == 2  # the second build linked the first one's parts
    first_parts = sorted(
        p
        for p in releases[0].rglob("*.parquet")
        if "data" not in p.parts and p.parent != releases[0]
    )
    # each part of a published table: one file, named by the cache and by both releases (the
    # tables written whole, with distinct counts, lie beside the parts' folders)
    assert first_parts and all(p.stat().st_nlink == 3 for p in first_parts)
    # the data of a statistic computed per query (SOB's range cube) is in both releases:
    # its inputs did not change, so the second build linked the first one's files
    assert sorted(p.name for p in (releases[1] / "data").iterdir()) == sorted(
        p.name for p in (releases[0] / "data").iterdir()
    )
    assert all(p.stat().st_nlink == 3 for p in (releases[0] / "data").iterdir())


def test_releases_in_an_empty_data_directory_says_where_it_looked(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    assert main(["releases"]) == 0
    err = capsys.readouterr().err
    assert f"no releases in {(env / 'var').resolve() / 'releases'}" in err
    assert "hint: build one with 'helsestat demo'" in err and "HELSESTAT_DATA_DIR" in err


@pytest.mark.slow
def test_demo_loads_the_unit_registry_and_says_how_to_run_the_cli(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELSESTAT_")}
    env |= {"HELSESTAT_DATA_DIR": str(tmp_path / "demo"), "HELSESTAT_DEMO_MODE": "1"}
    env["COLUMNS"] = "200"
    command = [sys.executable, "-m", "helsestat.cli", "demo", "--no-serve", "--rows", "5000"]
    command += ["--sob-events", "5000", "--npr-episodes", "5000"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "unit registry:" in done.stdout and ".venv/bin/helsestat" in done.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "helsestat.cli", "units", "tree", "--depth", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Helse Sør-Øst RHF" in shown.stdout
