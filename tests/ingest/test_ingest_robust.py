"""Files a careless supplier sends: bytes that are no character, a compressed or binary
file named .csv, an unterminated quote, claims dated in the future, and a file re-saved with
other line endings. Each is a clear error or quarantined rows, never a traceback or a silent
duplicate."""

from __future__ import annotations

import gzip
import random
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claim_rows import GOOD, KEY, write_claim_rows
from helsestat.build import ingest_file
from helsestat.build.withdraw import withdraw_batch
from helsestat.errors import ExtractError
from helsestat.ingest.readers import read_extract
from helsestat.reference.seed import packaged_reference
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv
from helsestat.validate import validate
from helsestat.validate.claims import CLAIMS

REFERENCE = packaged_reference()


def _rows(n: int) -> list[dict[str, str]]:
    return [{**GOOD, "regning_id": f"R{i}"} for i in range(n)]


def _outcome(path: Path, today: date | None = None) -> list[tuple[int, str]]:
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE, today=today)
    assert clean.report.balanced
    q = clean.quarantined
    return sorted(zip(q.column("linje").to_pylist(), q.column("arsaker").to_pylist(), strict=True))


@pytest.mark.parametrize("byte", [0x81, 0x8D, 0x8F, 0x90, 0x9D])
def test_a_byte_undefined_in_windows_1252_quarantines_its_row(tmp_path: Path, byte: int) -> None:
    rows = _rows(5)
    rows[1]["diagnose"] = "Bø"
    path = write_claim_rows(tmp_path, rows, encoding="cp1252")
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"R74", b"R7" + bytes([byte]))  # line 4
    path.write_bytes(b"\n".join(lines))
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    assert (clean.report.rows_in, clean.report.accepted) == (5, 4)
    assert clean.quarantined.column("linje").to_pylist() == [4]
    assert clean.quarantined.column("arsaker").to_pylist() == ["line.encoding"]
    assert clean.quarantined.column("diagnose").to_pylist() == ["R7\ufffd"]
    assert clean.accepted.column("diagnose").to_pylist()[1] == "Bø"  # the rest is cp1252


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (gzip.compress(b"a;b\n1;2\n"), "c.csv: not a CSV text file but a gzip-compressed file"),
        (b"PK\x03\x04rest", "c.csv: not a CSV text file but a zip archive or an Excel workbook"),
        (b"PAR1\x00\x00", "c.csv: not a CSV text file but a Parquet file"),
        ("a;b\n1;2\n".encode("utf-16"), "c.csv: not a CSV text file but UTF-16 text"),
        (b"a;b\n1;\x002\n", "c.csv: not a CSV text file (it holds NUL bytes)"),
    ],
    ids=["gzip", "zip", "parquet", "utf16", "nul"],
)
def test_a_file_that_is_not_csv_text_is_a_clear_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(ExtractError) as info:
        read_extract(path, "claims")
    assert info.value.code == "ingest.not_text" and info.value.message == message


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_are_a_clear_error(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(random.Random(seed).randbytes(4000))
    with pytest.raises(ExtractError):
        validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)


def _quoted(path: Path, line: int, column: int, text: str) -> None:
    """Put ``text`` in place of field ``column`` of ``line`` (1-based lines, 0-based fields)."""
    lines = path.read_text().split("\n")
    fields = lines[line - 1].split(";")
    fields[column] = text
    lines[line - 1] = ";".join(fields)
    path.write_text("\n".join(lines))


def test_an_unterminated_quote_counts_every_line_it_swallowed(tmp_path: Path) -> None:
    # the quote opens in the last field of line 6 and never closes: before, lines 6 and 7
    # were one row (rows in: 5, for 6 lines of data)
    path = write_claim_rows(tmp_path, _rows(6))
    _quoted(path, 6, -1, '"godkjent')
    assert _outcome(path) == [(6, "line.unterminated_quote"), (7, "line.unterminated_quote")]
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    assert (clean.report.rows_in, clean.report.accepted) == (6, 4)


def test_an_unterminated_quote_early_rejects_the_lines_to_the_end(tmp_path: Path) -> None:
    path = write_claim_rows(tmp_path, _rows(6))
    _quoted(path, 3, 10, '"R74')  # diagnose on line 3
    assert _outcome(path) == [(line, "line.unterminated_quote") for line in range(3, 8)]


