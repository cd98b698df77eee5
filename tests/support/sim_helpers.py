"""Helpers of the simulator tests: control API client, webhook receivers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import stripe

from payments.gateway.pacing import shared_pacer

API_KEY = "sk_test_simtests"
# The simulator limits sk_test_ keys to 25 requests/s as Stripe does; the tests keep under it.
SIM_TESTS_RATE_PER_S = 20


class PacedSession(requests.Session):
    """A requests session whose Stripe API calls (/v1/…) share the SDK clients' pacer."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if "/v1/" in str(url):
            shared_pacer(SIM_TESTS_RATE_PER_S).wait()
        return super().request(method, url, *args, **kwargs)


class Control:
    """The /_sim control API over raw HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.http.post(f"{self.url}/_sim/{path}", json=body or {}, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def get(self, path: str) -> Any:
        resp = self.http.get(f"{self.url}/_sim/{path}", timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def advance(self, seconds: int) -> Any:
        return self.post("clock", {"advance": seconds})

    def faults(self, **rule: Any) -> Any:
        return self.post("faults", rule)

    def onboard(self, acct_id: str) -> Any:
        return self.post(f"accounts/{acct_id}/complete_onboarding")

    def drain(self, timeout: float = 5) -> Any:
        return self.post("webhooks/drain", {"timeout": timeout})


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records deliveries and can answer errors."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                    else:
                        receiver.deliveries.append((body, dict(self.headers.items())))
                status = 500 if failing else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _ in self.deliveries]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if predicate(events):
                return events
            time.sleep(0.02)
        raise AssertionError(f"webhooks not received in time; got {self.types()}")

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Hooks:
    """Two endpoints registered through the API: the platform's own, and a Connect one."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.platform = Receiver()
        self.connect = Receiver()
        own = client.v1.webhook_endpoints.create(
            params={"url": self.platform.url, "enabled_events": ["*"]}
        )
        con = client.v1.webhook_endpoints.create(
            params={"url": self.connect.url, "enabled_events": ["*"], "connect": True}
        )
        assert own.secret and own.secret.startswith("whsec_")
        assert con.secret and con.secret.startswith("whsec_")
        self.platform_secret: str = own.secret
        self.connect_secret: str = con.secret

    def verified(self, receiver: Receiver, secret: str) -> list[Any]:
        """Every delivery checked with the SDK's construct_event (raises if a signature fails)."""
        with receiver.lock:
            deliveries = list(receiver.deliveries)
        return [
            stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], secret)
            for body, headers in deliveries
        ]

    def stop(self) -> None:
        self.platform.stop()
        self.connect.stop()
