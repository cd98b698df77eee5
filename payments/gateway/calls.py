"""What the gateway's parts build on: one request to Stripe, and one request read into a record.

StripeGateway (client.py) supplies `_request`; its mixins (lookups.py, connect.py) and the
gateway itself call `_read` to get our typed records back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

StripeJSON = dict[str, Any]
R = TypeVar("R")


class StripeCalls:
    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        account: str | None = None,
    ) -> StripeJSON:
        raise NotImplementedError

    def _read(
        self,
        parse: Callable[[StripeJSON], R],
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        account: str | None = None,
    ) -> R:
        """One API call, its answer read into our record (StripeObjectUnreadable if it can't)."""
        return parse(self._request(method, path, params, key=key, account=account))
