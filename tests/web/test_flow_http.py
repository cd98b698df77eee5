"""The whole story through HTTP only: our API served on a real socket, the simulator posting
signed webhooks to it, real workers in between.

customer → carrier → connected account onboarded (simulator control API) → method attached →
payment confirmed → partial refund → transfer → payout, each read back in its final state;
then Stripe's duplicate and stale deliveries change nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from web_helpers import event_payload, make_test_app
from werkzeug.serving import make_server

from config import load_settings
from models import LedgerLine, Posting, WebhookEvent
from models.db import transaction
from stripe_sim.resources.bank_debits import add_business_days
from stripe_sim.signing import sign
from web.keys import create_key

DAY = 86_400


@pytest.fixture
def served(sessions, gateway, broker, worker, stripe_sim) -> Iterator[dict[str, Any]]:
    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    endpoint = requests.post(
        f"{stripe_sim.url}/v1/webhook_endpoints",
        auth=("sk_test_midway", ""),
        data={"url": f"{base}/api/webhooks/stripe", "enabled_events[]": "*", "connect": "true"},
        timeout=10,
    )
    endpoint.raise_for_status()
    platform = requests.post(
        f"{stripe_sim.url}/v1/webhook_endpoints",
        auth=("sk_test_midway", ""),
        data={"url": f"{base}/api/webhooks/stripe", "enabled_events[]": "*"},
        timeout=10,
    )
    platform.raise_for_status()
    secrets = f"{endpoint.json()['secret']},{platform.json()['secret']}"
    holder["app"] = make_test_app(
        sessions, gateway, SETTINGS=load_settings({"STRIPE_WEBHOOK_SECRET": secrets})
    )
    with transaction(sessions) as session:
        _, token = create_key(session, role="backend", name="flow")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "base": base,
        "token": token,
        "secret": endpoint.json()["secret"],
        "sim": stripe_sim,
        "holder": holder,
    }
    server.shutdown()
    thread.join(5)


def until(
    read: Callable[[], dict[str, Any]],
    done: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float = 20.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {value}")
        time.sleep(0.1)


def drain(sim: Any) -> None:
    """Wait until the simulator has attempted every webhook delivery due on its clock."""
    state = sim.drain_webhooks(timeout=30)
    assert (state["due"], state["inflight"]) == (0, 0), state


def test_full_flow_over_http(served, sessions):
    base, sim = served["base"], served["sim"]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {served['token']}"

    def post(path: str, body: dict[str, Any], status: int = 202) -> dict[str, Any]:
        key = {"Idempotency-Key": f"flow-{uuid.uuid4().hex}"}
        response = http.post(base + path, json=body, headers=key, timeout=10)
        assert response.status_code == status, (path, response.text)
        return response.json()

    def get(path: str) -> Callable[[], dict[str, Any]]:
        return lambda: http.get(base + path, timeout=10).json()

    def clock(advance: int) -> None:
        requests.post(f"{sim.url}/_sim/clock", json={"advance": advance}, timeout=10)

    customer = post(
        "/api/customers", {"name": "Acme", "email": "ap@acme.test", "external_id": "acme"}
    )
    until(
        get(f"/api/customers/{customer['id']}"),
        lambda c: c["status"] == "active",
        "stripe customer",
    )
    carrier = post(
        "/api/carriers",
        {"name": "Road Runner", "email": "rr@rr.test", "country": "US", "default_currency": "usd"},
        201,
    )
    post("/api/payouts/connect/accounts", {"carrier_id": carrier["id"]})
    account = until(
        get(f"/api/payouts/connect/accounts/{carrier['id']}"),
        # The read goes through to Stripe; a 429 there answers from our record, without the
        # requirements: ask again until Stripe's answer is in.
        lambda a: a["stripe_account"] is not None and a["requirements"] is not None,
        "connected account",
    )
    assert account["status"] == "onboarding" and account["payouts_enabled"] is False
    assert account["requirements"]["currently_due"]
    link = post(f"/api/payouts/connect/accounts/{carrier['id']}/onboarding-link", {}, 201)
    assert link["url"].startswith("http")
    requests.post(
        f"{sim.url}/_sim/accounts/{account['stripe_account']}/complete_onboarding", timeout=10
    ).raise_for_status()
    account = until(
        get(f"/api/payouts/connect/accounts/{carrier['id']}"),
        lambda a: a["payouts_enabled"],
        "onboarding",
    )
    assert account["status"] == "enabled" and account["requirements"]["currently_due"] == []

    method = post(
        "/api/payments/methods",
        {"customer_id": customer["id"], "payment_method": "pm_card_visa"},
        201,
    )
    assert method["card"]["last4"] == "4242"
    listed = get(f"/api/payments/methods/customer/{customer['id']}")()
    assert [m["id"] for m in listed["data"]] == [method["id"]]

    payment = post(
        "/api/payments/intent",
        {
            "customer_id": customer["id"],
            "load_id": "LOAD-77",
            "amount": 20_000,
            "currency": "usd",
            "carrier_id": carrier["id"],
            "carrier_amount": 17_000,
            "payment_method": method["id"],
            "confirm": True,
        },
    )
    payment = until(
        get(f"/api/payments/{payment['id']}"), lambda p: p["status"] == "succeeded", "payment"
    )
    assert payment["stripe_payment_intent"].startswith("pi_")
    assert payment["client_secret"] is None  # final: nothing left for the customer to do

    refund = post(
        f"/api/payments/{payment['id']}/refund",
        {"amount": 5_000, "reason": "requested_by_customer"},
    )
    refund = until(
        get(f"/api/refunds/{refund['id']}"), lambda r: r["status"] == "succeeded", "refund"
    )
    assert refund["stripe_refund"].startswith("re_")
    assert get(f"/api/payments/{payment['id']}")()["amount_refunded"] == 5_000

    clock(8 * DAY)  # the charge's funds become available for transfers
    transfer = post(
        "/api/payouts/connect/transfers",
        {"carrier_id": carrier["id"], "amount": 10_000, "currency": "usd"},
    )
    transfer = until(
        get(f"/api/payouts/batches/{transfer['id']}"),
        lambda b: b["status"] == "transferred",
        "transfer",
    )
    assert transfer["stripe_transfer"].startswith("tr_")

    clock(8 * DAY)
    payout = post(
        "/api/payouts/connect/payouts",
        {"carrier_id": carrier["id"], "amount": 10_000, "currency": "usd", "method": "standard"},
    )
    until(
        get(f"/api/payouts/batches/{payout['id']}"),
        lambda b: b["stripe_payout"] is not None,
        "payout created",
    )
    clock(8 * DAY)
    payout = until(
        get(f"/api/payouts/batches/{payout['id']}"), lambda b: b["status"] == "paid", "payout paid"
    )
    assert payout["stripe_payout"].startswith("po_")

    # Every event the simulator sent was stored and processed.
    requests.post(f"{sim.url}/_sim/webhooks/drain", json={"timeout": 10}, timeout=15)
    with transaction(sessions) as session:
        kinds = dict(
            session.execute(
                select(WebhookEvent.type, func.count()).group_by(WebhookEvent.type)
            ).all()
        )
    assert {"payment_intent.succeeded", "account.updated", "payout.paid"} <= set(kinds)

    # Stripe's duplicates and stale, out-of-order news change nothing.
    def ledger_size() -> tuple[int, int]:
        with transaction(sessions) as session:
            return (
                int(session.scalar(select(func.count()).select_from(Posting)) or 0),
                int(session.scalar(select(func.count()).select_from(LedgerLine)) or 0),
            )

    before = ledger_size()
    with transaction(sessions) as session:
        replayed = session.scalars(
            select(WebhookEvent).where(
                WebhookEvent.type.in_(("payment_intent.succeeded", "payout.paid"))
            )
        ).all()
        payloads = [dict(e.payload) for e in replayed]
    stale = event_payload(
        "evt_stale_processing",
        "payment_intent.processing",
        {
            "id": payment["stripe_payment_intent"],
            "object": "payment_intent",
            "status": "processing",
        },
    )
    for body in [*(__import__("json").dumps(p).encode() for p in payloads), stale]:
        response = requests.post(
            f"{base}/api/webhooks/stripe",
            data=body,
            timeout=10,
            headers={
                "Stripe-Signature": sign(body, served["secret"]),
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200
    with transaction(sessions) as session:
        stale_row = session.scalar(
            select(WebhookEvent).where(WebhookEvent.stripe_event_id == "evt_stale_processing")
        )
        assert stale_row is not None
    until(
        lambda: {"status": _event_status(sessions, "evt_stale_processing")},
        lambda s: s["status"] == "processed",
        "stale event processed",
    )
    assert ledger_size() == before
    final = get(f"/api/payments/{payment['id']}")()
    assert (final["status"], final["amount_refunded"]) == ("succeeded", 5_000)
    assert get(f"/api/payouts/batches/{payout['id']}")()["status"] == "paid"


def _event_status(sessions, event_id: str) -> str | None:
    with transaction(sessions) as session:
        return session.scalar(
            select(WebhookEvent.status).where(WebhookEvent.stripe_event_id == event_id)
        )


def test_webhooks_retried_after_an_outage_duplicated_and_reordered_converge(served, sessions):
    """Bank debits settle while our endpoint is down: Stripe retries later, and every delivery
    comes twice and out of order. Each payment still succeeds once, booked once."""
    base, sim, holder = served["base"], served["sim"], served["holder"]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {served['token']}"

    def post(path: str, body: dict[str, Any], status: int = 202) -> dict[str, Any]:
        key = {"Idempotency-Key": f"flow-{uuid.uuid4().hex}"}
        response = http.post(base + path, json=body, headers=key, timeout=10)
        assert response.status_code == status, (path, response.text)
        return response.json()

    def statuses(ids: list[int]) -> dict[str, Any]:
        return {i: http.get(f"{base}/api/payments/{i}", timeout=10).json()["status"] for i in ids}

    def control(path: str, body: dict[str, Any]) -> None:
        requests.post(f"{sim.url}/_sim/{path}", json=body, timeout=10).raise_for_status()

    customer = post("/api/customers", {"name": "A", "email": "a@a.test", "external_id": "a"})
    carrier = post(
        "/api/carriers",
        {"name": "C", "email": "c@c.test", "country": "US", "default_currency": "usd"},
        201,
    )
    ids = [
        post(
            "/api/payments/intent",
            {
                "customer_id": customer["id"],
                "carrier_id": carrier["id"],
                "load_id": f"ach-{n}",
                "amount": 50_000 + n,
                "currency": "usd",
                "carrier_amount": 40_000,
                "payment_method": "pm_usBankAccount",
            },
        )["id"]
        for n in range(3)
    ]
    until(lambda: statuses(ids), lambda s: set(s.values()) == {"processing"}, "bank debits")

    app = holder["app"]

    def outage(environ: Any, start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down for maintenance"]

    # To a minute before the debits settle (4 business days), then into the outage.
    now = requests.get(f"{sim.url}/_sim/clock", timeout=10).json()["now"]
    control("clock", {"advance": add_business_days(now, 4) - now - 60})
    holder["app"] = outage
    control("faults", {"webhook_duplicate": 1.0, "webhook_reorder": 1.0})
    control("clock", {"advance": 120})  # the debits settle; deliveries meet the outage
    # Every due delivery has met the outage before it ends: one still in flight when the clock
    # jumps below would schedule its retry past the jump, and never be retried in this test.
    drain(sim)
    holder["app"] = app
    control("clock", {"advance": 3600})  # Stripe's retries come round
    until(lambda: statuses(ids), lambda s: set(s.values()) == {"succeeded"}, "retried webhooks")
    drain(sim)  # the other retried deliveries, not only those that settled the payments

    log = requests.get(f"{sim.url}/_sim/webhooks", timeout=10).json()["deliveries"]
    failed = {d["event"] for d in log if d["status"] == 503}
    delivered = {d["event"] for d in log if d["outcome"] == "delivered"}
    assert failed and failed <= delivered  # every event that met the outage got through later
    with transaction(sessions) as session:
        booked = session.scalars(
            select(Posting.dedupe_key).where(Posting.kind == "bank_debit_settled")
        )
        assert sorted(booked) == sorted(f"bank_debit_settled:{i}" for i in ids)  # each once
        pending = session.scalars(select(Posting.kind).where(Posting.kind == "payment"))
        assert len(list(pending)) == 3  # Stripe's pending payments, mirrored once each
        stored = session.scalar(select(func.count()).select_from(WebhookEvent))
    deliveries = sum(1 for d in log if d["outcome"] == "delivered")
    assert deliveries > stored  # duplicates arrived, and were stored once each
