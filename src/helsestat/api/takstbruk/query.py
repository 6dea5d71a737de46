"""The URLs and query parameters of Helfo's takstbruk API, parsed and checked.

Paths (each also under the old prefix ``/api/opne-data/v1/takstbruk``)::

    /v1/takstbruk/agtakst/{kommune|fylke|landet}/{maned|ar}                 JSON or XML
    /v1/takstbruk/eksport/agtakst/{kommune|fylke|landet}/{maned|ar}         CSV
    /v1/takstbruk/eksport/msexcel/agtakst/{kommune|fylke|landet}/{maned|ar} Excel

Parameters as Helfo documents them (seed 004): ``fagomraade`` (mandatory), ``fommaned`` and
``tommaned`` (YYYYMM, mandatory on /maned, at most 13 months) or ``fomar`` and ``tomar``
(YYYY, mandatory on /ar), ``takstkoder``, ``kommuner`` (kommune routes), ``fylker`` (fylke
routes), ``praksistyper`` — lists comma-separated, a repeated list parameter adds values.
helsestat adds ``medstatus=ja`` (include suppressed cells), ``release=<id>`` and, on the
JSON/XML routes, ``format=json|xml|csv|xlsx|jsonstat|parquet``.

Every failure is a :class:`~helsestat.errors.QueryError` (400) with a stable code:
``query.unknown_parameter``, ``query.repeated_parameter``, ``query.missing_parameter``,
``query.unknown_code``, ``query.malformed_period``, ``query.period_reversed``,
``query.period_too_long``, ``query.invalid_value``, ``query.unknown_format``.

>>> ep = ENDPOINTS["/v1/takstbruk/agtakst/kommune/maned"]
>>> q = parse_query(ep, parse_envelope(ep, [("fagomraade", "LE"), ("fommaned", "201805"),
...     ("tommaned", "201905"), ("kommuner", "0301")]).params)
>>> q.fra, q.til, q.geografi
(201805, 201905, ('0301',))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from helsestat.api.takstbruk.codes import CodeLists, code_lists
from helsestat.errors import QueryError

LEVELS: Final = ("kommune", "fylke", "landet")
PERIODS: Final = ("maned", "ar")
#: Route families: Helfo's JSON/XML, CSV export and Excel export.
FAMILIES: Final = ("agtakst", "eksport", "msexcel")
PREFIX: Final = "/v1/takstbruk"
#: The old root's path prefix, kept as an alias (Helfo: "De gamle URLene vil fortsette å
#: fungere inntil ingen bruker de lenger").
OLD_PREFIX: Final = "/api/opne-data/v1/takstbruk"
MAX_MONTHS: Final = 13
#: ``format`` values of the helsestat extension (the registry's names).
FORMAT_NAMES: Final = ("csv", "json", "jsonstat", "parquet", "xlsx", "xml")
_RELEASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+-]{0,99}")
_MONTH = re.compile(r"(\d{4})(\d{2})")
_YEAR = re.compile(r"\d{4}")
#: Values longer than this are never echoed in an error (they could be an identifier).
_ECHO_LIMIT: Final = 8


@dataclass(frozen=True)
class Endpoint:
    """One of the 18 Helfo routes (family × level × period)."""

    family: str
    level: str
    period: str

    @cached_property
    def table(self) -> str:
        """The published table this route reads, e.g. ``takstbruk/kommune/maned``."""
        return f"takstbruk/{self.level}/{self.period}"

    @cached_property
    def suffix(self) -> str:
        """The path after the prefix, e.g. ``/eksport/agtakst/kommune/ar``."""
        family = {"agtakst": "", "eksport": "/eksport", "msexcel": "/eksport/msexcel"}
        return f"{family[self.family]}/agtakst/{self.level}/{self.period}"

    @cached_property
    def path(self) -> str:
        """The canonical (new-prefix) path; the old prefix serves the same answers."""
        return PREFIX + self.suffix

    @cached_property
    def geo_parameter(self) -> str | None:
        """``kommuner`` on kommune routes, ``fylker`` on fylke routes, none on landet."""
        return {"kommune": "kommuner", "fylke": "fylker"}.get(self.level)

    @cached_property
    def period_parameters(self) -> tuple[str, str]:
        return ("fommaned", "tommaned") if self.period == "maned" else ("fomar", "tomar")

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """Every query parameter the route accepts, Helfo's first."""
        geo = (self.geo_parameter,) if self.geo_parameter else ()
        helfo = ("fagomraade", *self.period_parameters, "takstkoder", *geo, "praksistyper")
        extra = ("format",) if self.family == "agtakst" else ()
        return (*helfo, "medstatus", "release", *extra)


