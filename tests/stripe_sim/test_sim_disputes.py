"""Disputes: opening (control API, test cards), the money they move, evidence, close, outcomes."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import requests
import stripe
from sim_helpers import API_KEY, Control, Hooks

from stripe_sim.server import RunningSimulator

DAY = 86_400


def _paid(
    client: stripe.StripeClient,
    amount: int = 10_000,
    pm: str = "pm_card_bypassPending",
    options: stripe.RequestOptions | None = None,
    **extra: Any,
) -> stripe.Charge:
    pi = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": pm,
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            **extra,
        },
        options=options or {},
    )
    return client.v1.charges.retrieve(str(pi.latest_charge), options=options or {})


def _available(client: stripe.StripeClient, options: stripe.RequestOptions | None = None) -> int:
    return sum(b.amount for b in client.v1.balance.retrieve(options=options or {}).available)


def _total(client: stripe.StripeClient, options: stripe.RequestOptions | None = None) -> int:
    bal = client.v1.balance.retrieve(options=options or {})
    return sum(b.amount for b in bal.available) + sum(b.amount for b in bal.pending)


def _sum_nets(client: stripe.StripeClient, options: stripe.RequestOptions | None = None) -> int:
    txns = client.v1.balance_transactions.list(params={"limit": 100}, options=options or {})
    return sum(t.net for t in txns.auto_paging_iter())


def _types(client: stripe.StripeClient, options: stripe.RequestOptions | None = None) -> list[str]:
    events = client.v1.events.list(
        params={"limit": 100, "type": "charge.dispute.*"}, options=options or {}
    )
    return [e.type for e in reversed(events.data)]


def test_dispute_withdraws_amount_and_fee(client: stripe.StripeClient, ctl: Control) -> None:
    charge = _paid(client)
    before = _available(client)
    opened = ctl.post(f"charges/{charge.id}/dispute")
    dispute = client.v1.disputes.retrieve(opened["id"])
    assert dispute.id.startswith("du_") and dispute.object == "dispute"
    assert (dispute.status, dispute.reason, dispute.amount) == (
        "needs_response",
        "fraudulent",
        10_000,
    )
    assert dispute.charge == charge.id and dispute.payment_intent == charge.payment_intent
    assert dispute.is_charge_refundable is False
    assert dispute.payment_method_details is not None
    assert dispute.payment_method_details.card is not None
    assert dispute.payment_method_details.card.network_reason_code == "10.4"
    [txn] = dispute.balance_transactions
    assert (txn.amount, txn.fee, txn.net) == (-10_000, 1_500, -11_500)
    assert (txn.type, txn.reporting_category, txn.source) == ("adjustment", "dispute", dispute.id)
    assert txn.status == "available" and txn.fee_details[0].description == "Dispute fee"
    assert client.v1.balance_transactions.retrieve(txn.id).net == -11_500
    assert client.v1.charges.retrieve(charge.id).disputed is True
    assert _available(client) == before - 11_500 == _sum_nets(client)
    assert _types(client) == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]

    # A charged-back payment cannot be refunded on top: 400, and nothing changes.
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id})
    assert err.value.http_status == 400 and err.value.code == "charge_disputed"
    state = ctl.get("state")
    assert "refund" not in state["accounts"]["platform"]
    assert state["accounts"]["platform"]["dispute"] == 1

    listed = client.v1.disputes.list(params={"charge": charge.id}).data
    assert [d.id for d in listed] == [dispute.id]
    assert client.v1.disputes.list(params={"payment_intent": "pi_other"}).data == []
    expanded = client.v1.disputes.retrieve(dispute.id, params={"expand": ["charge"]})
    assert isinstance(expanded.charge, stripe.Charge)


def test_close_accepts_the_loss(client: stripe.StripeClient, ctl: Control) -> None:
    charge = _paid(client)
    dispute_id = ctl.post(f"charges/{charge.id}/dispute")["id"]
    after_open = _available(client)
    closed = client.v1.disputes.close(dispute_id)
    assert closed.status == "lost" and len(closed.balance_transactions) == 1
    assert _available(client) == after_open  # the money and the fee stay withdrawn
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute_id)
    resp = requests.post(
        f"{ctl.url}/_sim/disputes/{dispute_id}/resolve", json={"status": "won"}, timeout=10
    )
    assert resp.status_code == 400
    assert _types(client) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]


def test_won_returns_amount_and_fee(client: stripe.StripeClient, ctl: Control) -> None:
    charge = _paid(client)
    before = _available(client)
    dispute_id = ctl.post(f"charges/{charge.id}/dispute")["id"]
    won = ctl.post(f"disputes/{dispute_id}/resolve", {"status": "won"})
    assert won["status"] == "won"
    dispute = client.v1.disputes.retrieve(dispute_id)
    withdrawal, reversal = dispute.balance_transactions
    assert (reversal.amount, reversal.fee, reversal.net) == (10_000, -1_500, 11_500)
    assert (reversal.type, reversal.reporting_category) == ("adjustment", "dispute_reversal")
    assert reversal.source == dispute_id and withdrawal.reporting_category == "dispute"
    assert _available(client) == before == _sum_nets(client)
    assert client.v1.charges.retrieve(charge.id).disputed is True  # Stripe keeps the flag
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 1_000})
    assert refund.status == "succeeded"  # won back, the payment is the merchant's again
    assert _types(client) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    ]
    reinstated = client.v1.events.list(params={"type": "charge.dispute.funds_reinstated"}).data
    assert reinstated[0].data.previous_attributes["status"] == "needs_response"


def test_lost_by_control_and_bad_control_input(client: stripe.StripeClient, ctl: Control) -> None:
    charge = _paid(client, 5_000, pm="pm_card_mastercard")
    ctl.post("fees", {"dispute_fees": {"usd": 2_000}})
    try:
        bad = [
            ({"reason": "bored"}, charge.id),
            ({"amount": 5_001}, charge.id),
            ({"amount": 0}, charge.id),
            ({"amount": "10"}, charge.id),
            ({}, "ch_missing"),
        ]
        for body, target in bad:
            resp = requests.post(f"{ctl.url}/_sim/charges/{target}/dispute", json=body, timeout=10)
            assert resp.status_code in (400, 404), body
        assert "dispute" not in ctl.get("state")["accounts"]["platform"]
        opened = ctl.post(
            f"charges/{charge.id}/dispute", {"reason": "product_not_received", "amount": 2_000}
        )
    finally:
        ctl.post("fees", {"dispute_fees": {"usd": 1_500}})
    assert (opened["amount"], opened["reason"]) == (2_000, "product_not_received")
    assert opened["payment_method_details"]["card"]["network_reason_code"] == "4855"
    assert opened["balance_transactions"][0]["fee"] == 2_000  # the configured fee
    again = requests.post(f"{ctl.url}/_sim/charges/{charge.id}/dispute", json={}, timeout=10)
    assert again.status_code == 400
    lost = ctl.post(f"disputes/{opened['id']}/resolve", {"status": "lost"})
    assert lost["status"] == "lost" and len(lost["balance_transactions"]) == 1
    held = _paid(client, 3_000, capture_method="manual")  # authorized, not captured
    resp = requests.post(f"{ctl.url}/_sim/charges/{held.id}/dispute", json={}, timeout=10)
    assert resp.status_code == 400


def test_evidence_staged_submitted_and_test_outcomes(
    client: stripe.StripeClient, ctl: Control
) -> None:
    charge = _paid(client)
    dispute_id = ctl.post(f"charges/{charge.id}/dispute")["id"]
    staged = client.v1.disputes.update(
        dispute_id,
        params={
            "evidence": {"customer_name": "Ann Shipper", "product_description": "Load 42"},
            "metadata": {"case": "7"},
            "submit": False,
        },
    )
    assert staged.status == "needs_response" and staged.metadata["case"] == "7"
    assert staged.evidence.customer_name == "Ann Shipper"
    assert staged.evidence_details.has_evidence is True
    assert staged.evidence_details.submission_count == 0
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.disputes.update(dispute_id, params={"evidence": {"nonsense": "x"}})
    assert err.value.code == "parameter_unknown"
    assert client.v1.disputes.retrieve(dispute_id).status == "needs_response"

    submitted = client.v1.disputes.update(
        dispute_id, params={"evidence": {"uncategorized_text": "winning_evidence"}}
    )
    assert submitted.status == "under_review"
    assert submitted.evidence_details.submission_count == 1
    assert submitted.evidence.customer_name == "Ann Shipper"  # evidence merges
    ctl.advance(1)
    assert client.v1.disputes.retrieve(dispute_id).status == "won"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute_id, params={"evidence": {"receipt": "file_x"}})
    meta = client.v1.disputes.update(dispute_id, params={"metadata": {"closed": "yes"}})
    assert meta.metadata["closed"] == "yes"  # metadata can change at any time
    assert "charge.dispute.updated" in _types(client)

    other = ctl.post(f"charges/{_paid(client).id}/dispute")["id"]
    client.v1.disputes.update(
        other, params={"evidence": {"uncategorized_text": "losing_evidence"}, "submit": True}
    )
    ctl.advance(1)
    assert client.v1.disputes.retrieve(other).status == "lost"


def test_unanswered_dispute_is_lost_when_evidence_is_past_due(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": 1_700_000_000, "freeze": True})  # 2023-11-14 22:13:20 UTC
    dispute = ctl.post(f"charges/{_paid(client).id}/dispute")
    due_by = dispute["evidence_details"]["due_by"]
    assert due_by == 1_699_920_000 + 8 * DAY - 1  # end of the 7th day after, UTC
    ctl.post("clock", {"set": due_by - 1})
    assert client.v1.disputes.retrieve(dispute["id"]).status == "needs_response"
    ctl.advance(1)
    late = client.v1.disputes.retrieve(dispute["id"])
    assert late.status == "lost" and late.evidence_details.past_due is True


def test_test_card_disputes_at_once_with_connect_events(
    client: stripe.StripeClient, ctl: Control, hooks: Hooks
) -> None:
    charge = _paid(client, pm="pm_card_createDispute")
    assert charge.status == "succeeded" and charge.disputed is True
    [dispute] = client.v1.disputes.list(params={"charge": charge.id}).data
    assert (dispute.reason, dispute.status) == ("fraudulent", "needs_response")

    # Manual capture: the dispute comes once the money has been captured.
    pi = client.v1.payment_intents.create(
        params={
            "amount": 4_000,
            "currency": "usd",
            "payment_method": "pm_card_createDispute",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "capture_method": "manual",
        }
    )
    assert client.v1.disputes.list(params={"payment_intent": pi.id}).data == []
    client.v1.payment_intents.capture(pi.id)
    assert len(client.v1.disputes.list(params={"payment_intent": pi.id}).data) == 1

    # A direct charge on a connected account: its balance pays, its events carry `account`.
    acct = client.v1.accounts.create(
        params={
            "type": "express",
            "capabilities": {
                "transfers": {"requested": True},
                "card_payments": {"requested": True},
            },
        }
    )
    ctl.onboard(acct.id)
    on_acct: stripe.RequestOptions = {"stripe_account": acct.id}
    direct = _paid(client, 20_000, pm="pm_card_createDisputeProductNotReceived", options=on_acct)
    [connected] = client.v1.disputes.list(options=on_acct).data
    assert connected.charge == direct.id and connected.reason == "product_not_received"
    assert _total(client, on_acct) == _sum_nets(client, on_acct)
    assert _sum_nets(client, on_acct) == 20_000 - 610 - 20_000 - 1_500
    assert _available(client, on_acct) == -21_500  # withdrawn before the charge settles
    with pytest.raises(stripe.InvalidRequestError):  # not the platform's dispute
        client.v1.disputes.retrieve(connected.id)
    ctl.post(f"disputes/{connected.id}/resolve", {"status": "won"})

    ctl.drain()
    connect_events = hooks.verified(hooks.connect, hooks.connect_secret)
    disputes = [e for e in connect_events if e.type.startswith("charge.dispute.")]
    assert [e.type for e in disputes] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    ]
    assert {e.account for e in disputes} == {acct.id}
    platform_events = hooks.verified(hooks.platform, hooks.platform_secret)
    created = [e for e in platform_events if e.type == "charge.dispute.created"]
    assert len(created) == 2 and all(getattr(e, "account", None) is None for e in created)


def test_disputes_in_the_itemized_report(
    client: stripe.StripeClient, ctl: Control, sim: RunningSimulator
) -> None:
    start = 1_700_006_400  # 2023-11-15 00:00:00 UTC
    ctl.post("clock", {"set": start + 3_600, "freeze": True})
    charge = _paid(client, 12_000, metadata={"load": "L-9"})
    lost = ctl.post(f"charges/{charge.id}/dispute", {"amount": 2_000})
    ctl.advance(60)
    other = _paid(client, 5_000)
    won = ctl.post(f"charges/{other.id}/dispute")
    ctl.post(f"disputes/{won['id']}/resolve", {"status": "won"})
    ctl.post("clock", {"set": start + DAY + 10})
    run = client.v1.reporting.report_runs.create(
        params={
            "report_type": "balance_change_from_activity.itemized.3",
            "parameters": {
                "interval_start": start,
                "interval_end": start + DAY,
                "reporting_category": "dispute",
                "columns": [
                    "source_id",
                    "gross",
                    "fee",
                    "net",
                    "charge_id",
                    "payment_intent_id",
                    "customer_facing_amount",
                    "payment_metadata[load]",
                ],
            },
        }
    )
    full = client.v1.reporting.report_runs.create(
        params={
            "report_type": "balance_change_from_activity.itemized.3",
            "parameters": {"interval_start": start, "interval_end": start + DAY},
        }
    )
    ctl.advance(1)

    def rows(run_id: str) -> list[dict[str, str]]:
        result = client.v1.reporting.report_runs.retrieve(run_id).result
        assert result is not None and result.url
        body = requests.get(result.url, timeout=10, headers={"Authorization": f"Bearer {API_KEY}"})
        return list(csv.DictReader(io.StringIO(body.text)))

    only = rows(run.id)
    assert [r["source_id"] for r in only] == [lost["id"], won["id"]]
    first = only[0]
    assert (first["gross"], first["fee"], first["net"]) == ("-20.00", "15.00", "-35.00")
    assert (first["charge_id"], first["payment_intent_id"]) == (charge.id, charge.payment_intent)
    assert first["customer_facing_amount"] == "-20.00"
    assert first["payment_metadata[load]"] == "L-9"
    categories = [r["reporting_category"] for r in rows(full.id)]
    assert categories == ["charge", "dispute", "charge", "dispute", "dispute_reversal"]
    reversal = rows(full.id)[-1]
    assert (reversal["gross"], reversal["fee"], reversal["net"]) == ("50.00", "-15.00", "65.00")
    assert reversal["customer_facing_amount"] == "50.00"
