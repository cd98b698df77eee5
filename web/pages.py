"""What the server-rendered finance pages share: HTML errors, formatting filters, links.

The pages are plain HTML forms and links (they read and work without JavaScript). Errors on
them are HTML pages, not the API's JSON: app.py asks `wants_html()` before answering.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, render_template, request
from markupsafe import Markup

from models.money import format_minor
from web.context import state

# The blueprints that serve HTML (not in the OpenAPI document, which describes the JSON API).
HTML_BLUEPRINTS = ("reports", "casework", "session_auth")
HTML_PREFIXES = ("/reports", "/sign-in", "/sign-out")


class PageError(Exception):
    """An error shown as an HTML page with its status (404 unknown day, 403 role, …)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def wants_html() -> bool:
    if request.blueprint in HTML_BLUEPRINTS:
        return True
    path = request.path
    return path == "/" or any(path == p or path.startswith(p + "/") for p in HTML_PREFIXES)


def error_page(status: int, title: str, message: str) -> Response:
    response = Response(
        render_template("error.html", status=status, title=title, message=message),
        status=status,
        mimetype="text/html",
    )
    return response


_TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Check the form",
    429: "Slow down",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def title_for(status: int) -> str:
    return _TITLES.get(status, "Error")


# Formatting (only at the edge: amounts stay integers until they are shown) -----------------


def money(amount: int | None, currency: str | None) -> str:
    """1234 usd -> "$12.34"; 1500 jpy -> "¥1,500"; 1234 kwd -> "KWD 1.234"; None -> "—"."""
    if amount is None or currency is None:
        return "—"
    return format_minor(int(amount), currency)


def signed_class(amount: int | None) -> str:
    if amount is None or amount == 0:
        return "zero"
    return "neg" if amount < 0 else "pos"


def when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_DASHBOARD_PATHS = {
    "ch_": "payments",
    "py_": "payments",
    "pi_": "payments",
    "re_": "refunds",
    "pyr_": "refunds",
    "po_": "payouts",
    "tr_": "connect/transfers",
    "dp_": "disputes",
    "du_": "disputes",
}


def stripe_url(object_id: str, account: str | None = None) -> str:
    """The Stripe Dashboard page of an object (test-mode pages for a test key); ids the
    Dashboard has no page for (balance transactions) open its search."""
    base = "https://dashboard.stripe.com"
    if account and account.startswith("acct_"):
        base += f"/{quote(account)}"
    if state().settings.stripe_api_key.startswith(("sk_test_", "rk_test_")):
        base += "/test"
    for prefix, path in _DASHBOARD_PATHS.items():
        if object_id.startswith(prefix):
            return f"{base}/{path}/{quote(object_id)}"
    return f"{base}/search?query={quote(object_id)}"


def stripe_links(ids: str | None, account: str | None = None) -> Markup:
    """Comma-separated Stripe ids as links to the Dashboard (escaped)."""
    if not ids:
        return Markup("—")
    parts = [part.strip() for part in ids.split(",") if part.strip()]
    links = [
        Markup('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(
            stripe_url(part, account), part
        )
        for part in parts
    ]
    return Markup(", ").join(links)


def install(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["signed_class"] = signed_class
    app.jinja_env.filters["when"] = when
    app.jinja_env.globals["stripe_links"] = stripe_links
    app.jinja_env.autoescape = True

    @app.errorhandler(PageError)
    def page_error(error: PageError) -> Response:
        return error_page(error.status, error.title, error.message)


def query_with(**changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    args = {key: value for key, value in request.args.items()}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    if not args:
        return request.path
    return request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in args.items())


MAX_PAGE = 10_000


def page_number(raw: str | None) -> int:
    """A ?page= value as a page from 1 to MAX_PAGE; anything else (², -1, 10**30) is page 1."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_PAGE)):
        return min(max(1, int(raw)), MAX_PAGE)
    return 1
