"""The control API under /_sim/ (not part of Stripe; JSON in, JSON out, no API key).

These paths and keys are a contract other tools rely on:
  POST /_sim/reset
  GET|POST /_sim/clock            {"set": unix} | {"advance": seconds} [, "freeze": bool]
  POST /_sim/accounts/{id}/complete_onboarding
  POST /_sim/accounts/{id}/payout_failure   {"failure_code": "no_account" | null}
  POST /_sim/payouts/{id}/fail              {"failure_code": "account_closed"}
  POST /_sim/charges/{id}/dispute  {"reason": "fraudulent" (default) | ..., "amount": minor}
  POST /_sim/disputes/{id}/resolve  {"status": "won" | "lost"}
  GET|POST /_sim/faults           see faults.py
  POST /_sim/balance_transactions/{id}/fee  {"fee": minor units}
  GET|POST /_sim/fees             the fee model (see fees.FeeModel)
  GET|POST /_sim/rate_limits      {"test_per_s": 25, "live_per_s": 100} (0 lifts a limit)
  GET|POST /_sim/search           {"indexing_delay_s": 60}
  GET|POST /_sim/fx               exchange rates (see fx.FxTable, fx.update)
  GET|POST /_sim/accounts/{id}/settlement  {"currencies": [...], "default_currency": ...}
  GET /_sim/state                 object counts per account, clock, faults, webhooks
  GET /_sim/webhooks              delivery log;  POST /_sim/webhooks/drain {"timeout": s}
  GET /_sim/onboarding/{token}    an account link's page: completes onboarding, redirects
  GET /_sim/requests              API requests received: {"requests": [[unix s, method, path]]}
  POST /_sim/requests/clear       forget them (so does /_sim/reset)
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from . import fx, ledger, settlement
from .errors import InvalidRequest, ResourceMissing, StripeSimError
from .resources import accounts, disputes, payouts
from .store import AccountState

if TYPE_CHECKING:
    from .simulator import Request, Response, Simulator

Route = Callable[..., Any]
_ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def _route(method: str, pattern: str) -> Callable[[Route], Route]:
    def register(fn: Route) -> Route:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        _ROUTES.append((method, re.compile(f"^{regex}$"), fn))
        return fn

    return register


class RequestLog:
    """When each Stripe API request arrived (before faults and auth), as Stripe's rate limiter
    would count it: lets a test measure the calls in any sliding second. The HTTP server passes
    the kernel's receive time, so a busy simulator does not bunch the log."""

    MAX_ENTRIES = 500_000

    def __init__(self) -> None:
        self._entries: deque[tuple[float, str, str]] = deque(maxlen=self.MAX_ENTRIES)

    def record(self, method: str, path: str, received_at: float | None = None) -> None:
        # deque.append is thread-safe
        self._entries.append((received_at or time.time(), method, path))

    def entries(self) -> list[tuple[float, str, str]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


def _int(body: dict[str, Any], key: str) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidRequest(f"{key} must be an integer number of seconds", param=key)
    return int(value)


def _find(sim: Simulator, obj_id: str, kind: str) -> tuple[AccountState, dict[str, Any]]:
    for acct in sim.store.accounts.values():
        obj = acct.objects.get(obj_id)
        if obj is not None and obj.get("object") == kind:
            return acct, obj
    raise ResourceMissing(kind, obj_id)


def _after_time_change(sim: Simulator) -> None:
    sim.store.tick()
    ledger.flush(sim.store)
    sim.dispatcher.wake()


@_route("POST", "/_sim/reset")
def reset(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.reset()
    return {"reset": True, "clock": sim.store.clock.state()}


@_route("GET", "/_sim/clock")
def get_clock(sim: Simulator, body: dict[str, Any]) -> Any:
    return sim.store.clock.state()


@_route("POST", "/_sim/clock")
def set_clock(sim: Simulator, body: dict[str, Any]) -> Any:
    clock = sim.store.clock
    freeze = body.get("freeze")
    if freeze is not None and not isinstance(freeze, bool):
        raise InvalidRequest("freeze must be a boolean", param="freeze")
    if "set" in body:
        # Moving back is allowed; scheduled transitions simply wait for their time again.
        clock.set(_int(body, "set"), freeze)
    elif freeze is not None:
        clock.freeze(freeze)
    if "advance" in body:
        seconds = _int(body, "advance")
        if seconds < 0:
            raise InvalidRequest("advance must not be negative; use set", param="advance")
        # Step through due transitions in order so each happens at its own time.
        target = clock.now() + seconds
        while True:
            due = sim.store.next_due()
            if due is None or due > target:
                break
            clock.advance(max(due - clock.now(), 0))
            _after_time_change(sim)
        clock.advance(target - clock.now())
    _after_time_change(sim)
    return clock.state()


@_route("POST", "/_sim/accounts/{acct_id}/complete_onboarding")
def complete_onboarding(sim: Simulator, body: dict[str, Any], acct_id: str) -> Any:
    return accounts.complete_onboarding(sim.store, acct_id)


@_route("POST", "/_sim/accounts/{acct_id}/payout_failure")
def account_payout_failure(sim: Simulator, body: dict[str, Any], acct_id: str) -> Any:
    if acct_id != sim.store.platform.id and sim.store.connected(acct_id) is None:
        raise ResourceMissing("account", acct_id)
    code = body.get("failure_code")
    table = sim.store.internal(sim.store.platform, "payout_failures")
    if code:
        table[acct_id] = str(code)
    else:
        table.pop(acct_id, None)
    return {"account": acct_id, "failure_code": code or None}


def _settling_account(sim: Simulator, acct_id: str) -> AccountState:
    if acct_id in (sim.store.platform.id, "platform"):
        return sim.store.platform
    acct = sim.store.connected(acct_id)
    if acct is None:
        raise ResourceMissing("account", acct_id)
    return acct


@_route("GET", "/_sim/accounts/{acct_id}/settlement")
def get_settlement(sim: Simulator, body: dict[str, Any], acct_id: str) -> Any:
    acct = _settling_account(sim, acct_id)
    return {"account": acct.id, "currencies": list(settlement.currencies(sim.store, acct))}


@_route("POST", "/_sim/accounts/{acct_id}/settlement")
def set_settlement(sim: Simulator, body: dict[str, Any], acct_id: str) -> Any:
    acct = _settling_account(sim, acct_id)
    try:
        chosen = settlement.configure(sim.store, acct, body.get("currencies"),
                                      body.get("default_currency"))
    except ValueError as bad:
        raise InvalidRequest(str(bad), param="currencies") from None
    return {"account": acct.id, "currencies": list(chosen)}


@_route("GET", "/_sim/fx")
def get_fx(sim: Simulator, body: dict[str, Any]) -> Any:
    return sim.config.fx.state()


@_route("POST", "/_sim/fx")
def set_fx(sim: Simulator, body: dict[str, Any]) -> Any:
    try:
        fx.update(sim.config.fx, body)
    except ValueError as bad:
        raise InvalidRequest(str(bad)) from None
    return sim.config.fx.state()


@_route("POST", "/_sim/payouts/{po_id}/fail")
def fail_payout(sim: Simulator, body: dict[str, Any], po_id: str) -> Any:
    acct, payout = _find(sim, po_id, "payout")
    if payout["status"] not in ("pending", "in_transit", "paid"):
        raise InvalidRequest(f"Payout {po_id} is {payout['status']} and cannot fail.")
    payouts.fail(sim.store, acct, payout, str(body.get("failure_code") or "account_closed"))
    return payout


@_route("POST", "/_sim/charges/{ch_id}/dispute")
def open_dispute(sim: Simulator, body: dict[str, Any], ch_id: str) -> Any:
    acct, charge = _find(sim, ch_id, "charge")
    reason = body.get("reason", "fraudulent")
    if reason not in disputes.REASONS:
        raise InvalidRequest(f"reason must be one of {', '.join(disputes.REASONS)}",
                             param="reason")
    amount = body.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise InvalidRequest("amount must be an integer in minor units", param="amount")
    disputes.check_disputable(charge, amount)
    return disputes.open_dispute(sim.store, acct, charge, reason, amount)


@_route("POST", "/_sim/disputes/{du_id}/resolve")
def resolve_dispute(sim: Simulator, body: dict[str, Any], du_id: str) -> Any:
    acct, dispute = _find(sim, du_id, "dispute")
    outcome = body.get("status")
    if outcome not in ("won", "lost"):
        raise InvalidRequest("status must be won or lost", param="status")
    if dispute["status"] not in disputes.OPEN:
        raise InvalidRequest(f"Dispute {du_id} is {dispute['status']} and cannot be resolved.")
    disputes.resolve(sim.store, acct, dispute, outcome)
    return dispute


@_route("GET", "/_sim/faults")
def get_faults(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"rules": sim.faults.describe()}


@_route("POST", "/_sim/faults")
def set_faults(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"rules": sim.faults.configure(body)}


@_route("POST", "/_sim/balance_transactions/{txn_id}/fee")
def change_fee(sim: Simulator, body: dict[str, Any], txn_id: str) -> Any:
    fee = body.get("fee")
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise InvalidRequest("fee must be a non-negative integer in minor units", param="fee")
    acct, txn = _find(sim, txn_id, "balance_transaction")
    ledger.set_fee(sim.store, acct, txn, fee)
    return txn


@_route("GET", "/_sim/fees")
def get_fees(sim: Simulator, body: dict[str, Any]) -> Any:
    return asdict(sim.config.fees)


@_route("POST", "/_sim/fees")
def set_fees(sim: Simulator, body: dict[str, Any]) -> Any:
    model = sim.config.fees
    names = {f.name for f in fields(model)}
    for key, value in body.items():
        if key not in names:
            raise InvalidRequest(f"Unknown fee setting: {key}", param=key)
        current = getattr(model, key)
        if isinstance(current, dict):
            if not isinstance(value, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value.values()
            ):
                raise InvalidRequest(f"{key} must map currencies to integers", param=key)
            current.update({k.lower(): v for k, v in value.items()})
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            setattr(model, key, value)
        else:
            raise InvalidRequest(f"{key} must be a non-negative integer", param=key)
    return asdict(model)


def _non_negative(body: dict[str, Any], key: str) -> int | None:
    if key not in body:
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"{key} must be a non-negative integer", param=key)
    return value


@_route("GET", "/_sim/rate_limits")
def get_rate_limits(sim: Simulator, body: dict[str, Any]) -> Any:
    return sim.rate_limiter.describe()


@_route("POST", "/_sim/rate_limits")
def set_rate_limits(sim: Simulator, body: dict[str, Any]) -> Any:
    unknown = set(body) - {"test_per_s", "live_per_s"}
    if unknown:
        raise InvalidRequest(f"Unknown rate limit setting: {', '.join(sorted(unknown))}")
    sim.rate_limiter.configure(test_per_s=_non_negative(body, "test_per_s"),
                               live_per_s=_non_negative(body, "live_per_s"))
    return sim.rate_limiter.describe()


@_route("GET", "/_sim/search")
def get_search(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"indexing_delay_s": sim.config.search_indexing_delay_s}


@_route("POST", "/_sim/search")
def set_search(sim: Simulator, body: dict[str, Any]) -> Any:
    unknown = set(body) - {"indexing_delay_s"}
    if unknown:
        raise InvalidRequest(f"Unknown search setting: {', '.join(sorted(unknown))}")
    delay = _non_negative(body, "indexing_delay_s")
    if delay is not None:
        sim.config.search_indexing_delay_s = delay
    return {"indexing_delay_s": sim.config.search_indexing_delay_s}


@_route("GET", "/_sim/state")
def state(sim: Simulator, body: dict[str, Any]) -> Any:
    store = sim.store
    return {
        "platform": store.platform.id,
        "clock": store.clock.state(),
        "accounts": {
            ("platform" if a.is_platform else a.id): a.counts() for a in store.accounts.values()
        },
        "balances": {
            ("platform" if a.is_platform else a.id): ledger.balance(store, a)
            for a in store.accounts.values()
        },
        "faults": sim.faults.describe(),
        "webhooks": sim.dispatcher.pending(),
    }


@_route("GET", "/_sim/webhooks")
def webhook_log(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"deliveries": list(sim.dispatcher.log), "queue": sim.dispatcher.pending()}


@_route("POST", "/_sim/webhooks/drain")
def drain(sim: Simulator, body: dict[str, Any]) -> Any:
    timeout = body.get("timeout", 5)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
        raise InvalidRequest("timeout must be a non-negative number", param="timeout")
    return sim.dispatcher.drain(min(float(timeout), 60.0))


@_route("GET", "/_sim/requests")
def request_log(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"requests": sim.requests.entries()}


@_route("POST", "/_sim/requests/clear")
def clear_request_log(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.requests.clear()
    return {"requests": []}


def _onboarding_page(sim: Simulator, req: Request, token: str) -> Response:
    from .simulator import Response

    with sim.store.lock:
        links = sim.store.internal(sim.store.platform, "account_links")
        link = links.get(token)
        if link is None:
            raise ResourceMissing("account_link", token)
        accounts.complete_onboarding(sim.store, link["account"])
    target = link.get("return_url") or parse_qs(req.query).get("return_url", [""])[0]
    if target:
        return Response(302, b"", {"Location": target})
    return Response(200, b"<html><body>Onboarding complete.</body></html>",
                    {"Content-Type": "text/html"})


def handle(sim: Simulator, req: Request) -> Response:
    from .simulator import Response

    headers = {"Content-Type": "application/json"}
    try:
        match = re.match(r"^/_sim/onboarding/([^/]+)$", req.path)
        if match and req.method == "GET":
            return _onboarding_page(sim, req, match.group(1))
        body: Any = {}
        if req.body.strip():
            try:
                body = json.loads(req.body)
            except ValueError as exc:
                raise InvalidRequest("The control API takes a JSON body.") from exc
        if not isinstance(body, dict):
            raise InvalidRequest("The control API takes a JSON object.")
        for method, regex, fn in _ROUTES:
            found = regex.match(req.path)
            if found and method == req.method:
                if fn is drain:  # waits for the webhook thread: must not hold the lock
                    result = fn(sim, body, **found.groupdict())
                else:
                    with sim.store.lock:
                        result = fn(sim, body, **found.groupdict())
                return Response(200, json.dumps(result).encode(), headers)
        raise InvalidRequest(f"Unknown control path: {req.method} {req.path}")
    except StripeSimError as err:
        return Response(err.status, json.dumps(err.body()).encode(), headers)
