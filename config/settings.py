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
- STRIPE_RATE_LIMIT_PER_S (default 20): shared ceiling for all workers (test mode: 25)
- STRIPE_BREAKER_FAILURES (default 5): transient failures within 30 s that open the breaker
- STRIPE_BREAKER_COOLDOWN_S (default 10): how long an open breaker holds calls back
- PAYOUT_THRESHOLDS (default {"usd":10000,"eur":10000,"jpy":10000}): minimum payable per
  currency, in minor units
- PAYOUT_BATCH_CRON (default 0 3 * * *): crontab for carrier payout batching
- RECON_TIMEZONE (default UTC): IANA zone that defines a reconciliation day
- RECON_AT (default 02:00): local time of the nightly reconciliation
- RECON_CATCHUP_DAYS (default 7): days back the scheduler fills in on start
- STUCK_AFTER_S (default 120): age after which the sweeper re-enqueues work
- ALERT_WEBHOOK_URL (default: none): Slack-compatible URL for discrepancy alerts
- SECRET_KEY (default: random per process): signs finance session cookies
- API_MAX_BODY_BYTES (default 65536): larger request bodies are refused
- WORKER_PROCESSES (default 2): dramatiq worker processes
- WORKER_THREADS (default: derived from STRIPE_RATE_LIMIT_PER_S, see cli/worker.py): threads
  per worker process; 0 or unset derives it
- LOG_LEVEL (default INFO): root log level
- PROMETHEUS_METRICS (default on): Dramatiq's Prometheus middleware in workers
  (exposition on dramatiq_prom_port, 9191 by default)
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
    stripe_breaker_failures: int = 5
    stripe_breaker_cooldown_s: float = 10.0
    payout_thresholds: Mapping[str, int] = field(
        default_factory=lambda: {"usd": 10000, "eur": 10000, "jpy": 10000}
    )
    payout_batch_cron: str = "0 3 * * *"
    recon_timezone: str = "UTC"
    recon_at: str = "02:00"
    recon_catchup_days: int = 7
    stuck_after_s: int = 120
    alert_webhook_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    api_max_body_bytes: int = 65536
    worker_processes: int = 2
    worker_threads: int | None = None  # None: derived from the Stripe rate limit
    log_level: str = "INFO"
    prometheus_metrics: bool = True

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
        stripe_breaker_failures=_int(
            env, "STRIPE_BREAKER_FAILURES", defaults.stripe_breaker_failures, minimum=1
        ),
        stripe_breaker_cooldown_s=_seconds(
            env, "STRIPE_BREAKER_COOLDOWN_S", defaults.stripe_breaker_cooldown_s
        ),
        payout_thresholds=_thresholds(env) or defaults.payout_thresholds,
        payout_batch_cron=env.get("PAYOUT_BATCH_CRON") or defaults.payout_batch_cron,
        recon_timezone=env.get("RECON_TIMEZONE") or defaults.recon_timezone,
        recon_at=recon_at,
        recon_catchup_days=_int(env, "RECON_CATCHUP_DAYS", defaults.recon_catchup_days),
        stuck_after_s=_int(env, "STUCK_AFTER_S", defaults.stuck_after_s, minimum=1),
        alert_webhook_url=env.get("ALERT_WEBHOOK_URL") or None,
        secret_key=env.get("SECRET_KEY") or defaults.secret_key,
        api_max_body_bytes=_int(
            env, "API_MAX_BODY_BYTES", defaults.api_max_body_bytes, minimum=1024
        ),
        worker_processes=_int(env, "WORKER_PROCESSES", defaults.worker_processes, minimum=1),
        worker_threads=_int(env, "WORKER_THREADS", 0) or defaults.worker_threads,
        log_level=(env.get("LOG_LEVEL") or defaults.log_level).upper(),
        prometheus_metrics=_flag(env, "PROMETHEUS_METRICS", defaults.prometheus_metrics),
    )
