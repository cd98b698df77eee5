"""Raw reads of Stripe's REST API for reconciliation: bodies as bytes, never SDK objects.

The SDK builds about 12,000 objects a second; a day of a million balance transactions is
fetched as raw JSON pages and parsed column-wise by `raw_pages` instead. This is the one
read-only exception to "only payments/gateway talks to Stripe": list pages, report runs and
report files, with the same API key and base address (Stripe or stripe_sim) and explicit
timeouts. Errors become `StripeFetchFailed` with Stripe's message. With a `guard` (the
workers' shared rate limit and circuit breaker, jobs/reconciliation.py gives it), every request
waits for its slot first, holds a pending place in the shared log of sends until its answer is
back (then stamped: later than the request went out, never earlier, so the log never counts
fewer sends in a second than Stripe saw), and reports how it ended, as the gateway's requests
do. A 429 is waited out here, as Stripe asks (send_rate_limited), rather than failing a long
fetch halfway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import requests

from reconciliation.errors import NotAtStripe, StripeFetchFailed

Params = Mapping[str, Any]
RATE_LIMITED_ATTEMPTS = 8
RATE_LIMITED_BACKOFF_S = 0.25
RATE_LIMITED_MAX_WAIT_S = 4.0


def flatten(params: Params, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: {"created": {"gte": 1}} -> [("created[gte]", "1")]."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(flatten(value, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs.extend(flatten(item, f"{name}[{index}]"))
                else:
                    pairs.append((f"{name}[{index}]", _text(item)))
        else:
            pairs.append((name, _text(value)))
    return pairs


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RequestGuard(Protocol):
    """What payments' CallGuard offers (this package does not import payments)."""

    def before_send(self) -> Callable[[], None] | None:
        """Wait for a slot; returns what to call once the request has gone out."""

    def record_success(self) -> None: ...

    def record_failure(self) -> None: ...


class StripeHTTP:
    """GET and POST against one Stripe base address with one secret key."""

    def __init__(
        self,
        api_base: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        session: requests.Session | None = None,
        guard: RequestGuard | None = None,
    ) -> None:
        self._guard = guard
        self.api_base = api_base.rstrip("/")
        self._timeout = timeout
        self._http = session or requests.Session()
        self._http.headers.update({"Authorization": f"Bearer {api_key}"})

    def get(self, path: str, params: Params | None = None, *, account: str | None = None) -> bytes:
        """The raw body of GET `path` (a /v1/… path or a full URL on the same host)."""
        return self._send("GET", path, params or {}, account)

    def get_json(
        self, path: str, params: Params | None = None, *, account: str | None = None
    ) -> dict[str, Any]:
        return _decode(self.get(path, params, account=account), path)

    def post_json(
        self,
        path: str,
        params: Params | None = None,
        *,
        idempotency_key: str,
        account: str | None = None,
    ) -> dict[str, Any]:
        """A write: always with an idempotency key, so a retried request creates nothing new."""
        return _decode(self._send("POST", path, params or {}, account, idempotency_key), path)

    def _send(
        self,
        method: str,
        path: str,
        params: Params,
        account: str | None,
        idempotency_key: str | None = None,
    ) -> bytes:
        url = path if path.startswith(("http://", "https://")) else self.api_base + path
        headers = {"Stripe-Account": account} if account and account != "platform" else {}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        pairs = flatten(params)

        def send() -> requests.Response:
            sent = self._guard.before_send() if self._guard is not None else None
            try:
                if method == "GET":
                    response = self._http.get(
                        url, params=pairs, headers=headers, timeout=self._timeout
                    )
                else:
                    response = self._http.post(
                        url, data=pairs, headers=headers, timeout=self._timeout
                    )
            except requests.RequestException as error:
                self._record(failed=True)
                raise StripeFetchFailed(f"Stripe unreachable at {self.api_base}: {error}") from None
            finally:
                if sent is not None:
                    sent()
            self._record(failed=response.status_code == 429 or response.status_code >= 500)
            return response

        response = send_rate_limited(send)
        if response.status_code == 404:
            raise NotAtStripe(f"Stripe has no {path}: {_message(response.content)}")
        if response.status_code >= 400:
            raise StripeFetchFailed(
                f"Stripe answered {response.status_code} to {method} {path}: "
                f"{_message(response.content)}"
            )
        return response.content

    def _record(self, *, failed: bool) -> None:
        if self._guard is None:
            return
        if failed:
            self._guard.record_failure()
        else:
            self._guard.record_success()

    def close(self) -> None:
        self._http.close()


def send_rate_limited(
    send: Callable[[], requests.Response], attempts: int = RATE_LIMITED_ATTEMPTS
) -> requests.Response:
    """Send; while Stripe answers 429, wait and send again (at most `attempts` sends), as
    https://docs.stripe.com/rate-limits#handling-limiting-gracefully advises. The wait is
    Stripe's Retry-After when it gives one, else an exponential back-off. The last answer is
    returned, a 429 too, for the caller to report."""
    for attempt in range(attempts):
        response = send()
        if response.status_code != 429 or attempt == attempts - 1:
            break
        time.sleep(_rate_limited_wait_s(response, attempt))
    return response


def _rate_limited_wait_s(response: requests.Response, attempt: int) -> float:
    backoff = RATE_LIMITED_BACKOFF_S * 2**attempt
    try:
        asked = float(response.headers.get("Retry-After", ""))
    except ValueError:
        asked = backoff
    return min(max(asked, 0.0), RATE_LIMITED_MAX_WAIT_S)


def _decode(body: bytes, path: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise StripeFetchFailed(f"Stripe's answer to {path} is not JSON") from None
    if not isinstance(data, dict):
        raise StripeFetchFailed(f"Stripe's answer to {path} is not a JSON object")
    return data


def _message(body: bytes) -> str:
    try:
        error = json.loads(body).get("error") or {}
        return str(error.get("message") or body[:200].decode(errors="replace"))
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
