"""API keys: minted once, stored as a SHA-256 of the secret, looked up by that hash.

A key reads `mwk_<12 hex>.<secret>`: the part before the dot is the non-secret prefix that
identifies the key in listings and logs; the whole string is the secret, shown once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import ApiKey
from models.api_access import API_ROLES

PREFIX_LEAD = "mwk_"


class KeyError_(ValueError):  # noqa: N801 - KeyError is a builtin
    """A key that cannot be created or revoked as asked."""


@dataclass(frozen=True)
class KeyInfo:
    """What a request knows about its caller (never the secret)."""

    id: int
    prefix: str
    role: str
    name: str


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(session: Session, *, role: str, name: str) -> tuple[ApiKey, str]:
    """A new key with the role; returns the row and the secret token (not stored)."""
    if role not in API_ROLES:
        raise KeyError_(f"role must be one of {', '.join(API_ROLES)}")
    name = name.strip()
    if not name or len(name) > 200:
        raise KeyError_("name must be 1 to 200 characters")
    prefix = PREFIX_LEAD + secrets.token_hex(6)
    token = f"{prefix}.{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, role=role, prefix=prefix, secret_hash=hash_secret(token))
    session.add(key)
    session.flush()
    return key, token


def find_active(session: Session, token: str) -> KeyInfo | None:
    """The live key whose secret is `token`, or None (unknown, malformed or revoked)."""
    if not token.startswith(PREFIX_LEAD) or len(token) > 200:
        return None
    key = session.scalar(
        select(ApiKey).where(ApiKey.secret_hash == hash_secret(token), ApiKey.revoked_at.is_(None))
    )
    if key is None:
        return None
    return KeyInfo(id=key.id, prefix=key.prefix, role=key.role, name=key.name)


def list_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, ident: str) -> ApiKey:
    """Revoke by id or prefix. Revoking twice is allowed and keeps the first time."""
    clauses = [ApiKey.prefix == ident]
    if ident.isdigit() and int(ident) < 2**63:
        clauses.append(ApiKey.id == int(ident))
    key = session.scalar(select(ApiKey).where(or_(*clauses)).with_for_update())
    if key is None:
        raise KeyError_(f"no API key {ident}")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    return key


def touch(session: Session, key_id: int) -> None:
    key = session.get(ApiKey, key_id)
    if key is not None:
        key.last_used_at = datetime.now(UTC)
