"""Report runs (itemized balance CSV), files, and webhook endpoint CRUD."""

from __future__ import annotations

import csv
import io

import pytest
import requests
import stripe
from sim_helpers import API_KEY, Control, PacedSession, Receiver

from stripe_sim.server import RunningSimulator, start_simulator

HTTP = PacedSession()

DAY = 86_400
START = 1_700_006_400  # 2023-11-15 00:00:00 UTC


def test_itemized_balance_report_csv(
    sim: RunningSimulator, client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": START + 3_600, "freeze": True})
    ctl.post("accounts/platform/settlement", {"currencies": ["usd", "jpy"]})  # no conversion
    cus = client.v1.customers.create(params={"email": "s@example.com"})
    pi = client.v1.payment_intents.create(
        params={
            "amount": 12_345,
            "currency": "usd",
            "customer": cus.id,
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "payment_method": "pm_card_visa",
            "metadata": {"load": "L-1"},
        }
    )
    client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 345, "metadata": {"why": "damage"}}
    )
    client.v1.payment_intents.create(
        params={
            "amount": 1_500,
            "currency": "jpy",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "payment_method": "pm_card_visa",
        }
    )
    ctl.post("clock", {"set": START + DAY + 10})
    client.v1.customers.create()  # next day: outside the window
    run = client.v1.reporting.report_runs.create(
        params={
            "report_type": "balance_change_from_activity.itemized.3",
            "parameters": {
                "interval_start": START,
                "interval_end": START + DAY,
                "timezone": "America/New_York",
                "columns": [
                    "balance_transaction_id",
                    "created_utc",
                    "created",
                    "currency",
                    "gross",
                    "fee",
                    "net",
                    "reporting_category",
                    "charge_id",
                    "payment_intent_id",
                    "customer_id",
                    "payment_metadata[load]",
                    "refund_metadata[why]",
                ],
            },
        }
    )
    assert run.status == "pending"
    ctl.advance(1)
    run = client.v1.reporting.report_runs.retrieve(run.id)
    assert run.status == "succeeded" and run.result is not None
    assert run.result.url and run.result.size > 0
    body = HTTP.get(run.result.url, timeout=10, headers={"Authorization": f"Bearer {API_KEY}"})
    assert body.status_code == 200 and body.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.text)))
    assert [r["reporting_category"] for r in rows] == ["charge", "refund", "charge"]
    charge_row, refund_row, yen_row = rows
    assert (charge_row["gross"], charge_row["fee"], charge_row["net"]) == (
        "123.45",
        "3.88",
        "119.57",
    )
    assert (refund_row["gross"], refund_row["fee"], refund_row["net"]) == ("-3.45", "0.00", "-3.45")
    assert (yen_row["currency"], yen_row["gross"], yen_row["fee"]) == ("jpy", "1500", "44")
    assert charge_row["created_utc"] == "2023-11-15 01:00:00"
    assert charge_row["created"] == "2023-11-14 20:00:00"
    assert charge_row["payment_intent_id"] == pi.id and charge_row["customer_id"] == cus.id
    assert charge_row["payment_metadata[load]"] == "L-1"
    assert refund_row["charge_id"] == pi.latest_charge
    assert refund_row["refund_metadata[why]"] == "damage"

    default = client.v1.reporting.report_runs.create(
        params={
            "report_type": "balance_change_from_activity.itemized.3",
            "parameters": {"interval_start": START, "interval_end": START + DAY},
        }
    )
    ctl.advance(1)
    default = client.v1.reporting.report_runs.retrieve(default.id)
    assert default.result is not None and default.result.url
    header = HTTP.get(
        default.result.url, timeout=10, headers={"Authorization": f"Bearer {API_KEY}"}
    ).text.splitlines()[0]
    assert header.startswith(
        "balance_transaction_id,created_utc,created,available_on_utc,"
        "available_on,currency,gross,fee,net,reporting_category,source_id"
    )
    with pytest.raises(stripe.InvalidRequestError):  # data is not available yet
        client.v1.reporting.report_runs.create(
            params={
                "report_type": "balance_change_from_activity.itemized.3",
                "parameters": {"interval_start": START, "interval_end": START + 10 * DAY},
            }
        )


def test_webhook_endpoint_crud(client: stripe.StripeClient) -> None:
    ep = client.v1.webhook_endpoints.create(
        params={
            "url": "https://midway.example/hooks",
            "enabled_events": ["charge.succeeded"],
            "description": "app",
        }
    )
    assert ep.secret and ep.secret.startswith("whsec_") and ep.status == "enabled"
    got = client.v1.webhook_endpoints.retrieve(ep.id)
    assert got.url == ep.url and getattr(got, "secret", None) is None
    upd = client.v1.webhook_endpoints.update(
        ep.id, params={"enabled_events": ["*"], "disabled": True}
    )
    assert upd.enabled_events == ["*"] and upd.status == "disabled"
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [ep.id]
    deleted = client.v1.webhook_endpoints.delete(ep.id)
    assert deleted.deleted
    assert client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "ftp://x", "enabled_events": ["*"]})


def test_default_endpoint_configured_at_start(receiver: Receiver) -> None:
    with start_simulator(port=0, webhook_url=receiver.url, webhook_secret="whsec_known") as other:
        http = {"Authorization": "Bearer sk_test_x"}
        acct = requests.post(
            f"{other.url}/v1/accounts", data={"type": "express"}, headers=http, timeout=10
        ).json()
        requests.post(f"{other.url}/_sim/accounts/{acct['id']}/complete_onboarding", timeout=10)
        requests.post(f"{other.url}/v1/customers", headers=http, timeout=10)
        other.drain_webhooks()
        events = [
            stripe.Webhook.construct_event(body.decode(), h["Stripe-Signature"], "whsec_known")
            for body, h in receiver.deliveries
        ]
    assert {e.type for e in events} == {"customer.created", "account.updated"}
