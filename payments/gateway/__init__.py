"""The one place that talks to Stripe. Everything else sees our typed records (records*.py) and
our own errors."""

from payments.gateway.client import StripeGateway, make_stripe_client
from payments.gateway.guard import CallGuard, NoGuard

__all__ = ["CallGuard", "NoGuard", "StripeGateway", "make_stripe_client"]
