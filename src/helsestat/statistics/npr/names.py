"""Names beside codes: HF and RHF by organisation number (the code space of KLASS 603 and of
the catchment lists 629-632), and the sectors.

>>> hf_name("983974724"), rhf_name("983658725"), SEKTORER["phbu"]
('Helse Bergen HF', 'Helse Vest RHF', 'Psykisk helsevern for barn og unge')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.klass_catchment import RHF, hf_names

#: Sector code (the unit's sector, set at ingest) → name.
SEKTORER: Final[Mapping[str, str]] = {
    "somatikk": "Somatikk",
    "phv": "Psykisk helsevern for voksne",
    "phbu": "Psykisk helsevern for barn og unge",
    "tsb": "Tverrfaglig spesialisert rusbehandling",
    "rehab": "Rehabiliteringsinstitusjoner",
}


#: The code of a value that could not be told (a patient's area without bydel in Oslo …):
#: published dimensions are never empty.
UKJENT: Final = "ukjent"


def known(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The column with a missing value coded :data:`UKJENT`.

    >>> known(pa.array(["01", None])).to_pylist()
    ['01', 'ukjent']
    """
    return pc.fill_null(column, UKJENT)


def hf_name(code: str | None) -> str:
    """The HF's name, or the code when the list does not hold it."""
    if code is None or code == UKJENT:
        return "Ukjent"
    return hf_names().get(code, code)


def rhf_name(code: str | None) -> str:
    """The RHF's name, or the code when the list does not hold it."""
    if code is None or code == UKJENT:
        return "Ukjent"
    return RHF.get(code, code)


def named(column: pa.ChunkedArray | pa.Array, name: Callable[[str | None], str]) -> pa.Array:
    """A name column for a code column (one lookup per distinct code).

    >>> named(pa.array(["983658725", None]), rhf_name).to_pylist()
    ['Helse Vest RHF', 'Ukjent']
    """
    values = column.to_pylist()
    found = {v: name(v) for v in set(values)}
    return pa.array([found[v] for v in values], pa.string())


__all__ = ["SEKTORER", "UKJENT", "hf_name", "known", "named", "rhf_name"]
