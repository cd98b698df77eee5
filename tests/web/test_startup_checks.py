"""The webhook secret and SECRET_KEY never fail open: against Stripe (anything but the local
simulator) the web process refuses to start on a missing or published default, naming the
setting. Stripe signs each endpoint's events with that endpoint's own secret
(https://docs.stripe.com/webhooks#verify-events)."""

from __future__ import annotations

import secrets

import pytest

from config import SettingsError, load_settings
from web import create_app

STRIPE = {"STRIPE_API_BASE": "https://api.stripe.com", "STRIPE_API_KEY": "sk_test_x"}


def start(sessions, **env: str):
    return create_app({"SETTINGS": load_settings(env), "SESSIONS": sessions, "TESTING": True})


def test_against_stripe_the_published_webhook_secret_stops_the_web_process(sessions):
    key = secrets.token_hex(32)
    with pytest.raises(SettingsError, match="STRIPE_WEBHOOK_SECRET"):
        start(sessions, **STRIPE, SECRET_KEY=key)
    with pytest.raises(SettingsError, match="STRIPE_WEBHOOK_SECRET"):
        start(sessions, **STRIPE, SECRET_KEY=key, STRIPE_WEBHOOK_SECRET="whsec_midway_local")


def test_against_stripe_a_missing_or_short_secret_key_stops_the_web_process(sessions):
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        start(sessions, **STRIPE, STRIPE_WEBHOOK_SECRET="whsec_real")
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        start(sessions, **STRIPE, STRIPE_WEBHOOK_SECRET="whsec_real", SECRET_KEY="short")


def test_configured_secrets_and_the_local_simulator_start(sessions):
    assert start(sessions, **STRIPE, STRIPE_WEBHOOK_SECRET="whsec_real", SECRET_KEY="k" * 64)
    assert start(sessions, STRIPE_API_BASE="http://127.0.0.1:12111")
    assert start(sessions)
