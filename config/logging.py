"""Structured JSON logs with a request id, carried into the jobs a request enqueues (by the
middleware in jobs/request_ids.py).

Each request gets an id (the caller's X-Request-Id when it is sane, else a new one), echoed in
the response and stored on the rows it creates (payments.request_id, refunds.request_id) and
on every Dramatiq message it sends (message option `request_id`). Nothing secret is logged:
no bodies or headers, and a redaction pass scrubs anything shaped like a key, a webhook secret,
a client secret, a bearer token or a card number from every message.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

_REDACTIONS = [
    (re.compile(r"\b(sk|rk)_(test|live)_[A-Za-z0-9]+"), r"\1_\2_[redacted]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9_]+"), "whsec_[redacted]"),
    (re.compile(r"\b((?:pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+"), r"\1_secret_[redacted]"),
    (re.compile(r"\bmwk_[0-9a-f]{12}\.[A-Za-z0-9_-]+"), "mwk_[redacted]"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)"), "[number redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def new_request_id(offered: str | None) -> str:
    if offered and _REQUEST_ID.match(offered):
        return offered
    return "req_" + uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and extras."""

    EXTRAS = ("method", "path", "status", "duration_ms", "api_key", "event_id", "event_type")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        for name in self.EXTRAS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the whole process (gunicorn workers call this once)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
