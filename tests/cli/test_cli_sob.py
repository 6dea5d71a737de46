"""The CLI on 1177 Stöd och behandling extracts: spec, synth, validate and ingest, in-process,
against the demo unit registry of the same seed (SYNTHETIC DATA); errors are error:/hint:
lines, and no identifier is ever printed."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from helsestat.cli import main
from helsestat.store.lake import Lake


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", "k" * 40)
    monkeypatch.setenv("HELSESTAT_SEED", "5")
    return tmp_path


def test_spec_sob_lists_the_columns_and_rules(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    assert main(["spec", "sob"]) == 0
    out = capsys.readouterr().out
    for name in (
        "arende_id",
        "tidpunkt",
        "vardenhet_hsaid",
        "behandlare_hsaid",
        "avslutningsorsak",
    ):
        assert f"\n  {name} " in out
    for rule in ("status.done_without_start", "tidpunkt.out_of_order", "row.duplicate"):
        assert rule in out


def test_ingest_without_the_unit_registry_is_refused(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    extract = env / "sob.csv"
    assert main(["synth", "sob", "--rows", "500", "--out", str(extract)]) == 0
    assert main(["ingest", "sob", str(extract)]) == 2
    err = capsys.readouterr().err
    assert "error: the unit registry holds no Swedish units" in err
    assert "hint: load the registry first ('helsestat units load-demo'" in err
    assert not Lake(env / "var").stored_batches("sob")


def test_synth_validate_ingest_against_the_demo_registry(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    assert main(["units", "load-demo"]) == 0
    csv, parquet = env / "sob.csv", env / "sob.parquet"
    assert main(["synth", "sob", "--rows", "4000", "--out", str(csv)]) == 0
    assert main(["synth", "sob", "--rows", "4000", "--out", str(parquet)]) == 0
    rows = pacsv.read_csv(
        csv,
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(column_types={"vardtagare_id": "string"}),
    )
    assert rows.num_rows == pq.read_metadata(parquet).num_rows
    capsys.readouterr()
    assert main(["validate", "sob", str(csv)]) == 0
    out = capsys.readouterr().out
    assert f"{rows.num_rows:,} rows" in out
    # the synthetic defects, one rule each (1 % of the rows), and nothing else
    bad = sum(int(line.rsplit(": ", 1)[1].replace(",", "")) for line in out.splitlines()[1:])
    assert 0 < bad <= rows.num_rows * 0.02
    assert "vardenhet_hsaid.unknown" in out and "row.duplicate" in out
    assert main(["ingest", "sob", str(csv)]) == 0
    assert "stored" in capsys.readouterr().out
    assert main(["ingest", "sob", str(csv)]) == 0
    printed = capsys.readouterr()
    assert "already stored" in printed.out
    # validating again now that the file is stored: every line is stored already
    assert main(["validate", "sob", str(csv)]) == 0
    again = capsys.readouterr()
    assert "row.already_stored" in again.out
    everything = printed.out + printed.err + again.out + again.err
    persons = {p for p in rows.column("vardtagare_id").to_pylist() if p}
    treaters = {t for v in rows.column("behandlare_hsaid").to_pylist() if v for t in v.split(";")}
    assert persons and treaters
    assert not [p for p in persons if p in everything]
    assert not [t for t in treaters if t in everything]
