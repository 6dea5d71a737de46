"""Parquet and Excel: helsestat's own writers against the libraries, on the served answers.

For the typical takstbruk queries of the serving benchmark (``bench_serve.typical_queries``),
the whole answer — parameters checked, rows selected from the index, the file written — is
timed in-process twice, interleaved: once with helsestat's writer (what the API serves) and
once writing the same rows with the library a reader would reach for (pyarrow's
``pq.write_table`` for Parquet, XlsxWriter for Excel, with the same sheet: bold frozen
header, text, numbers). The rule (docs/architecture.md): keep a hand-written writer only
where the library makes the served answer more than twice as slow. Each file written by a
library is read back and compared with ours (same cells), so the comparison is of like with
like.

Usage: ``.venv/bin/python -m benchmarks.bench_writers --data-dir DIR`` (a lake built by
``bench_serve.build_demo``). :func:`run` is what ``benchmarks/run.py`` calls.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from benchmarks.bench_serve import for_format, typical_queries


def _pyarrow(selection: Any) -> bytes:
    """The selected rows' published columns, written by pyarrow."""
    index = selection.index
    table = index.view.take(pa.array(selection.rows))
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(index.view.schema.metadata), sink)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def _xlsxwriter(selection: Any, view: Any) -> bytes:
    """The rows of the view, written by XlsxWriter (bold frozen header, text and numbers)."""
    from helsestat.publish.views import field_names, row_values

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("data")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, field_names(selection, view), bold)
    sheet.freeze_panes(1, 0)
    for row, values in enumerate(row_values(selection, view), start=1):
        for col, value in enumerate(values):
            if isinstance(value, str):
                sheet.write_string(row, col, value)
            elif value is not None:
                sheet.write_number(row, col, value)
    book.close()
    return out.getvalue()


def _cells(data: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))["data"]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def run(data_dir: Path, rounds: int = 5, count: int = 200) -> list[dict[str, Any]]:
    """Per format: median microseconds per served answer with helsestat's writer and with
    the library, and their ratio."""
    from benchmarks.bench_build import holder_of
    from helsestat.api.fastpath import query_items
    from helsestat.api.service import CODE_LISTS_MAX_AGE, Prepared, TableService
    from helsestat.publish.formats import FORMATS
    from helsestat.statistics import STATISTICS
    from helsestat.store.lake import Lake

    service = TableService(
        Lake(data_dir),
        STATISTICS,
        version="bench",
        reference=partial(holder_of(data_dir).get, max_age=CODE_LISTS_MAX_AGE),
    )
    results = []
    for fmt in ("parquet", "xlsx"):
        requests = []
        for path in typical_queries(data_dir, count):
            url = for_format(path, fmt)
            route, query = url.split("?")
            requests.append((route, query_items(query.encode())))

        def ours(route: str, items: list[tuple[str, str]]) -> bytes:
            prepared = service.prepare_route(route, items, None, None)
            assert isinstance(prepared, Prepared)
            selection = service.select(prepared, service.index(prepared))
            return FORMATS[prepared.fmt].render_selection(selection, prepared.view)

        def library(route: str, items: list[tuple[str, str]], fmt: str = fmt) -> bytes:
            prepared = service.prepare_route(route, items, None, None)
            assert isinstance(prepared, Prepared)
            selection = service.select(prepared, service.index(prepared))
            if fmt == "parquet":
                return _pyarrow(selection)
            return _xlsxwriter(selection, prepared.view)

        for route, items in requests[:20]:  # the same cells either way
            a, b = ours(route, items), library(route, items)
            if fmt == "parquet":
                assert pq.read_table(io.BytesIO(a)).equals(pq.read_table(io.BytesIO(b)))
            else:
                assert _cells(a) == _cells(b)
        timings: dict[str, list[float]] = {"helsestat": [], "library": []}
        contenders: dict[str, Callable[[str, list[tuple[str, str]]], bytes]] = {
            "helsestat": ours,
            "library": library,
        }
        for answer in contenders.values():  # warm: indexes loaded, rows rendered once
            for route, items in requests:
                answer(route, items)
        for _ in range(rounds):  # interleaved rounds: a noisy spell hits both alike
            for name, answer in contenders.items():
                start = time.perf_counter()
                for route, items in requests:
                    answer(route, items)
                timings[name].append((time.perf_counter() - start) / len(requests) * 1e6)
        ours_us = statistics.median(timings["helsestat"])
        library_us = statistics.median(timings["library"])
        results.append(
            {
                "format": fmt,
                "library": "pyarrow" if fmt == "parquet" else "XlsxWriter",
                "helsestat_us": round(ours_us),
                "library_us": round(library_us),
                "ratio": round(library_us / ours_us, 1),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for result in run(args.data_dir, args.rounds):
        print(result)


if __name__ == "__main__":
    main()
