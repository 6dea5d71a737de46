"""Users of the registry and their API tokens.

A token looks like ``hsu_<lookup>_<secret>``: ``lookup`` (16 hex characters) finds the row,
``secret`` (43 URL-safe characters, 256 bits) is checked against a salted scrypt hash with a
constant-time comparison. Only the hash is stored; the token is shown once, when issued.
Tokens can expire and be revoked; a disabled user's tokens stop working.

A well-formed token whose lookup is unknown costs the same as one with a wrong secret: its
secret is checked against a stand-in hash with the same scrypt cost (:data:`DECOY_HASH`), so
the time of a refusal does not tell which lookups exist. The registry cannot lock itself
out: revoking the tokens of the last owner who has any is refused.

OpenID Connect (HelseID) later: a user row already has ``identity_provider`` and ``subject``;
an authenticator that checks an ID token's signature maps ``(iss, sub)`` to a user with
:func:`principal_for_subject` — the rights checks only ever see a :class:`Principal`.

>>> lookup, secret, token = new_token()
>>> token == f"hsu_{lookup}_{secret}" and parse_token(token) == (lookup, secret)
True
>>> verify_secret(secret, hash_secret(secret, log2_n=10))
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helsestat.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from helsestat.reference.units.model import IssuedToken, Principal, UserRecord
from helsestat.reference.units.permissions import require_scope, require_user_admin
from helsestat.store.db.audit import record_audit
from helsestat.store.db.units_schema import ROLES, Unit, UnitApiToken, UnitUser

TOKEN_PREFIX = "hsu"
#: scrypt cost: n = 2**14, r = 8, p = 1 (16 MiB, ~50-100 ms): RFC 7914's interactive setting.
SCRYPT_LOG2_N = 14
_TOKEN = re.compile(r"^hsu_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
_USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")


def new_token() -> tuple[str, str, str]:
    """(lookup, secret, token) of a fresh random token."""
    lookup = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return lookup, secret, f"{TOKEN_PREFIX}_{lookup}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(lookup, secret) of a well-formed token, else None."""
    match = _TOKEN.match(token)
    return (match.group(1), match.group(2)) if match else None


def _scrypt(secret: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=2**log2_n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


def hash_secret(secret: str, *, log2_n: int = SCRYPT_LOG2_N) -> str:
    """``scrypt$<log2 n>$<r>$<p>$<salt hex>$<hash hex>`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, log2_n, 8, 1)
    return f"scrypt${log2_n}$8$1${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches the stored hash (constant-time comparison)."""
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(secret, bytes.fromhex(salt), int(log2_n), int(r), int(p))
        return hmac.compare_digest(actual, bytes.fromhex(digest))
    except ValueError:
        return False


#: The hash an unknown lookup's secret is checked against: the cost of a real token's check
#: (:data:`SCRYPT_LOG2_N`, r = 8, p = 1) on a random salt; no secret matches it.
DECOY_HASH = (
    f"scrypt${SCRYPT_LOG2_N}$8$1$9f1d3c5e7a2b4c6d8e0f1a3b5c7d9e1f$"
    "0000000000000000000000000000000000000000000000000000000000000000"
)

#: ``verify(secret, stored_hash)``: :func:`verify_secret`, or a recorder in tests.
Verifier = Callable[[str, str], bool]


def _invalid() -> PermissionDenied:
    return PermissionDenied(
        "auth.invalid_token",
        "the bearer token is not valid: unknown, malformed, revoked or expired",
        hint="ask an administrator for a new token",
        status=401,
    )


def missing_token() -> PermissionDenied:
    """401: a write without ``Authorization: Bearer <token>``."""
    return PermissionDenied(
        "auth.missing_token",
        "writing to the unit registry needs a token: send 'Authorization: Bearer <token>'",
        hint="an administrator issues tokens (POST /api/v1/unit-users, or "
        "'helsestat units create-user')",
        status=401,
    )


def _record(session: Session, row: UnitUser) -> UserRecord:
    tokens = session.scalar(
        select(func.count())
        .select_from(UnitApiToken)
        .where(UnitApiToken.user_id == row.id, UnitApiToken.revoked_at.is_(None))
    )
    return UserRecord(
        row.id,
        row.name,
        row.role,
        row.scope_unit_id,
        row.created_at,
        row.created_by,
        row.disabled_at is not None,
        int(tokens or 0),
    )


def authenticate(
    session: Session,
    token: str,
    *,
    now: datetime | None = None,
    verify: Verifier = verify_secret,
) -> Principal:
    """The principal of a bearer token; 401 ``auth.invalid_token`` when it is not valid.
    Every well-formed token costs one scrypt check, whether its lookup exists or not."""
    parsed = parse_token(token)
    if parsed is None:
        raise _invalid()
    lookup, secret = parsed
    row = session.scalars(select(UnitApiToken).where(UnitApiToken.lookup == lookup)).first()
    verified = verify(secret, row.secret_hash if row is not None else DECOY_HASH)
    if row is None or not verified:
        raise _invalid()
    when = now or datetime.now(UTC)
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= when):
        raise _invalid()
    user = session.get(UnitUser, row.user_id)
    if user is None or user.disabled_at is not None:
        raise _invalid()
    return Principal(user.name, user.role, user.scope_unit_id, user.id)


