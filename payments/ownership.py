"""Which Stripe objects are ours: the rule every webhook handler and record_* function follows.

Another integration on the same Stripe account (or a person in the dashboard) can create a
PaymentIntent or Refund carrying our metadata (`payment_id`, `refund_id`). Such an object must
never be booked onto our rows, nor replace the id we stored. An object is ours only
- by an id we stored on the row; or,
- before we stored one (our job died after Stripe answered), by our own marker — the
  namespaced idempotency key that created it, which the gateway writes into its metadata
  (payments.gateway.client.CREATED_BY_KEY) — AND matching amount, currency and customer
  (payment) or PaymentIntent (refund).
Anything else is out-of-band activity: its event is kept with status `out_of_band` and the
reason, a warning is logged for finance, and reconciliation reports the money it moved
(`missing_in_ledger`) until finance accepts or investigates it.
"""

from __future__ import annotations

from typing import Any

from payments.errors import PaymentsError
from payments.gateway import StripeGateway
from payments.gateway.client import CREATED_BY_KEY
from payments.gateway.records import PaymentIntent, Refund

# The Stripe objects a row claims by our marker (records whose references are ids already).
Claimable = PaymentIntent | Refund


class NotOurs(PaymentsError):
    """A Stripe object names one of our rows but is not ours: out-of-band activity."""


def keep_stored_id(stored: str | None, received: str, what: str) -> None:
    """A Stripe id stored on a row is never replaced by another object's."""
    if stored is not None and stored != received:
        raise NotOurs(f"{received} is not {what}'s Stripe object ({stored} is); not booked")


def _marker_mismatches(
    gateway: StripeGateway, obj: Claimable, key: str, expected: dict[str, Any]
) -> list[str]:
    reasons = []
    if obj.metadata.get(CREATED_BY_KEY) != gateway.idempotency_key(key):
        reasons.append("it was not created by our request")
    for field, value in expected.items():
        got = getattr(obj, field)  # a record field: references (customer, …) are ids
        if got != value:
            reasons.append(f"{field} {got!r} is not {value!r}")
    return reasons


def claim(
    gateway: StripeGateway,
    obj: Claimable,
    *,
    what: str,
    stored_id: str | None,
    key: str,
    expected: dict[str, Any],
) -> None:
    """Raise NotOurs unless `obj` (fresh from Stripe) is the Stripe object of our row `what`.

    `key` is the row's idempotency key (`charge:<id>`), `expected` the fields that must match
    (amount, currency, customer / payment_intent) when no id is stored yet.
    """
    if stored_id is not None:
        keep_stored_id(stored_id, obj.id, what)
        return
    reasons = _marker_mismatches(gateway, obj, key, expected)
    if reasons:
        raise NotOurs(f"{obj.id} names {what} but is not ours: {'; '.join(reasons)}")
