"""The identifier scan finds every identifier python-stdnum accepts, in every written form and
inside any text, and leaves dates, amounts, codes and unit ids alone (SYNTHETIC identifiers:
generated with valid check digits, not anyone's)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.no import fodselsnummer
from stdnum.se import personnummer

from helsestat.validate.identifier_scan import (
    SEPARATORS,
    SHAPES,
    find_identifiers,
    identifier_rows,
    redact_identifiers,
    replace_identifiers,
)

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
#: text around an identifier: anything but a digit next to it (digits glued on make a longer
#: number, which is not an identifier)
around = st.text(st.characters(exclude_categories=("Cs",)), max_size=12).filter(
    lambda s: not s[-1:].isdigit()
)
after = st.text(st.characters(exclude_categories=("Cs",)), max_size=12).filter(
    lambda s: not s[:1].isdigit()
)


@st.composite
def norwegian(draw: st.DrawFn) -> tuple[str, str]:
    """(number, rule): a fødselsnummer, d-nummer or h-nummer that stdnum accepts."""
    born = draw(days)
    rule = draw(st.sampled_from(("fodselsnummer", "d_nummer", "h_nummer")))
    day = born.day + (40 if rule == "d_nummer" else 0)
    month = born.month + (40 if rule == "h_nummer" else 0)
    # individual numbers 000-499: born 1900-1999; 500-999: born 2000-2039
    individual = draw(st.integers(0, 499) if born.year < 2000 else st.integers(500, 999))
    nine = f"{day:02d}{month:02d}{born.year % 100:02d}{individual:03d}"
    k1 = fodselsnummer.calc_check_digit1(nine)
    k2 = fodselsnummer.calc_check_digit2(nine + k1)
    number = nine + k1 + k2
    # a remainder of 10 leaves no valid number for these nine digits
    assume(len(number) == 11 and fodselsnummer.is_valid(number))
    return number, rule


@st.composite
def swedish(draw: st.DrawFn) -> tuple[str, str]:
    """(number, rule): a personnummer (10 or 12 digits) or samordningsnummer (day + 60)."""
    born = draw(days)
    rule = draw(st.sampled_from(("personnummer", "samordningsnummer")))
    day = born.day + (60 if rule == "samordningsnummer" else 0)
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    ten = nine + luhn.calc_check_digit(nine)
    if draw(st.booleans()):
        return f"{born.year // 100}{ten}", rule
    return ten, rule


def written(number: str, separator: str | None) -> str:
    """The number as a person might write it: with a separator before the last 5 (Norway)
    or 4 (Sweden) digits, or none."""
    if separator is None:
        return number
    cut = 6 if len(number) == 11 else len(number) - 4
    return number[:cut] + separator + number[cut:]


separators = st.one_of(st.none(), st.sampled_from(SEPARATORS))


@settings(max_examples=300, deadline=None)
@given(norwegian(), separators, around, after)
def test_every_norwegian_number_stdnum_accepts_is_found(
    found: tuple[str, str], separator: str | None, before: str, behind: str
) -> None:
    number, rule = found
    text = before + written(number, separator) + behind
    hits = find_identifiers(pa.array([text]))
    assert [SHAPES[s] for s in hits.shape] == [rule]
    start, end = int(hits.start[0]), int(hits.end[0])
    assert text.encode()[start:end].decode() == written(number, separator)


@settings(max_examples=300, deadline=None)
@given(swedish(), separators, around, after)
def test_every_swedish_number_is_found(
    found: tuple[str, str], separator: str | None, before: str, behind: str
) -> None:
    number, rule = found
    if rule == "personnummer":  # the oracle knows personnummer (not samordningsnummer)
        assert personnummer.is_valid(written(number, "-"))
    text = before + written(number, separator) + behind
    assert [SHAPES[s] for s in find_identifiers(pa.array([text])).shape] == [rule]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=10, max_size=12), max_size=50))
def test_the_scan_agrees_with_stdnum_on_digit_strings(numbers: list[str]) -> None:
    rows = identifier_rows(pa.array(numbers, pa.string()))
    for number, rule in zip(numbers, rows, strict=True):
        if len(number) == 11:
            accepted = fodselsnummer.is_valid(number)
        else:
            accepted = number[:2] in ("18", "19", "20") if len(number) == 12 else True
            accepted = accepted and personnummer.is_valid(written(number, "-"))
        if accepted:
            assert rule >= 0, number  # never missed; the scan may find a little more


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-18",
        "20240318",
        "0301",
        "R1029384",
        "194.00",
        "1000000.00",
        "202401+202402",
        "700272123",  # a RESH id
        "SE2321000016-E000",  # an HSA-id: an organisation number, month 21
        "556036-0793",  # a Swedish organisation number (month 60)
        "22 33 44 55",
        "1234567890123",  # 13 digits
        "01018012372",  # a fødselsnummer with a wrong check digit
        "010180123710",  # one digit glued on
        "2ad",
        "",
    ],
)
def test_what_is_not_an_identifier(text: str) -> None:
    assert len(find_identifiers(pa.array([text]))) == 0


def test_two_values_never_make_one_number() -> None:
    # "010180" ending one value and "12371" starting the next are not 01018012371
    assert identifier_rows(pa.array(["x010180", "12371", "0101801", "2371y"])).tolist() == [-1] * 4


@pytest.mark.parametrize(
    "array",
    [
        pa.array(["R74", None, "ring 01018012371 i dag"], pa.string()),
        pa.array(["R74", None, "ring 01018012371 i dag"], pa.large_string()),
        pa.array(["R74", None, "ring 01018012371 i dag"]).dictionary_encode(),
        pa.chunked_array([["R74", None], ["ring 01018012371 i dag"]]),
        pa.array(["x", "R74", None, "ring 01018012371 i dag"]).slice(1),
    ],
    ids=["string", "large_string", "dictionary", "chunked", "sliced"],
)
def test_every_kind_of_text_array(array: pa.Array | pa.ChunkedArray) -> None:
    assert identifier_rows(array).tolist() == [-1, -1, 0]


def test_many_values_scanned_at_once_match_one_by_one() -> None:
    rng = np.random.default_rng(5)
    numbers = [f"{n:011d}" for n in rng.integers(0, 10**11, 20_000)]
    texts = [f"{n[:6]}{' .-'[i % 3]}{n[6:]} x" if i % 2 else n for i, n in enumerate(numbers)]
    together = identifier_rows(pa.array(texts)).tolist()
    assert together[:1000] == [identifier_rows(pa.array([t])).tolist()[0] for t in texts[:1000]]
    for number, rule in zip(numbers, together, strict=True):
        assert rule >= 0 or not fodselsnummer.is_valid(number)


def test_replace_and_redact() -> None:
    values = pa.array(["a 010180 12371 og 19121212-1212", "R74", None])
    out = replace_identifiers(values, lambda rule, digits: f"[{rule}:{digits[-2:]}]")
    assert out.to_pylist() == ["a [fodselsnummer:71] og [personnummer:12]", "R74", None]
    assert redact_identifiers("Bø 41018012365.csv") == "Bø <redacted>.csv"
    assert redact_identifiers("claims_2024_01.csv") == "claims_2024_01.csv"


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("01018012371", "fodselsnummer"),
        ("41018012365", "d_nummer"),
        ("01418012354", "h_nummer"),
        ("52055200823", "d_nummer"),  # written 520552.00823 in the request log
        ("121212-1212", "personnummer"),
        ("191212121212", "personnummer"),
        ("121272-1219", "samordningsnummer"),
    ],
)
def test_each_rule(number: str, rule: str) -> None:
    assert [SHAPES[s] for s in find_identifiers(pa.array([number])).shape] == [rule]
