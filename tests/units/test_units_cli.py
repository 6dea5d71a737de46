"""``helsestat units …``: each command is one library call; run in-process through a group
that mirrors ``helsestat``'s (settings on the context object), errors stay HelsestatErrors
for the CLI's one boundary to print."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from helsestat.cli.units import units
from helsestat.errors import HelsestatError
from helsestat.settings import Settings


@dataclass
class Obj:
    settings: Settings


@pytest.fixture
def run(tmp_path: Path) -> click.Group:
    settings = Settings(demo_mode=True, data_dir=tmp_path / "var")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(units, list(args), obj=Obj(settings), catch_exceptions=True)
        if isinstance(result.exception, HelsestatError):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result

    return invoke  # type: ignore[return-value]


def test_load_look_place_export(run: click.Group, tmp_path: Path) -> None:
    loaded = run("load-demo", "--hf-limit", "2", "--lan-limit", "1", "--seed", "4")
    assert "SYNTHETIC below HF" in loaded.output
    tree = run("tree", "--date", "2015-01-01", "--country", "NO", "--depth", "1")
    lines = tree.output.splitlines()
    # the RHF, then its children: Helse Bergen HF, and the rehabilitation institution the
    # demo tree has under every RHF for the NPR-like episodes
    children = [line.strip() for line in lines[1:]]
    assert lines[0].endswith("RHF  Helse Vest RHF") and any(
        line.endswith("HF  Helse Bergen HF") for line in children
    )
    unit_id = next(line for line in children if line.endswith("HF  Helse Bergen HF")).split()[0]
    assert "Helse Bergen HF" in run("show", unit_id).output
    assert run("search", "helse bergen hf").output.startswith(unit_id)
    assert "opened" in run("changes", "--from", "2001-01-01", "--to", "2003-01-01").output

    rows = tmp_path / "activity.parquet"
    pq.write_table(
        pa.table({"resh": [int(unit_id), 1], "dato": ["2015-01-01", "2015-01-01"]}), rows
    )
    placed = run("place", str(rows), "--id-column", "resh", "--date-column", "dato")
    assert "2 rows: placed 1, unknown_id 1" in placed.output
    assert "unknown unit id 1: 1 rows" in placed.output
    out = pq.read_table(tmp_path / "activity.placed.parquet")
    assert out.column("hf_id").to_pylist() == [int(unit_id), None] or out.column(
        "hf_id"
    ).to_pylist() == [None, int(unit_id)]

    run("export-fhir", "--date", "2015-01-01", "--out", str(tmp_path / "units.json"))
    bundle = json.loads((tmp_path / "units.json").read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle" and bundle["entry"]
    run("as-of-table", str(tmp_path / "flat.parquet"))
    assert pq.read_table(tmp_path / "flat.parquet").num_rows > 0

    made = run("create-user", "bergen-admin", "--role", "admin", "--scope", unit_id)
    assert "token (shown once): hsu_" in made.output


def test_errors_reach_the_cli_boundary_as_helsestat_errors(
    run: click.Group, tmp_path: Path
) -> None:
    with pytest.raises(HelsestatError, match="unit 123 is not in the registry"):
        run("show", "123")
    with pytest.raises(HelsestatError, match="no such file"):
        run("place", str(tmp_path / "missing.parquet"))
    run("load-demo", "--hf-limit", "1", "--lan-limit", "1")
    with pytest.raises(HelsestatError, match="loads into an empty one"):
        run("load-demo", "--hf-limit", "1", "--lan-limit", "1")
