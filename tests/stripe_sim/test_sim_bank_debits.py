"""ACH Direct Debit (`us_bank_account`) as live Stripe runs it.

Sources: docs.stripe.com/payments/ach-direct-debit ("a delayed notification payment method.
It can take up to 4 business days to receive acknowledgement of success or failure");
docs.stripe.com/reports/balance-transaction-types (`payment`: "Created when a local payment
method charge is created successfully"; `payment_failure_refund`: delayed notification methods
"remain in a pending state until they either succeed or fail"; `payment_refund`: a local
payment method refund); docs.stripe.com/payments/ach-direct-debit/accept-a-payment (test
account numbers 000222222227 insufficient funds, 000111111113 account closed);
stripe.com/pricing (ACH Direct Debit 0.8% capped at $5.00, failed payment $4.00).
"""

from __future__ import annotations

import datetime as dt

import stripe
from sim_helpers import Control

from stripe_sim.resources.bank_debits import add_business_days

FRIDAY = int(dt.datetime(2026, 3, 13, 15, tzinfo=dt.UTC).timestamp())
DAY = 86_400


def _debit(
    client: stripe.StripeClient, pm: str = "pm_usBankAccount", amount: int = 250_000
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": pm,
            "payment_method_types": ["us_bank_account"],
            "confirm": True,
        }
    )


def test_business_days_skip_the_weekend() -> None:
    thursday = FRIDAY + 6 * DAY
    assert add_business_days(FRIDAY, 4) == thursday
    assert add_business_days(FRIDAY - 4 * DAY, 4) == FRIDAY  # Monday -> Friday


def test_a_bank_debit_is_a_pending_payment_for_four_business_days_then_succeeds(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": FRIDAY, "freeze": True})
    pi = _debit(client)
    assert pi.status == "processing"
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.id.startswith("py_") and charge.status == "pending"
    txn = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (txn.type, txn.status, txn.amount, txn.fee, txn.source) == (
        "payment",
        "pending",
        250_000,
        500,
        charge.id,
    )
    ctl.advance(6 * DAY - 60)  # Thursday, a minute short of 4 business days
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
    ctl.advance(60)
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded" and pi.amount_received == 250_000
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.status == "succeeded" and charge.balance_transaction == txn.id
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 50_000})
    back = client.v1.balance_transactions.retrieve(str(refund.balance_transaction))
    assert (back.type, back.amount, back.reporting_category) == (
        "payment_refund",
        -50_000,
        "refund",
    )


def test_a_returned_bank_debit_gives_the_funds_back_with_payment_failure_refund(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": FRIDAY, "freeze": True})
    pi = _debit(client, "pm_usBankAccount_insufficientFunds", 100_000)
    assert pi.status == "processing"
    ctl.advance(6 * DAY)
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.code == "insufficient_funds"
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert (charge.status, charge.failure_code) == ("failed", "insufficient_funds")
    paid = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    failed = client.v1.balance_transactions.retrieve(str(charge.failure_balance_transaction))
    assert (failed.type, failed.amount, failed.fee, failed.source) == (
        "payment_failure_refund",
        -100_000,
        400,
        charge.id,
    )
    assert failed.reporting_category == "charge_failure"
    assert paid.net + failed.net == -(paid.fee + 400)  # Stripe keeps its fee, adds $4.00
    history = client.v1.balance_transactions.list(params={"source": charge.id}).data
    assert sorted(t.type for t in history) == ["payment", "payment_failure_refund"]


def test_a_bank_account_by_its_test_number_fails_the_same_way(
    client: stripe.StripeClient, ctl: Control
) -> None:
    pm = client.v1.payment_methods.create(
        params={
            "type": "us_bank_account",
            "us_bank_account": {
                "account_number": "000111111113",
                "routing_number": "110000000",
                "account_holder_type": "individual",
            },
        }
    )
    assert pm.us_bank_account is not None and pm.us_bank_account.last4 == "1113"
    pi = _debit(client, pm.id)
    ctl.advance(7 * DAY)
    latest = client.v1.payment_intents.retrieve(pi.id).latest_charge
    charge = client.v1.charges.retrieve(str(latest))
    assert charge.failure_code == "account_closed"
