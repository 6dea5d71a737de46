"""Institution lists (Institusjonslister) and drop lists (Dropplister) of specialist health
care, made from the unit registry as of 1 January of a statistics year, as SSB makes them
each year (seed 000's årshjul):

- :mod:`.lists` — the public and private institution lists, and the errors that make a list
  impossible;
- :mod:`.changes` — what changed from last year's lists, as its own table;
- :mod:`.drops` — per reporting foretak, the units its respondents choose from, flagged
  against last year;
- :mod:`.files` — the year's files (Excel, CSV, JSON) made in memory, then written at once.

>>> from helsestat.statistics.institutions.files import dated_name
>>> dated_name(2025, "Dropplister", "csv", __import__("datetime").date(2025, 2, 1))
'2025 Dropplister (010225).csv'
"""

from helsestat.statistics.institutions.changes import ListChange, list_changes
from helsestat.statistics.institutions.drops import DropEntry, DropLists, drop_lists
from helsestat.statistics.institutions.files import (
    YearBundle,
    bundle_files,
    write_bundle,
    year_bundle,
)
from helsestat.statistics.institutions.lists import Institution, InstitutionLists, institution_lists

__all__ = [
    "DropEntry",
    "DropLists",
    "Institution",
    "InstitutionLists",
    "ListChange",
    "YearBundle",
    "bundle_files",
    "drop_lists",
    "institution_lists",
    "list_changes",
    "write_bundle",
    "year_bundle",
]
