"""Which accounts a night's reconciliation covers: our own records, and Stripe's.

Our records (postings, the local copy of Stripe's rows, stored events) miss a connected
account whose only activity that day happened at Stripe: a transfer reversal nobody told us
about, a lost Connect webhook, an account made in the Dashboard. So the nightly set also asks
Stripe: every connected account of the platform (https://docs.stripe.com/api/accounts/list),
and for each whether it has a balance transaction created in the day
(https://docs.stripe.com/api/balance_transactions/list with `created` and `limit=1`).
"""

from __future__ import annotations

from reconciliation.errors import NotAtStripe
from reconciliation.progress import NoProgress
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import PLATFORM, list_pages


def connected_accounts(http: StripeHTTP) -> list[str]:
    """Every connected account of the platform, as Stripe lists them."""
    pages = list_pages(http, "/v1/accounts", {}, PLATFORM, NoProgress())
    return [str(account["id"]) for page in pages for account in page["data"]]


def active_at_stripe(http: StripeHTTP, start: int, end: int) -> list[str]:
    """Connected accounts with at least one balance transaction created in [start, end)."""
    active = []
    for account in connected_accounts(http):
        page = http.get_json(
            "/v1/balance_transactions",
            {"created": {"gte": int(start), "lt": int(end)}, "limit": 1},
            account=account,
        )
        if page.get("data"):
            active.append(account)
    return sorted(active)


def exists_at_stripe(http: StripeHTTP, account: str) -> bool:
    """Whether Stripe knows `account` as one of the platform's connected accounts."""
    if not account.startswith("acct_"):
        return False
    try:
        http.get_json(f"/v1/accounts/{account}")
    except NotAtStripe:
        return False
    return True
