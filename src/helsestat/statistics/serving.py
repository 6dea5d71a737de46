"""How a statistic is served, declared as data beside its cube: the index key of its tables,
the query parameters of its API routes, the API it stays compatible with, the labels its
pages speak and its dashboard. ``helsestat.api`` generates the routes, the fast query path,
the formats and the dashboard page from these declarations; nothing is written per statistic
outside ``statistics/<name>.py``.

>>> p = CodeParameter("kommuner", "behandler_kommunenr", codes="kommuner")
>>> p.name, p.dimension
('kommuner', 'behandler_kommunenr')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.model import ProtectedTable
from helsestat.publish.index import Columns, Key
from helsestat.publish.views import DEFAULT, View
from helsestat.reference.snapshot import Reference

#: Code list name → code → label (the public lists a statistic's queries are checked against).
CodeLists = Mapping[str, Mapping[str, str]]


def no_code_lists(reference: Reference) -> CodeLists:
    """A statistic without public code lists: its parameters take any value.

    >>> no_code_lists(None)  # type: ignore[arg-type]
    {}
    """
    return {}


@dataclass(frozen=True)
class CodeParameter:
    """A query parameter taking codes of one dimension, comma-separated (a repeated
    parameter adds codes). ``codes`` names the code list the values are checked against
    (None: any value); ``what`` is how an error names one value (``kommunenummer``);
    ``hint`` what a missing required parameter's error suggests."""

    name: str
    dimension: str
    codes: str | None = None
    what: str = ""
    required: bool = False
    description: str = ""
    hint: str = ""


@dataclass(frozen=True)
class PeriodParameters:
    """The first and last period of a query, inclusive, as written on the wire: ``digits``
    4 for years (``2019``), 6 for months (``201905``, or ``2019-05`` with ``dash``).
    ``max_months`` bounds the span; the values are compared with the index's range
    (:class:`~helsestat.publish.index.Range`)."""

    first: str
    last: str
    digits: Literal[4, 6]
    example: tuple[str, str]
    required: bool = True
    max_months: int | None = None
    dash: bool = False
    description: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Route:
    """One path of an API a statistic stays compatible with, answering one table.

    ``fixed_format``: the path always answers this format (an export path); otherwise the
    format comes from ``?format=`` (when ``format_parameter``) or the ``Accept`` header.
    ``aliases`` answer the same (an old prefix). ``disposition`` and ``filename`` make the
    ``Content-Disposition`` header (the filename's extension is the format's)."""

    path: str
    name: str
    table: str
    summary: str
    description: str
    parameters: tuple[CodeParameter, ...]
    period: PeriodParameters | None = None
    fixed_format: str | None = None
    format_parameter: bool = False
    aliases: tuple[str, ...] = ()
    disposition: Literal["inline", "attachment"] = "inline"
    filename: str = "data"


@dataclass(frozen=True)
class CompatibleApi:
    """The routes of an API a statistic replaces, with the fields its rows carry (``view``)
    and the name of the parameter that adds the suppressed cells (``ja``/``nei``)."""

    tag: str
    routes: tuple[Route, ...]
    view: View
    suppressed_parameter: str
    parameter_descriptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chart:
    """A chart of a table: ``measure`` over ``x`` (the index's range or a dimension), summed
    over the other dimensions, one series per combination of ``series`` (at most
    ``max_series``; an entry may be alternatives, the first the table has counting, and
    an entry the table has none of is shown as the page's ``total`` label), lines or bars.
    Values of the ``named`` dimensions are shown with their names."""

    measure: str
    x: str
    series: tuple[str | tuple[str, ...], ...] = ()
    kind: Literal["line", "bar"] = "line"
    max_series: int = 12
    named: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """A form field of a dashboard page that picks one of several values (a level, a
    period kind): ``options`` value → label."""

    name: str
    label: str
    options: Mapping[str, str]
    default: str


PanelKind = Literal["bar", "hbar", "line", "pyramid", "table", "drill", "tiles", "heatmap"]