ENDPOINTS: Final[dict[str, Endpoint]] = {
    prefix + ep.suffix: ep
    for prefix in (PREFIX, OLD_PREFIX)
    for ep in (Endpoint(f, lvl, p) for f in FAMILIES for lvl in LEVELS for p in PERIODS)
}
_LISTS: Final = frozenset({"fagomraade", "takstkoder", "kommuner", "fylker", "praksistyper"})


@dataclass(frozen=True)
class Envelope:
    """The helsestat parameters of a request, and Helfo's, not yet checked."""

    format: str | None
    release: str | None
    medstatus: bool
    params: dict[str, list[str]]


@dataclass(frozen=True)
class TakstbrukQuery:
    """A checked query. Periods are integers (YYYYMM on /maned, YYYY on /ar); code tuples
    are sorted and without duplicates; an empty tuple means "no filter"."""

    fagomraader: tuple[str, ...]
    fra: int
    til: int
    takstkoder: tuple[str, ...] = ()
    geografi: tuple[str, ...] = ()
    praksistyper: tuple[str, ...] = ()

    def canonical(self, endpoint: Endpoint) -> dict[str, tuple[str, ...]]:
        """The query as parameter → values, the same for every spelling of it (ETag input).

        >>> ep = ENDPOINTS["/v1/takstbruk/agtakst/landet/ar"]
        >>> TakstbrukQuery(("LE",), 2015, 2019).canonical(ep)["fomar"]
        ('2015',)
        """
        fra, til = endpoint.period_parameters
        out = {
            "fagomraade": self.fagomraader,
            fra: (str(self.fra),),
            til: (str(self.til),),
            "takstkoder": self.takstkoder,
            "praksistyper": self.praksistyper,
        }
        if endpoint.geo_parameter:
            out[endpoint.geo_parameter] = self.geografi
        return out


def _shown(value: str) -> str:
    return repr(value) if len(value) <= _ECHO_LIMIT else f"a value of {len(value)} characters"


def _shown_name(key: str) -> str:
    """A parameter name as an error may echo it: names are words, so one with many digits
    (a fødselsnummer pasted as a name) is described, not repeated."""
    if len(key) <= 40 and sum(c.isdigit() for c in key) <= 4:
        return repr(key)
    return f"a name of {len(key)} characters"


def parse_envelope(endpoint: Endpoint, items: Iterable[tuple[str, str]]) -> Envelope:
    """Sort the parameters into helsestat's and Helfo's; refuse unknown ones, a repeated
    single-valued one, an unknown ``format`` and a malformed ``release`` id.

    >>> ep = ENDPOINTS["/v1/takstbruk/agtakst/fylke/ar"]
    >>> parse_envelope(ep, [("kommuner", "0301")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helsestat.errors.QueryError: parameter 'kommuner' is not accepted on ... (hint: ...)
    """
    accepted = endpoint.parameters
    params: dict[str, list[str]] = {}
    for key, value in items:
        if key not in accepted:
            raise QueryError(
                "query.unknown_parameter",
                f"parameter {_shown_name(key)} is not accepted on {endpoint.path}",
                hint="accepted: " + ", ".join(accepted),
            )
        if key in params and key not in _LISTS:
            raise QueryError(
                "query.repeated_parameter",
                f"parameter {key!r} is given more than once",
                hint=f"give {key} once",
            )
        params.setdefault(key, []).append(value)
    fmt = params.pop("format", [None])[0]
    if fmt is not None and fmt not in FORMAT_NAMES:
        raise QueryError(
            "query.unknown_format",
            f"query parameter 'format': unknown format {_shown(fmt)}",
            hint="use one of: " + ", ".join(FORMAT_NAMES),
        )
    release = params.pop("release", [None])[0]
    if release is not None and not _RELEASE.fullmatch(release):
        raise QueryError(
            "query.invalid_value",
            "parameter 'release' is not a release id",
            hint="GET /api/v1/releases lists the release ids",
        )
    medstatus = params.pop("medstatus", ["nei"])[0]
    if medstatus not in ("ja", "nei"):
        raise QueryError(
            "query.invalid_value",
            "parameter 'medstatus' must be 'ja' or 'nei'",
            hint="medstatus=ja includes the suppressed cells, with null measures and a status",
        )
    return Envelope(fmt, release, medstatus == "ja", params)


