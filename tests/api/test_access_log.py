"""The server's request log never keeps a personal identifier pasted into a URL: checked on
the log of a real ``helsestat serve`` process, one worker and two."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import httpx
import pytest

from helsestat.api.access_log import RedactIdentifiers, redact
from serve_process import helsestat_serve

FNR = "01017012345"  # the shape of a fødselsnummer (SYNTHETIC: not a real person's)
PNR = "19121212-1212"  # Skatteverket's published test personnummer
DNR_WITH_DOT = "520552.00823"  # the d-nummer the request log missed (issue 12)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_the_access_log_of_helsestat_serve_redacts_identifiers(
    tmp_path: Path, workers: int
) -> None:
    log = tmp_path / "server.log"
    with (
        open(log, "wb") as out,
        helsestat_serve(tmp_path, workers=workers, log_level="INFO", output=out) as (base, _),
    ):
        httpx.get(f"{base}/health", params={"pasient": FNR})
        httpx.get(f"{base}/api/v1/tables/{FNR}", params={"q": PNR, "kommuner": "0301"})
        httpx.get(f"{base}/api/v1/units", params={"q": DNR_WITH_DOT})
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "/health?pasient=<redacted>" in text  # the request was logged …
    assert "/api/v1/tables/<redacted>?q=<redacted>&kommuner=0301" in text
    assert "/api/v1/units?q=<redacted>" in text
    assert FNR not in text and "19121212" not in text  # … without the identifiers
    assert "520552" not in text and "00823" not in text


def test_the_filter_redacts_tracebacks_and_exception_arguments() -> None:
    try:
        raise ValueError(f"no unit {FNR}")
    except ValueError as exc:
        error = exc
        record = logging.LogRecord(
            "helsestat.api", logging.ERROR, __file__, 1, "failed: %s", (exc,), sys.exc_info()
        )
    assert RedactIdentifiers().filter(record)
    text = logging.Formatter().format(record)
    assert FNR not in text and "no unit <redacted>" in text and "Traceback" in text
    assert FNR in str(error)  # the exception itself is left as it was


def test_the_filter_redacts_every_text_argument() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("1.2.3.4", "GET", f"/x?a={FNR}"),
        None,
    )
    assert RedactIdentifiers().filter(record)
    assert record.getMessage() == '1.2.3.4 - "GET /x?a=<redacted>"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FNR, "<redacted>"),
        ("x=41017012345&y=2", "x=<redacted>&y=2"),  # d-nummer
        ("191212121212", "<redacted>"),  # Swedish, 12 digits
        ("121212-1212", "<redacted>"),
        ("19121212%2B1212", "<redacted>"),  # '+' (over 100 years), URL-encoded
        ("q=010170+12345", "q=<redacted>"),  # fødselsnummer as printed, '+' for the space
        ("/x/010170 12345", "/x/<redacted>"),  # a decoded path holds the space itself
        ("q=010170-12345", "q=<redacted>"),
        ("q=121212%201212", "q=<redacted>"),
        ("q=121212%2D1212", "q=<redacted>"),
        ("q=%2201017012345%22", "q=%22<redacted>%22"),  # quoted: the escape ends in a digit
        ("q=ola%2001017012345", "q=ola%20<redacted>"),
        ("q=%2801017012345%29", "q=%28<redacted>%29"),
        ("maned=202401+202402", "maned=202401+202402"),  # two months, not an identifier
        ("kommuner=0301%200302", "kommuner=0301%200302"),
        ("ar=2019-2024", "ar=2019-2024"),
        ("q=%20700272123", "q=%20700272123"),  # a RESH id after an escape
        ("q=SE2321000016-E000", "q=SE2321000016-E000"),  # an HSA-id, which the units API takes
        ("fommaned=202401&tommaned=202412", "fommaned=202401&tommaned=202412"),
        ("kommuner=0301,1103&resh=700272123", "kommuner=0301,1103&resh=700272123"),
        ("1234567890123", "1234567890123"),  # 13 digits: not an identifier's shape
        ("q=520552.00823", "q=<redacted>"),  # '.' between date and the rest
        ("q=520552%2E00823", "q=<redacted>"),
        ("/x/010170/12345", "/x/<redacted>"),
        ("q=010170_12345&r=1", "q=<redacted>&r=1"),
        ("q=121212:1212", "q=<redacted>"),
        ("v=1.2.3&fom=2024.01", "v=1.2.3&fom=2024.01"),
        ("t=2024-01-01T10:15:00", "t=2024-01-01T10:15:00"),
    ],
)
def test_what_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected
