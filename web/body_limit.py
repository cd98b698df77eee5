"""Request bodies over API_MAX_BODY_BYTES are refused (413) whatever their framing.

Werkzeug enforces MAX_CONTENT_LENGTH from the Content-Length header, but a chunked body (no
Content-Length; the server marks the input `wsgi.input_terminated`) is only read up to the
limit and the rest silently dropped: a truncated prefix would be processed. This middleware
reads such a body up to one byte past the limit before the app sees it: over the limit, the
request is answered 413 with the usual error body and nothing runs; within it, the app reads
the same, now complete, body.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from web.errors import PayloadTooLarge

TOO_LARGE = "midway.body_too_large"


class ChunkedBodyLimit:
    def __init__(self, wsgi_app: Any, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # Werkzeug trusts a terminated input over any Content-Length, and caps it silently.
        if environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(self.limit + 1)
            if len(body) > self.limit:
                environ[TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.wsgi_app(environ, start_response)


def install(app: Flask, limit: int) -> None:
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, limit)  # type: ignore[method-assign]

    @app.before_request
    def refuse_oversized_body() -> None:
        if request.environ.get(TOO_LARGE):
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
