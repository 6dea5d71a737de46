"""The one error tree of helsestat.

Every error a user can see is a :class:`HelsestatError` with a stable ``code``, an HTTP
``status``, a ``message`` that says what and where, and a ``hint`` that says what next.
Only two places turn errors into output: the CLI group (``cli.main``) and the API's
problem+json handler (``api.problems``). Messages never carry personal identifiers or
microdata values, only file names, row numbers, column names and codes from public lists.

::

    HelsestatError                      (status 500)
    ├── SettingsError        settings.*    refused at start-up                      500
    ├── InputError           input.*       bad input from a user                    400
    │   ├── ExtractError     ingest.*      an extract file cannot be read           422
    │   ├── QueryError       query.*       a bad API query parameter                400
    │   └── ReferenceError_  reference.*   an unknown code or uncovered date        400
    ├── NotFoundError        *.not_found   no such table, release, code or unit     404
    ├── PermissionDenied     auth.*        missing token or right                   401/403
    ├── ConflictError        *.conflict    a concurrent edit; If-Match failed       409/412
    ├── StoreError           store.*       the lake or the database cannot be used  500
    ├── EngineError          aggregate.*   an aggregation engine failed             500
    └── ProtectionError      protect.*     disclosure control cannot be satisfied   500

Example::

    >>> err = QueryError("query.missing_parameter", "parameter 'fagomraade' is required",
    ...                  hint="add ?fagomraade=LE (comma-separated list)")
    >>> (err.code, err.status)
    ('query.missing_parameter', 400)
"""

from __future__ import annotations

from typing import Any, ClassVar


class HelsestatError(Exception):
    """Base of every error helsestat reports to a user.

    >>> str(HelsestatError("x.y", "something broke", hint="try again"))
    'something broke (hint: try again)'
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        hint: str = "",
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        if status is not None:
            self.status = status  # type: ignore[misc]  # a per-instance override, e.g. 406
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class SettingsError(HelsestatError):
    """A setting has an unsafe or impossible value; raised before anything starts."""

    title = "Invalid settings"


class InputError(HelsestatError):
    """Input from a user (file, parameter, edit) is not acceptable."""

    status = 400
    title = "Bad request"


class ExtractError(InputError):
    """An extract file cannot be read as a whole (wrong format, missing column, encoding)."""

    status = 422
    title = "Unreadable extract"


class QueryError(InputError):
    """A query parameter is missing, malformed or out of range."""

    title = "Invalid query"


class ReferenceError_(InputError):  # noqa: N801 - trailing underscore avoids the builtin name
    """A code is unknown, or no version of a code list covers a date."""

    title = "Unknown reference"


class NotFoundError(HelsestatError):
    """No such table, release, classification, code or unit."""

    status = 404
    title = "Not found"


class PermissionDenied(HelsestatError):
    """The caller is not authenticated, or lacks the right for a write."""

    status = 403
    title = "Forbidden"


class ConflictError(HelsestatError):
    """A concurrent edit would be lost; the caller must re-read and retry."""

    status = 409
    title = "Conflict"


class StoreError(HelsestatError):
    """The Parquet lake or the reference database cannot be used."""

    title = "Storage error"


class EngineError(HelsestatError):
    """An aggregation engine failed to execute a cube spec."""

    title = "Aggregation error"


class ProtectionError(HelsestatError):
    """Disclosure control could not protect a table; nothing is published."""

    title = "Disclosure control failed"


__all__ = [
    "ConflictError",
    "EngineError",
    "ExtractError",
    "HelsestatError",
    "InputError",
    "NotFoundError",
    "PermissionDenied",
    "ProtectionError",
    "QueryError",
    "ReferenceError_",
    "SettingsError",
    "StoreError",
]
