"""Typed tables. Importing this package registers every table on Base.metadata."""

from models.api_access import ApiKey, IdempotencyKey
from models.attention import AttentionAction
from models.base import Base
from models.casework import DiscrepancyAction
from models.disputes import Dispute
from models.events import WebhookEvent
from models.installation import Installation
from models.ledger import LedgerAccount, LedgerLine, Posting
from models.parties import Carrier, Load, Shipper
from models.payments import Payment, PayoutBatch, Refund
from models.reconciliation import Discrepancy, ReconciliationRun, StripeBalanceTransaction
from models.scheduling import ScheduledRun

__all__ = [
    "ApiKey",
    "AttentionAction",
    "Base",
    "Carrier",
    "Discrepancy",
    "DiscrepancyAction",
    "Dispute",
    "IdempotencyKey",
    "Installation",
    "LedgerAccount",
    "LedgerLine",
    "Load",
    "Payment",
    "PayoutBatch",
    "Posting",
    "ReconciliationRun",
    "Refund",
    "ScheduledRun",
    "Shipper",
    "StripeBalanceTransaction",
    "WebhookEvent",
]
