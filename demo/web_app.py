"""The demo's web process: the API and Stripe's webhook endpoint, on the demo's database and on
the workers' Redis over loopback (jobs/embedded_redis_tcp.py), served until SIGTERM."""

from __future__ import annotations

import logging
import socket

from werkzeug.serving import WSGIRequestHandler, make_server

from config import load_settings
from demo.stack import RATE_LIMIT, demo_engine
from models.db import database_url, make_session_factory
from web import create_app


class _RequestHandler(WSGIRequestHandler):
    # werkzeug writes the status line and headers, then the body: with Nagle's algorithm the
    # body waits for the client's delayed ACK of the headers (up to 40 ms on Linux).
    disable_nagle_algorithm = True


def serve_web(listener: socket.socket) -> None:
    settings = load_settings()
    engine = demo_engine(database_url(settings))
    app = create_app(
        {"SETTINGS": settings, "SESSIONS": make_session_factory(engine), "RATE_LIMIT": RATE_LIMIT}
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per webhook is noise
    host, port = listener.getsockname()[:2]
    server = make_server(
        host, port, app, threaded=True, request_handler=_RequestHandler, fd=listener.fileno()
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        engine.dispose()
