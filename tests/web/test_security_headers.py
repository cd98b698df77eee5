"""Every finance page, download and API answer carries the security headers: no framing, no
script, no sniffing, no caching, no Referer."""

from __future__ import annotations

import pytest
from report_helpers import Browserless

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def check(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers)
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'none'" in policy


@pytest.mark.parametrize(
    "path", ["/reports", "/reports?page=2", "/reports/2026-01-01", "/reports/nonsense", "/nowhere"]
)
def test_finance_pages_and_their_errors_carry_security_headers(app, tokens, path):
    finance = Browserless(app.test_client())
    finance.sign_in(tokens["finance"])
    check(finance.get(path))


def test_sign_in_downloads_and_api_answers_carry_them(app, tokens, backend):
    client = app.test_client()
    check(client.get("/sign-in"))
    finance = Browserless(app.test_client())
    finance.sign_in(tokens["finance"])
    check(finance.get("/reports/2026-01-01/download.csv"))
    check(backend.get("/api/payments/1"))
    check(client.get("/healthz"))
