"""No personal identifier is stored in clear: one typed into a free-text column goes to
quarantine pseudonymised, and a header with the identifier column swapped stops the ingest
before anything is stored (SYNTHETIC identifiers)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from claim_rows import GOOD, KEY, write_claim_rows
from helsestat.build import ingest_file
from helsestat.errors import ExtractError
from helsestat.ingest.readers import read_extract
from helsestat.reference.seed import packaged_reference
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv
from helsestat.validate import validate
from helsestat.validate.claims import CLAIMS
from helsestat.validate.pseudonymise import pseudonymise_values

REFERENCE = packaged_reference()

FNR = "01018012371"  # valid check digits, SYNTHETIC
DNR = "41018012365"
PNR = "19121212-1212"  # Skatteverket's published test personnummer


def _stored_text(root: Path) -> str:
    """Every value of every Parquet file and the text of every other file under ``root``."""
    parts = []
    for path in sorted(root.rglob("*")):
        if path.suffix == ".parquet":
            parts.append(str(pq.read_table(path).to_pylist()))
        elif path.is_file():
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def test_an_identifier_typed_into_a_free_text_column_is_quarantined_pseudonymised(
    tmp_path: Path,
) -> None:
    rows = [{**GOOD, "regning_id": f"R{i}"} for i in range(20)]
    for i in range(0, 20, 2):  # 10 rows, as in the issue
        rows[i]["diagnose"] = f"R74 pasient {FNR[:6]} {FNR[6:]}"
    lake = Lake(tmp_path / "var")
    batch = ingest_file(write_claim_rows(tmp_path, rows), "claims", KEY, lake, REFERENCE)
    assert (batch.report.accepted, batch.report.quarantined) == (10, 10)
    assert batch.report.by_rule == (("diagnose.fodselsnummer", 10),)
    quarantined = pq.read_table(lake.quarantine_path("claims", batch.checksum)).to_pylist()
    pseudonym = pseudonymise_values([FNR], KEY)[0]
    assert {q["diagnose"] for q in quarantined} == {f"R74 pasient <fodselsnummer:{pseudonym}>"}
    assert {q["arsaker"] for q in quarantined} == {"diagnose.fodselsnummer"}
    assert [q["linje"] for q in quarantined] == list(range(2, 22, 2))
    text = _stored_text(tmp_path / "var")
    assert FNR not in text and FNR[:6] + " " + FNR[6:] not in text


def test_the_pseudonym_in_quarantine_is_the_identifier_columns(tmp_path: Path) -> None:
    # the same person as pasient_id in one row and typed into diagnose in another
    rows = [{**GOOD, "pasient_id": FNR}, {**GOOD, "regning_id": "R2", "diagnose": FNR}]
    clean = validate(
        read_extract(write_claim_rows(tmp_path, rows), "claims"), CLAIMS, KEY, REFERENCE
    )
    accepted = clean.accepted.to_pylist()[0]["pasient_pseudonym"]
    assert clean.quarantined.to_pylist()[0]["diagnose"] == f"<fodselsnummer:{accepted}>"


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("diagnose", f"se {DNR}", "diagnose.d_nummer"),
        ("diagnose", "tlf 01418012354", "diagnose.h_nummer"),
        ("fritaksgrunn", PNR, "fritaksgrunn.personnummer"),
        ("klokkeslett", "121272-1219", "klokkeslett.samordningsnummer"),
        ("regning_id", FNR, "regning_id.fodselsnummer"),
        ("pasient_kommunenr", f"{FNR[:6]}.{FNR[6:]}", "pasient_kommunenr.fodselsnummer"),
    ],
)
def test_each_identifier_rule_names_its_column(
    tmp_path: Path, column: str, value: str, rule: str
) -> None:
    bad = {**GOOD, "regning_id": "R2", column: value}
    clean = validate(
        read_extract(write_claim_rows(tmp_path, [GOOD, bad]), "claims"), CLAIMS, KEY, REFERENCE
    )
    assert rule in dict(clean.report.by_rule)
    row = clean.quarantined.to_pylist()[0]
    assert rule in row["arsaker"].split(";")
    assert value not in row[column] and row[column].count("<") == 1


def _swapped(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "claims_swapped.csv"
    write_csv(generate_claims(rows, seed=11, bad_share=0), path)
    text = path.read_text(encoding="utf-8").split("\n", 1)
    header = text[0].replace("regning_id", "@").replace("pasient_id", "regning_id")
    path.write_text(header.replace("@", "pasient_id") + "\n" + text[1], encoding="utf-8")
    return path


def test_a_header_with_the_identifier_column_swapped_stops_the_ingest(tmp_path: Path) -> None:
    path = _swapped(tmp_path, 1000)
    lake = Lake(tmp_path / "var")
    with pytest.raises(ExtractError) as info:
        ingest_file(path, "claims", KEY, lake, REFERENCE)
    assert info.value.code == "ingest.misplaced_identifier"
    assert info.value.message == (
        "claims_swapped.csv: personal identifiers are in the wrong column: 'regning_id' in "
        "1,000 of 1,000 rows, but the identifier column 'pasient_id' in 0; nothing was stored"
    )
    assert info.value.hint == (
        "check the order of the names in the header line: identifiers belong in "
        "'pasient_id' and nowhere else"
    )
    assert not (tmp_path / "var").exists()  # nothing stored, not even a directory


def test_a_few_misplaced_identifiers_are_quarantined_not_fatal(tmp_path: Path) -> None:
    rows = [{**GOOD, "regning_id": f"R{i}"} for i in range(10)]
    rows[3]["regning_id"] = FNR
    clean = validate(
        read_extract(write_claim_rows(tmp_path, rows), "claims"), CLAIMS, KEY, REFERENCE
    )
    assert clean.report.by_rule == (("regning_id.fodselsnummer", 1),)


def test_a_file_name_with_an_identifier_is_not_stored_or_printed(tmp_path: Path) -> None:
    path = write_claim_rows(tmp_path, [GOOD], name=f"claims_{FNR}.csv")
    lake = Lake(tmp_path / "var")
    batch = ingest_file(path, "claims", KEY, lake, REFERENCE)
    assert batch.source == batch.report.source == "claims_<redacted>.csv"
    record = json.loads(lake.batch_path("claims", batch.checksum).read_text())
    assert record["source"] == "claims_<redacted>.csv"
    missing = write_claim_rows(
        tmp_path, [{k: v for k, v in GOOD.items() if k != "antall"}], name=path.name
    )
    with pytest.raises(ExtractError) as info:
        validate(read_extract(missing, "claims"), CLAIMS, KEY, REFERENCE)
    assert FNR not in str(info.value)


def test_the_synthetic_claims_hold_no_identifier_outside_pasient_id(claims_csv: Path) -> None:
    clean = validate(read_extract(claims_csv, "claims"), CLAIMS, KEY, REFERENCE)
    rules = {rule for rule, _ in clean.report.by_rule}
    assert not {r for r in rules if r.split(".")[-1] in ("fodselsnummer", "d_nummer")}
