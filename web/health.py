"""Liveness, readiness and Prometheus metrics for operators.

/healthz and /readyz take no key (load balancers probe them). /metrics answers only
`Authorization: Bearer <METRICS_TOKEN>` (Prometheus' `authorization` scrape setting), and is
refused while METRICS_TOKEN is unset. Under gunicorn (web/gunicorn_conf.py) the metrics are in
Prometheus' multiprocess mode: every scrape, whichever worker answers it, sums every worker.
"""

from __future__ import annotations

import hmac
import logging
import time

import redis
from flask import Blueprint, Flask, Response, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from jobs.stripe_guard import RedisStripeGuard
from web.context import state
from web.errors import Forbidden, Unauthenticated

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when PostgreSQL and Redis answer. An open Stripe circuit is reported, not fatal:
    the API still accepts work, which the jobs perform once Stripe is back."""
    app_state = state()
    checks: dict[str, str] = {}
    try:
        with app_state.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        log.warning("readiness: database unreachable")
        checks["database"] = "unavailable"
    circuit_open_for = 0.0
    try:
        app_state.redis.ping()
        checks["redis"] = "ok"
        guard = RedisStripeGuard(
            app_state.redis, rate_per_s=app_state.settings.stripe_rate_limit_per_s
        )
        circuit_open_for = guard.circuit_open_for_s()
        checks["stripe_circuit"] = "open" if circuit_open_for > 0 else "closed"
    except redis.RedisError:
        log.warning("readiness: redis unreachable")
        checks["redis"] = "unavailable"
        checks["stripe_circuit"] = "unknown"
    ready = checks["database"] == "ok" and checks["redis"] == "ok"
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": checks,
        "stripe_circuit_open_for_s": circuit_open_for,
    }
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    return response


class Metrics:
    """Per-app registry (tests build many apps). In multiprocess mode the values also go to the
    shared files that every worker's /metrics reads back."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "midway_http_requests",
            "HTTP requests by route, method and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "midway_http_request_duration_seconds",
            "HTTP request latency by route",
            ("method", "route"),
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )

    def observe(self, status: int) -> None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        self.requests.labels(request.method, route, str(status)).inc()
        self.latency.labels(request.method, route).observe(elapsed)


def install_metrics(app: Flask) -> Metrics:
    metrics = Metrics()
    app.extensions["midway_metrics"] = metrics
    return metrics


def multiprocess_mode() -> bool:
    """Whether prometheus_client keeps values in PROMETHEUS_MULTIPROC_DIR (decided at import)."""
    from prometheus_client import values

    return values.ValueClass is not values.MutexValue


def _check_scraper() -> None:
    token = state().settings.metrics_token
    if token is None:
        raise Forbidden(
            "/metrics is off until METRICS_TOKEN is set on the server; then scrape it with"
            " Authorization: Bearer <METRICS_TOKEN>"
        )
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        raise Unauthenticated(
            "/metrics needs Authorization: Bearer <METRICS_TOKEN>",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


@bp.get("/metrics")
def metrics_view() -> Response:
    from flask import current_app

    _check_scraper()
    if multiprocess_mode():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    metrics: Metrics = current_app.extensions["midway_metrics"]
    return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)
