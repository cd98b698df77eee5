"""This installation's idempotency-key namespace, created once in the database (migration 0007).

Stripe scopes idempotency keys to the account, and our keys are derived from row ids
(`charge:<payment id>`): two databases on one Stripe account (staging and development on the
same test keys) would otherwise replay each other's objects. A backup restored as another
environment must get its own: `UPDATE installation SET key_namespace = …` before its workers run.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Installation
from models.db import transaction


def key_namespace(sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        namespace = session.scalar(select(Installation.key_namespace))
    if not namespace:
        raise RuntimeError("the installation row is missing: run `midway db upgrade`")
    return namespace
