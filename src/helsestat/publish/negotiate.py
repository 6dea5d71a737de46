"""HTTP content negotiation (RFC 9110 §12.5.1): the format an ``Accept`` header asks for.

>>> from helsestat.publish.formats import FORMATS
>>> negotiate("text/csv;q=0.5, application/xml", FORMATS).name
'xml'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from helsestat.errors import InputError
from helsestat.publish.format import Format

#: Media types that also select a format: older clients ask for text/xml, and some JSON-stat
#: servers (e.g. ISTAC) use the unregistered application/jsonstat+json.
_ALIASES: Final[dict[str, str]] = {
    "text/xml": "xml",
    "application/jsonstat+json": "jsonstat",
}

_MediaType = tuple[str, str, dict[str, str]]


def negotiate(
    accept_header: str | None, formats: Mapping[str, Format], default: str = "json"
) -> Format:
    """The format that best satisfies an HTTP ``Accept`` header.

    Each format takes the q-value of the most specific media range matching it
    (``type/subtype;params`` > ``type/subtype`` > ``type/*`` > ``*/*``); a range's parameters
    must match those the format's media type declares and are ignored otherwise
    (``application/json;charset=utf-8`` selects JSON). The highest q wins; ties go to
    ``default``, then to the range listed first, then to registry order (alphabetical).
    Aliases (``text/xml``) match only when named. A missing, empty or unparseable header gives
    ``default``; if every format has q=0 the result is an :class:`InputError` with status 406.

    >>> from helsestat.publish.formats import FORMATS
    >>> negotiate(None, FORMATS).name
    'json'
    >>> negotiate("application/json;q=0.5, application/vnd.json-stat+json", FORMATS).name
    'jsonstat'
    >>> negotiate("text/*, */*;q=0.1", FORMATS).name
    'csv'
    >>> negotiate("application/xml; charset=UTF-8", FORMATS).name
    'xml'
    """
    fallback = formats[default]
    ranges = parse_accept(accept_header)
    if not ranges:
        return fallback
    best: tuple[float, bool, int] | None = None
    chosen = fallback
    for fmt in formats.values():
        served = [(_parse_media_type(fmt.media_type), 0)]
        # An alias answers only a range that names it, never a wildcard.
        served += [(_parse_media_type(a), 2) for a, name in _ALIASES.items() if name == fmt.name]
        quality, position = _quality(served, ranges)
        if quality <= 0:
            continue
        rank = (quality, fmt.name == default, -position)
        if best is None or rank > best:
            best, chosen = rank, fmt
    if best is None:
        raise InputError(
            "format.not_acceptable",
            f"no format matches Accept: {(accept_header or '')[:200]}",
            hint="accept one of: " + ", ".join(f.media_type for f in formats.values()),
            status=406,
        )
    return chosen


def parse_accept(header: str | None) -> list[tuple[_MediaType, float, int]]:
    """The media ranges of an ``Accept`` header, in order, as ((type, subtype, params),
    q-value, specificity); malformed ranges are left out.

    >>> [(r[0][:2], r[1]) for r in parse_accept("text/csv;q=0.5, application/xml")]
    [(('text', 'csv'), 0.5), (('application', 'xml'), 1.0)]
    """
    return [r for r in (_parse_range(part) for part in (header or "").split(",")) if r]


def _parse_media_type(text: str) -> _MediaType:
    kind, _, rest = text.partition(";")
    main, _, sub = kind.strip().lower().partition("/")
    params: dict[str, str] = {}
    for item in rest.split(";") if rest else ():
        key, _, value = item.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return main, sub, params


def _parse_range(part: str) -> tuple[_MediaType, float, int] | None:
    """One media range as ((type, subtype, params), q, specificity), or None if malformed."""
    main, sub, params = _parse_media_type(part)
    if not main or not sub or (main == "*" and sub != "*"):
        return None
    quality = 1.0
    if "q" in params:
        # Parameters after q are accept-extensions, not part of the media range.
        keys = list(params)
        for key in keys[keys.index("q") + 1 :]:
            del params[key]
        try:
            quality = float(params.pop("q"))
        except ValueError:
            return None
        if not 0.0 <= quality <= 1.0:
            return None
    specificity = 0 if main == "*" else 1 if sub == "*" else 2 + len(params)
    return (main, sub, params), quality, specificity


def _quality(
    served: list[tuple[_MediaType, int]], ranges: list[tuple[_MediaType, float, int]]
) -> tuple[float, int]:
    """The q-value of the best-matching range for any of ``served``, and that range's index.

    Each served media type comes with the least specificity a range needs to match it.
    """
    best_quality, best_position = 0.0, len(ranges)
    for (main, sub, params), least in served:
        match: tuple[int, float, int] | None = None
        for position, ((r_main, r_sub, r_params), quality, specificity) in enumerate(ranges):
            if specificity < least or r_main not in ("*", main) or r_sub not in ("*", sub):
                continue
            # A parameter the served type does not declare does not rule it out: clients send
            # application/json;charset=utf-8, and JSON has no charset parameter (RFC 8259 §11).
            # One it declares must match (text/csv;charset=latin-1 is not our CSV).
            if any(key in params and params[key] != value for key, value in r_params.items()):
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality, position)
        if match and (match[1], -match[2]) > (best_quality, -best_position):
            best_quality, best_position = match[1], match[2]
    return best_quality, best_position


__all__ = ["negotiate", "parse_accept"]
