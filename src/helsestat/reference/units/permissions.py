"""Who may write what, as seed 002 describes RESH: the registry owner (Norsk helsenett)
registers an organisation and creates its first administrator; an administrator tied to an
RHF may edit every unit under it, one tied to an HF only that HF's subtree; administrators
create further users within their scope. Everything else is refused with a 403 that names
the missing right.

Rights, by role:

=========  ===================================================================
owner      everything: register organisations (root units), edit any unit, manage any user
admin      edit units in the subtree under its scope unit; create admins/editors in it
editor     edit units in the subtree under its scope unit
=========  ===================================================================

A scope is checked by walking the tree **over the whole validity of the change**: an HF
administrator may correct a unit's 2015 name if the unit was under that HF in 2015, and may
give it a HER-id from 2015 on only if the unit stayed under that HF for as long as the HER-id
is valid — the tree is checked on the first day and on every day inside the period where
the unit or a unit above it changed (:func:`require_scope_over`).

>>> from helsestat.reference.units.model import Principal
>>> require_owner(Principal("kari", "admin", 100012), "register organisations")
... # doctest: +ELLIPSIS
Traceback (most recent call last):
helsestat.errors.PermissionDenied: user 'kari' (admin) may not register organisations: ...
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from helsestat.errors import PermissionDenied
from helsestat.reference.units.history import ancestors_for_scope, describe, unit_versions
from helsestat.reference.units.model import Principal


def _who(principal: Principal) -> str:
    return f"user '{principal.name}' ({principal.role})"


def require_owner(principal: Principal, what: str) -> None:
    """Only the registry owner may ``what`` (e.g. register an organisation)."""
    if principal.role != "owner":
        raise PermissionDenied(
            "auth.owner_only",
            f"{_who(principal)} may not {what}: only the registry owner may",
            hint="ask the registry owner to do it",
        )


def in_scope(session: Session, principal: Principal, unit_id: int, day: date) -> bool:
    """True when ``unit_id`` lies in the principal's subtree on ``day`` (owners: always)."""
    if principal.role == "owner":
        return True
    return any(
        v.unit_id == principal.scope_unit_id for v in ancestors_for_scope(session, unit_id, day)
    )


def require_scope(
    session: Session, principal: Principal, unit_id: int, day: date, *, verb: str = "edit"
) -> None:
    """Refuse (403 ``auth.out_of_scope``) unless ``unit_id`` is under the principal's scope
    unit on ``day``. The message names both places in the tree:
    ``user 'kari' (admin) may edit units under HF 100012 (Helse Bergen HF), not avdeling
    100345 (Ortopedisk avdeling) under HF 100020 (Helse Førde HF) on 2024-03-01``."""
    if in_scope(session, principal, unit_id, day):
        return
    path = ancestors_for_scope(session, unit_id, day)
    target = describe(path[0]) if path else f"unit {unit_id}"
    above = next((v for v in path[1:] if v.fields.kind in ("hf", "vardgivare", "rhf")), None)
    where = f" under {describe(above)}" if above is not None else ""
    scope = "no unit"
    if principal.scope_unit_id is not None:
        scope_path = ancestors_for_scope(session, principal.scope_unit_id, day)
        scope = describe(scope_path[0]) if scope_path else f"unit {principal.scope_unit_id}"
    admins = ", ".join(describe(v) for v in path[1:4])
    raise PermissionDenied(
        "auth.out_of_scope",
        f"user '{principal.name}' ({principal.role}) may {verb} units under {scope}, "
        f"not {target}{where} on {day}",
        hint="the right belongs to administrators of a unit above it"
        + (f" ({admins})" if admins else "")
        + " and to the registry owner",
    )


def scope_days(session: Session, unit_id: int, start: date, end: date | None) -> list[date]:
    """The days on which ``unit_id``'s place in the tree must be checked for a change valid
    on ``[start, end)`` (None: open-ended): ``start``, and each day inside the period on which
    a version of the unit, or of any unit above it during the period, begins or ends. Between
    two such days the path from the unit to its root is the same.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     scope_days(session, 1, date(2020, 1, 1), None)
    [datetime.date(2020, 1, 1)]
    """
    days = {start}
    seen: set[int] = set()
    frontier = [unit_id]
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.add(current)
        for version in unit_versions(session, current):
            if (end is not None and version.valid_from >= end) or (
                version.valid_to is not None and version.valid_to <= start
            ):
                continue  # outside the period
            for day in (version.valid_from, version.valid_to):
                if day is not None and start < day and (end is None or day < end):
                    days.add(day)
            if version.fields.parent_id is not None:
                frontier.append(version.fields.parent_id)
    return sorted(days)


def require_scope_over(
    session: Session,
    principal: Principal,
    unit_id: int,
    start: date,
    end: date | None,
    *,
    verb: str = "edit",
) -> None:
    """Refuse (403 ``auth.out_of_scope``, naming the first day refused) unless ``unit_id``
    is under the principal's scope unit on every day of ``[start, end)``: a change valid for
    a period needs the right for the whole period, not just its first day."""
    if principal.role == "owner":
        return
    for day in scope_days(session, unit_id, start, end):
        require_scope(session, principal, unit_id, day, verb=verb)


def require_user_admin(principal: Principal) -> None:
    """Only owners and administrators create users and issue tokens."""
    if principal.role not in ("owner", "admin"):
        raise PermissionDenied(
            "auth.cannot_manage_users",
            f"{_who(principal)} may not create users or issue tokens: "
            "that right belongs to administrators",
            hint="ask an administrator of your unit",
        )


__all__ = [
    "in_scope",
    "require_owner",
    "require_scope",
    "require_scope_over",
    "require_user_admin",
    "scope_days",
]
