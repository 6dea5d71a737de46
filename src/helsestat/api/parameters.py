"""The query parameters of a declared route (:class:`~helsestat.statistics.serving.Route`),
parsed and checked into a :class:`~helsestat.publish.index.Query` — the one implementation
behind every statistic's compatible API.

Parameters: the route's code parameters (comma-separated; a repeated one adds values), its
period (first and last, inclusive), and helsestat's own: the suppressed-cells switch
(``ja``/``nei``), ``release=<id>`` and, where the route takes it,
``format=json|xml|csv|xlsx|jsonstat|parquet``.

Every failure is a :class:`~helsestat.errors.QueryError` (400) with a stable code:
``query.unknown_parameter``, ``query.repeated_parameter``, ``query.missing_parameter``,
``query.unknown_code``, ``query.malformed_period``, ``query.period_reversed``,
``query.period_too_long``, ``query.invalid_value``, ``query.unknown_format``.

>>> from helsestat.reference.seed import packaged_reference
>>> from helsestat.statistics.takstbruk import HELFO_API, code_lists
>>> route = HELFO_API.routes[0]
>>> envelope = parse_envelope(route, HELFO_API, [("fagomraade", "LE"), ("fommaned", "201805"),
...     ("tommaned", "201905"), ("kommuner", "0301")])
>>> parsed = parse_query(route, envelope.params, code_lists(packaged_reference()))
>>> parsed.query.range, parsed.query.values["behandler_kommunenr"]
((201805, 201905), ('0301',))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from helsestat.errors import QueryError
from helsestat.publish.index import Query
from helsestat.statistics.serving import (
    CodeLists,
    CodeParameter,
    CompatibleApi,
    PeriodParameters,
    Ranged,
    RangeQuery,
    Route,
)

#: ``format`` values (the registry's names).
FORMAT_NAMES: Final = ("csv", "json", "jsonstat", "parquet", "xlsx", "xml")
RELEASE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+-]{0,99}")
_MONTH = re.compile(r"([0-9]{4})-?([0-9]{2})", re.ASCII)
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
#: Values longer than this are never echoed in an error (they could be an identifier).
_ECHO_LIMIT: Final = 8


# Envelope and Parsed are made per request and read at once by the service: plain dataclasses
# with slots (a frozen dataclass's __init__ costs several times as much).
@dataclass(slots=True)
class Envelope:
    """The helsestat parameters of a request, and the route's own, not yet checked."""

    format: str | None
    release: str | None
    with_suppressed: bool
    params: dict[str, list[str]]


@dataclass(slots=True)
class Parsed:
    """A checked request: the index query, and the query as parameter → values, the same
    for every spelling of it (the ETag's input)."""

    query: Query
    canonical: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Plan:
    """What parsing needs of a route, derived once per route (every request asks)."""

    accepted: tuple[str, ...]
    names: frozenset[str]  # the accepted names, for the membership test
    lists: frozenset[str]
    ordered: tuple[CodeParameter, ...]  # the required code parameters first
    required: int  # how many are required
    suppressed: str


#: (route, api, plan) per pair of ids; the objects are kept, so an id is never reused.
_PLANS: dict[tuple[int, int], tuple[Route, CompatibleApi, _Plan]] = {}


def _plan(route: Route, api: CompatibleApi) -> _Plan:
    found = _PLANS.get((id(route), id(api)))
    if found is not None and found[0] is route and found[1] is api:
        return found[2]
    ordered = tuple(p for p in route.parameters if p.required)
    ordered += tuple(p for p in route.parameters if not p.required)
    names = accepted(route, api)
    plan = _Plan(
        names,
        frozenset(names),
        frozenset(p.name for p in route.parameters),
        ordered,
        sum(p.required for p in route.parameters),
        api.suppressed_parameter,
    )
    if len(_PLANS) < 1024:
        _PLANS[(id(route), id(api))] = (route, api, plan)
    return plan


