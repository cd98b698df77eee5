"""Who may call the API (hashed keys with roles) and the replay store behind Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column

API_ROLES = ("backend", "finance", "admin")


class ApiKey(Base):
    """An API key. Only a SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(f"role IN {API_ROLES}", name="role_known"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # The non-secret prefix identifies a key in logs and listings.
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Finance sessions signed in with this key before this moment are over (sign-out).
    sessions_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """The first response to a POST with a given Idempotency-Key, replayed on a retry."""

    __tablename__ = "api_idempotency_keys"
    # One namespace per installation, as Stripe scopes keys to the account: the same key sent
    # with a second API key replays (or refuses) like a retry with the first.
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_method: Mapped[str] = mapped_column(String(8))
    request_path: Mapped[str] = mapped_column(String(500))
    # SHA-256 of the canonical body: the same key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
