"""Fixtures for reconciliation tests against the simulator (helpers: tests/support)."""

from __future__ import annotations

from typing import Any

import pytest
from recon_world import World


@pytest.fixture
def world(sessions: Any, gateway: Any, stripe_sim: Any) -> World:
    """The payments services on a private database, against a freshly reset simulator."""
    return World(sessions, gateway, stripe_sim.url)
