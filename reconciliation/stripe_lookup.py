"""Complete Stripe's side of a run before anything is called missing, whatever the source.

The API and cache sources read the day plus a margin on each side; an itemized report (a
report run, or a CSV finance downloaded) covers the day alone. So that every source gives the
same answer for the same facts:
- a source without margins gets the margins from the local copy of Stripe's rows;
- every balance transaction id a posting claims that the frame lacks is looked up, in the
  local copy, then (when the source can reach Stripe) at Stripe itself, one GET each
  (https://docs.stripe.com/api/balance_transactions/retrieve) — a refund booked at 23:59:40
  whose balance transaction is at 00:00:20 the next day is then `timing`, never
  `missing_in_stripe`. What Stripe fetched is kept in the local copy.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from models.db import transaction
from reconciliation import stripe_cache
from reconciliation.errors import NotAtStripe
from reconciliation.raw_pages import frame_from_pages
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import LoadRequest

# Claimed ids looked up at Stripe per run, at most: beyond that something is wrong in bulk,
# and the findings say so without spending the Stripe budget one GET at a time.
MAX_STRIPE_LOOKUPS = 200


def complete(
    sessions: sessionmaker[Session],
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    request: LoadRequest,
    *,
    covers_margins: bool,
    http: StripeHTTP | None = None,
) -> pd.DataFrame:
    """`stripe` plus the margin rows it lacks and the rows its postings claim."""
    parts = [stripe]
    with sessions() as session:
        if not covers_margins:
            window = request.window
            for start, end in ((request.start, window.start), (window.end, request.end)):
                parts.append(stripe_cache.load(session, request.account, start, end))
        missing = _unknown_claims(parts, ledger)
        if missing:
            parts.append(stripe_cache.load_ids(session, request.account, missing))
    missing = _unknown_claims(parts, ledger)
    if missing and http is not None:
        parts.append(_fetch(sessions, http, request.account, missing[:MAX_STRIPE_LOOKUPS]))
    if len(parts) == 1:
        return stripe
    combined = pd.concat([p for p in parts if len(p)] or [stripe], ignore_index=True)
    return combined.drop_duplicates("balance_transaction").reset_index(drop=True)


def _unknown_claims(parts: list[pd.DataFrame], ledger: pd.DataFrame) -> list[str]:
    """Claimed ids in no part, by hash lookups (a million postings: no Python set)."""
    claimed = pd.Series(ledger["balance_transaction"].dropna().unique())
    for part in parts:
        if len(claimed) == 0:
            break
        claimed = claimed[~claimed.isin(part["balance_transaction"])]
    return sorted(str(txn) for txn in claimed)


def _fetch(
    sessions: sessionmaker[Session], http: StripeHTTP, account: str, ids: list[str]
) -> pd.DataFrame:
    found = []
    for txn in ids:
        try:
            found.append(http.get_json(f"/v1/balance_transactions/{txn}", account=account))
        except NotAtStripe:
            continue  # Stripe lacks it: the posting is missing_in_stripe, as it should be
    frame = frame_from_pages([{"object": "list", "data": found}], account)
    if len(frame):
        with transaction(sessions) as session:
            stripe_cache.store(session, frame)
    return frame
