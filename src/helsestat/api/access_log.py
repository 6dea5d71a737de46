"""The server's access log without personal identifiers.

uvicorn logs every request line, query string included (logger ``uvicorn.access``). Nothing
in the API takes a person's identifier, but a user can paste one into a URL, and the log
would keep it. :class:`RedactIdentifiers`, installed on the loggers that can record a URL by
:func:`~helsestat.api.create_app`, replaces every run of digits shaped like a personal
identifier before the line is formatted:

* 10 to 12 digits in a row: a Norwegian fødselsnummer, d-nummer or h-nummer (11), a Swedish
  personnummer or samordningsnummer written without separator (10 or 12);
* 6 digits, a separator, 5 digits: a fødselsnummer as it is often printed (``010170 12345``);
* 6 or 8 digits, a separator, 4 digits: a Swedish personnummer with its separator.

A separator is one of :data:`~helsestat.validate.identifier_scan.SEPARATORS` (``-``, ``+``,
a space, ``.``, ``/``, ``:`` or ``_``: the ones the ingest scan knows), also URL-encoded
(``%20``, ``%2B``, ``%2E`` …), and a run may start right after an escape such as ``%22`` (a
quote) or ``%20``. Codes the API does
take are shorter (kommunenummer 4 digits, months 6, RESH ids at most 9) or joined otherwise
(``202401+202402``, ``2019-2024``), so they stay readable, and so does an HSA-id
(``SE2321000016-E000``: digits right after ``SE``). Other Swedish organisation numbers share
the personnummer's shape and are redacted too: the log errs on the side of the person.
Tracebacks and exceptions logged with a record are redacted as well.

>>> redact("GET /v1/takstbruk/agtakst/kommune/maned?kommuner=0301&x=01017012345 HTTP/1.1")
'GET /v1/takstbruk/agtakst/kommune/maned?kommuner=0301&x=<redacted> HTTP/1.1'
>>> redact("/api/v1/units?q=19121212-1212&resh=700272")
'/api/v1/units?q=<redacted>&resh=700272'
>>> redact("/api/v1/units?q=520552.00823")
'/api/v1/units?q=<redacted>'
"""

from __future__ import annotations

import logging
import re

from helsestat.validate.identifier_scan import SEPARATORS

#: A separator as written or URL-encoded (``%2E`` or ``%2e`` for ``.``).
_SEPARATOR = (
    "(?:["
    + re.escape(SEPARATORS)
    + "]|"
    + "|".join(f"%(?i:{ord(c):02X})" for c in SEPARATORS)
    + ")"
)
#: A run starts after a URL escape (``%22``) or where no digit, ``%`` or half escape precedes,
#: and never right after ``SE`` (the organisation number inside an HSA-id).
_START = r"(?<!SE)(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9%])(?<!%[0-9A-Fa-f]))"
#: What is replaced: see the module docstring.
IDENTIFIER = re.compile(
    _START
    + r"(?:\d{10,12}|\d{6}"
    + _SEPARATOR
    + r"\d{5}|(?:\d{6}|\d{8})"
    + _SEPARATOR
    + r"\d{4})(?![0-9])"
)
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """``text`` with every identifier-shaped run of digits replaced by ``<redacted>``."""
    return IDENTIFIER.sub(REDACTED, text)


class RedactIdentifiers(logging.Filter):
    """A logging filter that redacts the message and every text argument of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:  # the formatter uses exc_text if set
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _clean(value: object) -> object:
    """A log argument without identifiers: text redacted, an exception by its redacted text."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, BaseException):
        return redact(f"{value}")
    return value


#: The loggers that can record a request's URL: uvicorn's request log and the API's own
#: (unexpected errors are logged with the request path).
LOGGERS = ("uvicorn.access", "helsestat.api")


def install() -> None:
    """Put :class:`RedactIdentifiers` on :data:`LOGGERS` (once, however many apps are made)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactIdentifiers) for f in logger.filters):
            logger.addFilter(RedactIdentifiers())


__all__ = ["IDENTIFIER", "LOGGERS", "REDACTED", "RedactIdentifiers", "install", "redact"]
