"""Errors of the payments domain, named after the condition."""

from models.errors import MidwayError


class PaymentsError(MidwayError):
    """Root of the domain's errors."""


class LedgerError(PaymentsError):
    """A posting that would break the ledger's rules; nothing was written."""


class UnbalancedPosting(LedgerError):
    """Debits and credits differ in some currency."""


class InvalidLedgerLine(LedgerError):
    """A line with a non-positive amount, an unknown side, or the wrong currency."""


class AccountKindConflict(LedgerError):
    """An account code already exists with another kind (asset, liability, …)."""


class PostingNotFound(LedgerError):
    """No posting with that id."""
