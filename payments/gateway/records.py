"""The Stripe objects that move money, as typed records: only the fields our code reads.

The gateway returns these, and webhook events read their `data.object` through the same
`from_stripe` functions, so there is one parser for both paths. Money is an int in minor units
with a lowercase currency code, `created` an int Unix time, ids plain strings. An expandable
field `x` becomes `x_id` (always, whichever form Stripe sent) and `x` (the record, only when
Stripe expanded it). Fields Stripe always sends are required; reading a payload without one
raises StripeObjectUnreadable naming the object and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payments.gateway.reading import Data, Reader


@dataclass(frozen=True, slots=True)
class FeeDetail:
    amount: int
    currency: str
    type: str

    @classmethod
    def from_stripe(cls, data: Data) -> FeeDetail:
        r = Reader(data, "fee_detail")
        return cls(amount=r.integer("amount"), currency=r.currency(), type=r.text("type"))


@dataclass(frozen=True, slots=True)
class BalanceTransaction:
    """What Stripe's balance moved: gross `amount`, `fee`, `net`, in the settlement currency."""

    id: str
    amount: int
    fee: int
    net: int
    currency: str
    type: str
    created: int
    source: str | None
    exchange_rate: Decimal | None
    status: str | None
    reporting_category: str | None
    fee_details: tuple[FeeDetail, ...]

    @classmethod
    def from_stripe(cls, data: Data) -> BalanceTransaction:
        r = Reader(data, "balance_transaction")
        return cls(
            id=r.text("id"),
            amount=r.integer("amount"),
            fee=r.integer("fee"),
            net=r.integer("net"),
            currency=r.currency(),
            type=r.text("type"),
            created=r.unix(),
            source=r.ref("source"),
            exchange_rate=r.opt_decimal("exchange_rate"),
            status=r.opt_text("status"),
            reporting_category=r.opt_text("reporting_category"),
            fee_details=tuple(FeeDetail.from_stripe(f) for f in r.items("fee_details")),
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """A card charge (ch_) or a payment (py_: a bank debit, or a transfer received on a
    connected account), with its balance transactions when expanded."""

    id: str
    amount: int
    currency: str
    balance_transaction_id: str | None
    balance_transaction: BalanceTransaction | None
    failure_balance_transaction_id: str | None
    failure_balance_transaction: BalanceTransaction | None

    @classmethod
    def from_stripe(cls, data: Data) -> Charge:
        r = Reader(data, "charge")
        txn_id, txn = r.expandable("balance_transaction", BalanceTransaction.from_stripe)
        failed_id, failed = r.expandable(
            "failure_balance_transaction", BalanceTransaction.from_stripe
        )
        return cls(
            id=r.text("id"),
            amount=r.integer("amount"),
            currency=r.currency(),
            balance_transaction_id=txn_id,
            balance_transaction=txn,
            failure_balance_transaction_id=failed_id,
            failure_balance_transaction=failed,
        )


@dataclass(frozen=True, slots=True)
class PaymentError:
    """A PaymentIntent's `last_payment_error`: why its last attempt failed."""

    code: str | None
    decline_code: str | None
    message: str | None

    @classmethod
    def from_stripe(cls, data: Data) -> PaymentError:
        r = Reader(data, "last_payment_error")
        return cls(
            code=r.opt_text("code"),
            decline_code=r.opt_text("decline_code"),
            message=r.opt_text("message"),
        )


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """A PaymentIntent with its latest charge (expanded by our own requests; an id in webhook
    snapshots). Amount and currency may be absent from a webhook snapshot: its handler only
    finds the row by id and metadata, then re-reads the PaymentIntent from Stripe."""

    id: str
    status: str
    amount: int | None
    currency: str | None
    customer: str | None
    latest_charge_id: str | None
    latest_charge: Charge | None
    last_payment_error: PaymentError | None
    client_secret: str | None
    metadata: Mapping[str, str]

    @classmethod
    def from_stripe(cls, data: Data) -> PaymentIntent:
        r = Reader(data, "payment_intent")
        charge_id, charge = r.expandable("latest_charge", Charge.from_stripe)
        return cls(
            id=r.text("id"),
            status=r.text("status"),
            amount=r.opt_integer("amount"),
            currency=r.opt_currency(),
            customer=r.ref("customer"),
            latest_charge_id=charge_id,
            latest_charge=charge,
            # An empty object is no error, as Stripe's null is.
            last_payment_error=r.nested("last_payment_error", PaymentError.from_stripe)
            if data.get("last_payment_error")
            else None,
            client_secret=r.opt_text("client_secret"),
            metadata=r.metadata(),
        )


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str
    payment_intent: str | None
    balance_transaction_id: str | None
    balance_transaction: BalanceTransaction | None
    failure_reason: str | None
    metadata: Mapping[str, str]

    @classmethod
    def from_stripe(cls, data: Data) -> Refund:
        r = Reader(data, "refund")
        txn_id, txn = r.expandable("balance_transaction", BalanceTransaction.from_stripe)
        return cls(
            id=r.text("id"),
            amount=r.integer("amount"),
            currency=r.currency(),
            status=r.text("status"),
            payment_intent=r.ref("payment_intent"),
            balance_transaction_id=txn_id,
            balance_transaction=txn,
            failure_reason=r.opt_text("failure_reason"),
            metadata=r.metadata(),
        )


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer to a connected account; `destination_payment` is the py_ payment it makes
    there (read on that account for the balance transaction it credited)."""

    id: str
    amount: int
    currency: str
    destination: str | None
    destination_payment: str | None
    balance_transaction_id: str | None
    balance_transaction: BalanceTransaction | None
    metadata: Mapping[str, str]

    @classmethod
    def from_stripe(cls, data: Data) -> Transfer:
        r = Reader(data, "transfer")
        txn_id, txn = r.expandable("balance_transaction", BalanceTransaction.from_stripe)
        return cls(
            id=r.text("id"),
            amount=r.integer("amount"),
            currency=r.currency(),
            destination=r.ref("destination"),
            destination_payment=r.ref("destination_payment"),
            balance_transaction_id=txn_id,
            balance_transaction=txn,
            metadata=r.metadata(),
        )


@dataclass(frozen=True, slots=True)
class Payout:
    """A payout from a connected balance to the carrier's bank; a failed one's
    `failure_balance_transaction` is the money coming back."""

    id: str
    amount: int
    currency: str
    status: str
    balance_transaction_id: str | None
    balance_transaction: BalanceTransaction | None
    failure_balance_transaction_id: str | None
    failure_balance_transaction: BalanceTransaction | None
    failure_code: str | None
    failure_message: str | None
    metadata: Mapping[str, str]

    @classmethod
    def from_stripe(cls, data: Data) -> Payout:
        r = Reader(data, "payout")
        txn_id, txn = r.expandable("balance_transaction", BalanceTransaction.from_stripe)
        failed_id, failed = r.expandable(
            "failure_balance_transaction", BalanceTransaction.from_stripe
        )
        return cls(
            id=r.text("id"),
            amount=r.integer("amount"),
            currency=r.currency(),
            status=r.text("status"),
            balance_transaction_id=txn_id,
            balance_transaction=txn,
            failure_balance_transaction_id=failed_id,
            failure_balance_transaction=failed,
            failure_code=r.opt_text("failure_code"),
            failure_message=r.opt_text("failure_message"),
            metadata=r.metadata(),
        )


@dataclass(frozen=True, slots=True)
class Dispute:
    """A dispute (chargeback); each of its balance transactions is an id or, expanded, the
    record. `account` is set when the dispute is on a connected account."""

    id: str
    amount: int
    currency: str
    status: str | None
    reason: str | None
    charge: str | None
    payment_intent: str | None
    evidence_due_by: int | None
    created: int | None
    account: str | None
    balance_transactions: tuple[BalanceTransaction | str, ...]

    @classmethod
    def from_stripe(cls, data: Data) -> Dispute:
        r = Reader(data, "dispute")
        evidence = r.child("evidence_details")
        txns: list[BalanceTransaction | str] = []
        for item in r.items("balance_transactions"):
            txn_id, txn = r.expanded(item, "balance_transactions", BalanceTransaction.from_stripe)
            if txn_id is None:
                raise r.fail("balance_transactions", "ids or objects, not null")
            txns.append(txn or txn_id)
        return cls(
            id=r.text("id"),
            amount=r.integer("amount"),
            currency=r.currency(),
            status=r.opt_text("status"),
            reason=r.opt_text("reason"),
            charge=r.ref("charge"),
            payment_intent=r.ref("payment_intent"),
            evidence_due_by=evidence.opt_unix("due_by") if evidence else None,
            created=r.opt_unix("created"),
            account=_account_of(data),
            balance_transactions=tuple(txns),
        )


def _account_of(data: Mapping[str, Any]) -> str | None:
    # Only a plain id counts (the simulator marks a connected account's dispute with it).
    account = data.get("account")
    return account if type(account) is str else None
