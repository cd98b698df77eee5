"""Flask app factory and blueprints: the HTTP API, Stripe webhooks, health and metrics.

`create_app` imports the app lazily so that light users of the package (the `midway keys`
command uses web.keys) do not load Flask, the broker and every actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    from web.app import create_app as factory

    return factory(test_config)


__all__ = ["create_app"]