def principal_for_subject(session: Session, issuer: str, subject: str) -> Principal:
    """The principal of an OpenID Connect identity (``iss``, ``sub``) linked to a user.
    Checking the ID token itself is the authenticator's job."""
    user = session.scalars(
        select(UnitUser).where(UnitUser.identity_provider == issuer, UnitUser.subject == subject)
    ).first()
    if user is None or user.disabled_at is not None:
        raise PermissionDenied(
            "auth.unknown_subject",
            "this login is not linked to a user of the unit registry",
            hint="ask an administrator to link it",
            status=401,
        )
    return Principal(user.name, user.role, user.scope_unit_id, user.id)


def _issue(session: Session, user: UnitUser, label: str, now: datetime, log2_n: int) -> str:
    lookup, secret, token = new_token()
    session.add(
        UnitApiToken(
            user_id=user.id,
            lookup=lookup,
            secret_hash=hash_secret(secret, log2_n=log2_n),
            label=label,
            created_at=now,
        )
    )
    session.flush()
    return token


def create_user(
    session: Session,
    actor: Principal,
    name: str,
    role: str,
    scope_unit_id: int | None,
    *,
    now: datetime | None = None,
    log2_n: int = SCRYPT_LOG2_N,
) -> IssuedToken:
    """Create a user with a first token. Owners create anyone; administrators create admins
    and editors scoped to a unit inside their own subtree (as of today)."""
    when = now or datetime.now(UTC)
    require_user_admin(actor)
    if not _USER_NAME.match(name):
        raise InputError(
            "unit_user.invalid_name",
            f"user name {name[:40]!r} is not valid",
            hint="2-100 characters: lower-case letters, digits and . _ @ -",
        )
    if role not in ROLES:
        raise InputError(
            "unit_user.invalid_role", f"role {role!r} is unknown", hint="owner, admin or editor"
        )
    if role == "owner":
        if actor.role != "owner":
            raise PermissionDenied(
                "auth.owner_only",
                f"user '{actor.name}' ({actor.role}) may not create owners: only the registry "
                "owner may",
                hint="create an admin or editor instead",
            )
        scope_unit_id = None
    elif scope_unit_id is None or session.get(Unit, scope_unit_id) is None:
        raise InputError(
            "unit_user.invalid_scope",
            f"an {role} needs a scope unit that exists (got {scope_unit_id})",
            hint="scope_unit_id: the RHF, HF or other unit whose subtree the user may edit",
        )
    else:
        require_scope(session, actor, scope_unit_id, when.date(), verb="create users for")
    try:
        with session.begin_nested():
            user = UnitUser(
                name=name,
                role=role,
                scope_unit_id=scope_unit_id,
                created_at=when,
                created_by=actor.name,
            )
            session.add(user)
            session.flush()
            token = _issue(session, user, "first token", when, log2_n)
            record_audit(
                session,
                actor.name,
                "unit_user",
                name,
                "create",
                None,
                {"role": role, "scope_unit_id": scope_unit_id},
                at=when,
            )
    except IntegrityError:
        raise ConflictError(
            "unit_user.exists", f"a user named {name!r} exists already", hint="choose another name"
        ) from None
    return IssuedToken(_record(session, user), token)


