"""API keys: made once, shown once, stored as a SHA-256, checked in constant time.

A key reads ``bmdb_<prefix>_<secret>``: the prefix (public, unique) finds the row, the
secret is 32 random bytes. A key that random needs no slow hash; a SHA-256 of the whole
key is what the table keeps. Nothing here says to a caller whether a key exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, or_, select, update

from biomatdb.errors import BiomatError, NotFoundError
from biomatdb.models import ApiKey, utcnow

ROLES = ("reader", "curator", "admin")
"""Each role may do what the roles before it may."""

_SCHEME = "bmdb"
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who a valid key belongs to."""

    id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _prefix_of(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1]


def create_key(connection: Connection, *, name: str, role: str) -> tuple[dict, str]:
    """A new key for ``name`` with ``role``: its listing row and the key itself (never stored)."""
    if role not in ROLES:
        raise BiomatError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", type="unknown-role")
    name = name.strip()
    if not name:
        raise BiomatError("an API key needs a name", type="bad-name")
    if connection.execute(select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise BiomatError(f"an API key named {name!r} exists already", type="duplicate-name")
    prefix = secrets.token_hex(4)
    key = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key_id = connection.execute(
        insert(ApiKey)
        .values(name=name, role=role, prefix=prefix, key_hash=key_hash(key), created_at=utcnow())
        .returning(ApiKey.id)
    ).scalar_one()
    return _listing(connection.execute(select(ApiKey).where(ApiKey.id == key_id)).one()), key


def authenticate(connection: Connection, key: str) -> KeyHolder | None:
    """The holder of a valid, unrevoked key, else None (unknown, malformed and revoked alike)."""
    prefix = _prefix_of(key.strip())
    row = None
    if prefix is not None:
        row = connection.execute(
            select(ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.key_hash, ApiKey.revoked_at).where(
                ApiKey.prefix == prefix
            )
        ).first()
    # compare against something even when there is no row, so that timing says nothing either
    matches = hmac.compare_digest(row.key_hash if row else _DUMMY_HASH, key_hash(key.strip()))
    if row is None or not matches or row.revoked_at is not None:
        return None
    return KeyHolder(id=row.id, name=row.name, role=row.role)


def list_keys(connection: Connection) -> list[dict]:
    return [_listing(row) for row in connection.execute(select(ApiKey).order_by(ApiKey.id))]


def revoke_key(connection: Connection, name_or_id: str) -> dict:
    """Revoke by name or numeric id; revoking twice keeps the first time."""
    condition = ApiKey.name == name_or_id
    if name_or_id.isdigit():
        condition = or_(condition, ApiKey.id == int(name_or_id))
    row = connection.execute(select(ApiKey).where(condition).order_by(ApiKey.id)).first()
    if row is None:
        raise NotFoundError(f"no API key named or numbered {name_or_id!r}")
    if row.revoked_at is None:
        connection.execute(update(ApiKey).where(ApiKey.id == row.id).values(revoked_at=utcnow()))
    return _listing(connection.execute(select(ApiKey).where(ApiKey.id == row.id)).one())


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _listing(row) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "prefix": f"{_SCHEME}_{row.prefix}",
        "created_at": _iso(row.created_at),
        "revoked_at": _iso(row.revoked_at),
    }
