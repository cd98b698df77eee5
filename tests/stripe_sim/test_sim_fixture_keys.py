"""Every object the simulator returns carries the keys of Stripe's own example of that
resource (stripe_fixtures.json, vendored from Stripe's openapi repo), with the same JSON types.

Rules: a key present in Stripe's example must be present; where both values are non-null
their JSON types must match (an expandable field may be an id string where the example shows
the expanded object); nested objects and list items are checked the same way, recursively.
Also: no float anywhere (amounts are integers in minor units).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim_helpers import API_KEY, Control, PacedSession, Receiver

from stripe_sim.server import RunningSimulator

FIXTURES = json.loads((Path(__file__).parent / "stripe_fixtures.json").read_text())["resources"]
# Polymorphic values, and maps keyed by name (capabilities requested differ per account).
SKIP = {"event.data.object", "event.data.previous_attributes", "account.capabilities"}


def _jtype(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _check(obj: dict[str, Any], example: dict[str, Any], path: str, problems: list[str]) -> None:
    for key, expected in example.items():
        where = f"{path}.{key}"
        if key == "metadata" or where in SKIP:
            continue
        if key not in obj:
            problems.append(f"{where}: missing")
            continue
        actual = obj[key]
        if expected is None or actual is None:
            continue
        et, at = _jtype(expected), _jtype(actual)
        if et == "object" and at == "string":  # an expandable id, not expanded
            continue
        if et != at:
            problems.append(f"{where}: {at}, Stripe has {et}")
            continue
        if et == "object":
            _check(actual, expected, where, problems)
        elif et == "array" and expected and actual and _jtype(expected[0]) == "object":
            for item in actual:
                _check(item, expected[0], where + "[]", problems)


def _no_floats(value: Any, path: str, problems: list[str]) -> None:
    if isinstance(value, float):
        problems.append(f"{path}: float {value}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_floats(v, f"{path}.{k}", problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_floats(v, f"{path}[{i}]", problems)


class Api:
    """Raw HTTP calls that collect every object returned, by its `object` type."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = PacedSession()
        self.http.headers["Authorization"] = f"Bearer {API_KEY}"
        self.seen: dict[str, list[dict[str, Any]]] = {}

    def _collect(self, value: Any) -> None:
        if isinstance(value, dict):
            kind = value.get("object")
            if isinstance(kind, str) and "id" in value or kind in ("balance", "account_link"):
                self.seen.setdefault(str(kind), []).append(value)
            for v in value.values():
                self._collect(v)
        elif isinstance(value, list):
            for v in value:
                self._collect(v)

    def call(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        account: str | None = None,
        status: int = 200,
    ) -> Any:
        headers = {"Stripe-Account": account} if account else {}
        if method == "GET":
            resp = self.http.get(self.url + path, params=data, headers=headers, timeout=10)
        else:
            resp = self.http.post(self.url + path, data=data, headers=headers, timeout=10)
        assert resp.status_code == status, resp.text
        body = resp.json()
        self._collect(body)
        return body


