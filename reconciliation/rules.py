"""Which Stripe balance transaction types our ledger books, and which types are one family.

A Stripe row whose type is not in KNOWN_TYPES is activity we did not initiate (a dispute, an
adjustment, a Stripe fee…): reconciliation reports it as `unexpected_type`, never as missing.
"""

from __future__ import annotations

# The types the ledger has a posting rule for (payments/bookings.py). Application fees are not
# among them: the marketplace pays carriers by separate transfers, so a fee row is unexpected.
KNOWN_TYPES: frozenset[str] = frozenset(
    {
        "charge",
        "payment",
        "refund",
        "payment_refund",
        "payment_failure_refund",  # a bank debit returned (payments/bank_debits.py)
        "transfer",
        "transfer_refund",
        "payout",
        "payout_failure",
        "payout_cancel",
    }
)

# Types that name the same movement for different payment methods (cards vs. bank debits).
TYPE_FAMILY: dict[str, str] = {"payment": "charge", "payment_refund": "refund"}

# Balance transaction types that undo a payout, and payout statuses that mean "not paid".
PAYOUT_TYPES: frozenset[str] = frozenset({"payout"})
PAYOUT_REVERSAL_TYPES: frozenset[str] = frozenset({"payout_failure", "payout_cancel"})
FAILED_PAYOUT_STATUSES: frozenset[str] = frozenset({"failed", "canceled"})
PAID_STATUS = "paid"
