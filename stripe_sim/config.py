"""Settings of one simulator instance (no environment reading here: callers pass values)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .fees import FeeModel
from .fx import FxTable

DAY = 86_400


@dataclass
class SimConfig:
    # None accepts any key starting with sk_test_; a string accepts exactly that key.
    api_key: str | None = None
    # Optional endpoint registered at start (and after every reset) with a known secret, so an
    # app can verify signatures without first calling POST /v1/webhook_endpoints.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # The default endpoint also receives connected-account events (Stripe's `connect=true`).
    webhook_connect: bool = True
    # Event types the default endpoint subscribes to ("*": all), as an endpoint's enabled_events.
    webhook_events: tuple[str, ...] = ("*",)
    fees: FeeModel = field(default_factory=FeeModel)
    platform_account_id: str = "acct_1MidwaySimPlatform0"
    platform_country: str = "US"
    default_currency: str = "usd"
    # Currencies the platform settles in (its bank accounts; docs.stripe.com/payments/currencies/
    # settlement-payouts). A US account settles in usd only unless it adds bank accounts.
    settlement_currencies: tuple[str, ...] = ("usd",)
    # Exchange rates for converted charges and refunds (POST /_sim/fx).
    fx: FxTable = field(default_factory=FxTable)
    # Card funds become available at midnight UTC this many days after the charge.
    available_delay_days: int = 2
    # Standard payouts arrive at midnight UTC this many days after creation.
    payout_delay_days: int = 2
    # A payout goes pending -> in_transit this long after creation (instant payouts: at once).
    payout_in_transit_after_s: int = 60
    # ACH Direct Debit stays `processing` this many business days (Mon-Fri, UTC) before it
    # succeeds or fails: "up to 4 business days" (docs.stripe.com/payments/ach-direct-debit).
    ach_processing_business_days: int = 4
    # A dispute's evidence is due at the end of this many days (UTC); unanswered, it is lost.
    dispute_evidence_days: int = 7
    # Seconds of simulated time before each webhook retry after a failed attempt.
    webhook_retry_schedule: tuple[int, ...] = (60, 300, 1800, 7200, 18000, 36000, 36000, 36000)
    webhook_timeout_s: float = 10.0
    # Idempotency keys are forgotten after this much simulated time, as at Stripe.
    idempotency_ttl_s: int = DAY
    # Search results include an object only this long after it was created (simulated
    # seconds): https://docs.stripe.com/search ("searchable in less than 1 minute").
    search_indexing_delay_s: int = 60
    # Requests per second per secret key over a sliding 1 s window; 0 lifts the limit.
    # https://docs.stripe.com/rate-limits: sandbox 25/s, live mode 100/s.
    rate_limit_test_per_s: int = 25
    rate_limit_live_per_s: int = 100
    seed: int | None = None
