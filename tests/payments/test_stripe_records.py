"""The gateway's typed records read Stripe's own example objects and stripe_sim's answers.

Stripe's examples are the vendored subset of `fixtures3.json` (tests/stripe_sim/
stripe_fixtures.json, identical to ../shared/stripe/fixtures3.json for these resources). A
payload missing a field we need fails as StripeObjectUnreadable naming the object and the
field, never as a KeyError; an id-or-object field gives the same id in either form.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe

from models import PayoutBatch
from models.db import transaction
from models.money import Money
from payments import payouts, refunds
from payments.errors import StripeObjectUnreadable
from payments.gateway.records import (
    BalanceTransaction,
    Charge,
    Dispute,
    PaymentIntent,
    Payout,
    Refund,
    Transfer,
)
from payments.gateway.records_events import Event, Page
from payments.gateway.records_parties import Account, AccountLink, Customer, PaymentMethod

from .conftest import Market

EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "stripe_sim" / "stripe_fixtures.json").read_text()
)["resources"]


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[name])


# Stripe's examples, read ------------------------------------------------------------------


def test_a_balance_transaction_reads_money_as_integers_and_its_source_as_an_id() -> None:
    data = example("balance_transaction")
    txn = BalanceTransaction.from_stripe(data)
    assert (txn.id, txn.amount, txn.fee, txn.net) == (data["id"], 100, 0, 100)
    assert (txn.currency, txn.type, txn.created) == ("usd", "charge", 1234567890)
    assert (txn.source, txn.status, txn.reporting_category) == (
        data["source"],
        "available",
        "charge",
    )
    assert txn.exchange_rate is None and txn.fee_details == ()


def test_an_exchange_rate_is_the_decimal_stripe_wrote_and_fees_are_listed() -> None:
    data = example("balance_transaction")
    data.update(
        currency="USD",
        exchange_rate=0.0067,
        fee_details=[{"amount": 30, "currency": "usd", "type": "stripe_fee"}],
    )
    txn = BalanceTransaction.from_stripe(data)
    assert txn.exchange_rate == Decimal("0.0067") and txn.currency == "usd"
    assert [(f.amount, f.currency, f.type) for f in txn.fee_details] == [(30, "usd", "stripe_fee")]


def test_a_charge_a_payment_intent_and_a_refund_from_stripes_examples() -> None:
    charge = Charge.from_stripe(example("charge"))
    assert (charge.id, charge.amount, charge.currency) == (EXAMPLES["charge"]["id"], 100, "usd")
    assert charge.balance_transaction_id == EXAMPLES["charge"]["balance_transaction"]
    assert charge.balance_transaction is None and charge.failure_balance_transaction_id is None

    intent = PaymentIntent.from_stripe(example("payment_intent"))
    assert (intent.id, intent.status) == (
        EXAMPLES["payment_intent"]["id"],
        "requires_payment_method",
    )
    assert (intent.amount, intent.currency, intent.customer) == (1099, "usd", None)
    assert intent.latest_charge_id is None and intent.latest_charge is None
    assert intent.last_payment_error is not None and intent.last_payment_error.code is None
    assert intent.client_secret == EXAMPLES["payment_intent"]["client_secret"]

    refund = Refund.from_stripe(example("refund"))
    assert (refund.id, refund.amount, refund.currency, refund.status) == (
        EXAMPLES["refund"]["id"],
        100,
        "usd",
        "succeeded",
    )
    assert refund.payment_intent is None and refund.balance_transaction is None


def test_a_transfer_a_payout_and_a_dispute_from_stripes_examples() -> None:
    transfer = Transfer.from_stripe(example("transfer"))
    assert (transfer.amount, transfer.currency) == (1100, "usd")
    assert transfer.destination == EXAMPLES["transfer"]["destination"]
    assert transfer.destination_payment == EXAMPLES["transfer"]["destination_payment"]

    payout = Payout.from_stripe(example("payout"))
    assert (payout.id, payout.amount, payout.status) == (
        EXAMPLES["payout"]["id"],
        1100,
        "in_transit",
    )
    assert payout.balance_transaction_id == EXAMPLES["payout"]["balance_transaction"]
    assert (payout.failure_code, payout.failure_balance_transaction_id) == (None, None)

    dispute = Dispute.from_stripe(example("dispute"))
    assert (dispute.amount, dispute.currency, dispute.reason) == (1000, "usd", "general")
    assert dispute.charge == EXAMPLES["dispute"]["charge"] and dispute.balance_transactions == ()
    assert dispute.evidence_due_by == 1723679999 and dispute.account is None


def test_parties_and_an_event_from_stripes_examples() -> None:
    assert Customer.from_stripe(example("customer")).id == EXAMPLES["customer"]["id"]
    account = Account.from_stripe(example("account"))
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    assert account.requirements is not None
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert "external_account" in (account.requirements.currently_due or ())
    link = AccountLink.from_stripe(example("account_link"))
    assert link.url == EXAMPLES["account_link"]["url"]
    method = PaymentMethod.from_stripe(example("payment_method"))
    assert method.id == EXAMPLES["payment_method"]["id"]
    assert method.card is not None and set(method.card) <= {
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "funding",
        "country",
    }

    data = example("event")
    event = Event.from_stripe(data)
    assert (event.id, event.type, event.created, event.account) == (
        data["id"],
        "plan.created",
        1234567890,
        None,
    )
    assert event.payload is data  # kept as-is for storage
    assert event.data_object["id"] == data["data"]["object"]["id"]


def test_a_page_reads_each_item_into_its_record() -> None:
    page = Page.from_stripe(
        {"object": "list", "data": [example("refund")], "has_more": True}, Refund.from_stripe
    )
    assert [r.id for r in page.data] == [EXAMPLES["refund"]["id"]] and page.has_more


# Unreadable payloads --------------------------------------------------------------------

REQUIRED = [
    (BalanceTransaction, "balance_transaction", "amount"),
    (BalanceTransaction, "balance_transaction", "fee"),
    (BalanceTransaction, "balance_transaction", "net"),
    (BalanceTransaction, "balance_transaction", "currency"),
    (BalanceTransaction, "balance_transaction", "created"),
    (Charge, "charge", "id"),
    (Charge, "charge", "amount"),
    (PaymentIntent, "payment_intent", "id"),
    (PaymentIntent, "payment_intent", "status"),
    (Refund, "refund", "status"),
    (Refund, "refund", "currency"),
    (Transfer, "transfer", "amount"),
    (Payout, "payout", "status"),
    (Dispute, "dispute", "amount"),
    (Account, "account", "id"),
    (Event, "event", "created"),
    (Event, "event", "type"),
]


@pytest.mark.parametrize(("record", "resource", "field"), REQUIRED)
def test_a_missing_required_field_is_named_not_a_key_error(
    record: Any, resource: str, field: str
) -> None:
    data = example(resource)
    del data[field]
    with pytest.raises(StripeObjectUnreadable) as raised:
        record.from_stripe(data)
    assert (raised.value.obj, raised.value.field) == (resource, field)
    assert repr(field) in str(raised.value) and "missing" in str(raised.value)
    if field != "id":
        assert data["id"] in str(raised.value)  # which object, by its id


@pytest.mark.parametrize("bad", ["100", 1.5, True, None, [100]])
def test_an_amount_of_the_wrong_json_type_is_refused(bad: Any) -> None:
    data = example("balance_transaction")
    data["amount"] = bad
    with pytest.raises(StripeObjectUnreadable, match="'amount' should be an integer"):
        BalanceTransaction.from_stripe(data)


def test_a_nested_object_is_named_by_its_path_and_a_non_object_is_refused() -> None:
    charge = example("charge")
    charge["balance_transaction"] = {**example("balance_transaction"), "fee": "0.30"}
    with pytest.raises(StripeObjectUnreadable) as raised:
        Charge.from_stripe(charge)
    assert (raised.value.obj, raised.value.field) == ("balance_transaction", "fee")
    charge["balance_transaction"] = 42
    with pytest.raises(StripeObjectUnreadable, match="'balance_transaction' should be an id"):
        Charge.from_stripe(charge)
    with pytest.raises(StripeObjectUnreadable, match="not a JSON object"):
        Refund.from_stripe([])  # type: ignore[arg-type]
    event = example("event")
    event["data"] = {"previous_attributes": {}}
    with pytest.raises(StripeObjectUnreadable, match="'object'"):
        _ = Event.from_stripe(event).data_object


# Expanded and unexpanded forms ----------------------------------------------------------


def test_expanded_and_unexpanded_forms_give_the_same_ids() -> None:
    txn = example("balance_transaction")
    charge = example("charge")
    flat = Charge.from_stripe(charge)
    charge["balance_transaction"] = txn
    deep = Charge.from_stripe(charge)
    assert flat.balance_transaction_id == deep.balance_transaction_id == txn["id"]
    assert flat.balance_transaction is None and deep.balance_transaction is not None
    assert deep.balance_transaction.amount == txn["amount"]

    intent = example("payment_intent")
    intent["latest_charge"] = charge["id"]
    by_id = PaymentIntent.from_stripe(intent)
    intent["latest_charge"] = charge
    expanded = PaymentIntent.from_stripe(intent)
    assert by_id.latest_charge_id == expanded.latest_charge_id == charge["id"]
    assert expanded.latest_charge == deep and by_id.latest_charge is None

    for name in ("refund", "transfer", "payout"):
        data = example(name)
        data["balance_transaction"] = txn["id"]
        flat_id = type_of(name).from_stripe(data).balance_transaction_id
        data["balance_transaction"] = txn
        assert flat_id == type_of(name).from_stripe(data).balance_transaction_id == txn["id"]

    dispute = example("dispute")
    dispute["balance_transactions"] = [txn["id"]]
    ids = Dispute.from_stripe(dispute).balance_transactions
    dispute["balance_transactions"] = [txn]
    objects = Dispute.from_stripe(dispute).balance_transactions
    assert ids == (txn["id"],) and [o.id for o in objects if isinstance(o, BalanceTransaction)] == [
        txn["id"]
    ]

    refund = example("refund")
    refund["payment_intent"] = {**example("payment_intent"), "id": "pi_expanded"}
    assert Refund.from_stripe(refund).payment_intent == "pi_expanded"


def type_of(name: str) -> Any:
    return {"refund": Refund, "transfer": Transfer, "payout": Payout}[name]


# stripe_sim's answers ---------------------------------------------------------------------


def raw(market: Market, path: str, account: str | None = None, **params: Any) -> Any:
    """Stripe's JSON for `path`, as the simulator answers it."""
    client = stripe.StripeClient("sk_test_midway", base_addresses={"api": market.sim_url})
    options: dict[str, Any] = {"stripe_account": account} if account else {}
    return client.raw_request("get", path, **params, **options).data


