"""Every environment variable the system reads, mapped to one typed setting.

Nothing else in the code base reads os.environ. With nothing set, the system runs on the
embedded default: an embedded PostgreSQL under MIDWAY_DATA_DIR, fakeredis, and stripe_sim
in-process. Set DATABASE_URL, REDIS_URL and STRIPE_API_BASE/STRIPE_API_KEY to run on real services.

- DATABASE_URL (default: the embedded PostgreSQL): postgresql+psycopg://user@host/db
- REDIS_URL (default: fakeredis): redis://host:6379/0 for the Dramatiq broker
- MIDWAY_DATA_DIR (default ./var): embedded PostgreSQL data and local artefacts
- STRIPE_API_KEY (default sk_test_midway): secret key (sk_test_… / sk_live_…)
- STRIPE_API_BASE (default: stripe_sim in-process): https://api.stripe.com or a stripe_sim URL
- STRIPE_WEBHOOK_SECRET (default whsec_midway_local): comma-separated: several during rotation
- STRIPE_CONNECT_TIMEOUT_S (default 5): TCP connect timeout to Stripe
- STRIPE_READ_TIMEOUT_S (default 30): read timeout to Stripe
- STRIPE_MAX_NETWORK_RETRIES (default 2): SDK retries, reusing our idempotency key
- STRIPE_RATE_LIMIT_PER_S (default 20): shared ceiling for all workers, below Stripe's
  sandbox limit of 25/s (live mode: 100/s)
- STRIPE_RETURN_URL (default none): where a customer returns after a redirect-based payment
  method; unset, server-side PaymentIntents allow no redirects
- STRIPE_READ_BUDGET_PER_S (default 2): Stripe reads the web may make for API clients (client
  secrets), counted within STRIPE_RATE_LIMIT_PER_S (never waiting for room in it); beyond
  either a read answers without Stripe
- STRIPE_BREAKER_FAILURES (default 5): transient failures within 30 s that open the breaker
- STRIPE_BREAKER_COOLDOWN_S (default 10): how long an open breaker holds calls back
- STRIPE_SETTLEMENT_CURRENCIES (default usd): currencies the platform's Stripe account settles
  in (its bank accounts), comma-separated, default first; other charges are converted into it
- PAYOUT_THRESHOLDS (default {"usd":10000,"eur":10000,"jpy":10000}): minimum payable per
  currency, in minor units
- PAYOUT_BATCH_CRON (default 0 3 * * *): crontab for carrier payout batching
- RECON_TIMEZONE (default UTC): IANA zone that defines a reconciliation day
- RECON_AT (default 02:00): local time of the nightly reconciliation
- RECON_CATCHUP_DAYS (default 7): days back the scheduler fills in on start
- RECON_PARTITION_ROWS (default 1000000): rows (per side) of one account, currency and day
  above which its reconciliation is split into hash partitions run as separate jobs
- STUCK_AFTER_S (default 120): age after which the sweeper re-enqueues work
- ALERT_WEBHOOK_URL (default: none): Slack-compatible URL for discrepancy alerts
- SECRET_KEY (default: random per process): signs finance session cookies
- API_MAX_BODY_BYTES (default 65536): larger request bodies are refused
- ADDRESS_RATE_LIMIT_PER_S (default 50): requests a second per client address without a
  recently verified API key (anonymous, bad keys), counted before authentication; signed
  Stripe webhooks are not counted
- FORWARDED_PROXIES (default 0): reverse proxies in front of the web whose X-Forwarded-For
  is trusted for the client address (1 behind one nginx)
- WORKER_PROCESSES (default 2): dramatiq worker processes
- WORKER_THREADS (default: derived from STRIPE_RATE_LIMIT_PER_S, see cli/worker.py): threads
  per worker process; 0 or unset derives it
- WORKER_IDLE_POLL_MS (default 100): the longest an idle Dramatiq consumer of `midway worker`
  sleeps between fetches (Dramatiq's worker timeout; its own default is 1000)
- LOG_LEVEL (default INFO): root log level
- PROMETHEUS_METRICS (default on): Dramatiq's Prometheus middleware in workers
- WORKER_METRICS_HOST (default 127.0.0.1) / WORKER_METRICS_PORT (default 9191): where the
  workers' Prometheus exporter listens (one per host, summing every worker process)
- METRICS_TOKEN (default: none): the web's /metrics answers only `Authorization: Bearer
  <METRICS_TOKEN>`; unset, /metrics is refused (403)
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(ValueError):
    """A setting's value cannot be used; the message names the variable."""


