"""The simulator core: one request in, one response out (no sockets here).

Order of a Stripe API request: rate limit -> idempotency key length and in-flight check ->
fault injection -> API-key auth -> route -> (under the state lock) due transitions,
Stripe-Account scope, idempotency replay, the handler, expansion, saving the idempotent
result. "Commit then fail" faults act after all of that (a 500 then replaces the saved
result, as Stripe replays a 500 for its key).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from . import control, expand, ids, ledger, resources, wire
from .config import SimConfig
from .errors import (
    ApiError,
    AuthenticationFailed,
    PermissionDenied,
    RateLimited,
    StripeSimError,
)
from .events import API_VERSION
from .faults import Faults
from .idempotency import IdempotencyCache, Saved, check_key, fingerprint, should_save
from .params import Params
from .ratelimit import RateLimiter
from .resources import accounts, webhook_endpoints
from .router import Ctx, Raw, resolve
from .store import AccountState, Store
from .webhooks import Dispatcher

assert resources  # the import registers the routes

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str
    received_at: float | None = None  # unix s when the request reached the host


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def _presented_key(headers: dict[str, str]) -> str:
    """The secret key of a request (Bearer or Basic auth); "" when none."""
    auth = headers.get("authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip()
    if auth.startswith("Basic "):
        try:
            return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


def _masked(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 4) + key[-4:] if len(key) > 12 else "****"


class Simulator:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.store = Store(self.config)
        self.faults = Faults(self.config.seed)
        self.idempotency = IdempotencyCache(self.config.idempotency_ttl_s)
        self.rate_limiter = RateLimiter(self.config.rate_limit_test_per_s,
                                        self.config.rate_limit_live_per_s)
        self.dispatcher = Dispatcher(self.store, self.faults)
        self.requests = control.RequestLog()
        self.store.event_sink = self.dispatcher.on_event
        # What a reset returns to: the platform's settlement currencies and the rate table as
        # started (the control API may change both).
        self._started_settlement = (self.config.default_currency,
                                    self.config.settlement_currencies)
        self._started_fx = copy.deepcopy(self.config.fx)
        self._install_defaults()

    def _install_defaults(self) -> None:
        store = self.store
        store.platform.objects[store.platform.id] = accounts.platform_account(store)
        if self.config.webhook_url:
            if not self.config.webhook_secret:
                self.config.webhook_secret = ids.secret("whsec")
            webhook_endpoints.register(
                store, store.platform, url=self.config.webhook_url,
                enabled_events=list(self.config.webhook_events),
                connect=self.config.webhook_connect, both=self.config.webhook_connect,
                secret=self.config.webhook_secret, description="default endpoint (stripe_sim)",
            )

    def start(self) -> None:
        self.dispatcher.start()

    def stop(self) -> None:
        self.dispatcher.stop()

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            self.idempotency.clear()
            self.faults.clear()
            self.dispatcher.clear()
            self.config.default_currency, self.config.settlement_currencies = (
                self._started_settlement)
            self.config.fx = copy.deepcopy(self._started_fx)
            self.requests.clear()
            self._install_defaults()

    # -- request handling ------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        request_id = "req_" + secrets.token_hex(7)
        if req.path.startswith("/_sim/"):
            return control.handle(self, req)
        # Counted (logged and rate limited) when it reached the host, like Stripe's limiter.
        arrived = req.received_at or time.time()
        self.requests.record(req.method, req.path, arrived)
        presented = _presented_key(req.headers)
        if not self.rate_limiter.admit(presented, now=arrived):
            return self._error(RateLimited(
                "Request rate limit exceeded. You can learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.", code="rate_limit",
                headers={"Stripe-Rate-Limited-Reason": "global-rate"}), request_id)
        idem_key = req.headers.get("idempotency-key") if req.method == "POST" else None
        if not idem_key:
            return self._faulty(req, request_id)
        flight = (presented, req.headers.get("stripe-account") or "", idem_key)
        try:
            check_key(idem_key)
            self.idempotency.begin(flight)
        except StripeSimError as err:
            return self._error(err, request_id)
        try:
            return self._faulty(req, request_id)
        finally:
            self.idempotency.end(flight)

    def _faulty(self, req: Request, request_id: str) -> Response:
        """The request with any injected fault around it."""
        fault = self.faults.for_request(req.method, req.path, req.headers.get("stripe-account"))
        if fault.slow_ms:
            time.sleep(fault.slow_ms / 1000)
        if fault.before == "drop":
            return Response(drop=True)
        if fault.before == "500":
            # Failed before executing: nothing saved, and Stripe says a retry may succeed.
            return self._error(ApiError("An unknown error occurred (injected by stripe_sim).",
                                        headers={"Stripe-Should-Retry": "true"}), request_id)
        if fault.before == "429":
            return self._error(RateLimited(
                "Request rate limit exceeded. You can learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.", code="rate_limit",
                headers={"Retry-After": "1"}), request_id)
        resp, saved_as = self._execute(req, request_id)
        if fault.after == "drop":
            return Response(drop=True)
        if fault.after == "500":
            # Executed, then failed: Stripe saves this 500 for the key and replays it.
            failed = self._error(ApiError(
                "An unknown error occurred (injected by stripe_sim).",
                headers={"Stripe-Should-Retry": "false"}), request_id)
            if saved_as is not None:
                scope, fp = saved_as
                with self.store.lock:
                    self.idempotency.save(scope, Saved(fp, failed.status, failed.body,
                                                       dict(failed.headers), self.store.now()))
            return failed
        return resp

    def _error(self, err: StripeSimError, request_id: str) -> Response:
        headers = {"Request-Id": request_id, "Content-Type": "application/json"}
        headers.update(err.headers)
        if err.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Stripe"'
        return Response(err.status, wire.dumps(err.body()), headers)

    def _authenticate(self, headers: dict[str, str]) -> str:
        key = _presented_key(headers)
        if not key:
            raise AuthenticationFailed(NO_KEY)
        expected = self.config.api_key
        valid = key == expected if expected else key.startswith("sk_test_")
        if not valid:
            raise AuthenticationFailed(f"Invalid API Key provided: {_masked(key)}")
        return key

    def _account(self, header: str | None, key: str) -> AccountState:
        if not header or header == self.store.platform.id:
            return self.store.platform
        acct = self.store.connected(header)
        if acct is None:
            raise PermissionDenied(
                f"The provided key '{_masked(key)}' does not have access to account "
                f"'{header}' (or that account does not exist). Application access may have "
                "been revoked.",
                code="account_invalid",
            )
        return acct

    def _execute(
        self, req: Request, request_id: str
    ) -> tuple[Response, tuple[tuple[str, str, str], str] | None]:
        """The response, and (scope, fingerprint) when it was saved for its idempotency key."""
        headers = {"Request-Id": request_id, "Content-Type": "application/json",
                   "Stripe-Version": req.headers.get("stripe-version") or API_VERSION}
        idem_key = req.headers.get("idempotency-key") if req.method == "POST" else None
        if idem_key:
            headers["Idempotency-Key"] = idem_key
        store = self.store
        try:
            key = self._authenticate(req.headers)
            if req.method == "POST":
                data = wire.decode_form(req.body.decode("utf-8", "replace"))
                if req.query:
                    data.update(wire.decode_form(req.query))
            else:
                data = wire.decode_form(req.query)
            handler, args = resolve(req.method, req.path)
            with store.lock:
                store.tick()
                acct = self._account(req.headers.get("stripe-account"), key)
                scope = (key, acct.id, idem_key or "")
                fp = ""
                if idem_key:
                    fp = fingerprint(req.method, req.path, data)
                    saved = self.idempotency.lookup(scope, fp, store.now())
                    if saved is not None:
                        replay = dict(saved.headers)
                        replay["Idempotent-Replayed"] = "true"
                        replay["Request-Id"] = request_id
                        replay["Original-Request"] = saved.headers.get("Request-Id", "")
                        return Response(saved.status, saved.body, replay), None
                status, body, extra = self._run(handler, args, data, acct, req, request_id,
                                                idem_key)
                headers.update(extra)
                saved_as = None
                if idem_key and should_save(status):
                    self.idempotency.save(scope, Saved(fp, status, body, dict(headers),
                                                       store.now()))
                    saved_as = (scope, fp)
            return Response(status, body, headers), saved_as
        except StripeSimError as err:
            return self._error(err, request_id), None

    def _run(self, handler: Any, args: dict[str, str], data: dict[str, Any],
             acct: AccountState, req: Request, request_id: str,
             idem_key: str | None) -> tuple[int, bytes, dict[str, str]]:
        store = self.store
        store.current_request = {"id": request_id, "idempotency_key": idem_key}
        ctx = Ctx(store=store, acct=acct, base_url=req.base_url, request_id=request_id,
                  idempotency_key=idem_key)
        try:
            result = handler(ctx, Params(data), **args)
            if isinstance(result, Raw):
                extra = {"Content-Type": result.content_type, **(result.headers or {})}
                return result.status, result.body, extra
            result = expand.apply(store, acct, result, data.get("expand"))
            return 200, wire.dumps(result), {}
        except StripeSimError as err:
            return err.status, wire.dumps(err.body()), dict(err.headers)
        finally:
            ledger.flush(store)
            store.current_request = None

    # -- conveniences for in-process callers -------------------------------------------------

    def control(self, path: str, body: dict[str, Any] | None = None,
                method: str = "POST") -> Any:
        """Call the control API without HTTP (same code path as /_sim/...)."""
        req = Request(method, path, "", {}, json.dumps(body or {}).encode(), "")
        resp = self.handle(req)
        return json.loads(resp.body) if resp.body else None