@dataclass(frozen=True)
class Drill:
    """How a drill-down table leads down a hierarchy: its rows are the query's own node
    (first) and the nodes one level below it, ``level`` the column naming each row's level
    (a value of ``levels``, or the table's total). A row links to the same page with the
    row's values of the page's filters added; the breadcrumb walks back up ``levels``
    (coarse → fine filters). ``names``: a level → the column that names its value."""

    level: str
    levels: tuple[str, ...]
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Panel:
    """One panel of a dashboard :class:`Page`: a table of the statistic for the page's query
    (its month range and filters), drawn as ``kind`` with its rows beside, and the links to
    the table's downloads in every format (the API's URLs of the same query).

    - ``bar``, ``hbar`` (bars along the rows, for long names), ``line``: ``measures`` over
      ``x`` (one series per measure, or with ``series`` one per value of that dimension, of
      the first measure);
    - ``pyramid``: the first measure per ``x`` (the rows, e.g. age groups) with the two
      ``sides`` values of ``series`` drawn to the left and to the right (e.g. kön);
    - ``table``: the rows alone; ``drill``: a drill-down table (:class:`Drill`).
    - ``tiles``: a tile-grid map, one square per row at its ``x`` and ``y`` columns, coloured
      by ``series`` (without one: by the first measure, on a colour scale), hover naming
      ``label`` and the first measure (downloadable as SVG).
    - ``heatmap``: a matrix of the first measure, ``x`` across and ``series`` down, named by
      ``label`` and ``series_label`` (e.g. patient flows between HF areas).

    ``label`` names the column whose text labels ``x`` (a name beside a code); ``skip``
    leaves rows out of the chart (a dimension → values, e.g. totals; the rows still show
    them); ``columns`` are the columns shown (default: the dimensions and ``measures``, or
    all measures); ``percent`` the measures shown as shares; ``text`` what the panel shows;
    ``wide`` takes the page's whole width. Suppressed cells are gaps in a chart, marked and
    explained in its legend, and marked in the rows.

    ``filters``: on a dashboard of stored tables (no :class:`Ranged`), the page's choices
    the panel's table is asked with (None: every choice; ``()``: none, e.g. a time series
    over every year)."""

    table: str
    title: str
    kind: PanelKind
    x: str = ""
    measures: tuple[str, ...] = ()
    series: str = ""
    sides: tuple[str, str] | None = None
    label: str = ""
    skip: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()
    drill: Drill | None = None
    text: str = ""
    wide: bool = False
    series_label: str = ""
    filters: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Page:
    """A page of a statistic's dashboard, ``/dashboard/<statistic>/<name>`` (the first page
    is also ``/dashboard/<statistic>``): its panels, in order, share one query — the month
    range and the filters of a :class:`Ranged` statistic — picked in the page's form and
    kept when another page is opened."""

    name: str
    title: str
    panels: tuple[Panel, ...]
    intro: str = ""


@dataclass(frozen=True)
class Dashboard:
    """A statistic's dashboard: either pages of panels (``pages``: :class:`Page`), or one
    page with a form whose ``choices`` pick what to show — a route of the API the statistic
    stays compatible with (``route`` maps the choices' values to a route name) or one of its
    tables (``table`` maps them to a table name) — the query's code parameters (a table's
    dimensions) as lists labelled from the statistic's code lists, the period as two fields
    with defaults per choice (``periods``); once sent, the rows and the ``chart`` of the
    answer and the downloads in every format.

    ``option_label`` formats a code list's entries (``{code} {label}``); ``single`` names
    the parameters chosen one at a time; ``defaults`` pre-selects values; ``labels`` names
    the fields, the columns and the words of the page (``total``, ``show``, …; English
    when not given); ``lang`` is the page's language (``en``, ``nb``, ``sv``).

    A dashboard of ``pages`` over stored tables (no :class:`Ranged`) takes its ``choices``
    as the page's filters: each a dimension value its panels' tables are asked with
    (:attr:`Panel.filters`); a choice without ``options`` offers the values of its column
    in the first panel that uses it, the last first, and defaults to the first."""

    title: str
    link: str
    intro: str
    choices: tuple[Choice, ...] = ()
    chart: Chart | None = None
    route: Callable[[Mapping[str, str]], str] | None = None
    table: Callable[[Mapping[str, str]], str] | None = None
    periods: Callable[[Mapping[str, str]], tuple[str, str]] | None = None
    option_label: Mapping[str, str] = field(default_factory=dict)
    single: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    lang: str = "en"
    pages: tuple[Page, ...] = ()


@dataclass(frozen=True)
class RangeQuery:
    """A query of a statistic computed per request: months ``first…last`` (month indexes,
    inclusive) and one value per filter."""

    first: int
    last: int
    filters: Mapping[str, str] = field(default_factory=dict)


