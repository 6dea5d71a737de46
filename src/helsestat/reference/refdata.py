"""The packaged reference files (``helsestat/data/refdata``; what each is and where it comes
from in its PROVENANCE.md): the one reader of their rows.

>>> next(refdata_rows("no_kommuner_2024.csv"))["kommunenr"]
'0301'
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources

#: The package holding the reference files.
REFDATA = "helsestat.data.refdata"


def refdata_rows(name: str) -> Iterator[dict[str, str]]:
    """The rows of the reference file ``name`` (a CSV with a header), as text."""
    with resources.files(REFDATA).joinpath(name).open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


__all__ = ["REFDATA", "refdata_rows"]
