"""The institution and drop lists of a year as files and documents, through the writers
every other output uses: CSV records and JSON documents (:mod:`helsestat.publish.documents`)
and workbooks (:mod:`helsestat.publish.formats.xlsx_file`). These are registry listings,
not statistics from microdata, so they carry no protection status.

Everything of a year is made in memory first (:func:`year_bundle`); only then are the files
written, into a new directory that replaces the year's directory in one rename
(:func:`write_bundle`), so a failed list leaves the last published files as they were.
File names follow SSB's scripts: the year first, the date made as ``(ddmmyy)`` last.

>>> from datetime import date
>>> dated_name(2024, "Institusjoner spesialisthelsetjenesten", "xlsx", date(2024, 3, 5))
'2024 Institusjoner spesialisthelsetjenesten (050324).xlsx'
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from helsestat.errors import HelsestatError
from helsestat.publish.documents import render_document, render_records
from helsestat.publish.formats.xlsx_file import Sheet, text_cell, workbook
from helsestat.statistics.institutions.changes import CHANGE_COLUMNS, ListChange, list_changes
from helsestat.statistics.institutions.drops import DROP_COLUMNS, DropLists, drop_lists
from helsestat.statistics.institutions.lists import (
    COLUMNS,
    Institution,
    InstitutionLists,
    NaeringLookup,
    institution_lists,
    naering_lookup,
)

#: SSB's column headings of the institution lists (Excel), by column.
HEADINGS: dict[str, str] = {
    "foretakstype": "Foretakstype",
    "helseregion": "Helseregion",
    "helseregion_navn": "Helseregion_navn",
    "foretaksorgnr": "Foretaksorgnr",
    "foretaksnavn": "Foretaksnavn",
    "rapporteringsnr": "Rapporteringsnr",
    "bedriftsorgnr": "Bedriftsorgnr",
    "institusjonsnavn": "Institusjonsnavn",
    "naeringskode": "Næringskode",
    "naeringsnavn": "Næringsnavn",
    "postnummer": "Postnummer",
    "poststed": "Poststed",
    "enhet_id": "Enhet_id",
}
FORMATS = ("csv", "json", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def dated_name(year: int, title: str, extension: str, made: date) -> str:
    """A file name as SSB's scripts write it: ``<year> <title> (<ddmmyy>).<ext>``."""
    return f"{year} {title} ({made.strftime('%d%m%y')}).{extension}"


def records(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Frozen dataclass rows as dicts."""
    return [dataclasses.asdict(r) for r in rows]


def render_table(rows: Sequence[Any], columns: Sequence[str], fmt: str, *, sheet: str) -> bytes:
    """One table as CSV (UTF-8, ``;``, every field quoted), a JSON array or a workbook of
    one sheet."""
    data = records(rows)
    if fmt == "csv":
        return render_records(data, columns, ";", "utf-8")
    if fmt == "json":
        return render_document([{c: r[c] for c in columns} for r in data], "json", root=sheet)
    return workbook([_sheet(sheet, data, columns)])


def _sheet(name: str, data: list[dict[str, Any]], columns: Sequence[str]) -> Sheet:
    rows = [
        ("<row>" + "".join(text_cell(str(r[c])) for c in columns) + "</row>").encode() for r in data
    ]
    header = tuple(HEADINGS.get(c, c) for c in columns)
    return Sheet(name, header, rows, freeze=True, autofilter=True)


def institutions_workbook(lists: InstitutionLists) -> bytes:
    """The workbook SSB's Institusjonslister makes: one sheet for the public institutions,
    one for the private (every cell text, so organisation numbers keep their digits)."""
    return workbook(
        [
            _sheet("Offentlige", records(lists.public), COLUMNS),
            _sheet("Private", records(lists.private), COLUMNS),
        ],
        title=f"Institusjoner i spesialisthelsetjenesten {lists.year}",
    )


@dataclass(frozen=True)
class YearBundle:
    """Everything published for a year: the lists, the changes from last year (None when
    last year's lists cannot be made), the drop lists and every warning."""

    lists: InstitutionLists
    changes: tuple[ListChange, ...] | None
    drops: DropLists

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.lists.warnings + self.drops.warnings


def previous_lists(session: Session, year: int, naering: NaeringLookup) -> InstitutionLists | None:
    """Last year's lists, or None when the registry (or KLASS 6) cannot make them."""
    try:
        return institution_lists(session, year - 1, naering=naering)
    except HelsestatError:
        return None


def year_bundle(session: Session, year: int, *, naering: NaeringLookup | None = None) -> YearBundle:
    """The lists of ``year`` with last year's differences and the drop lists; the lists of
    ``year`` itself must be possible (else its error, naming the units, is raised)."""
    lookup = naering or naering_lookup(session)
    this = institution_lists(session, year, naering=lookup)
    last = previous_lists(session, year, lookup)
    changes = list_changes(last, this) if last is not None else None
    return YearBundle(this, changes, drop_lists(session, this, last))


def bundle_files(bundle: YearBundle, made: date) -> dict[str, bytes]:
    """The files of a year: file name → bytes (drop lists also one CSV per foretak)."""
    year = bundle.lists.year
    lists = bundle.lists
    files = {
        dated_name(year, "Institusjoner spesialisthelsetjenesten", "xlsx", made): (
            institutions_workbook(lists)
        ),
        dated_name(year, "Offentlige institusjoner spesialisthelsetjenesten", "csv", made): (
            render_table(lists.public, COLUMNS, "csv", sheet="Offentlige")
        ),
        dated_name(year, "Private institusjoner spesialisthelsetjenesten", "csv", made): (
            render_table(lists.private, COLUMNS, "csv", sheet="Private")
        ),
    }
    if bundle.changes is not None:
        files[dated_name(year, "Endringer institusjoner", "csv", made)] = render_table(
            bundle.changes, CHANGE_COLUMNS, "csv", sheet="Endringer"
        )
    for fmt in FORMATS:
        files[dated_name(year, "Dropplister", fmt, made)] = render_table(
            bundle.drops.entries, DROP_COLUMNS, fmt, sheet="Dropplister"
        )
    for orgnr, _ in bundle.drops.foretak():
        name = dated_name(year, f"Droppliste {orgnr or 'uten orgnr'}", "csv", made)
        files[f"dropplister/{name}"] = render_table(
            bundle.drops.of(orgnr), DROP_COLUMNS, "csv", sheet="Droppliste"
        )
    return files


def write_bundle(files: dict[str, bytes], target: Path) -> Path:
    """Write ``files`` into a new directory and put it at ``target`` in one rename (an
    older ``target`` is replaced only once every file is written)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, data in files.items():
            path = work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        os.replace(work, target)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def institution_rows(rows: Sequence[Institution]) -> list[dict[str, Any]]:
    """Rows of a list as dicts in column order (for pages and JSON)."""
    return [{c: r[c] for c in COLUMNS} for r in records(rows)]


__all__ = [
    "FORMATS",
    "HEADINGS",
    "MEDIA_TYPES",
    "YearBundle",
    "bundle_files",
    "dated_name",
    "institution_rows",
    "institutions_workbook",
    "previous_lists",
    "records",
    "render_table",
    "write_bundle",
    "year_bundle",
]