def test_a_malformed_row_over_two_lines_counts_both(tmp_path: Path) -> None:
    # a quote opened in diagnose on line 3 closes in behandlingsdato on line 4: one row of
    # the wrong width over two lines
    path = write_claim_rows(tmp_path, _rows(4))
    _quoted(path, 3, 10, '"R74')
    _quoted(path, 4, 1, '2024-03-18"')
    assert _outcome(path) == [(3, "line.field_count"), (4, "line.field_count")]
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    assert (clean.report.rows_in, clean.report.accepted) == (4, 2)


def test_a_claim_dated_after_today_is_quarantined(tmp_path: Path) -> None:
    rows = [
        {**GOOD, "behandlingsdato": "2024-06-30"},
        {**GOOD, "regning_id": "R2", "behandlingsdato": "2024-07-01"},
    ]
    path = write_claim_rows(tmp_path, rows)
    assert _outcome(path, today=date(2024, 6, 30)) == [(3, "behandlingsdato.future")]
    assert _outcome(path, today=date(2024, 7, 1)) == []


def test_by_default_today_is_the_date_in_norway(tmp_path: Path) -> None:
    path = write_claim_rows(tmp_path, [{**GOOD, "behandlingsdato": "2099-01-01"}])
    assert _outcome(path) == [(2, "behandlingsdato.future")]


def test_a_file_re_saved_with_crlf_is_not_stored_twice(tmp_path: Path) -> None:
    first = tmp_path / "claims_2024_03.csv"
    write_csv(generate_claims(1000, seed=3, bad_share=0, first_year=2024, last_year=2024), first)
    again = tmp_path / "claims_2024_03_crlf.csv"
    again.write_bytes(first.read_bytes().replace(b"\n", b"\r\n"))
    lake = Lake(tmp_path / "var")
    stored = ingest_file(first, "claims", KEY, lake, REFERENCE)
    assert stored.report.accepted == 1000
    batch = ingest_file(again, "claims", KEY, lake, REFERENCE)
    assert not batch.already_stored  # another checksum …
    assert (batch.report.accepted, batch.report.quarantined) == (0, 1000)  # … the same lines
    assert batch.report.by_rule == (("row.already_stored", 1000),)
    rows = sum(pq.read_metadata(p).num_rows for p in committed_files(lake, "claims"))
    assert rows == 1000
    # once the first delivery is withdrawn, the second is stored
    withdraw_batch(lake, "claims", stored.checksum, "re-delivered with CRLF")
    third = tmp_path / "claims_2024_03_crlf_2.csv"
    third.write_bytes(again.read_bytes() + b"\r\n")
    assert ingest_file(third, "claims", KEY, lake, REFERENCE).report.accepted == 1000


def test_a_corrected_line_delivered_again_is_quarantined_a_new_line_stored(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path / "var")
    ingest_file(write_claim_rows(tmp_path, [GOOD], name="a.csv"), "claims", KEY, lake, REFERENCE)
    corrected = {**GOOD, "refusjon": "200.00"}
    other_takst = {**GOOD, "takstkode": "2dd"}
    other_month = {**GOOD, "behandlingsdato": "2024-04-02"}
    batch = ingest_file(
        write_claim_rows(tmp_path, [corrected, other_takst, other_month], name="b.csv"),
        "claims",
        KEY,
        lake,
        REFERENCE,
    )
    assert batch.report.by_rule == (("row.already_stored", 1),)
    assert batch.report.accepted == 2


def test_a_corrupt_parquet_or_json_is_a_clear_error(tmp_path: Path, claims_parquet: Path) -> None:
    data = claims_parquet.read_bytes()
    for name, content in [
        ("cut.parquet", data[: len(data) // 2]),
        ("tail.parquet", data[:4] + data[len(data) // 2 :]),
        ("deep.json", b"[" * 100_000),
        ("digits.json", b'[{"a": ' + b"9" * 5000 + b"}]"),
        ("latin.jsonl", '{"a": "ø"}\n'.encode("latin-1")),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ExtractError):
            read_extract(path, "claims")


def test_a_parquet_column_name_that_is_not_utf8_is_an_unreadable_file(tmp_path: Path) -> None:
    """Found by the fuzz test: a column name of bytes that are not UTF-8 failed in Arrow's
    decoding of the schema with a UnicodeDecodeError; it is an unreadable Parquet file."""
    path = tmp_path / "claims.parquet"
    pq.write_table(pa.table({"zzqname": ["1"]}), path)
    path.write_bytes(path.read_bytes().replace(b"zzqname", b"\x81zqname"))
    with pytest.raises(ExtractError) as info:
        read_extract(path, "claims")
    assert info.value.code == "ingest.unreadable_parquet"