def _user(session: Session, name: str) -> UnitUser:
    user = session.scalars(select(UnitUser).where(UnitUser.name == name)).first()
    if user is None:
        raise NotFoundError(
            "unit_user.not_found", f"no user named {name!r}", hint="list users first"
        )
    return user


def _may_manage(session: Session, actor: Principal, user: UnitUser, day: date) -> None:
    require_user_admin(actor)
    if user.role == "owner" and actor.role != "owner":
        raise PermissionDenied(
            "auth.owner_only",
            f"user '{actor.name}' ({actor.role}) may not manage owner '{user.name}'",
            hint="only the registry owner may",
        )
    if user.scope_unit_id is not None:
        require_scope(session, actor, user.scope_unit_id, day, verb="manage users of")


def issue_token(
    session: Session,
    actor: Principal,
    name: str,
    *,
    label: str = "",
    now: datetime | None = None,
    log2_n: int = SCRYPT_LOG2_N,
) -> IssuedToken:
    """A new token for user ``name`` (which the actor may manage)."""
    when = now or datetime.now(UTC)
    user = _user(session, name)
    _may_manage(session, actor, user, when.date())
    with session.begin_nested():
        token = _issue(session, user, label or "issued", when, log2_n)
        record_audit(
            session, actor.name, "unit_user", name, "issue_token", None, {"label": label}, at=when
        )
    return IssuedToken(_record(session, user), token)


def _owners_with_tokens(session: Session, now: datetime) -> set[int]:
    """The ids of enabled owners holding a token that is neither revoked nor expired."""
    rows = session.execute(
        select(UnitUser.id)
        .join(UnitApiToken, UnitApiToken.user_id == UnitUser.id)
        .where(
            UnitUser.role == "owner",
            UnitUser.disabled_at.is_(None),
            UnitApiToken.revoked_at.is_(None),
            or_(UnitApiToken.expires_at.is_(None), UnitApiToken.expires_at > now),
        )
    )
    return {int(r[0]) for r in rows}


def revoke_tokens(
    session: Session, actor: Principal, name: str, *, now: datetime | None = None
) -> int:
    """Revoke every token of user ``name``; returns how many were active. Refused (409
    ``unit_user.last_owner``) when ``name`` is the last owner with a token: nobody could
    then register organisations or manage administrators through the API."""
    when = now or datetime.now(UTC)
    user = _user(session, name)
    _may_manage(session, actor, user, when.date())
    if user.role == "owner" and _owners_with_tokens(session, when) == {user.id}:
        raise ConflictError(
            "unit_user.last_owner",
            f"revoking the tokens of {name!r} would leave the registry without an owner who "
            "can sign in",
            hint="issue a token to another owner first (POST /api/v1/unit-users creates one; "
            "'helsestat units create-user --role owner' on the server)",
        )
    with session.begin_nested():
        rows = session.scalars(
            select(UnitApiToken).where(
                UnitApiToken.user_id == user.id, UnitApiToken.revoked_at.is_(None)
            )
        ).all()
        for row in rows:
            row.revoked_at = when
        record_audit(
            session,
            actor.name,
            "unit_user",
            name,
            "revoke_tokens",
            None,
            {"revoked": len(rows)},
            at=when,
        )
    return len(rows)


def list_users(session: Session, actor: Principal) -> list[UserRecord]:
    """The users the actor may manage (owners: all), by name."""
    require_user_admin(actor)
    rows = session.scalars(select(UnitUser).order_by(UnitUser.name)).all()
    day = datetime.now(UTC).date()
    out = []
    for row in rows:
        try:
            _may_manage(session, actor, row, day)
        except PermissionDenied:
            continue
        out.append(_record(session, row))
    return out


__all__ = [
    "DECOY_HASH",
    "SCRYPT_LOG2_N",
    "Verifier",
    "authenticate",
    "create_user",
    "hash_secret",
    "issue_token",
    "list_users",
    "missing_token",
    "new_token",
    "parse_token",
    "principal_for_subject",
    "revoke_tokens",
    "verify_secret",
]