def _values(params: Mapping[str, list[str]], key: str) -> tuple[str, ...]:
    raws = params.get(key)
    if not raws:
        return ()
    if len(raws) == 1 and "," not in raws[0]:  # the common single value, without a set
        value = raws[0].strip()
        return (value,) if value else ()
    values = (v.strip() for raw in raws for v in raw.split(","))
    return tuple(sorted({v for v in values if v}))


def _known(values: tuple[str, ...], known: Mapping[str, str], key: str, what: str) -> None:
    for value in values:
        if value not in known:
            raise QueryError(
                "query.unknown_code",
                f"parameter {key!r}: {_shown(value)} is not a known {what}",
                hint=f"check the {what}; the code lists are linked from docs/api.md (Kodeverk)",
            )


def _month(params: Mapping[str, list[str]], key: str) -> int:
    raw = params[key][0].strip()
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match[2]) <= 12:
        raise QueryError(
            "query.malformed_period",
            f"parameter {key!r} is not a month written YYYYMM",
            hint=f"e.g. {key}=201805",
        )
    return int(raw)


def _year(params: Mapping[str, list[str]], key: str) -> int:
    raw = params[key][0].strip()
    if not _YEAR.fullmatch(raw):
        raise QueryError(
            "query.malformed_period",
            f"parameter {key!r} is not a year written YYYY",
            hint=f"e.g. {key}=2019",
        )
    return int(raw)


def _period(endpoint: Endpoint, params: Mapping[str, list[str]]) -> tuple[int, int]:
    fra_key, til_key = endpoint.period_parameters
    for key in (fra_key, til_key):
        if not params.get(key) or not params[key][0].strip():
            raise QueryError(
                "query.missing_parameter",
                f"parameter {key!r} is required on {endpoint.path}",
                hint=f"add {fra_key} and {til_key}, e.g. "
                + ("fommaned=201805&tommaned=201905" if endpoint.period == "maned" else "")
                + ("fomar=2015&tomar=2019" if endpoint.period == "ar" else ""),
            )
    parse = _month if endpoint.period == "maned" else _year
    fra, til = parse(params, fra_key), parse(params, til_key)
    if fra > til:
        raise QueryError(
            "query.period_reversed",
            f"{fra_key} ({fra}) is after {til_key} ({til})",
            hint=f"swap them: {fra_key}={til}&{til_key}={fra}",
        )
    if endpoint.period == "maned":
        months = (til // 100 * 12 + til % 100) - (fra // 100 * 12 + fra % 100) + 1
        if months > MAX_MONTHS:
            raise QueryError(
                "query.period_too_long",
                f"the period {fra}-{til} is {months} months; at most {MAX_MONTHS} are allowed",
                hint="split the request, or use the /ar route for whole years",
            )
    return fra, til


def parse_query(
    endpoint: Endpoint, params: Mapping[str, list[str]], codes: CodeLists | None = None
) -> TakstbrukQuery:
    """Check Helfo's parameters of one request against the public code lists.

    >>> ep = ENDPOINTS["/v1/takstbruk/agtakst/landet/maned"]
    >>> parse_query(ep, {"fagomraade": ["LE"], "fommaned": ["201801"],
    ...                  "tommaned": ["201902"]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helsestat.errors.QueryError: the period 201801-201902 is 14 months; ... (hint: ...)
    """
    codes = codes or code_lists()
    fagomraader = _values(params, "fagomraade")
    if not fagomraader:
        raise QueryError(
            "query.missing_parameter",
            f"parameter 'fagomraade' is required on {endpoint.path}",
            hint="add fagomraade=LE (comma-separated list; LE = lege)",
        )
    _known(fagomraader, codes.fagomraader, "fagomraade", "fagområde")
    fra, til = _period(endpoint, params)
    takstkoder = _values(params, "takstkoder")
    _known(takstkoder, codes.takstkoder, "takstkoder", "takstkode")
    praksistyper = _values(params, "praksistyper")
    _known(praksistyper, codes.praksistyper, "praksistyper", "praksistype")
    geografi: tuple[str, ...] = ()
    if endpoint.geo_parameter == "kommuner":
        geografi = _values(params, "kommuner")
        _known(geografi, codes.kommuner, "kommuner", "kommunenummer")
    elif endpoint.geo_parameter == "fylker":
        geografi = _values(params, "fylker")
        _known(geografi, codes.fylker, "fylker", "fylkesnummer")
    return TakstbrukQuery(fagomraader, fra, til, takstkoder, geografi, praksistyper)
