"""The Search API for PaymentIntents and charges, with Stripe's indexing delay.

Source: https://docs.stripe.com/search — the query language (`field:value`, `field~"sub"`,
`field>value`, `-field:value`, `metadata['key']:'value'`, clauses joined by AND or by OR, not
both), the `search_result` envelope with `next_page`, and the note that search is not for
read-after-write flows: "Under normal operating conditions, data is searchable in less than
1 minute." An object therefore appears in results only once `search_indexing_delay_s` of
simulated time has passed since it was created (SimConfig; 60 s by default). List endpoints,
by contrast, are immediately consistent.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from ..collection import Obj
from ..errors import InvalidRequest
from ..params import Params
from ..router import Ctx, route

_CLAUSE = re.compile(
    r"""^(?P<neg>-)?(?:metadata\[(?P<q>['"])(?P<mkey>[^'"]+)(?P=q)\]|(?P<field>[a-z_.]+))"""
    r"""(?P<op>:|~|>=|<=|>|<)(?P<value>.+)$"""
)
FIELDS = {
    "payment_intent": ("amount", "created", "currency", "customer", "status"),
    "charge": (
        "amount",
        "created",
        "currency",
        "customer",
        "status",
        "payment_intent",
        "refunded",
        "disputed",
    ),
}
NUMERIC = ("amount", "created")


def _value(raw: str, param: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if re.fullmatch(r"-?\d+|true|false|null", raw):
        return raw
    raise InvalidRequest(f"Invalid search query: value {raw!r} must be quoted.", param=param)


def _clause(text: str, kind: str, resource: str) -> Callable[[Obj], bool]:
    match = _CLAUSE.match(text.strip())
    if match is None:
        raise InvalidRequest(
            f"Invalid search query: could not parse {text.strip()!r}.", param="query"
        )
    op, value = match["op"], _value(match["value"], "query")
    mkey = match["mkey"]
    field = match["field"]
    if field is not None and field not in FIELDS[kind]:
        raise InvalidRequest(
            f"Field `{field}` is an unsupported search field for resource `{resource}`. See "
            f"http://stripe.com/docs/search#query-fields-for-{resource.replace('_', '-')} for a "
            "list of supported fields.",
            param="query",
        )

    def read(obj: Obj) -> Any:
        if mkey is not None:
            return (obj.get("metadata") or {}).get(mkey)
        return obj.get(field or "")

    def test(obj: Obj) -> bool:
        current = read(obj)
        if op in (">", "<", ">=", "<="):
            if field not in NUMERIC or not value.lstrip("-").isdigit():
                raise InvalidRequest(
                    f"Invalid search query: {text.strip()!r} compares a non-numeric field.",
                    param="query",
                )
            number, limit = int(current or 0), int(value)
            return {
                ">": number > limit,
                "<": number < limit,
                ">=": number >= limit,
                "<=": number <= limit,
            }[op]
        shown = (
            ""
            if current is None
            else str(current).lower()
            if isinstance(current, bool)
            else str(current)
        )
        if value == "null":
            return current is None
        if op == "~":
            return value.lower() in shown.lower()
        return shown == value

    if match["neg"]:
        return lambda obj: not test(obj)
    return test


def parse(query: str, kind: str, resource: str) -> Callable[[Obj], bool]:
    if " AND " in query and " OR " in query:
        raise InvalidRequest("Invalid search query: AND and OR cannot be combined.", param="query")
    if " OR " in query:
        tests = [_clause(c, kind, resource) for c in query.split(" OR ")]
        return lambda obj: any(t(obj) for t in tests)
    tests = [_clause(c, kind, resource) for c in query.split(" AND ")]
    return lambda obj: all(t(obj) for t in tests)


def _search(ctx: Ctx, p: Params, kind: str, resource: str) -> Obj:
    query = p.str("query", required=True)
    limit = p.int("limit")
    page = p.str("page")
    p.done()
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise InvalidRequest("Invalid limit: must be between 1 and 100.", param="limit")
    offset = 0
    if page:
        try:
            offset = int(base64.urlsafe_b64decode(page.encode()).decode())
        except ValueError as exc:
            raise InvalidRequest("Invalid page token.", param="page") from exc
    matches = parse(query, kind, resource)
    indexed_before = ctx.store.now() - ctx.store.config.search_indexing_delay_s
    hits = [
        obj
        for obj in reversed(ctx.acct.collection(kind).objs)
        if obj["created"] <= indexed_before and matches(obj)
    ]
    window = hits[offset : offset + limit]
    more = len(hits) > offset + limit
    return {
        "object": "search_result",
        "data": window,
        "has_more": more,
        "next_page": base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        if more
        else None,
        "url": f"/v1/{resource}/search",
    }


@route("GET", "/v1/payment_intents/search")
def search_payment_intents(ctx: Ctx, p: Params) -> Obj:
    return _search(ctx, p, "payment_intent", "payment_intents")


@route("GET", "/v1/charges/search")
def search_charges(ctx: Ctx, p: Params) -> Obj:
    return _search(ctx, p, "charge", "charges")
