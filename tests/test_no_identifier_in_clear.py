"""The issue's scan, as a test: extracts with identifiers where they do not belong (typed into
free text, in a swapped header, in a malformed line, after an unterminated quote, in a file
name, in JSON and Parquet) go through ``helsestat validate``, ``ingest`` and ``build`` (run
in-process; what they print is kept as the CLI's log), and a real ``helsestat serve`` is
asked with identifiers in its URLs (its request log kept). Then every
file of the data directory (Parquet, Arrow, JSON, text, the SQLite database) and every log
is scanned: 0 identifiers in clear. The same scan finds them in the input files.
(SYNTHETIC identifiers, valid check digits.)"""

from __future__ import annotations

import gzip
import json
import sqlite3
import tempfile
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claim_rows import GOOD
from clear_text import identifiers_in, scan_file, scan_stored_rows, scan_tree
from helsestat.cli import main
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv
from serve_process import helsestat_serve

FNR, DNR, HNR = "01018012371", "41018012365", "01418012354"
PNR, SNR = "19121212-1212", "121272-1219"
KEY = "k" * 40


def _planted(path: Path) -> None:
    """A synthetic extract with identifiers planted where none belongs."""
    write_csv(generate_claims(3000, seed=31, first_year=2024, last_year=2024), path)
    lines = path.read_text(encoding="utf-8").replace('"', "").split("\n")  # no quotes
    header = lines[0].split(";")
    diagnose, regning, klokke = (header.index(c) for c in ("diagnose", "regning_id", "klokkeslett"))

    def put(line: int, column: int, value: str) -> None:
        fields = lines[line].split(";")
        fields[column] = value
        lines[line] = ";".join(fields)

    for i, text in enumerate([FNR, f"{FNR[:6]} {FNR[6:]}", f"{DNR[:6]}.{DNR[6:]}", f"ring {HNR}"]):
        put(10 + i, diagnose, text)
    put(20, regning, PNR)
    put(21, klokke, SNR)
    lines[30] += f";extra;{FNR}"  # a malformed line holding one
    put(40, diagnose, f"R7@@ {DNR}")  # @@: a byte Windows-1252 leaves undefined
    put(len(lines) - 3, -1, '"godkjent')  # an unterminated quote swallowing the last line
    put(len(lines) - 2, diagnose, FNR)
    path.write_bytes("\n".join(lines).encode("utf-8").replace(b"R7@@", b"R7\x81"))


def _inputs(root: Path) -> list[Path]:
    root.mkdir()
    planted = root / "claims_2024.csv"
    _planted(planted)
    crlf = root / "claims_2024_crlf.csv"
    crlf.write_bytes(planted.read_bytes().replace(b"\n", b"\r\n"))
    named = root / f"claims_{FNR}.csv"
    named.write_text(";".join(GOOD) + "\n" + ";".join(GOOD.values()) + "\n")
    swapped = root / "swapped.csv"
    write_csv(generate_claims(500, seed=32, first_year=2024, last_year=2024), swapped)
    head, rest = swapped.read_text().split("\n", 1)
    head = (
        head.replace("regning_id", "@")
        .replace("pasient_id", "regning_id")
        .replace("@", "pasient_id")
    )
    swapped.write_text(head + "\n" + rest)
    as_json = root / "claims.json"
    as_json.write_text(json.dumps([{**GOOD, "diagnose": f"pas {FNR}"}, GOOD]))
    as_parquet = root / "claims.parquet"
    row = {**GOOD, "regning_id": "R9", "fritaksgrunn": PNR}
    pq.write_table(pa.Table.from_pylist([row]), as_parquet)
    gz = root / "gzip.csv"
    gz.write_bytes(gzip.compress(planted.read_bytes()[:4000]))
    return [planted, crlf, named, swapped, as_json, as_parquet, gz]


@pytest.mark.slow
def test_no_identifier_in_clear_in_the_data_directory_or_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = _inputs(tmp_path / "inputs")
    data, logs = tmp_path / "var", tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(data))
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", KEY)
    with open(logs / "cli.log", "w", encoding="utf-8") as log:
        for path in inputs:  # the commands in-process: what they print is the CLI's log
            for command in ("validate", "ingest"):
                assert main([command, "claims", str(path)]) in (0, 2)
        assert main(["build"]) == 0
        printed = capsys.readouterr()
        log.write(printed.out + printed.err)
    cli_log = (logs / "cli.log").read_text(encoding="utf-8")
    assert "diagnose.fodselsnummer" in cli_log and "row.already_stored" in cli_log
    assert "misplaced" in cli_log or "wrong column" in cli_log  # the swapped header
    with (
        open(logs / "server.log", "wb") as out,
        helsestat_serve(data, workers=1, log_level="INFO", output=out) as (base, _),
    ):
        for q in (FNR, f"{FNR[:6]} {FNR[6:]}", "520552.00823", PNR, f"pas {DNR}"):
            httpx.get(f"{base}/api/v1/units", params={"q": q})
            httpx.get(f"{base}/api/v1/tables/{q}")
        httpx.get(f"{base}/v1/takstbruk/agtakst/kommune/maned", params={"kommuner": FNR})
    assert "GET /api/v1/units?q=" in (logs / "server.log").read_text(encoding="utf-8")

    assert scan_tree(data) == []
    assert scan_tree(logs) == []
    # the scan does see them where they are in clear: in the input files
    found = "\n".join(scan_tree(tmp_path / "inputs"))
    assert "claims_2024.csv (text): fodselsnummer" in found
    assert "claims.parquet fritaksgrunn: personnummer" in found


def test_the_suites_scan_finds_an_identifier_stored_in_clear() -> None:
    # conftest.no_identifier_stored_by_the_suite scans every data directory of the session
    # this way; here one with a fødselsnummer in a quarantine file, outside the session's
    # directories (which must stay clean)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "var"
        (lake / "batches" / "claims").mkdir(parents=True)
        (lake / "quarantine" / "claims").mkdir(parents=True)
        table = pa.table({"pasient_pseudonym": ["0" * 32], "diagnose": [f"R74 {FNR}"]})
        pq.write_table(table, lake / "quarantine" / "claims" / "x.parquet")
        found = scan_stored_rows(Path(tmp))
    assert [f.split(" ", 1)[1] for f in found] == ["diagnose: fodselsnummer × 1"]


def test_the_scan_reads_an_sqlite_database_value_by_value(tmp_path: Path) -> None:
    # side by side in a record, the codes 0710 and 071036 read as a personnummer; as values
    # they are codes, and an identifier stored as a value (text or number) is found
    db = tmp_path / "reference.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE code (kommune TEXT, bydel TEXT, note TEXT, n INTEGER)")
    con.execute("INSERT INTO code VALUES ('0710', '071036', NULL, 7)")
    con.commit()
    raw = identifiers_in(pa.array(db.read_bytes().decode("latin-1").splitlines()))
    assert raw == {"personnummer": 1}  # what a scan of the bytes would report
    assert scan_file(db) == []
    con.execute("INSERT INTO code VALUES ('0301', '030101', ?, ?)", (f"pas {FNR}", int(DNR)))
    con.commit()
    con.close()
    found = scan_file(db)
    assert [f.split(" ", 1)[1] for f in found] == [
        "code.note: fodselsnummer × 1",
        "code.n: d_nummer × 1",
    ]
