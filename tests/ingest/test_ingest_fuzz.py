"""Fuzz: random bytes and mutated extract files, in every format, through read + validate
and through the CLI. Each file is an ExtractError or a balanced report without an identifier
in clear: never another exception, never a traceback (bounded examples, derandomised)."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claim_rows import GOOD, KEY
from clear_text import identifiers_in_table
from helsestat.cli import main
from helsestat.errors import HelsestatError
from helsestat.ingest.readers import read_extract
from helsestat.reference.seed import packaged_reference
from helsestat.validate import validate
from helsestat.validate.claims import CLAIMS

REFERENCE = packaged_reference()

ROWS = [{**GOOD, "regning_id": f"R{i}", "antall": str(1 + i % 3)} for i in range(4)]


def _csv(sep: str = ";") -> bytes:
    lines = [sep.join(GOOD)] + [sep.join(r.values()) for r in ROWS]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _parquet() -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ROWS), out)
    return out.getvalue()


SEEDS = {
    ".csv": [_csv(), _csv(","), _csv().replace(b"\n", b"\r\n"), gzip.compress(_csv())],
    ".txt": [_csv()],
    ".json": [json.dumps(ROWS).encode()],
    ".jsonl": ["\n".join(json.dumps(r) for r in ROWS).encode()],
    ".parquet": [_parquet()],
}
#: bytes worth putting anywhere: quotes, separators, line breaks, bytes Windows-1252 leaves
#: undefined, a UTF-8 lead byte without its continuation, NUL, a BOM, digits
SPECIAL = [b'"', b";", b",", b"\n", b"\r", b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"]
SPECIAL += [b"\xc3", b"\x00", b"\xef\xbb\xbf", b"01018012371", b"[", b"{", b"PAR1"]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(draw(st.sampled_from(SEEDS[suffix])))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(("insert", "replace", "delete", "truncate", "flip")))
        piece = draw(st.one_of(st.sampled_from(SPECIAL), st.binary(min_size=1, max_size=8)))
        if action == "insert":
            data[at:at] = piece
        elif action == "replace":
            data[at : at + len(piece)] = piece
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "truncate":
            del data[at:]
        elif at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
    return suffix, bytes(data)


random_files = st.tuples(st.sampled_from(sorted(SEEDS)), st.binary(max_size=3000)) | st.tuples(
    st.sampled_from(sorted(SEEDS)), st.binary(max_size=200).map(lambda b: _csv() + b)
)


@contextmanager
def _file(suffix: str, data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        yield path


def _read_and_validate(path: Path) -> None:
    try:
        clean = validate(read_extract(path, "claims"), CLAIMS, KEY, REFERENCE)
    except HelsestatError as exc:
        assert exc.code.startswith("ingest.") and exc.hint, exc
        return
    assert clean.report.balanced
    assert identifiers_in_table(clean.accepted) == {}
    assert identifiers_in_table(clean.quarantined) == {}


@settings(max_examples=250, deadline=None, derandomize=True)
@given(mutated())
def test_mutated_files_never_crash(case: tuple[str, bytes]) -> None:
    with _file(*case) as path:
        _read_and_validate(path)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(random_files)
def test_random_files_never_crash(case: tuple[str, bytes]) -> None:
    with _file(*case) as path:
        _read_and_validate(path)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.one_of(mutated(), random_files))
@example((".csv", _csv().replace(b"R74", b"R7\x81", 1)))
@example((".csv", gzip.compress(_csv())))
@example((".csv", bytes(range(1, 256)) * 4))
def test_the_cli_answers_every_file_with_a_report_or_an_error(
    monkeypatch: pytest.MonkeyPatch, case: tuple[str, bytes]
) -> None:
    with tempfile.TemporaryDirectory() as tmp, _file(*case) as path:
        monkeypatch.setenv("HELSESTAT_DATA_DIR", str(Path(tmp) / "var"))
        monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", "k" * 40)
        # main() turns a HelsestatError into exit status 2; anything else would escape
        assert main(["validate", "claims", str(path)]) in (0, 2)
        assert main(["ingest", "claims", str(path)]) in (0, 2)


def _issue_files(root: Path) -> list[Path]:
    """The seven files of the issue: one undefined byte each, random bytes, gzip as .csv."""
    files = []
    for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D):
        path = root / f"byte_{byte:02x}.csv"
        path.write_bytes(_csv().replace(b"R74", b"R7" + bytes([byte]), 1))
        files.append(path)
    (root / "random.csv").write_bytes(os.urandom(1) + bytes(range(256)) * 8)
    (root / "gzip.csv").write_bytes(gzip.compress(_csv()))
    return [*files, root / "random.csv", root / "gzip.csv"]


@pytest.mark.slow
def test_the_issues_files_through_the_helsestat_command(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HELSESTAT_DATA_DIR": str(tmp_path / "var"),
        "HELSESTAT_PSEUDONYM_KEY": "k" * 40,
    }
    for path in _issue_files(tmp_path):
        done = subprocess.run(
            [sys.executable, "-m", "helsestat.cli", "ingest", "claims", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Traceback" not in done.stdout + done.stderr, path.name
        if path.name.startswith("byte_"):  # the row with the byte quarantined, the rest stored
            assert done.returncode == 0 and "line.encoding" in done.stdout
        else:
            assert done.returncode == 2 and "error: " + path.name in done.stderr
            assert "hint: " in done.stderr
