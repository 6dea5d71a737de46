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

A scope is checked by walking the tree **as of the date the edit takes effect**: an HF
administrator may correct a unit's 2015 name if the unit was under that HF in 2015.

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
from helsestat.reference.units.history import ancestors_for_scope, describe
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


def require_user_admin(principal: Principal) -> None:
    """Only owners and administrators create users and issue tokens."""
    if principal.role not in ("owner", "admin"):
        raise PermissionDenied(
            "auth.cannot_manage_users",
            f"{_who(principal)} may not create users or issue tokens: "
            "that right belongs to administrators",
            hint="ask an administrator of your unit",
        )


__all__ = ["in_scope", "require_owner", "require_scope", "require_user_admin"]
