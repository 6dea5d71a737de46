"""The registry of formats, HTTP Accept negotiation, and the docstring examples."""

from __future__ import annotations

import doctest
import importlib
from typing import get_args

import pytest
from publish_tables import small_table

import helsestat.publish
from helsestat.errors import InputError
from helsestat.model import CellStatus
from helsestat.publish import publish
from helsestat.publish.formats import FORMATS, STATUS_LEGEND, by_media_type, negotiate

MODULES = [
    "helsestat.publish",
    "helsestat.publish.formats",
    "helsestat.publish.formats.csv_",
    "helsestat.publish.formats.json_",
    "helsestat.publish.formats.jsonstat",
    "helsestat.publish.formats.parquet_",
    "helsestat.publish.formats.xlsx",
    "helsestat.publish.formats.xml_",
]


def test_importing_the_package_registers_all_six() -> None:
    assert sorted(FORMATS) == ["csv", "json", "jsonstat", "parquet", "xlsx", "xml"]
    assert helsestat.publish.__all__ == ["publish"]


def test_names_media_types_and_extensions_are_unique() -> None:
    formats = list(FORMATS.values())
    assert [f.name for f in formats] == list(FORMATS)
    for attribute in ("media_type", "extension"):
        values = [getattr(f, attribute) for f in formats]
        assert len(set(values)) == len(values), attribute


def test_media_types() -> None:
    assert {name: f.media_type for name, f in FORMATS.items()} == {
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "jsonstat": "application/vnd.json-stat+json",
        "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xml": "application/xml",
    }
    for fmt in FORMATS.values():
        assert by_media_type(fmt.media_type) is fmt


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_renders_bytes_through_publish(name: str) -> None:
    data = publish(small_table(), name)
    assert isinstance(data, bytes) and data
    assert FORMATS[name].render(small_table()) == data


def test_status_legend_covers_every_cell_status() -> None:
    assert tuple(STATUS_LEGEND) == get_args(CellStatus)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("application/xml", "xml"),
        ("text/xml", "xml"),
        ("text/csv", "csv"),
        ("text/csv; charset=utf-8", "csv"),
        ("TEXT/CSV;Charset=UTF-8", "csv"),
        ("text/*", "csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("application/vnd.json-stat+json", "jsonstat"),
        ("application/jsonstat+json", "jsonstat"),
        ("application/vnd.apache.parquet", "parquet"),
        ("application/*", "json"),
        ("application/json;q=0.5, application/xml", "xml"),
        ("application/json;q=0.5, application/xml;q=0.9, */*;q=0.1", "xml"),
        ("text/csv;q=0.5, */*;q=0.8", "json"),  # the default takes the wildcard's 0.8
        ("application/xml, application/json", "json"),  # equal q: the default
        ("application/xml, text/csv", "xml"),  # equal q, no default: first listed
        ("text/csv, application/xml", "csv"),
        ("*/*, application/json;q=0", "csv"),  # json refused; ties go to registry order
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),  # a browser
        ("application/xml;q=1.0;ext=1", "xml"),  # an accept-extension after q
        ("garbage", "json"),  # unparseable: ignored
        ("text/csv;q=abc, application/xml", "xml"),  # malformed range skipped
        ("text/csv;q=2, application/xml", "xml"),  # out-of-range q skipped
        ("text/csv; charset=latin-1, application/xml;q=0.1", "xml"),  # csv only in UTF-8
        # a parameter the served type does not declare is ignored (JSON has no charset)
        ("application/json;charset=UTF-8", "json"),
        ("application/json; charset=utf-8", "json"),
        ("application/xml; charset=utf-8", "xml"),
        ("text/xml;charset=utf-8", "xml"),
        ("application/vnd.json-stat+json; charset=utf-8", "jsonstat"),
        ("application/xml;charset=utf-8;q=0.9, application/json;charset=utf-8;q=0.5", "xml"),
        ("application/json;charset=utf-8;q=0, application/xml;q=0.1", "xml"),  # q still counts
        ("text/csv;header=present", "csv"),
    ],
)
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept).name == expected


def test_negotiate_with_another_default() -> None:
    assert negotiate("*/*", default="csv").name == "csv"
    assert negotiate(None, default="jsonstat").name == "jsonstat"
    assert negotiate("application/*", default="xlsx").name == "xlsx"


@pytest.mark.parametrize(
    "accept",
    [
        "image/png",
        "text/html",
        "application/json;q=0, text/plain",
        "text/csv;charset=latin-1",  # a parameter the served type declares must match
    ],
)
def test_negotiate_not_acceptable(accept: str) -> None:
    with pytest.raises(InputError) as caught:
        negotiate(accept)
    assert (caught.value.code, caught.value.status) == ("format.not_acceptable", 406)
    assert "application/json" in caught.value.hint


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