def test_every_object_matches_stripe_examples(
    sim: RunningSimulator, ctl: Control, receiver: Receiver
) -> None:
    api = Api(sim.url)
    api.call(
        "POST",
        "/v1/webhook_endpoints",
        {"url": receiver.url, "enabled_events[]": "*", "connect": "true"},
    )
    api.call("GET", "/v1/webhook_endpoints")
    cus = api.call("POST", "/v1/customers", {"email": "a@example.com", "name": "A"})
    pm = api.call("POST", "/v1/payment_methods/pm_card_visa/attach", {"customer": cus["id"]})
    api.call("GET", f"/v1/customers/{cus['id']}/payment_methods")
    acct = api.call(
        "POST", "/v1/accounts", {"type": "express", "capabilities[transfers][requested]": "true"}
    )
    api.call(
        "POST",
        "/v1/account_links",
        {"account": acct["id"], "type": "account_onboarding", "return_url": "https://x.example/r"},
    )
    ctl.onboard(acct["id"])
    api.call("GET", f"/v1/accounts/{acct['id']}")
    pi = api.call(
        "POST",
        "/v1/payment_intents",
        {
            "amount": 5000,
            "currency": "usd",
            "customer": cus["id"],
            "payment_method": pm["id"],
            "confirm": "true",
            "automatic_payment_methods[enabled]": "true",
            "automatic_payment_methods[allow_redirects]": "never",
            "transfer_data[destination]": acct["id"],
            "application_fee_amount": "500",
            "expand[]": "latest_charge",
        },
    )
    api.call(
        "POST",
        "/v1/payment_intents",
        {
            "amount": 20000,
            "currency": "usd",
            "payment_method": "pm_card_bypassPending",
            "confirm": "true",
            "automatic_payment_methods[enabled]": "true",
            "automatic_payment_methods[allow_redirects]": "never",
            "capture_method": "manual",
        },
    )
    declined = api.call(
        "POST",
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_chargeDeclined",
            "confirm": "true",
            "automatic_payment_methods[enabled]": "true",
            "automatic_payment_methods[allow_redirects]": "never",
        },
        status=402,
    )
    assert declined["error"]["decline_code"] == "generic_decline"
    disputed = api.call(
        "POST",
        "/v1/payment_intents",
        {
            "amount": 3000,
            "currency": "usd",
            "payment_method": "pm_card_createDispute",
            "confirm": "true",
            "automatic_payment_methods[enabled]": "true",
            "automatic_payment_methods[allow_redirects]": "never",
        },
    )
    dispute = api.call("GET", "/v1/disputes", {"payment_intent": disputed["id"]})["data"][0]
    api.call(
        "POST",
        f"/v1/disputes/{dispute['id']}",
        {"evidence[customer_name]": "A", "metadata[case]": "1", "submit": "false"},
    )
    ctl.post(f"disputes/{dispute['id']}/resolve", {"status": "won"})
    api.call("GET", f"/v1/disputes/{dispute['id']}")
    for listed in api.call("GET", "/v1/payment_intents")["data"]:
        if listed["status"] == "requires_capture":
            api.call(
                "POST",
                f"/v1/payment_intents/{listed['id']}/capture",
                {"amount_to_capture": "15000"},
            )
    refund = api.call("POST", "/v1/refunds", {"payment_intent": pi["id"], "amount": "1000"})
    api.call("GET", f"/v1/refunds/{refund['id']}")
    tr = api.call(
        "POST", "/v1/transfers", {"amount": "3000", "currency": "usd", "destination": acct["id"]}
    )
    api.call("POST", f"/v1/transfers/{tr['id']}/reversals", {"amount": "500"})
    api.call("GET", "/v1/application_fees")
    api.call("POST", "/v1/payouts", {"amount": "100", "currency": "usd"})
    api.call("POST", "/v1/payouts", {"amount": "1000", "currency": "usd"}, account=acct["id"])
    api.call("GET", "/v1/balance")
    api.call("GET", "/v1/balance", account=acct["id"])
    api.call("GET", "/v1/balance_transactions", {"limit": "100"})
    api.call("GET", "/v1/balance_transactions", {"limit": "100"}, account=acct["id"])
    ctl.advance(4 * 86_400)
    api.call("GET", "/v1/charges", {"limit": "100"})
    api.call("GET", "/v1/payouts")
    api.call("GET", "/v1/events", {"limit": "100"})
    api.call("GET", "/v1/events", {"limit": "100"}, account=acct["id"])
    now = ctl.get("clock")["now"]
    run = api.call(
        "POST",
        "/v1/reporting/report_runs",
        {
            "report_type": "balance_change_from_activity.itemized.3",
            "parameters[interval_start]": str(now - 10 * 86_400),
            "parameters[interval_end]": str(now),
        },
    )
    ctl.advance(1)
    api.call("GET", f"/v1/reporting/report_runs/{run['id']}")
    api.call("GET", "/v1/files")
    ctl.drain()
    for event in receiver.events():
        api._collect(event)

    expected = set(FIXTURES)
    missing = expected - set(api.seen)
    assert not missing, f"never saw: {missing}"
    problems: list[str] = []
    for kind, objs in api.seen.items():
        if kind not in FIXTURES:
            continue
        for obj in objs:
            if kind == "charge" and obj["payment_method_details"]["type"] != "card":
                # Stripe's example is a card charge; other methods have their own details.
                pmd = obj["payment_method_details"]
                obj = {**obj, "payment_method_details": {"type": pmd["type"]}}
            _check(obj, FIXTURES[kind], kind, problems)
            _no_floats(obj, kind, problems)
    assert not problems, "\n".join(sorted(set(problems)))
