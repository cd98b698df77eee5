"""The chart of accounts: every ledger account code the system books to.

`stripe_balance:<account>` mirrors a Stripe balance ("platform" or a connected acct_…): the
net of every balance transaction is booked there, and its fee on a line with memo "fee", so
reconciliation can read gross, fee and net back from the ledger.
"""

from __future__ import annotations

from payments.ledger import Account

PLATFORM = "platform"
FEE_MEMO = "fee"
NET_MEMO = "net"

STRIPE_FEES = Account("stripe_fees", "expense")
COMMISSION_REVENUE = Account("commission_revenue", "revenue")
# Bank debits Stripe holds as pending `payment`s while they process: owed to no one until they
# settle (then the carrier's and ours) or are returned (then gone again).
BANK_DEBITS_IN_FLIGHT = Account("bank_debits_in_flight", "liability")
# Stripe activity finance accepted after the fact (out-of-band refunds, fee changes, disputes).
ADJUSTMENTS = Account("finance_adjustments", "expense")
# Chargebacks: what disputes took from the balance (less what won disputes gave back), and
# Stripe's dispute fees (booked with memo "fee", like every Stripe fee).
DISPUTES = Account("disputes", "expense")
DISPUTE_FEES = Account("dispute_fees", "expense")


def stripe_balance(stripe_account: str = PLATFORM) -> Account:
    return Account(f"stripe_balance:{stripe_account}", "asset")


def carrier_payable(carrier_id: int) -> Account:
    """What the platform owes a carrier for hauled and paid loads, not yet transferred."""
    return Account(f"carrier_payable:{carrier_id}", "liability")


def carrier_receivable(carrier_id: int) -> Account:
    """What a carrier owes back: their share of a refund made after they were paid."""
    return Account(f"carrier_receivable:{carrier_id}", "asset")


def carrier_funds(stripe_account: str) -> Account:
    """The carrier's money sitting on their connected account (theirs, mirrored for recon)."""
    return Account(f"carrier_funds:{stripe_account}", "liability")


def connected_fees(stripe_account: str) -> Account:
    """Fees Stripe charges the connected account itself (e.g. instant payouts)."""
    return Account(f"connected_fees:{stripe_account}", "expense")