def accepted(route: Route, api: CompatibleApi) -> tuple[str, ...]:
    """Every query parameter ``route`` accepts: the required code parameters, the period,
    the other code parameters, then helsestat's.

    >>> from helsestat.statistics.takstbruk import HELFO_API
    >>> accepted(HELFO_API.routes[1], HELFO_API)[:3]
    ('fagomraade', 'fomar', 'tomar')
    """
    required = [p.name for p in route.parameters if p.required]
    others = [p.name for p in route.parameters if not p.required]
    period = [route.period.first, route.period.last] if route.period else []
    extra = ["format"] if route.format_parameter else []
    return (*required, *period, *others, api.suppressed_parameter, "release", *extra)


def _shown(value: str) -> str:
    return repr(value) if len(value) <= _ECHO_LIMIT else f"a value of {len(value)} characters"


def _shown_name(key: str) -> str:
    """A parameter name as an error may echo it: names are words, so one with many digits
    (a fødselsnummer pasted as a name) is described, not repeated."""
    if len(key) <= 40 and sum(c.isdigit() for c in key) <= 4:
        return repr(key)
    return f"a name of {len(key)} characters"


def parse_envelope(route: Route, api: CompatibleApi, items: Iterable[tuple[str, str]]) -> Envelope:
    """Sort the parameters into helsestat's and the route's; refuse unknown ones, a repeated
    single-valued one, an unknown ``format`` and a malformed ``release`` id.

    >>> from helsestat.statistics.takstbruk import HELFO_API
    >>> parse_envelope(HELFO_API.routes[3], HELFO_API, [("kommuner", "0301")])
    Traceback (most recent call last):
    ...
    helsestat.errors.QueryError: parameter 'kommuner' is not accepted on ... (hint: ...)
    """
    plan = _plan(route, api)
    names, lists = plan.names, plan.lists
    params: dict[str, list[str]] = {}
    for key, value in items:
        if key not in names:
            raise QueryError(
                "query.unknown_parameter",
                f"parameter {_shown_name(key)} is not accepted on {route.path}",
                hint="accepted: " + ", ".join(plan.accepted),
            )
        if key in params and key not in lists:
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
    if release is not None and not RELEASE_ID.fullmatch(release):
        raise QueryError(
            "query.invalid_value",
            "parameter 'release' is not a release id",
            hint="GET /api/v1/releases lists the release ids",
        )
    switch = plan.suppressed
    suppressed = params.pop(switch, ["nei"])[0]
    if suppressed not in ("ja", "nei"):
        raise QueryError(
            "query.invalid_value",
            f"parameter {switch!r} must be 'ja' or 'nei'",
            hint=f"{switch}=ja includes the suppressed cells, with null measures and a status",
        )
    return Envelope(fmt, release, suppressed == "ja", params)


def _values(params: Mapping[str, list[str]], key: str) -> tuple[str, ...]:
    raws = params.get(key)
    if not raws:
        return ()
    if len(raws) == 1:
        raw = raws[0]
        if "," not in raw:  # the common single value, without a set
            value = raw.strip()
            return (value,) if value else ()
        pieces = raw.split(",")
    else:
        pieces = [v for raw in raws for v in raw.split(",")]
    values = set(map(str.strip, pieces))
    values.discard("")
    return tuple(sorted(values))


def _period_value(spec: PeriodParameters, params: Mapping[str, list[str]], key: str) -> int:
    raw = params[key][0].strip()
    if spec.digits == 6:
        match = _MONTH.fullmatch(raw)
        if not match or not 1 <= int(match[2]) <= 12 or ("-" in raw) != spec.dash:
            shape = "YYYY-MM" if spec.dash else "YYYYMM"
            raise QueryError(
                "query.malformed_period",
                f"parameter {key!r} is not a month written {shape}",
                hint=f"e.g. {key}={spec.example[0]}",
            )
        return int(match[1]) * 100 + int(match[2])
    if not _YEAR.fullmatch(raw):
        raise QueryError(
            "query.malformed_period",
            f"parameter {key!r} is not a year written YYYY",
            hint=f"e.g. {key}={spec.example[1]}",
        )
    return int(raw)


