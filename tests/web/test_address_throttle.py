"""Anonymous and bad-key traffic is throttled per client address before authentication; a
recently verified key is limited per key instead, and keeps working."""

from __future__ import annotations

import fakeredis
from sqlalchemy import create_engine
from web_helpers import Api, make_test_app

from models.db import make_session_factory

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
