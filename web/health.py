"""Liveness, readiness and Prometheus metrics for operators (no API key)."""

from __future__ import annotations

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
    """Per-app registry (tests build many apps); gunicorn workers each expose their own."""

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


@bp.get("/metrics")
def metrics_view() -> Response:
    from flask import current_app

    metrics: Metrics = current_app.extensions["midway_metrics"]
    return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)
