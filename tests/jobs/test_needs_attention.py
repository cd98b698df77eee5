"""Retries are bounded: an exhausted row is parked for a person, who retries or cancels it.

Real actors on the project's broker with in-process workers, stripe_sim on its strict
defaults, and `midway attention` run as a person would.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from click.testing import CliRunner
from sqlalchemy import select

from cli.main import cli
from jobs.charges import advance_payment
from jobs.retrying import MAX_RETRIES, backoff_ms
from models import AttentionAction, Payment, Refund
from models.db import transaction
from payments import attention, refunds
from payments.sweeper import find_stuck

from .test_actors_in_process import accept_payment, marketplace


def wait_for(check: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def payment(sessions: Any, payment_id: int) -> Payment:
    with transaction(sessions) as session:
        row = session.get(Payment, payment_id)
        assert row is not None
        return row


def test_backoff_grows_and_is_bounded() -> None:
    assert backoff_ms(0) == 0
    assert [backoff_ms(n) for n in (1, 2, 3)] == [1000, 2000, 4000]
    assert backoff_ms(MAX_RETRIES) == 300_000
    # About an hour of trouble is ridden out before a person is asked.
    assert 30 * 60_000 < sum(backoff_ms(n) for n in range(MAX_RETRIES)) < 2 * 3600_000


def test_exhausted_retries_park_the_payment_until_a_person_retries_it(
    sessions: Any,
    broker: Any,
    worker: Any,
    stripe_sim: Any,
    committed_database_url: str,
    app: Any,
    tokens: dict[str, str],
) -> None:
    shipper_id, carrier_id = marketplace(sessions)
    payment_id = accept_payment(sessions, shipper_id, carrier_id, "load-parked")
    # Stripe keeps failing every PaymentIntent request (before acting).
    requests.post(
        f"{stripe_sim.url}/_sim/faults",
        json={"error_500": 1.0, "path": "/v1/payment_intents"},
        timeout=10,
    )
    advance_payment.send_with_options(args=(payment_id,), max_retries=1)
    wait_for(lambda: payment(sessions, payment_id).attention_at is not None)
    parked = payment(sessions, payment_id)
    assert parked.status == "pending"
    assert "advance_payment gave up after 1 retries" in str(parked.attention_reason)
    assert "Stripe error 500" in str(parked.attention_reason)

    # The sweeper leaves it alone; the API shows why it waits.
    with transaction(sessions) as session:
        assert payment_id not in find_stuck(session, older_than_s=0).payments
    shown = (
        app.test_client()
        .get(
            f"/api/payments/{payment_id}", headers={"Authorization": f"Bearer {tokens['backend']}"}
        )
        .get_json()
    )
    assert shown["needs_attention"]["reason"] == parked.attention_reason
    assert shown["needs_attention"]["since"]

    # A person fixes the cause and retries it, recorded; the job runs to the end once.
    requests.post(f"{stripe_sim.url}/_sim/faults", json={}, timeout=10)
    runner = CliRunner()
    env = {"DATABASE_URL": committed_database_url}
    listed = runner.invoke(cli, ["attention", "list", "--format", "json"], env=env)
    assert listed.exit_code == 0 and f'"id": {payment_id}' in listed.output
    done = runner.invoke(
        cli,
        [
            "attention",
            "retry",
            "payment",
            str(payment_id),
            "--by",
            "ops person",
            "--note",
            "Stripe outage over",
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    wait_for(lambda: payment(sessions, payment_id).status == "succeeded")
    with transaction(sessions) as session:
        [action] = session.scalars(select(AttentionAction)).all()
        assert (action.row_kind, action.row_id, action.action, action.actor) == (
            "payment",
            payment_id,
            "retry",
            "ops person",
        )
        assert action.attention_reason == parked.attention_reason
    state = requests.get(f"{stripe_sim.url}/_sim/state", timeout=10).json()
    assert state["accounts"]["platform"]["payment_intent"] == 1

    again = runner.invoke(
        cli, ["attention", "retry", "payment", str(payment_id), "--by", "x"], env=env
    )
    assert again.exit_code == 2 and "does not need attention" in again.output


def test_a_person_cancels_a_parked_refund(
    sessions: Any, stripe_sim: Any, gateway: Any, committed_database_url: str
) -> None:
    from payments import charges, parties

    shipper_id, carrier_id = marketplace(sessions)
    parties.ensure_customer(sessions, gateway, shipper_id)
    payment_id = accept_payment(sessions, shipper_id, carrier_id, "load-refund")
    assert charges.advance_payment(sessions, gateway, payment_id) == "succeeded"
    with transaction(sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=2000).id
    assert attention.park_row(sessions, "refund", refund_id, "bank says no such refund")
    runner = CliRunner()
    env = {"DATABASE_URL": committed_database_url}
    missing_note = runner.invoke(
        cli, ["attention", "cancel", "refund", str(refund_id), "--by", "ops"], env=env
    )
    assert missing_note.exit_code == 2
    done = runner.invoke(
        cli,
        [
            "attention",
            "cancel",
            "refund",
            str(refund_id),
            "--by",
            "ops person",
            "--note",
            "refunded by bank transfer instead",
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    with transaction(sessions) as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        assert (refund.status, refund.recovery_point, refund.attention_at) == (
            "canceled",
            "finished",
            None,
        )
        paid = session.get(Payment, payment_id)
        assert paid is not None and refunds.refundable(session, paid) == 5000
    assert refunds.advance_refund(sessions, gateway, refund_id) == "canceled"
    state = requests.get(f"{stripe_sim.url}/_sim/state", timeout=10).json()
    assert "refund" not in state["accounts"]["platform"]