class EmbeddedDefaultMissing(RuntimeError):
    """A setting is unset and the embedded default standing in for it (the `embedded` extra)
    is not installed; the message names the setting and the extra."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("var")
    stripe_api_key: str = "sk_test_midway"
    stripe_api_base: str | None = None
    stripe_webhook_secrets: tuple[str, ...] = ("whsec_midway_local",)
    stripe_connect_timeout_s: float = 5.0
    stripe_read_timeout_s: float = 30.0
    stripe_max_network_retries: int = 2
    stripe_rate_limit_per_s: int = 20
    stripe_return_url: str | None = None
    stripe_read_budget_per_s: int = 2
    stripe_breaker_failures: int = 5
    stripe_breaker_cooldown_s: float = 10.0
    stripe_settlement_currencies: tuple[str, ...] = ("usd",)
    payout_thresholds: Mapping[str, int] = field(
        default_factory=lambda: {"usd": 10000, "eur": 10000, "jpy": 10000}
    )
    payout_batch_cron: str = "0 3 * * *"
    recon_timezone: str = "UTC"
    recon_at: str = "02:00"
    recon_catchup_days: int = 7
    recon_partition_rows: int = 1_000_000
    stuck_after_s: int = 120
    alert_webhook_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    # Whether SECRET_KEY was set (the default is random per process): web.startup_checks.
    secret_key_configured: bool = False
    api_max_body_bytes: int = 65536
    address_rate_limit_per_s: int = 50
    forwarded_proxies: int = 0
    worker_processes: int = 2
    worker_threads: int | None = None  # None: derived from the Stripe rate limit
    worker_idle_poll_ms: int = 100
    log_level: str = "INFO"
    prometheus_metrics: bool = True
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9191
    metrics_token: str | None = None

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be on or off, got {raw!r}")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def _thresholds(env: Mapping[str, str]) -> dict[str, int] | None:
    raw = env.get("PAYOUT_THRESHOLDS")
    if raw is None or raw == "":
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"PAYOUT_THRESHOLDS is not valid JSON: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise SettingsError('PAYOUT_THRESHOLDS must be a JSON object like {"usd": 10000}')
    thresholds: dict[str, int] = {}
    for currency, amount in parsed.items():
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise SettingsError(
                f"PAYOUT_THRESHOLDS: {currency!r} is not a lowercase ISO currency code"
            )
        if type(amount) is not int or amount <= 0:
            raise SettingsError(
                f"PAYOUT_THRESHOLDS[{currency}] must be a positive integer in minor units"
            )
        thresholds[currency] = amount
    return thresholds


def _settlement_currencies(env: Mapping[str, str]) -> tuple[str, ...] | None:
    raw = env.get("STRIPE_SETTLEMENT_CURRENCIES")
    if not raw:
        return None
    codes = tuple(c.strip() for c in raw.split(",") if c.strip())
    for code in codes:
        if not re.fullmatch(r"[a-z]{3}", code):
            raise SettingsError(
                f"STRIPE_SETTLEMENT_CURRENCIES: {code!r} is not a lowercase ISO currency code"
            )
    return codes or None


def _database_url(raw: str | None) -> str | None:
    if not raw:
        return None
    # Accept the libpq spelling too, but always drive psycopg 3.
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    if not raw.startswith("postgresql+psycopg://"):
        raise SettingsError("DATABASE_URL must be a postgresql:// or postgresql+psycopg:// URL")
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (or a given mapping, for tests)."""
    env = os.environ if env is None else env
    defaults = Settings()
    recon_at = env.get("RECON_AT") or defaults.recon_at
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", recon_at):
        raise SettingsError(f"RECON_AT must be HH:MM (24-hour), got {recon_at!r}")
    secrets_raw = env.get("STRIPE_WEBHOOK_SECRET")
    webhook_secrets = (
        tuple(s.strip() for s in secrets_raw.split(",") if s.strip())
        if secrets_raw
        else defaults.stripe_webhook_secrets
    )
    return Settings(
        database_url=_database_url(env.get("DATABASE_URL")),
        redis_url=env.get("REDIS_URL") or None,
        data_dir=Path(env.get("MIDWAY_DATA_DIR") or defaults.data_dir),
        stripe_api_key=env.get("STRIPE_API_KEY") or defaults.stripe_api_key,
        stripe_api_base=(env.get("STRIPE_API_BASE") or None),
        stripe_webhook_secrets=webhook_secrets,
        stripe_connect_timeout_s=_seconds(
            env, "STRIPE_CONNECT_TIMEOUT_S", defaults.stripe_connect_timeout_s
        ),
        stripe_read_timeout_s=_seconds(
            env, "STRIPE_READ_TIMEOUT_S", defaults.stripe_read_timeout_s
        ),
        stripe_max_network_retries=_int(
            env, "STRIPE_MAX_NETWORK_RETRIES", defaults.stripe_max_network_retries
        ),
        stripe_rate_limit_per_s=_int(
            env, "STRIPE_RATE_LIMIT_PER_S", defaults.stripe_rate_limit_per_s, minimum=1
        ),
        stripe_return_url=env.get("STRIPE_RETURN_URL") or None,
        stripe_read_budget_per_s=_int(
            env, "STRIPE_READ_BUDGET_PER_S", defaults.stripe_read_budget_per_s, minimum=1
        ),
        stripe_breaker_failures=_int(
            env, "STRIPE_BREAKER_FAILURES", defaults.stripe_breaker_failures, minimum=1
        ),
        stripe_breaker_cooldown_s=_seconds(
            env, "STRIPE_BREAKER_COOLDOWN_S", defaults.stripe_breaker_cooldown_s
        ),
        stripe_settlement_currencies=_settlement_currencies(env)
        or defaults.stripe_settlement_currencies,
        payout_thresholds=_thresholds(env) or defaults.payout_thresholds,
        payout_batch_cron=env.get("PAYOUT_BATCH_CRON") or defaults.payout_batch_cron,
        recon_timezone=env.get("RECON_TIMEZONE") or defaults.recon_timezone,
        recon_at=recon_at,
        recon_catchup_days=_int(env, "RECON_CATCHUP_DAYS", defaults.recon_catchup_days),
        recon_partition_rows=_int(env, "RECON_PARTITION_ROWS", defaults.recon_partition_rows),
        stuck_after_s=_int(env, "STUCK_AFTER_S", defaults.stuck_after_s, minimum=1),
        alert_webhook_url=env.get("ALERT_WEBHOOK_URL") or None,
        secret_key=env.get("SECRET_KEY") or defaults.secret_key,
        secret_key_configured=bool(env.get("SECRET_KEY")),
        api_max_body_bytes=_int(
            env, "API_MAX_BODY_BYTES", defaults.api_max_body_bytes, minimum=1024
        ),
        address_rate_limit_per_s=_int(
            env, "ADDRESS_RATE_LIMIT_PER_S", defaults.address_rate_limit_per_s, minimum=1
        ),
        forwarded_proxies=_int(env, "FORWARDED_PROXIES", defaults.forwarded_proxies),
        worker_processes=_int(env, "WORKER_PROCESSES", defaults.worker_processes, minimum=1),
        worker_threads=_int(env, "WORKER_THREADS", 0) or defaults.worker_threads,
        worker_idle_poll_ms=_int(
            env, "WORKER_IDLE_POLL_MS", defaults.worker_idle_poll_ms, minimum=1
        ),
        log_level=(env.get("LOG_LEVEL") or defaults.log_level).upper(),
        prometheus_metrics=_flag(env, "PROMETHEUS_METRICS", defaults.prometheus_metrics),
        worker_metrics_host=env.get("WORKER_METRICS_HOST") or defaults.worker_metrics_host,
        worker_metrics_port=_int(
            env, "WORKER_METRICS_PORT", defaults.worker_metrics_port, minimum=1
        ),
        metrics_token=env.get("METRICS_TOKEN") or None,
    )
