"""Stripe API resources: importing this package registers every route."""

from . import (  # noqa: F401
    accounts,
    application_fees,
    balance,
    charges,
    customers,
    disputes,
    events,
    payment_actions,
    payment_intents,
    payment_methods,
    payouts,
    refunds,
    reporting,
    search,
    transfers,
    webhook_endpoints,
)
