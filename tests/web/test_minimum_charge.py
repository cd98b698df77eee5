"""Amounts below Stripe's minimum charge for their currency are refused at once with a 422
naming the minimum, and nothing is written
(https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from web_helpers import payment_body

from models import Payment
from models.db import transaction


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(49, "usd", "$0.50"), (29, "gbp", "£0.30"), (49, "jpy", "¥50"), (149, "kwd", "KWD 0.150")],
)
def test_below_the_minimum_is_422_naming_it(backend, parties, sessions, amount, currency, shown):
    body = payment_body(*parties, amount=amount, currency=currency, carrier_amount=0)
    response = backend.post("/api/payments/intent", body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["field"] == "amount" and error["code"] == "amount_too_small"
    assert shown in error["message"]
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_the_minimum_itself_is_accepted(backend, parties):
    body = payment_body(*parties, amount=50, currency="usd", carrier_amount=0)
    assert backend.post("/api/payments/intent", body).status_code == 202
