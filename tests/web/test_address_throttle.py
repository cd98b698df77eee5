"""Anonymous and bad-key traffic is throttled per client address before authentication; a
recently verified key is limited per key instead, and keeps working."""

from __future__ import annotations

import json
import time

import fakeredis
from sqlalchemy import create_engine
from web_helpers import WEBHOOK_SECRETS, Api, make_test_app

from models.db import make_session_factory
from stripe_sim.signing import sign

BAD_KEY = "mwk_000000000000.well-formed-but-unknown"


def throttled_app(sessions, gateway, limit: int = 5):
    # A long window, so the counts cannot straddle two; a Redis of its own, so they start at 0.
    return make_test_app(
        sessions,
        gateway,
        ADDRESS_RATE_LIMIT=(limit, 600),
        KEY_CACHE_TTL_S=60,
        REDIS=fakeredis.FakeRedis(),
    )


def test_bad_keys_from_one_address_get_429_while_a_verified_key_still_works(
    sessions, gateway, tokens
):
    app = throttled_app(sessions, gateway)
    good = Api(app.test_client(), tokens["backend"])
    # Its first use was looked up, and counted against the address; now it is cached.
    assert good.get("/api/payments/1").status_code == 404
    bad = Api(app.test_client(), BAD_KEY)
    statuses = [bad.get("/api/payments/1").status_code for _ in range(8)]
    assert statuses == [401] * 4 + [429] * 4
    refused = bad.get("/api/payments/1")
    assert refused.json["error"]["code"] == "rate_limited" and "Retry-After" in refused.headers
    assert good.get("/api/payments/1").status_code == 404
    other_address = app.test_client().get(
        "/api/payments/1",
        headers={"Authorization": f"Bearer {BAD_KEY}"},
        environ_overrides={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other_address.status_code == 401


def test_throttled_requests_never_reach_the_database(gateway):
    # A database that cannot be reached: a request that looked a key up would be a 503.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = throttled_app(make_session_factory(engine), gateway, limit=2)
    bad = Api(app.test_client(), BAD_KEY)
    statuses = [bad.get("/api/payments/1").status_code for _ in range(4)]
    assert statuses == [503, 503, 429, 429]
    anonymous = [app.test_client().post("/sign-in").status_code for _ in range(2)]
    assert anonymous == [429, 429]
    engine.dispose()


def test_signed_webhooks_are_not_throttled_but_forged_ones_are(sessions, gateway):
    # Stripe delivers from a few addresses at the pace of our own traffic; a refused delivery
    # would come back only after Stripe's backoff. A forged one counts like any anonymous call.
    app = throttled_app(sessions, gateway, limit=3)
    client = app.test_client()

    def deliver(index: int, secret: str) -> int:
        payload = json.dumps(
            {
                "id": f"evt_throttle{index}",
                "object": "event",
                "type": "customer.created",
                "created": int(time.time()),
                "data": {"object": {"id": f"cus_throttle{index}", "object": "customer"}},
            }
        ).encode()
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)}
        return client.post("/api/webhooks/stripe", data=payload, headers=headers).status_code

    assert [deliver(i, WEBHOOK_SECRETS[0]) for i in range(8)] == [200] * 8
    assert [deliver(i, "whsec_forged") for i in range(5)] == [400] * 3 + [429] * 2
    assert deliver(99, WEBHOOK_SECRETS[1]) == 200  # the signed ones still go through