def test_the_gateway_reads_the_simulators_payment_and_refund(market: Market) -> None:
    payment_id = market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=2500).id
    refunds.advance_refund(market.sessions, market.gateway, refund_id)
    intents = raw(market, "/v1/payment_intents")["data"]
    [intent_json] = intents
    intent = market.gateway.retrieve_payment_intent(intent_json["id"])
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 10000, "usd")
    assert intent.customer == intent_json["customer"] == market.customer()
    charge = intent.latest_charge
    assert charge is not None and charge.id == intent_json["latest_charge"]
    txn = charge.balance_transaction
    txn_json = raw(market, f"/v1/balance_transactions/{charge.balance_transaction_id}")
    assert txn == BalanceTransaction.from_stripe(txn_json)
    assert (txn.amount, txn.fee, txn.net, txn.source) == (10000, 320, 9680, charge.id)

    [refund_json] = raw(market, "/v1/refunds")["data"]
    refund = market.gateway.retrieve_refund(refund_json["id"])
    assert (refund.amount, refund.status, refund.payment_intent) == (2500, "succeeded", intent.id)
    assert refund.balance_transaction is not None and refund.balance_transaction.amount == -2500
    assert Refund.from_stripe(refund_json).balance_transaction_id == refund.balance_transaction_id


def test_the_gateway_reads_the_simulators_transfer_payout_and_events(market: Market) -> None:
    market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        batch = payouts.request_transfer(session, market.carrier_id, Money(8000, "usd"))
    payouts.advance_batch(market.sessions, market.gateway, batch.id)
    with transaction(market.sessions) as session:
        payout_batch = payouts.request_payout(
            session, market.carrier_id, Money(5000, "usd"), "standard"
        )
    payouts.advance_batch(market.sessions, market.gateway, payout_batch.id)
    with transaction(market.sessions) as session:
        sent = session.get(PayoutBatch, batch.id)
        paid_out = session.get(PayoutBatch, payout_batch.id)
        assert sent is not None and paid_out is not None
        transfer_id, payout_id = sent.stripe_transfer_id, paid_out.stripe_payout_id
    assert transfer_id is not None and payout_id is not None

    transfer = market.gateway.retrieve_transfer(transfer_id)
    assert (transfer.amount, transfer.destination) == (8000, market.carrier_account)
    assert transfer.balance_transaction is not None and transfer.balance_transaction.amount == -8000
    assert transfer.destination_payment is not None
    received = market.gateway.retrieve_charge(
        transfer.destination_payment, account=market.carrier_account
    )
    assert received.balance_transaction is not None and received.balance_transaction.net == 8000

    payout = market.gateway.retrieve_payout(payout_id, account=market.carrier_account)
    payout_json = raw(market, f"/v1/payouts/{payout_id}", account=market.carrier_account)
    assert (payout.amount, payout.currency, payout.status) == (5000, "usd", payout_json["status"])
    assert payout.balance_transaction_id == payout_json["balance_transaction"]

    page = market.gateway.list_events(created_gt=0)
    assert page.data and all(isinstance(e, Event) for e in page.data)
    readers = {
        "payment_intent": PaymentIntent,
        "charge": Charge,
        "refund": Refund,
        "transfer": Transfer,
        "payout": Payout,
        "account": Account,
    }
    read = set()
    for event in page.data:
        obj = event.data_object
        record = readers.get(obj.get("object"))
        if record is not None:
            assert record.from_stripe(obj).id == obj["id"]
            read.add(obj["object"])
    assert {"payment_intent", "charge", "transfer"} <= read