#: The prefix of the data a ranged statistic's build carries to its next build
#: (:attr:`Ranged.extend`): cached with its data, never linked into a release.
CARRIED = "carried_"


@dataclass(frozen=True)
class Ranged:
    """A statistic whose tables are computed for any month range per request, from data its
    build stores with the release (e.g. a range cube) rather than from stored tables.

    ``build(files, reference, engine)`` makes the data from the committed extract files (named
    Arrow tables); ``load(tables)`` turns the stored tables into what ``answer`` reads (once
    per release and process); ``months(data)`` is the first and last month with data;
    ``answer(data, table, query)`` is the protected table (``table`` without the statistic's
    prefix). The routes take ``first``/``last`` (``YYYY-MM``; default: the last 12 months)
    and one value each of ``filters``.

    ``options(data, filter, filters)``: the values (value, name) ``filter`` can take within
    the other ``filters`` (the dashboard's lists; None: none to offer until a filter it
    depends on is chosen). Without it, the dashboard asks for the values as text. With
    ``options_complete`` they list every value the data hold over all months (not only the
    dashboard's choices), so the API refuses a value outside them (``query.unknown_code``).

    ``columns(data, table, query, release)`` (optional): the same answer as ``answer``,
    handed as the columns an index holds (:class:`~helsestat.publish.index.Columns`, made
    into an index by :meth:`~helsestat.publish.index.TableIndex.of_columns`); the server
    serves it this way when given (nothing is written as Arrow columns to be read back).

    ``extend(previous, files, reference, engine)`` (optional): the data of ``build`` over
    the files ``previous`` (its data) was built from and the added ``files`` (a new month),
    from those alone — or None when it cannot (the build then runs ``build`` over every
    file). Data named with the :data:`CARRIED` prefix are what ``build`` and ``extend``
    carry to the next ``extend``: kept with the data, never published."""

    build: Callable[[Sequence[Path], Reference, DuckDBEngine], Mapping[str, pa.Table]]
    load: Callable[[Mapping[str, pa.Table]], Any]
    months: Callable[[Any], tuple[int, int]]
    answer: Callable[[Any, str, RangeQuery], ProtectedTable]
    filters: tuple[str, ...]
    first: str = "fom"
    last: str = "tom"
    earliest: int = 0
    options: Callable[[Any, str, Mapping[str, str]], Sequence[tuple[str, str]] | None] | None = None
    options_complete: bool = False
    columns: Callable[[Any, str, RangeQuery, str], Columns] | None = None
    extend: (
        Callable[
            [Mapping[str, pa.Table], Sequence[Path], Reference, DuckDBEngine],
            Mapping[str, pa.Table] | None,
        ]
        | None
    ) = None


def stored_order(table: str) -> Key:
    """The key of a table indexed in its stored order (no key columns).

    >>> stored_order("t").columns
    ()
    """
    return Key()


@dataclass(frozen=True)
class Serving:
    """How the tables of a statistic are served.

    ``key``: how a table (by name) is indexed (names a table lacks are left out);
    ``view``: the fields of the row formats on ``/api/v1/tables/…`` (default: the published
    columns); ``code_lists``: the public lists the parameters are checked against and the
    pages label codes with, made from the reference snapshot (the reference database's
    content, so a loaded code list is used from the next check on); ``dimension_codes``:
    the code list of a dimension, for the filters of ``/api/v1/tables/…`` and the page's
    lists; ``compatible``: an API the
    statistic stays compatible with; ``dashboard``: its page (None: only the generic table
    pages); ``ranged``: the tables are computed per query from data the build stores
    (:class:`Ranged`)."""

    key: Callable[[str], Key] = stored_order
    view: View = DEFAULT
    code_lists: Callable[[Reference], CodeLists] = no_code_lists
    dimension_codes: Mapping[str, str] = field(default_factory=dict)
    compatible: CompatibleApi | None = None
    dashboard: Dashboard | None = None
    ranged: Ranged | None = None


__all__ = [
    "CARRIED",
    "Chart",
    "Choice",
    "CodeLists",
    "CodeParameter",
    "CompatibleApi",
    "Dashboard",
    "Drill",
    "Page",
    "Panel",
    "PanelKind",
    "PeriodParameters",
    "RangeQuery",
    "Ranged",
    "Route",
    "Serving",
    "no_code_lists",
    "stored_order",
]
