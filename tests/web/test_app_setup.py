"""The web process sets nothing up at import and builds what it uses from the Settings it is
given: no actor module, no pandas, no openpyxl in a gunicorn worker; its broker, Redis,
database and Stripe gateway all come from the app's Settings, not from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from config import load_settings
from jobs.setup import ACTOR_MODULES
from web.app import create_app
from web.context import state

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import web.app
app = web.app.create_app()
with app.test_client() as client:
    client.get("/healthz")
print(json.dumps(sorted(sys.modules)))
"""


def test_the_web_app_imports_no_actor_and_neither_pandas_nor_openpyxl(
    committed_database_url: str,
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": committed_database_url,
        "PROMETHEUS_METRICS": "off",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "web.app" in modules and "jobs.broker" in modules  # the probe did load the app
    actors = {f"jobs.{name}" for name in ACTOR_MODULES} | {"jobs.worker", "jobs.setup"}
    assert not modules & actors
    heavy = {name for name in modules if name.split(".")[0] in {"pandas", "openpyxl"}}
    assert not heavy


def test_the_settings_given_to_the_app_reach_every_component(
    committed_database_url: str,
) -> None:
    """Settings that differ from the environment's: the app's broker, Redis client, database
    and gateway follow them."""
    ambient = load_settings()
    redis_db = 15 if ambient.redis_url is None or not ambient.redis_url.endswith("/15") else 14
    settings = load_settings(
        {
            **os.environ,
            "DATABASE_URL": committed_database_url,
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "STRIPE_API_BASE": "http://127.0.0.1:9",
            "STRIPE_RETURN_URL": "https://midway.example/onboarding-done",
            "STRIPE_RATE_LIMIT_PER_S": "7",
            "PROMETHEUS_METRICS": "off",
        }
    )
    app = create_app({"SETTINGS": settings})
    with app.app_context():
        app_state = state()
        assert app_state.settings is settings
        assert app_state.broker.client.connection_pool.connection_kwargs["db"] == redis_db
        assert app_state.redis.connection_pool.connection_kwargs["db"] == redis_db
        engine_url = app_state.sessions.kw["bind"].url
        assert engine_url.database == make_url(committed_database_url).database
        gateway = app_state.gateway()
        assert gateway._return_url == "https://midway.example/onboarding-done"
        assert gateway._guard._rate == 7
        assert gateway._guard._redis.connection_pool.connection_kwargs["db"] == redis_db
        assert gateway.key_namespace  # read from the given database's installation row
        app_state.sessions.kw["bind"].dispose()
        app_state.broker.close()
