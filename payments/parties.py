"""Shippers (Stripe customers) and carriers (Stripe Connect Express accounts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Carrier, Shipper
from models.db import transaction
from models.money import check_currency
from payments.errors import InvalidOperation, NotFound
from payments.gateway import StripeGateway
from payments.gateway.records_parties import Account


def create_shipper(session: Session, *, name: str, email: str, external_id: str) -> Shipper:
    """A shipper row; ensure_customer then creates its Stripe customer in a job."""
    shipper = Shipper(name=name, email=email, external_id=external_id)
    session.add(shipper)
    session.flush()
    return shipper


def ensure_customer(
    sessions: sessionmaker[Session], gateway: StripeGateway, shipper_id: int
) -> str:
    """Create the shipper's Stripe customer once (key customer:<id>); return its id."""
    with transaction(sessions) as session:
        shipper = session.get(Shipper, shipper_id)
        if shipper is None:
            raise NotFound(f"no customer {shipper_id}")
        if shipper.stripe_customer_id:
            return shipper.stripe_customer_id
        name, email = shipper.name, shipper.email
    customer = gateway.create_customer(shipper_id, name=name, email=email)
    with transaction(sessions) as session:
        shipper = session.get(Shipper, shipper_id, with_for_update=True)
        assert shipper is not None
        shipper.stripe_customer_id = customer.id
        return shipper.stripe_customer_id


def create_carrier(
    session: Session,
    *,
    name: str,
    email: str,
    country: str,
    default_currency: str,
    payout_method: str = "standard",
) -> Carrier:
    check_currency(default_currency)
    if payout_method not in ("standard", "instant"):
        raise InvalidOperation("payout_method must be standard or instant")
    carrier = Carrier(
        name=name,
        email=email,
        country=country.upper(),
        default_currency=default_currency,
        payout_method=payout_method,
    )
    session.add(carrier)
    session.flush()
    return carrier


def request_connected_account(session: Session, carrier_id: int) -> Carrier:
    """Mark that the carrier should get a connected account; the job creates it."""
    carrier = session.get(Carrier, carrier_id, with_for_update=True)
    if carrier is None:
        raise NotFound(f"no carrier {carrier_id}")
    if carrier.recovery_point == "not_requested":
        carrier.recovery_point = "started"
    return carrier


def ensure_connected_account(
    sessions: sessionmaker[Session], gateway: StripeGateway, carrier_id: int
) -> str:
    """Create the carrier's Express account once (key account:<id>); return its acct_ id."""
    with transaction(sessions) as session:
        carrier = session.get(Carrier, carrier_id)
        if carrier is None:
            raise NotFound(f"no carrier {carrier_id}")
        if carrier.stripe_account_id:
            return carrier.stripe_account_id
        email, country, currency = carrier.email, carrier.country, carrier.default_currency
    account = gateway.create_connected_account(
        carrier_id, email=email, country=country, currency=currency
    )
    with transaction(sessions) as session:
        carrier = session.get(Carrier, carrier_id, with_for_update=True)
        assert carrier is not None
        carrier.stripe_account_id = account.id
        apply_account(carrier, account)
        carrier.recovery_point = "finished"
        return account.id


def apply_account(carrier: Carrier, account: Account) -> None:
    """Stripe's account object is the truth about what the carrier can do."""
    carrier.charges_enabled = account.charges_enabled
    carrier.payouts_enabled = account.payouts_enabled


def refresh_connected_account(
    sessions: sessionmaker[Session], gateway: StripeGateway, stripe_account: str
) -> Carrier | None:
    """Re-read an account from Stripe (on account.updated) and update the carrier's flags."""
    account = gateway.retrieve_account(stripe_account)
    with transaction(sessions) as session:
        carrier = session.scalars(
            select(Carrier).where(Carrier.stripe_account_id == stripe_account).with_for_update()
        ).one_or_none()
        if carrier is None:
            return None
        apply_account(carrier, account)
        return carrier
