"""The local copy of Stripe's balance transactions (table stripe_balance_transactions).

Fetching a day's rows from the API upserts them here (INSERT … ON CONFLICT (id) DO UPDATE,
so a fee or status Stripe changed after the fact replaces the old values); a run then reads
the STRIPE frame of its window from this table with COPY, which is also how a run on data
already local (`--source cache`, the benchmark) works without calling Stripe at all.
"""

from __future__ import annotations

import pandas as pd
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from reconciliation import slices
from reconciliation.frames import STRIPE_COLUMNS, validate_stripe_frame
from reconciliation.pgcopy import copy_in, copy_out
from reconciliation.slices import Slice

_STAGING = "recon_incoming_balance_transactions"
# Columns with few distinct values, whose cells can share one str object.
REPEATED = ("type", "reporting_category", "currency", "status", "account", "source_status")

_CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (
    id text, type text, reporting_category text, source text, currency text,
    amount bigint, fee bigint, net bigint, created bigint, status text, account text,
    source_status text
) ON COMMIT DELETE ROWS
"""

_UPSERT = f"""
INSERT INTO stripe_balance_transactions AS t
    (id, account, type, reporting_category, source, amount, fee, net, currency, status,
     source_status, created, fetched_at)
SELECT id, account, type, reporting_category, source, amount, fee, net, currency, status,
       source_status, to_timestamp(created), now()
FROM {_STAGING}
ON CONFLICT (id) DO UPDATE SET
    type = EXCLUDED.type,
    reporting_category = EXCLUDED.reporting_category,
    source = EXCLUDED.source,
    amount = EXCLUDED.amount,
    fee = EXCLUDED.fee,
    net = EXCLUDED.net,
    currency = EXCLUDED.currency,
    status = EXCLUDED.status,
    source_status = coalesce(EXCLUDED.source_status, t.source_status),
    fetched_at = now()
"""

_STAGING_COLUMNS = {
    "balance_transaction": "id",
    "type": "type",
    "reporting_category": "reporting_category",
    "source": "source",
    "currency": "currency",
    "amount": "amount",
    "fee": "fee",
    "net": "net",
    "created": "created",
    "status": "status",
    "account": "account",
    "source_status": "source_status",
}


def store(session: Session, frame: pd.DataFrame) -> int:
    """Upsert a STRIPE frame into the cache (the caller commits); return the row count."""
    frame = validate_stripe_frame(frame)
    if len(frame) == 0:
        return 0
    session.execute(text(_CREATE_STAGING))
    staged = frame.rename(columns=_STAGING_COLUMNS)[list(_STAGING_COLUMNS.values())]
    copy_in(session, _STAGING, staged)
    session.execute(text(_UPSERT))
    session.execute(text(f"TRUNCATE {_STAGING}"))
    return len(frame)


def cache_query(
    account: str,
    start: int,
    end: int,
    currency: str | None = None,
    part: Slice | None = None,
    *,
    extra_column: sql.Composable | None = None,
) -> sql.Composed:
    """SELECT of the STRIPE frame's columns for `account`, created in [start, end); with
    `part`, only that hash slice (read from its staging table when staged); `extra_column`
    (SQL on the table aliased `s`) is selected after them."""
    if part is not None and part.staged is not None:
        return slices.staged_select(part, "stripe", [c.name for c in STRIPE_COLUMNS], account)
    filters: list[sql.Composable] = [sql.SQL("")]
    if currency:
        filters.append(sql.SQL("currency = {}").format(sql.Literal(currency)))
    if part is not None:
        filters.append(slices.stripe_filter(part, start, end))
    return sql.SQL(
        "SELECT id, type, coalesce(reporting_category, type), source, currency, amount, fee,"
        " net, extract(epoch FROM created)::bigint, status, account, source_status{extra}"
        " FROM stripe_balance_transactions AS s"
        " WHERE account = {account} AND created >= to_timestamp({start})"
        " AND created < to_timestamp({end}){filters}"
    ).format(
        account=sql.Literal(account),
        start=sql.Literal(int(start)),
        end=sql.Literal(int(end)),
        filters=sql.SQL(" AND ").join(filters),
        extra=sql.SQL(", {}").format(extra_column) if extra_column is not None else sql.SQL(""),
    )


def load_ids(session: Session, account: str, ids: list[str]) -> pd.DataFrame:
    """The STRIPE frame of the cached rows of `account` with these balance transaction ids."""
    query = sql.SQL(
        "SELECT id, type, coalesce(reporting_category, type), source, currency, amount, fee,"
        " net, extract(epoch FROM created)::bigint, status, account, source_status"
        " FROM stripe_balance_transactions WHERE account = {account} AND id = ANY({ids})"
    ).format(account=sql.Literal(account), ids=sql.Literal(list(ids)))
    return validate_stripe_frame(copy_out(session, query, STRIPE_COLUMNS, repeated=REPEATED))


def load(
    session: Session,
    account: str,
    start: int,
    end: int,
    *,
    currency: str | None = None,
    part: Slice | None = None,
) -> pd.DataFrame:
    """The STRIPE frame of the cached rows of `account` created in [start, end) (of one
    slice with `part`)."""
    frame = copy_out(
        session,
        cache_query(account, start, end, currency, part),
        STRIPE_COLUMNS,
        repeated=REPEATED,
    )
    if part is not None and part.staged is not None:
        slices.check_staged(part, "stripe", len(frame))
    return validate_stripe_frame(frame)


def count(session: Session, account: str, start: int, end: int) -> int:
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM stripe_balance_transactions WHERE account = :a"
                " AND created >= to_timestamp(:s) AND created < to_timestamp(:e)"
            ),
            {"a": account, "s": start, "e": end},
        ).scalar_one()
    )


def currencies(session: Session, account: str, start: int, end: int) -> list[str]:
    """Currencies with cached Stripe rows or ledger postings of `account` in [start, end)."""
    rows = session.execute(
        text(
            "SELECT currency FROM stripe_balance_transactions WHERE account = :a"
            " AND created >= to_timestamp(:s) AND created < to_timestamp(:e)"
            " UNION SELECT l.currency FROM ledger_postings p"
            " JOIN ledger_lines l ON l.posting_id = p.id"
            " WHERE coalesce(p.stripe_account, 'platform') = :a"
            " AND p.occurred_at >= to_timestamp(:s) AND p.occurred_at < to_timestamp(:e)"
            " AND (p.stripe_balance_transaction IS NOT NULL OR p.stripe_source IS NOT NULL"
            " OR p.stripe_payment_intent IS NOT NULL)"
        ),
        {"a": account, "s": start, "e": end},
    )
    return sorted(str(currency) for currency in rows.scalars())
