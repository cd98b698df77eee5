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


class GatewayError(PaymentsError):
    """Stripe said no, or could not be reached."""


class StripeUnavailable(GatewayError):
    """Transient: a rate limit, a 5xx, a timeout or an open circuit. Retry after a delay."""

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateDeferred(StripeUnavailable):
    """Transient, and nothing went wrong: our own shared rate budget is booked further ahead
    than a call may wait. Retry exactly when it frees up, without a failure's backoff."""


class OutcomeUnknown(StripeUnavailable):
    """Transient, but Stripe may have acted: a 500 it replays for our key, a 409 while our key
    is in use, a timeout or a dropped connection. The next attempt looks the object up at
    Stripe before sending anything new."""


class CircuitOpen(StripeUnavailable):
    """Stripe has been failing; calls are held back until the breaker lets one through."""


class StripeRequestRefused(GatewayError):
    """Final: Stripe refused the request as invalid. Retrying the same request cannot help."""

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


class StripeObjectUnreadable(GatewayError):
    """Final: a Stripe object lacks a field we read, or holds it with the wrong JSON type. The
    message names the object (and its id when known) and the field; retrying reads the same."""

    def __init__(self, message: str, *, obj: str, field: str) -> None:
        super().__init__(message)
        self.obj = obj
        self.field = field


class PaymentDeclined(GatewayError):
    """Final: the card or bank declined. Carries Stripe's code and decline code."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None,
        decline_code: str | None,
        payment_intent_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class Unsettled(PaymentsError):
    """Final for now: what Stripe did cannot be told or does not match our row (several
    objects carry our marker, or one with another amount). A person must look."""


class InvalidOperation(PaymentsError):
    """A request our rules refuse (refund above refundable, payouts not enabled, …)."""


class NotFound(PaymentsError):
    """No such row (payment, refund, carrier, …)."""


class LoadAlreadyCharged(InvalidOperation):
    """The load has a live (not failed or canceled) payment and no reason to charge again."""

    def __init__(self, message: str, *, payment_id: int) -> None:
        super().__init__(message)
        self.payment_id = payment_id
