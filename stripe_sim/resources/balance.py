"""Balance and balance transactions (the reconciliation engine's main source)."""

from __future__ import annotations

from collections.abc import Callable

from .. import ledger
from ..collection import Obj
from ..params import Params
from ..router import Ctx, list_page, route


@route("GET", "/v1/balance")
def retrieve_balance(ctx: Ctx, p: Params) -> Obj:
    p.done()
    return ledger.balance(ctx.store, ctx.acct)


@route("GET", "/v1/balance_transactions/{txn_id}")
def retrieve_txn(ctx: Ctx, p: Params, txn_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "balance_transaction", txn_id)


@route("GET", "/v1/balance_transactions")
def list_txns(ctx: Ctx, p: Params) -> Obj:
    kind = p.str("type")
    source = p.str("source")
    payout = p.str("payout")
    currency = p.str("currency")
    if currency:
        currency = currency.lower()
    internal = ctx.acct.internal
    checks: list[Callable[[Obj], bool]] = []
    if kind:
        checks.append(lambda t: t["type"] == kind)
    if source:
        checks.append(lambda t: t["source"] == source)
    if currency:
        checks.append(lambda t: t["currency"] == currency)
    if payout:
        # Transactions settled by that payout, and the payout's own transactions.
        checks.append(lambda t: internal.get(t["id"], {}).get("payout") == payout
                      or t["source"] == payout)
    where = None
    if checks:
        def where(t: Obj) -> bool:
            return all(check(t) for check in checks)

    return list_page(ctx, p, "balance_transaction", "/v1/balance_transactions", where)
