"""The app factory: `create_app(test_config=None)`.

test_config keys (all optional; production reads the environment through config.settings):
- SETTINGS: a config.Settings (default: load_settings())
- SESSIONS: a sessionmaker (default: one on database_url(settings))
- REDIS: a redis client for rate limits and readiness (default: jobs.broker.redis_client)
- BROKER: the Dramatiq broker views enqueue on, by actor name (default: one built from the
  settings; this process imports no actor module)
- GATEWAY: a payments.gateway.StripeGateway (default: one built lazily from the settings)
- RATE_LIMIT: (requests, window seconds) per API key (default (100, 1))
- ADDRESS_RATE_LIMIT: (requests, window seconds) per client address without a verified key
  (default (settings.address_rate_limit_per_s, 1))
- KEY_CACHE_TTL_S: seconds a verified key is cached per process (default 5; 0 disables)
- WEBHOOK_TOLERANCE_S: Stripe signature timestamp tolerance (default 300)
- ONBOARDING_RETURN_URL: default return/refresh URL of onboarding links
- SESSION_COOKIE_SECURE: the finance session cookie's Secure flag (default True)
- TESTING: Flask's flag
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from config import Settings, load_settings
from config.logging import current_request_id, new_request_id
from jobs import runtime
from jobs.broker import make_broker, redis_client
from models.db import database_url, make_engine, make_session_factory
from models.errors import MoneyError
from payments.errors import InvalidOperation, NotFound
from web import (
    address_throttle,
    api_methods,
    api_parties,
    api_payments,
    api_payouts,
    api_refunds,
    body_limit,
    health,
    openapi,
    pages,
    reports,
    reports_api,
    reports_casework,
    security_headers,
    session_auth,
    webhooks,
)
from web.context import AppState
from web.errors import ApiError
from web.startup_checks import refuse_unsafe_settings

log = logging.getLogger("midway.web")
access_log = logging.getLogger("midway.web.access")

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    config = dict(test_config or {})
    settings: Settings = config.get("SETTINGS") or load_settings()
    refuse_unsafe_settings(settings)
    app = Flask(__name__)
    app.config.update(
        TESTING=bool(config.get("TESTING", False)),
        MAX_CONTENT_LENGTH=settings.api_max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # No pre-ping (a round trip per request): a connection lost to a PostgreSQL restart fails
    # one request with a 503 (see database_down) and SQLAlchemy then invalidates the pool.
    sessions = config.get("SESSIONS") or make_session_factory(
        make_engine(
            database_url(settings),
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=False,
            pool_recycle=1800,
        )
    )
    gateway = config.get("GATEWAY")
    app.extensions["midway"] = AppState(
        settings=settings,
        sessions=sessions,
        redis=config.get("REDIS") or redis_client(settings),
        broker=config.get("BROKER") or make_broker(settings),
        gateway_factory=(
            (lambda: gateway)
            if gateway is not None
            else lambda: runtime.build_gateway(settings, sessions)
        ),
        rate_limit=_rate_limit(config.get("RATE_LIMIT", (100, 1))),
        key_cache_ttl_s=float(config.get("KEY_CACHE_TTL_S", 5.0)),
        webhook_tolerance_s=int(config.get("WEBHOOK_TOLERANCE_S", 300)),
        onboarding_return_url=str(
            config.get("ONBOARDING_RETURN_URL", "https://localhost/carriers/onboarding")
        ),
    )
    metrics = health.install_metrics(app)
    for module in (
        api_parties,
        api_payments,
        api_methods,
        api_refunds,
        api_payouts,
        webhooks,
        health,
        openapi,
        reports_api,
        session_auth,
        reports,
        reports_casework,
    ):
        app.register_blueprint(module.bp)
    pages.install(app)
    session_auth.install(
        app,
        secret_key=settings.secret_key,
        secure_cookie=bool(config.get("SESSION_COOKIE_SECURE", True)),
    )
    _install_request_hooks(app, metrics)
    body_limit.install(app, settings.api_max_body_bytes)  # after: errors need the request id
    security_headers.install(app)
    address_throttle.install(
        app,
        limit=_rate_limit(config.get("ADDRESS_RATE_LIMIT", (settings.address_rate_limit_per_s, 1))),
        forwarded_proxies=settings.forwarded_proxies,
    )
    _install_error_handlers(app)
    return app


def _install_request_hooks(app: Flask, metrics: health.Metrics) -> None:
    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        g.request_id = new_request_id(request.headers.get("X-Request-Id"))
        g.request_id_token = current_request_id.set(g.request_id)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        for name, value in (g.get("rate_limit_headers") or {}).items():
            response.headers.setdefault(name, value)
        metrics.observe(response.status_code)
        key = g.get("api_key")
        access_log.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
                "api_key": key.prefix if key else None,
                "request_id": g.get("request_id"),
            },
        )
        return response

    @app.teardown_request
    def reset(_: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            current_request_id.reset(token)


def _error(error: ApiError) -> Response:
    if pages.wants_html():
        response = pages.error_page(error.status, pages.title_for(error.status), error.message)
    else:
        response = jsonify(error.body(g.get("request_id")))
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _install_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        api_error = ApiError(error.description or error.name, code=_HTTP_CODES.get(status))
        api_error.status = status
        if status == 404:
            api_error.message = f"no route {request.method} {request.path}"
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            allowed = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
            api_error.headers = {"Allow": allowed}
            api_error.message = f"{request.method} is not allowed here; use {allowed}"
        return _error(api_error)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> Response:
        api_error = ApiError(str(error), code="not_found")
        api_error.status = 404
        return _error(api_error)

    @app.errorhandler(InvalidOperation)
    def invalid(error: InvalidOperation) -> Response:
        api_error = ApiError(str(error), code="invalid_operation")
        api_error.status = 409
        return _error(api_error)

    @app.errorhandler(MoneyError)
    def money(error: MoneyError) -> Response:
        api_error = ApiError(str(error), code="invalid_money")
        api_error.status = 422
        return _error(api_error)

    @app.errorhandler(IntegrityError)
    def integrity(error: IntegrityError) -> Response:
        log.info("integrity conflict: %s", type(error.orig).__name__)
        api_error = ApiError("the request conflicts with existing data; retry", code="conflict")
        api_error.status = 409
        return _error(api_error)

    @app.errorhandler(DataError)
    def out_of_range(error: DataError) -> Response:
        # A value PostgreSQL cannot hold (an id past BIGINT, a NUL in text): the request's.
        log.info("data refused by the database: %s", type(error.orig).__name__)
        api_error = ApiError("a value in the request is out of range", code="invalid_value")
        api_error.status = 400
        return _error(api_error)

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError) -> Response:
        log.error("database unavailable: %s", type(error.orig).__name__)
        api_error = ApiError("the database is unavailable; retry", code="service_unavailable")
        api_error.status = 503
        api_error.headers = {"Retry-After": "1"}
        return _error(api_error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        api_error = ApiError("internal error; quote the request id", code="internal_error")
        api_error.status = 500
        return _error(api_error)


def _rate_limit(value: Any) -> tuple[int, int]:
    limit, window_s = value
    return int(limit), int(window_s)
