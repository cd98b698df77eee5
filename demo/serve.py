"""Serve the finance pages over the demo's data (its embedded PostgreSQL) on localhost."""

from __future__ import annotations

import argparse
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
    settings = load_settings()
    sessions = make_session_factory(make_engine(database_url(settings)))
    with transaction(sessions) as session:
        _, finance_key = create_key(session, role="finance", name="demo finance")
    app = create_app({"SETTINGS": settings, "SESSIONS": sessions})
    print(f"finance pages: http://127.0.0.1:{args.port}/reports")
    print(f"sign in with this finance key (shown once): {finance_key}")
    print("Ctrl-C stops the server.")
    run_simple("127.0.0.1", args.port, app, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
