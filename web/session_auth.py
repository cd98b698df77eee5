"""Sign-in for finance people: an API key (finance or admin role) exchanged for a session.

- The session is Flask's signed cookie (SECRET_KEY), `Secure`, `HttpOnly`, `SameSite=Lax`,
  valid for SESSION_HOURS. It holds the key's id, name, prefix and role, never the secret.
  Every request re-reads the key: a revoked key signs its sessions out at once.
- CSRF: a random token per session (rotated at sign-in and sign-out) in a hidden field of
  every form; every POST of the HTML blueprints must carry it (compared in constant time),
  and a cross-site Origin is refused too. The sign-in form has one as well (login CSRF).
- A backend key cannot sign in (403, the form says why); pages without a session redirect
  to the sign-in form and come back after it.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import update

from models import ApiKey
from models.db import transaction
from web.context import state
from web.keys import find_active
from web.pages import PageError

bp = Blueprint("session_auth", __name__)

FINANCE_ROLES = frozenset({"finance", "admin"})
SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
# "/", not followed by a second "/", then printable ASCII without "\\", spaces or controls.
_SAME_ORIGIN_PATH = re.compile(r"/(?!/)[\x21-\x5b\x5d-\x7e]*")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    key_id: int
    name: str
    prefix: str
    role: str


def install(app: Flask, *, secret_key: str, secure_cookie: bool = True) -> None:
    app.secret_key = secret_key
    app.config.update(
        SESSION_COOKIE_NAME="midway_session",
        SESSION_COOKIE_SECURE=secure_cookie,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_HOURS * 3600,
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse a POST without this session's token, or sent from another site."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc != request.host:
            raise PageError(403, "Refused", "The form was sent from another site.")
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise PageError(
            403,
            "The form expired",
            "This form is no longer valid (it expired, or came from another page). Go back,"
            " reload the page and try again.",
        )


def current_user() -> User | None:
    """The signed-in person, if the session is valid and their key is still live."""
    if "user" in g:
        return g.user
    user = None
    data = session.get("user")
    if isinstance(data, dict) and time.time() - float(data.get("at", 0)) < SESSION_HOURS * 3600:
        with transaction(state().sessions) as db:
            key = db.get(ApiKey, int(data.get("id", 0)))
            if (
                key is not None
                and key.revoked_at is None
                and key.role in FINANCE_ROLES
                and not _ended(key, float(data.get("at", 0)))
            ):
                user = User(key.id, key.name, key.prefix, key.role)
    if user is None and data is not None:
        session.pop("user", None)
    g.user = user
    return user


def signed_in(view: F) -> F:
    """A page for finance and admin: no session → the sign-in form; POSTs need the token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST":
            check_csrf()
        user = current_user()
        if user is None:
            if request.method == "POST":
                raise PageError(401, "Sign in needed", "Your session ended: sign in again.")
            return redirect(url_for("session_auth.sign_in", next=request.full_path), 303)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme or host, no `//` or `\\` (browsers read both as
    another host, also after dropping tabs and newlines), no control characters at all."""
    default = url_for("reports.index")
    if not target or not _SAME_ORIGIN_PATH.fullmatch(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target.rstrip("?") or default


def _form(error: str | None = None, status: int = 200) -> Response:
    body = render_template("sign_in.html", error=error, next=_safe_next(request.values.get("next")))
    return Response(body, status=status, mimetype="text/html")


@bp.get("/sign-in")
def sign_in() -> Response:
    if current_user() is not None:
        return redirect(_safe_next(request.args.get("next")), 303)  # type: ignore[return-value]
    return _form()


@bp.post("/sign-in")
def sign_in_post() -> Response:
    check_csrf()
    token = request.form.get("api_key", "").strip()
    with transaction(state().sessions) as db:
        key = find_active(db, token) if token else None
    if key is None:
        return _form("That API key is not valid (unknown or revoked).", 401)
    if key.role not in FINANCE_ROLES:
        return _form(
            f"A {key.role} key cannot open the finance reports: sign in with a finance or"
            " admin key.",
            403,
        )
    session.clear()
    session.permanent = True
    session["user"] = {"id": key.id, "at": time.time()}
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(_safe_next(request.form.get("next")), 303)  # type: ignore[return-value]


def _ended(key: ApiKey, signed_in_at: float) -> bool:
    """Signed out since: a copied cookie of this session is worth nothing."""
    ended = key.sessions_ended_at
    return ended is not None and signed_in_at <= ended.timestamp()


@bp.post("/sign-out")
def sign_out() -> Response:
    check_csrf()
    user = current_user()
    if user is not None:
        # Server-side: every session of this key signed in until now ends (cookies are
        # signed, not stored, so this is what makes a copied cookie useless).
        with transaction(state().sessions) as db:
            db.execute(
                update(ApiKey)
                .where(ApiKey.id == user.key_id)
                # This process's clock, like the sign-in time in the cookie.
                .values(sessions_ended_at=datetime.now(UTC))
            )
    session.clear()
    return redirect(url_for("session_auth.sign_in"), 303)  # type: ignore[return-value]
