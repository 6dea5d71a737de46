"""One valid claim row and a writer of claim rows as a CSV file: shared by the ingest,
validate and identifier tests (importable from any test file, each run alone or together).
SYNTHETIC identifiers with valid check digits."""

from __future__ import annotations

from pathlib import Path

KEY = b"test-key-" + b"x" * 32

GOOD = {
    "regning_id": "R1",
    "behandlingsdato": "2024-03-18",
    "klokkeslett": "10:15",
    "behandler_praksistype": "FALE",
    "behandler_fagomraade": "LE",
    "behandler_kommunenr": "0301",
    "pasient_id": "01018010018",
    "pasient_kommunenr": "0301",
    "pasient_kjonn": "K",
    "pasient_alder": "47",
    "diagnose": "R74",
    "takstkode": "2ad",
    "antall": "1",
    "fritaksgrunn": "",
    "egenandel_betalt_av_pasient": "160.00",
    "egenandel_dekket_av_folketrygden": "0.00",
    "refusjon": "194.00",
    "resultat": "godkjent",
}


def write_claim_rows(
    tmp_path: Path,
    rows: list[dict[str, str]],
    name: str = "claims.csv",
    sep: str = ";",
    encoding: str = "utf-8",
) -> Path:
    path = tmp_path / name
    header = list(rows[0])
    lines = [sep.join(header)] + [sep.join(r[c] for c in header) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path
