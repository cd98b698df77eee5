"""Settings the web process refuses to start with, outside the embedded default / simulator.

The default webhook secret is published in the README: accepting it while talking to Stripe
would let anyone sign events. SECRET_KEY defaults to a random key per process, which several
web processes (or a restart) cannot share, and a short one can be guessed. With stripe_sim
(STRIPE_API_BASE unset, or on this machine) the defaults are fine.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from config import Settings
from config.settings import SettingsError

PUBLISHED_WEBHOOK_SECRETS = frozenset(Settings().stripe_webhook_secrets)
MIN_SECRET_KEY_LENGTH = 32


def uses_local_simulator(settings: Settings) -> bool:
    """stripe_sim in-process (no STRIPE_API_BASE) or on a loopback address."""
    if settings.stripe_api_base is None:
        return True
    host = urlsplit(settings.stripe_api_base).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_unsafe_settings(settings: Settings) -> None:
    """Raise SettingsError naming every setting that must be set before serving."""
    if uses_local_simulator(settings):
        return
    problems = []
    if PUBLISHED_WEBHOOK_SECRETS & set(settings.stripe_webhook_secrets):
        problems.append(
            "STRIPE_WEBHOOK_SECRET is unset or holds the default published in the README: set"
            " the signing secret (whsec_…) of your Stripe webhook endpoint"
        )
    if not settings.secret_key_configured or len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_LENGTH} random characters,"
            " the same for every web process"
        )
    if problems:
        raise SettingsError(
            f"refusing to start against {settings.stripe_api_base}: " + "; ".join(problems)
        )
