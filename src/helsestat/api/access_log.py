"""The server's access log without personal identifiers.

uvicorn logs every request line, query string included (logger ``uvicorn.access``). Nothing
in the API takes a person's identifier, but a user can paste one into a URL, and the log
would keep it. :class:`RedactIdentifiers`, installed on the loggers that can record a URL by
:func:`~helsestat.api.create_app`, replaces every run of digits shaped like a personal
identifier before the line is formatted:

* 10 to 12 digits in a row: a Norwegian fødselsnummer or d-nummer (11), a Swedish
  personnummer or samordningsnummer written without separator (10 or 12);
* 6 or 8 digits, ``-`` or ``+``, 4 digits: a Swedish personnummer with its separator.

Codes the API does take are shorter (kommunenummer 4 digits, months 6, RESH ids at most 9),
so they stay readable. Swedish organisation numbers share the personnummer's shape and are
redacted too: the log errs on the side of the person.

>>> redact("GET /v1/takstbruk/agtakst/kommune/maned?kommuner=0301&x=01017012345 HTTP/1.1")
'GET /v1/takstbruk/agtakst/kommune/maned?kommuner=0301&x=<redacted> HTTP/1.1'
>>> redact("/api/v1/units?q=19121212-1212&resh=700272")
'/api/v1/units?q=<redacted>&resh=700272'
"""

from __future__ import annotations

import logging
import re

#: What is replaced: see the module docstring.
IDENTIFIER = re.compile(r"(?<!\d)(?:\d{10,12}|(?:\d{6}|\d{8})(?:[-+]|%2[Bb])\d{4})(?!\d)")
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
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


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
