"""Ingest → validate → store for claims: no row lost, no identifier in clear, idempotent,
all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from claim_rows import GOOD, KEY, write_claim_rows
from helsestat.build import ingest_file
from helsestat.errors import ExtractError
from helsestat.ingest.readers import read_extract
from helsestat.reference.seed import packaged_reference
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files, store_extract
from helsestat.synth.claims import CLAIM_COLUMNS, generate_claims
from helsestat.synth.core import write_csv
from helsestat.validate import spec_for, validate
from helsestat.validate.claims import CLAIMS
from helsestat.validate.pseudonymise import pseudonymise_values

#: The code lists the extracts are checked against: the packaged ones a database is seeded with.
REFERENCE = packaged_reference()


def test_the_good_row_is_valid(tmp_path: Path) -> None:
    clean = validate(
        read_extract(write_claim_rows(tmp_path, [GOOD]), "claims"), CLAIMS, KEY, REFERENCE
    )
    assert (clean.report.accepted, clean.report.quarantined) == (1, 0)
    row = clean.accepted.to_pylist()[0]
    assert row["maned"] == 202403 and row["refusjon_ore"] == 19400 and row["regning_teller"] == 1
    assert "pasient_id" not in clean.accepted.column_names


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("behandlingsdato", "2024-02-30", "behandlingsdato.invalid"),
        ("behandlingsdato", "18.03.2024", "behandlingsdato.invalid"),
        ("behandler_kommunenr", "1507", "behandler_kommunenr.invalid"),  # Ålesund before 2024 only
        ("behandler_kommunenr", "9999", "behandler_kommunenr.invalid"),
        ("behandler_praksistype", "TANN", "behandler_praksistype.fagomraade_mismatch"),
        ("behandler_praksistype", "XXXX", "behandler_praksistype.unknown"),
        ("behandler_fagomraade", "QQ", "behandler_fagomraade.unknown"),
        ("pasient_id", "01018010019", "pasient_id.invalid"),
        ("pasient_id", "0101015001", "pasient_id.invalid"),
        ("pasient_kjonn", "X", "pasient_kjonn.invalid"),
        ("pasient_alder", "130", "pasient_alder.out_of_range"),
        ("takstkode", "ZZ9", "takstkode.unknown"),
        ("takstkode", "A1a", "takstkode.fagomraade_mismatch"),
        ("antall", "0", "antall.out_of_range"),
        ("antall", "1.5", "antall.out_of_range"),
        ("refusjon", "-1.00", "amount.out_of_range"),
        ("refusjon", "12.345", "amount.out_of_range"),
        ("resultat", "ukjent", "resultat.invalid"),
        ("regning_id", "", "regning_id.missing"),
    ],
)
def test_each_rule_quarantines_its_defect(
    tmp_path: Path, field: str, value: str, rule: str
) -> None:
    bad = {
        **GOOD,
        field: value,
        "regning_id": GOOD["regning_id"] if field != "regning_id" else value,
    }
    clean = validate(
        read_extract(write_claim_rows(tmp_path, [GOOD, bad]), "claims"), CLAIMS, KEY, REFERENCE
    )
    assert dict(clean.report.by_rule)[rule] == 1
    q = clean.quarantined.to_pylist()
    assert len(q) == 1 and q[0]["linje"] == 3 and rule in q[0]["arsaker"].split(";")


def test_takst_not_valid_before_its_first_period(tmp_path: Path) -> None:
    row = {**GOOD, "behandlingsdato": "2013-12-31", "behandler_kommunenr": "0301"}
    clean = validate(
        read_extract(write_claim_rows(tmp_path, [row]), "claims"), CLAIMS, KEY, REFERENCE
    )
    assert "takstkode.not_valid_on_date" in clean.quarantined.column("arsaker")[0].as_py()


def test_dnummer_is_accepted(tmp_path: Path) -> None:
    # d-nummer: day + 40; check digits computed for 410101500..
    import numpy as np

    from helsestat.validate.identifiers import fnr_check_digits

    nine = np.array([[4, 1, 0, 1, 0, 1, 5, 0, 0]])
    k1, k2, ok = fnr_check_digits(nine)
    assert ok[0]
    dnr = "410101500" + str(k1[0]) + str(k2[0])
    clean = validate(
        read_extract(write_claim_rows(tmp_path, [{**GOOD, "pasient_id": dnr}]), "claims"),
        CLAIMS,
        KEY,
        REFERENCE,
    )
    assert clean.report.accepted == 1


@pytest.mark.parametrize(("sep", "encoding"), [(";", "utf-8"), (",", "utf-8"), (";", "cp1252")])
def test_csv_dialects(tmp_path: Path, sep: str, encoding: str) -> None:
    row = {**GOOD, "diagnose": "Ø-æå"}
    raw = read_extract(write_claim_rows(tmp_path, [row], sep=sep, encoding=encoding), "claims")
    assert raw.table.column("diagnose").to_pylist() == ["Ø-æå"]
    assert raw.table.column("pasient_id").to_pylist() == ["01018010018"]  # leading zero kept


@pytest.mark.parametrize(
    "text", ["a;b\n1;æ\n", "a;b\n1;Bø", "a;b\n" + "1;x\n" * 300_000 + "2;Tromsø\n"]
)
def test_windows_1252_detected_even_where_a_utf8_character_could_be_cut(
    tmp_path: Path, text: str
) -> None:
    # the only non-ASCII byte lies in the last bytes of the file (or of the first 1 MiB read)
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode("cp1252"))
    assert (
        read_extract(path, "demo").table.column("b").to_pylist()[-1] == text.split(";")[-1].strip()
    )


def test_utf8_character_split_between_two_reads_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    head = "a;b\n"
    filler = "1;" + "x" * ((1 << 20) - len(head) - 3) + "\n"  # "ø" starts at byte 2**20 - 1
    path.write_bytes((head + filler[:-1] + "ø\n2;y\n").encode("utf-8"))
    assert path.read_bytes()[(1 << 20) - 1 : (1 << 20) + 1] == "ø".encode()
    assert read_extract(path, "demo").table.column("b").to_pylist()[0].endswith("ø")


def test_missing_column_names_file_line_and_column(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD.items() if k != "takstkode"}
    with pytest.raises(ExtractError) as info:
        validate(
            read_extract(write_claim_rows(tmp_path, [row], name="claims_2024.csv"), "claims"),
            CLAIMS,
            KEY,
            REFERENCE,
        )
    assert info.value.message == "claims_2024.csv line 1: column 'takstkode' missing"
    assert info.value.hint == "'helsestat spec claims' lists the columns"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="no such file"):
        read_extract(tmp_path / "nope.csv", "claims")
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(ExtractError, match="not a readable Parquet"):
        read_extract(bad, "claims")
    with pytest.raises(ExtractError, match="unknown file type"):
        read_extract(bad.rename(tmp_path / "x.xls"), "claims")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(ExtractError, match="empty"):
        read_extract(empty, "claims")


def test_synthetic_extract_balances_and_catches_every_defect(claims_csv: Path) -> None:
    clean = validate(read_extract(claims_csv, "claims"), CLAIMS, KEY, REFERENCE)
    r = clean.report
    assert r.rows_in == 6000 and r.balanced and r.quarantined > 0
    assert sum(n for _, n in r.by_rule) >= r.quarantined


def test_csv_and_parquet_give_the_same_rows(claims_csv: Path, claims_parquet: Path) -> None:
    a = validate(read_extract(claims_csv, "claims"), CLAIMS, KEY, REFERENCE)
    b = validate(read_extract(claims_parquet, "claims"), CLAIMS, KEY, REFERENCE)
    assert a.accepted.equals(b.accepted)
    assert a.report.by_rule == b.report.by_rule


def test_no_identifier_in_any_stored_file(tmp_path: Path, claims_csv: Path) -> None:
    lake = Lake(tmp_path / "var")
    batch = ingest_file(claims_csv, "claims", KEY, lake, REFERENCE)
    assert batch.report.balanced
    ids = set(read_extract(claims_csv, "claims").table.column("pasient_id").to_pylist())
    stored = 0
    for path in (tmp_path / "var").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".parquet":
                table = pq.read_table(path)
                values = {
                    v for c in table.columns if pa.types.is_string(c.type) for v in c.to_pylist()
                }
                assert not values & ids, f"clear identifier in {path}"
                stored += table.num_rows
            for ident in list(ids)[:200]:
                assert ident.encode() not in data
    assert stored == batch.report.rows_in  # accepted + quarantined rows, nothing else


def test_pseudonyms_stable_per_key_and_differ_across_keys() -> None:
    ids = ["01018010018", "41010150095"]
    assert pseudonymise_values(ids, KEY) == pseudonymise_values(ids, KEY)
    assert set(pseudonymise_values(ids, KEY)).isdisjoint(pseudonymise_values(ids, b"other" * 8))


def test_reingest_is_a_no_op(tmp_path: Path, claims_csv: Path) -> None:
    lake = Lake(tmp_path / "var")
    first = ingest_file(claims_csv, "claims", KEY, lake, REFERENCE)
    snapshot = {p: p.stat().st_mtime_ns for p in (tmp_path / "var").rglob("*") if p.is_file()}
    again = ingest_file(claims_csv, "claims", KEY, lake, REFERENCE)
    assert again.already_stored and again.report == first.report
    assert {
        p: p.stat().st_mtime_ns for p in (tmp_path / "var").rglob("*") if p.is_file()
    } == snapshot


def test_a_failure_half_way_leaves_the_store_as_it_was(tmp_path: Path, claims_csv: Path) -> None:
    lake = Lake(tmp_path / "var")
    clean = validate(read_extract(claims_csv, "claims"), CLAIMS, KEY, REFERENCE)
    # an obstacle where the quarantine file goes: partitions get written, then the write fails
    obstacle = lake.quarantine_path("claims", clean.checksum)
    obstacle.mkdir(parents=True)
    (obstacle / "keep").write_text("x")
    with pytest.raises(OSError):
        store_extract(clean, lake, "maned")
    assert lake.extract_files("claims"), "the failure came after some partitions were written"
    assert committed_files(lake, "claims") == [] and lake.stored_batches("claims") == {}
    # once the obstacle is gone, storing again completes, with exactly the input's rows
    (obstacle / "keep").unlink()
    obstacle.rmdir()
    batch = store_extract(clean, lake, "maned")
    rows = sum(pq.read_metadata(p).num_rows for p in committed_files(lake, "claims"))
    assert rows == batch.report.accepted
    record = json.loads(lake.batch_path("claims", clean.checksum).read_text())
    assert record["report"]["rows_in"] == 6000


def test_synthetic_generator_is_reproducible_and_streams() -> None:
    a = list(generate_claims(1200, seed=3, batch_rows=500))
    b = list(generate_claims(1200, seed=3, batch_rows=500))
    assert [x.num_rows for x in a] == [500, 500, 200]
    assert all(x.equals(y) for x, y in zip(a, b, strict=True))
    assert tuple(a[0].schema.names) == CLAIM_COLUMNS
    c = next(generate_claims(500, seed=4, batch_rows=500))
    assert not c.equals(a[0])


def test_synthetic_volumes_follow_population(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_csv(generate_claims(40_000, seed=5, first_year=2024, last_year=2024, bad_share=0), path)
    t = read_extract(path, "claims").table
    kommuner = t.column("behandler_kommunenr").to_pylist()
    oslo, bergen = kommuner.count("0301"), kommuner.count("4601")
    assert 1.8 < oslo / bergen < 3.2  # population 717 710 vs 291 940
    assert spec_for("claims") is CLAIMS


def test_bill_counted_once_per_takst_even_when_its_first_line_is_quarantined(
    tmp_path: Path,
) -> None:
    first_bad = {**GOOD, "antall": "0"}
    second = {**GOOD, "antall": "2"}
    third = {**GOOD, "takstkode": "2dd"}
    clean = validate(
        read_extract(write_claim_rows(tmp_path, [first_bad, second, GOOD, third]), "claims"),
        CLAIMS,
        KEY,
        REFERENCE,
    )
    rows = clean.accepted.to_pylist()
    assert [(r["takstkode"], r["regning_teller"]) for r in rows] == [
        ("2ad", 1),
        ("2ad", 0),
        ("2dd", 1),
    ]


def test_json_and_jsonl_extracts(tmp_path: Path) -> None:
    import json as _json

    (tmp_path / "c.json").write_text(_json.dumps([GOOD, {**GOOD, "antall": 2}]))
    (tmp_path / "c.jsonl").write_text("\n".join(_json.dumps(r) for r in [GOOD, GOOD]) + "\n")
    for name in ("c.json", "c.jsonl"):
        clean = validate(read_extract(tmp_path / name, "claims"), CLAIMS, KEY, REFERENCE)
        assert clean.report.accepted == 2, name
    (tmp_path / "bad.json").write_text('[{"a": 1},')
    with pytest.raises(ExtractError, match=r"bad\.json line 1: not valid JSON"):
        read_extract(tmp_path / "bad.json", "claims")
    (tmp_path / "obj.json").write_text('{"a": 1}')
    with pytest.raises(ExtractError, match="expected a list of objects"):
        read_extract(tmp_path / "obj.json", "claims")


def test_a_malformed_line_is_quarantined_not_fatal_and_not_stored_in_clear(tmp_path: Path) -> None:
    path = write_claim_rows(tmp_path, [GOOD, GOOD, GOOD])
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ";extra;" + GOOD["pasient_id"]  # line 3 has too many fields
    path.write_text("\n".join(lines) + "\n")
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    assert clean.report.balanced and clean.report.rows_in == 3
    assert dict(clean.report.by_rule) == {"line.field_count": 1}
    assert clean.quarantined.column("linje").to_pylist() == [3]
    assert GOOD["pasient_id"] not in str(clean.quarantined.to_pylist())


def test_line_numbers_stay_right_after_a_malformed_line(tmp_path: Path) -> None:
    path = write_claim_rows(tmp_path, [GOOD, GOOD, {**GOOD, "antall": "0"}])
    lines = path.read_text().splitlines()
    lines[1] = lines[1] + ";x"  # line 2 malformed; the bad antall stays on line 4
    path.write_text("\n".join(lines) + "\n")
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    assert sorted(clean.quarantined.column("linje").to_pylist()) == [2, 4]


@pytest.mark.parametrize("key", [b"k" * 32, b"k" * 64, b"k" * 100], ids=["32", "64", "100"])
def test_pseudonyms_are_hmac_sha256(key: bytes) -> None:
    import hashlib
    import hmac

    ids = ["01018010018", " 41010150095 ", "", "æøå"]
    want = [hmac.digest(key, i.strip().encode(), hashlib.sha256)[:16].hex() for i in ids]
    assert pseudonymise_values(ids, key) == want


def _csv_lines(rows: list[dict[str, str]]) -> list[str]:
    header = list(rows[0])
    return [";".join(header)] + [";".join(r[c] for c in header) for r in rows]


@pytest.mark.parametrize(
    ("name", "body", "want"),
    [
        # blank lines (also \r\n) hold no row but count as lines; "x;y" is malformed
        (
            "blank_lines.csv",
            "{h}\n{good}\n\n\r\nx;y\n{bad}\n\n",
            [(5, "line.field_count"), (6, "antall.out_of_range")],
        ),
        # a quoted value with a line break: the row starts on line 3, the next on line 5
        (
            "quoted_newline.csv",
            "{h}\n{good}\n{quoted}\n{bad}\nx;y\n",
            [(5, "antall.out_of_range"), (6, "line.field_count")],
        ),
        ("crlf_quoted.csv", "{h}\r\n{quoted_crlf}\r\n\r\n{bad}\r\n", [(5, "antall.out_of_range")]),
        ("bare_cr.csv", "{h}\r{good}\r\r{bad}\r", [(4, "antall.out_of_range")]),
        ("no_final_newline.csv", "{h}\n\n{good}\n{bad}", [(4, "antall.out_of_range")]),
    ],
)
def test_quarantine_names_the_physical_line_a_row_starts_on(
    tmp_path: Path, name: str, body: str, want: list[tuple[int, str]]
) -> None:
    header, good, bad = _csv_lines([GOOD, {**GOOD, "regning_id": "R9", "antall": "0"}])
    i = list(GOOD).index("diagnose")
    quoted = good.split(";")
    quoted[i] = '"R7\n4"'
    quoted_crlf = list(quoted)
    quoted_crlf[i] = '"R7\r\n4"'
    path = tmp_path / name
    text = body.format(
        h=header, good=good, bad=bad, quoted=";".join(quoted), quoted_crlf=";".join(quoted_crlf)
    )
    path.write_bytes(text.encode())
    clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    got = sorted(
        zip(
            clean.quarantined.column("linje").to_pylist(),
            clean.quarantined.column("arsaker").to_pylist(),
            strict=True,
        )
    )
    assert got == want
    assert clean.report.balanced


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""], ids=["lf", "crlf", "none"])
def test_a_header_only_csv_is_an_extract_with_no_rows(tmp_path: Path, ending: str) -> None:
    path = tmp_path / "empty_month.csv"
    path.write_bytes((";".join(GOOD) + ending).encode())
    raw = read_extract(path, "claims")
    assert raw.table.num_rows == 0 and raw.table.column_names == list(GOOD)
    clean = validate(raw, CLAIMS, KEY, REFERENCE)
    assert (clean.report.rows_in, clean.report.accepted, clean.report.quarantined) == (0, 0, 0)


def _write_duplicate(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"dup{suffix}"
    if suffix == ".csv":
        header = [*GOOD, "antall"]
        path.write_text(";".join(header) + "\n" + ";".join([*GOOD.values(), "2"]) + "\n")
    elif suffix == ".parquet":
        arrays = [pa.array([v]) for v in GOOD.values()] + [pa.array(["0"])]
        pq.write_table(pa.Table.from_arrays(arrays, names=[*GOOD, "antall"]), path)
    else:
        record = json.dumps(GOOD)[:-1] + ', "antall": "0"}'
        path.write_text(f"[{record}]" if suffix == ".json" else f"{json.dumps(GOOD)}\n{record}\n")
    return path


@pytest.mark.parametrize(
    ("suffix", "where"),
    [
        (".csv", "dup.csv line 1"),
        (".parquet", "dup.parquet"),
        (".json", "dup.json"),
        (".jsonl", "dup.jsonl line 2"),
    ],
)
def test_a_column_name_given_twice_is_refused(tmp_path: Path, suffix: str, where: str) -> None:
    with pytest.raises(ExtractError) as info:
        read_extract(_write_duplicate(tmp_path, suffix), "claims")
    assert info.value.code == "ingest.duplicate_column"
    assert info.value.message == f"{where}: column 'antall' appears twice"
    assert info.value.hint == (
        "give each column its own name; 'helsestat spec <kind>' lists the columns"
    )


def test_a_repeated_header_value_that_could_be_an_identifier_is_not_echoed(
    tmp_path: Path,
) -> None:
    # a file without a header: its first data line is taken as the header
    fnr = GOOD["pasient_id"]
    path = tmp_path / "noheader.csv"
    path.write_text(f"R1;{fnr};{fnr}\nR2;{fnr};{fnr}\n")
    with pytest.raises(ExtractError) as info:
        read_extract(path, "claims")
    assert info.value.message == "noheader.csv line 1: columns 2 and 3 have the same name"
    assert fnr not in str(info.value)


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        (
            pa.array([b"\xff" + GOOD["pasient_id"].encode()], pa.binary()),
            "holds bytes that are not UTF-8 text",
        ),
        (
            pa.array([{"a": GOOD["pasient_id"]}]),
            "has type {type}, which cannot be read as text",
        ),
        (
            pa.array([[GOOD["pasient_id"]]]),
            "has type {type}, which cannot be read as text",
        ),
    ],
    ids=["binary", "struct", "list"],
)
def test_a_parquet_column_that_is_not_text_is_named_not_echoed(
    tmp_path: Path, column: pa.Array, problem: str
) -> None:
    cols = {k: pa.array([v]) for k, v in GOOD.items()}
    cols["diagnose"] = column
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table(cols), path)
    with pytest.raises(ExtractError) as info:
        read_extract(path, "claims")
    assert info.value.code == "ingest.unreadable_parquet"
    kind = pq.read_schema(path).field("diagnose").type  # e.g. struct<a: string>
    assert info.value.message == f"typed.parquet: column 'diagnose' {problem.format(type=kind)}"
    assert GOOD["pasient_id"] not in str(info.value)
