"""Every fault kind, on the platform and on a connected account, seen through the real SDK."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import stripe
from sim_helpers import Control, Hooks, Receiver

from stripe_sim.server import RunningSimulator

PI = {
    "amount": 2_000,
    "currency": "usd",
    "payment_method": "pm_card_visa",
    "confirm": True,
    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
}


@pytest.fixture(params=["platform", "connected"])
def scope(request: pytest.FixtureRequest, client: stripe.StripeClient, ctl: Control) -> str | None:
    """Run each test once on the platform and once on a connected account."""
    if request.param == "platform":
        return None
    acct = client.v1.accounts.create(params={"type": "express"})
    ctl.onboard(acct.id)
    return str(acct.id)


def _opts(scope: str | None) -> stripe.RequestOptions:
    return {"stripe_account": scope} if scope else {}


def _count(ctl: Control, scope: str | None, kind: str) -> int:
    counts = ctl.get("state")["accounts"][scope or "platform"]
    return int(counts.get(kind, 0))


def _rule(scope: str | None, **rule: object) -> dict[str, object]:
    return {"account": scope or "platform", **rule}


def test_error_500_before_effect(
    make_client: Callable[..., stripe.StripeClient], ctl: Control, scope: str | None
) -> None:
    ctl.faults(**_rule(scope, error_500=1, path="/v1/payment_intents", next=1))
    with pytest.raises(stripe.APIError) as err:
        make_client(0).v1.payment_intents.create(params=PI, options=_opts(scope))
    assert err.value.http_status == 500
    assert _count(ctl, scope, "payment_intent") == 0  # no effect
    ctl.faults(**_rule(scope, error_500=1, path="/v1/payment_intents", next=1))
    pi = make_client(2).v1.payment_intents.create(params=PI, options=_opts(scope))
    assert pi.status == "succeeded"
    assert _count(ctl, scope, "payment_intent") == 1


def test_rate_limit_429(client: stripe.StripeClient, ctl: Control, scope: str | None) -> None:
    ctl.faults(**_rule(scope, rate_limit_429=1, next=1))
    with pytest.raises(stripe.RateLimitError) as err:
        client.v1.customers.create(options=_opts(scope))
    assert err.value.http_status == 429
    assert err.value.error is not None and err.value.error.code == "rate_limit"
    assert _count(ctl, scope, "customer") == 0
    client.v1.customers.create(options=_opts(scope))  # `next` used up: back to normal
    assert _count(ctl, scope, "customer") == 1


def test_slow_ms(client: stripe.StripeClient, ctl: Control, scope: str | None) -> None:
    ctl.faults(**_rule(scope, slow_ms=300, path="/v1/balance"))
    start = time.monotonic()
    client.v1.balance.retrieve(options=_opts(scope))
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    client.v1.customers.list(options=_opts(scope))  # other paths are not slowed
    assert time.monotonic() - start < 0.3


def test_drop_connection(
    make_client: Callable[..., stripe.StripeClient], ctl: Control, scope: str | None
) -> None:
    ctl.faults(**_rule(scope, drop_connection=1, next=1))
    with pytest.raises(stripe.APIConnectionError):
        make_client(0).v1.payment_intents.create(params=PI, options=_opts(scope))
    assert _count(ctl, scope, "payment_intent") == 0
    ctl.faults(**_rule(scope, drop_connection=1, next=1))
    make_client(2).v1.payment_intents.create(params=PI, options=_opts(scope))
    assert _count(ctl, scope, "payment_intent") == 1


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_commit_then_fail(
    make_client: Callable[..., stripe.StripeClient], ctl: Control, scope: str | None, mode: str
) -> None:
    # A naive client sees a failure, calls again with a new key, and charges twice.
    ctl.faults(**_rule(scope, commit_then_fail=1, commit_then_fail_mode=mode, next=1))
    naive = make_client(0)
    with pytest.raises(stripe.APIError if mode == "500" else stripe.APIConnectionError):
        naive.v1.payment_intents.create(params=PI, options=_opts(scope))
    assert _count(ctl, scope, "charge") == 1  # the effect happened
    naive.v1.payment_intents.create(params=PI, options=_opts(scope))
    assert _count(ctl, scope, "charge") == 2

    # A client that retries with the same idempotency key gets the first result replayed: the
    # object after a dropped connection, but the very same 500 after a 500 (Stripe saves a 500
    # for its key: https://docs.stripe.com/api/idempotent_requests), so retrying never reveals
    # the object and the client has to look it up.
    ctl.faults(**_rule(scope, commit_then_fail=1, commit_then_fail_mode=mode, next=1))
    careful = make_client(3)
    options = {**_opts(scope), "idempotency_key": f"charge:{mode}:{scope}"}
    if mode == "500":
        for _ in range(2):
            with pytest.raises(stripe.APIError) as failed:
                careful.v1.payment_intents.create(params=PI, options=options)
            assert failed.value.http_status == 500
            assert failed.value.headers is not None
            assert failed.value.headers.get("Stripe-Should-Retry") == "false"
        assert failed.value.headers.get("Idempotent-Replayed") == "true"
        assert _count(ctl, scope, "charge") == 3
        return
    pi = careful.v1.payment_intents.create(params=PI, options=options)
    assert pi.status == "succeeded"
    assert _count(ctl, scope, "charge") == 3
    assert pi.last_response.headers.get("Idempotent-Replayed") == "true"


def test_path_and_next_select_requests(client: stripe.StripeClient, ctl: Control) -> None:
    ctl.faults(error_500=1, path="/v1/customers", method="POST", next=2)
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            client.v1.customers.create()
    client.v1.balance.retrieve()  # not matching: unaffected, and does not consume `next`
    client.v1.customers.create()
    assert ctl.get("faults")["rules"] == []
    ctl.faults(error_500=1, path="/v1/cust*")
    with pytest.raises(stripe.APIError):
        client.v1.customers.list()
    ctl.faults()  # {} turns faults off
    client.v1.customers.list()


def _connected_or_platform(hooks: Hooks, scope: str | None) -> tuple[Receiver, str]:
    return (
        (hooks.connect, hooks.connect_secret) if scope else (hooks.platform, hooks.platform_secret)
    )


def _make_events(client: stripe.StripeClient, scope: str | None, n: int) -> list[str]:
    return [
        str(
            client.v1.customers.create(
                params={"email": f"c{i}@example.com"}, options=_opts(scope)
            ).id
        )
        for i in range(n)
    ]


def _customer_ids(events: list[stripe.Event]) -> list[str]:
    return [e.data.object.id for e in events if e.type == "customer.created"]


def test_webhook_drop(
    client: stripe.StripeClient, ctl: Control, hooks: Hooks, scope: str | None
) -> None:
    receiver, secret = _connected_or_platform(hooks, scope)
    ctl.faults(**_rule(scope, webhook_drop=1, event_type="customer.created", next=1))
    ids = _make_events(client, scope, 2)
    ctl.drain()
    delivered = _customer_ids(hooks.verified(receiver, secret))
    assert delivered == ids[1:]
    log = ctl.get("webhooks")["deliveries"]
    assert any(d["outcome"] == "dropped" and d["type"] == "customer.created" for d in log)


def test_webhook_duplicate(
    client: stripe.StripeClient, ctl: Control, hooks: Hooks, scope: str | None
) -> None:
    receiver, secret = _connected_or_platform(hooks, scope)
    ctl.faults(**_rule(scope, webhook_duplicate=1, event_type="customer.created"))
    ids = _make_events(client, scope, 1)
    ctl.drain()
    events = [e for e in hooks.verified(receiver, secret) if e.type == "customer.created"]
    assert _customer_ids(events) == ids * 2
    assert events[0].id == events[1].id  # the same event, twice


def test_webhook_reorder(
    client: stripe.StripeClient, ctl: Control, hooks: Hooks, scope: str | None
) -> None:
    receiver, secret = _connected_or_platform(hooks, scope)
    ctl.faults(**_rule(scope, webhook_reorder=1, event_type="customer.created", next=1))
    ids = _make_events(client, scope, 2)
    receiver.wait_for(lambda evs: [e["type"] for e in evs].count("customer.created") == 2)
    delivered = _customer_ids(hooks.verified(receiver, secret))
    assert delivered == [ids[1], ids[0]]


def test_webhook_delay_and_retries(
    client: stripe.StripeClient,
    ctl: Control,
    hooks: Hooks,
    sim: RunningSimulator,
    scope: str | None,
) -> None:
    receiver, secret = _connected_or_platform(hooks, scope)
    ctl.post("clock", {"freeze": True})
    ctl.faults(**_rule(scope, webhook_delay_s=120, event_type="customer.created"))
    _make_events(client, scope, 1)
    ctl.drain()
    assert "customer.created" not in receiver.types()
    ctl.advance(120)
    ctl.drain()
    assert "customer.created" in receiver.types()

    # Non-2xx answers are retried on the backoff schedule of the simulated clock.
    ctl.faults()
    receiver.fail_next = 2
    ids = _make_events(client, scope, 1)
    ctl.drain()
    assert _customer_ids(hooks.verified(receiver, secret))[-1:] != ids
    ctl.advance(59)
    ctl.drain()
    ctl.advance(1)  # first retry after 60 s: fails again
    ctl.drain()
    ctl.advance(300)  # second retry after 300 s more: delivered
    ctl.drain()
    assert _customer_ids(hooks.verified(receiver, secret))[-1:] == ids
    attempts = [
        d
        for d in ctl.get("webhooks")["deliveries"]
        if d["type"] == "customer.created" and d["outcome"] != "dropped"
    ]
    last = [d for d in attempts if d["attempt"] >= 1][-3:]
    assert [d["outcome"] for d in last] == ["failed", "failed", "delivered"]
    assert [d["attempt"] for d in last] == [1, 2, 3]