def _period(
    route: Route, spec: PeriodParameters, params: Mapping[str, list[str]]
) -> tuple[int, int] | None:
    first, last = spec.first, spec.last
    given_first, given_last = params.get(first), params.get(last)
    if given_first and given_last and given_first[0].strip() and given_last[0].strip():
        present = [first, last]  # the usual request: both given
    else:
        present = [k for k in (first, last) if params.get(k) and params[k][0].strip()]
    if len(present) < 2:
        if not present and not spec.required:
            return None
        missing = next(k for k in (first, last) if k not in present)
        raise QueryError(
            "query.missing_parameter",
            f"parameter {missing!r} is required on {route.path}",
            hint=f"add {first} and {last}, e.g. {first}={spec.example[0]}&{last}={spec.example[1]}",
        )
    fra, til = _period_value(spec, params, first), _period_value(spec, params, last)
    if fra > til:
        shown = (params[first][0].strip(), params[last][0].strip())
        raise QueryError(
            "query.period_reversed",
            f"{first} ({shown[0]}) is after {last} ({shown[1]})",
            hint=f"swap them: {first}={shown[1]}&{last}={shown[0]}",
        )
    if spec.digits == 6 and spec.max_months is not None:
        months = (til // 100 * 12 + til % 100) - (fra // 100 * 12 + fra % 100) + 1
        if months > spec.max_months:
            raise QueryError(
                "query.period_too_long",
                f"the period {fra}-{til} is {months} months; at most {spec.max_months} are allowed",
                hint="split the request, or use the /ar route for whole years",
            )
    return fra, til


def parse_query(
    route: Route,
    params: Mapping[str, list[str]],
    codes: CodeLists,
    api: CompatibleApi | None = None,
    *,
    with_suppressed: bool = True,
) -> Parsed:
    """Check the route's parameters of one request against the public code lists; the
    query includes the suppressed cells when ``with_suppressed``.

    >>> from helsestat.reference.seed import packaged_reference
    >>> from helsestat.statistics.takstbruk import HELFO_API, code_lists
    >>> route = next(r for r in HELFO_API.routes if r.path.endswith("agtakst/landet/maned"))
    >>> parse_query(route, {"fagomraade": ["LE"], "fommaned": ["201801"],
    ...                     "tommaned": ["201902"]}, code_lists(packaged_reference()))
    Traceback (most recent call last):
    ...
    helsestat.errors.QueryError: the period 201801-201902 is 14 months; ... (hint: ...)
    """
    values: dict[str, tuple[str, ...]] = {}
    canonical: dict[str, tuple[str, ...]] = {}
    if api is not None:
        plan = _plan(route, api)
        ordered, required = plan.ordered, plan.required
    else:
        ordered = tuple(p for p in route.parameters if p.required)
        ordered += tuple(p for p in route.parameters if not p.required)
        required = sum(p.required for p in route.parameters)
    bounds = None
    for position, parameter in enumerate(ordered):
        if position == required and route.period:
            bounds = _period(route, route.period, params)  # checked in the documented order
        given = _values(params, parameter.name)
        if parameter.required and not given:
            raise QueryError(
                "query.missing_parameter",
                f"parameter {parameter.name!r} is required on {route.path}",
                hint=parameter.hint or f"add {parameter.name}=…",
            )
        if parameter.codes is not None:
            known = codes.get(parameter.codes, {})
            for value in given:
                if value not in known:
                    raise QueryError(
                        "query.unknown_code",
                        f"parameter {parameter.name!r}: {_shown(value)} is not a known "
                        f"{parameter.what or parameter.name}",
                        hint=f"check the {parameter.what or parameter.name}; the code lists "
                        "are linked from docs/api.md (Kodeverk)",
                    )
        values[parameter.dimension] = given
        canonical[parameter.name] = given
    if route.period and bounds is None and len(ordered) == required:
        bounds = _period(route, route.period, params)
    if route.period and bounds is not None:
        canonical[route.period.first] = (str(bounds[0]),)
        canonical[route.period.last] = (str(bounds[1]),)
    return Parsed(Query(values, bounds, with_suppressed), canonical)


#: Whether the data of a computed table know a value of a filter, given the query's other
#: filters (``known(name, value, others)``; True where the data cannot tell).
KnownValues = Callable[[str, str, Mapping[str, str]], bool]


def parse_computed(
    ranged: Ranged,
    items: Iterable[tuple[str, str]],
    months: tuple[int, int],
    known: KnownValues | None = None,
) -> tuple[RangeQuery, dict[str, tuple[str, ...]]]:
    """The query of a computed table (:class:`~helsestat.statistics.serving.Ranged`): the
    months ``first``…``last`` (``YYYY-MM``; default the last 12 months with data), within
    ``ranged.earliest`` and the latest month with data, and one value of each filter — one
    the data know, when ``known`` tells them (a mistyped code is an error, not an empty
    table). Returns the query and its canonical form (the ETag's input).

    >>> from helsestat.statistics.sob import SOB
    >>> ranged = SOB.serving.ranged
    >>> query, canonical = parse_computed(ranged, [("fom", "2024-01"), ("lan", "01")],
    ...                                   (24189, 24310))
    >>> query.first, query.last, canonical["tom"]
    (24288, 24310, ('2025-11',))
    """
    names = (ranged.first, ranged.last, *ranged.filters)
    accepted_names = (*names, "format", "release")
    given: dict[str, str] = {}
    for key, value in items:
        if key not in accepted_names:
            raise QueryError(
                "query.unknown_parameter",
                f"parameter {_shown_name(key)} is not accepted here",
                hint="accepted: " + ", ".join(accepted_names),
            )
        if key in given:
            raise QueryError(
                "query.repeated_parameter",
                f"parameter {key!r} is given more than once",
                hint=f"give {key} once",
            )
        given[key] = value.strip()
    earliest, latest = max(ranged.earliest, months[0]), months[1]
    last = _month_of(ranged.last, given[ranged.last]) if given.get(ranged.last) else latest
    first = (
        _month_of(ranged.first, given[ranged.first])
        if given.get(ranged.first)
        else max(earliest, last - 11)
    )
    if first > last:
        raise QueryError(
            "query.period_reversed",
            f"{ranged.first} ({_text(first)}) is after {ranged.last} ({_text(last)})",
            hint=f"swap them: {ranged.first}={_text(last)}&{ranged.last}={_text(first)}",
        )
    if first < earliest or last > latest:
        raise QueryError(
            "query.period_out_of_range",
            f"the months {_text(first)} to {_text(last)} are outside the data",
            hint=f"data run from {_text(earliest)} to {_text(latest)}",
        )
    filters: dict[str, str] = {}
    for name in ranged.filters:
        value = given.get(name, "")
        if "," in value:
            raise QueryError(
                "query.one_value",
                f"parameter {name!r} takes one value",
                hint="persons are counted once over a range: a table of several units is "
                "not the sum of their tables; ask for each unit on its own",
            )
        if value:
            filters[name] = value
    if known is not None:
        for name, value in filters.items():
            if not known(name, value, {k: v for k, v in filters.items() if k != name}):
                raise QueryError(
                    "query.unknown_code",
                    f"parameter {name!r}: {_shown(value)} is not a {name} of the data",
                    hint=f"the {name} codes the data hold are offered on the table's "
                    "dashboard page; a code is given as it is published (e.g. lan=01)",
                )
    canonical: dict[str, tuple[str, ...]] = {
        ranged.first: (_text(first),),
        ranged.last: (_text(last),),
        **{name: (value,) for name, value in filters.items()},
    }
    return RangeQuery(first, last, filters), canonical


def _text(month: int) -> str:
    year, index = divmod(month, 12)
    return f"{year}-{index + 1:02d}"


def _month_of(name: str, raw: str) -> int:
    match = _MONTH.fullmatch(raw)
    if not match or "-" not in raw or not 1 <= int(match[2]) <= 12:
        raise QueryError(
            "query.malformed_period",
            f"parameter {name!r} is not a month written YYYY-MM",
            hint=f"e.g. {name}=2024-05",
        )
    return int(match[1]) * 12 + int(match[2]) - 1


__all__ = [
    "FORMAT_NAMES",
    "RELEASE_ID",
    "Envelope",
    "Parsed",
    "accepted",
    "parse_computed",
    "parse_envelope",
    "parse_query",
]
