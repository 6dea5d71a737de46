"""Parameter types checked at the API's edge: ASCII digits only, ranges the database can
hold, dates written ``YYYY-MM-DD`` and times in RFC 3339 with a zone.

pydantic alone is lenient at the edge: a query parameter ``?date=0`` becomes 1970-01-01 (a
Unix time), ``?id=+1_000`` becomes 1000, and a number beyond 2⁶³ reaches the database and
overflows it. Python's own ``int()`` and ``re``'s ``\\d`` also take fullwidth (``１２``)
and Arabic-Indic (``١٢``) digits. These types refuse all of that before a route runs, so
the OpenAPI document (``format: date``, ``minimum``/``maximum``) says exactly what is
accepted, and anything else is a 400 problem naming the parameter.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(IsoDate).validate_python("2024-02-29")
datetime.date(2024, 2, 29)
>>> TypeAdapter(UnitId).validate_python("100012")
100012
>>> TypeAdapter(UnitId).validate_python("１２")  # doctest: +ELLIPSIS
Traceback (most recent call last):
pydantic_core._pydantic_core.ValidationError: 1 validation error for ...
  Value error, must be a whole number written in the digits 0-9 ...
...
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

#: The largest unit id: 18 digits, well inside a signed 64-bit integer (the ``BIGINT`` of
#: both database backends), so no id a client sends can overflow a query.
MAX_UNIT_ID = 999_999_999_999_999_999
#: The largest id of a classification, version or other small reference number.
MAX_SMALL_ID = 2_147_483_647  # a signed 32-bit INTEGER column

_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def _integer(value: Any) -> Any:
    """A whole number written in ASCII digits (an optional minus sign first); an ``int``
    passes as it is. Anything else — ``+5``, ``1_000``, `` 12 ``, ``12.0``, ``１２`` — is
    refused, whatever ``int()`` would make of it."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise ValueError("must be a whole number written in the digits 0-9")


def _date(value: Any) -> Any:
    """A day written ``YYYY-MM-DD`` (ASCII digits); a ``date`` passes as it is."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a day of the calendar") from None
    raise ValueError("must be a date written YYYY-MM-DD")


def _datetime(value: Any) -> Any:
    """A time in RFC 3339 with its zone (``2024-03-01T12:00:00Z``, ``…+01:00``); an aware
    ``datetime`` passes as it is. A time without a zone is refused: it names no instant."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str) and _DATETIME.fullmatch(value):
        text = value.upper().replace("Z", "+00:00")
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("is not a time of the calendar") from None
    raise ValueError("must be a time written YYYY-MM-DDThh:mm:ss with a zone (Z or +hh:mm)")


#: A day, ``YYYY-MM-DD``.
IsoDate = Annotated[date, BeforeValidator(_date)]
#: An instant, RFC 3339 with a zone.
IsoDateTime = Annotated[datetime, BeforeValidator(_datetime)]
#: A unit id: 1 to :data:`MAX_UNIT_ID`, ASCII digits.
UnitId = Annotated[int, BeforeValidator(_integer), Field(ge=1, le=MAX_UNIT_ID)]
#: A classification or other reference id: 0 to :data:`MAX_SMALL_ID`, ASCII digits.
SmallId = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=MAX_SMALL_ID)]
#: Put in an ``Annotated`` with ``Query(ge=…, le=…)`` for another bounded whole number.
ASCII_INTEGER = BeforeValidator(_integer)
#: A unit id in a JSON body: a JSON integer (not a string, not a boolean), 1 to
#: :data:`MAX_UNIT_ID`.
BodyUnitId = Annotated[int, Field(strict=True, ge=1, le=MAX_UNIT_ID)]
#: A classification id in a JSON body.
BodySmallId = Annotated[int, Field(strict=True, ge=0, le=MAX_SMALL_ID)]


__all__ = [
    "ASCII_INTEGER",
    "MAX_SMALL_ID",
    "MAX_UNIT_ID",
    "BodySmallId",
    "BodyUnitId",
    "IsoDate",
    "IsoDateTime",
    "SmallId",
    "UnitId",
]
