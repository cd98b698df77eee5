"""The project runs pytest with --import-mode=importlib, which puts no test folder on
sys.path; put this one there so the tests can share `recon_builders` and `recon_world`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from recon_world import World  # noqa: E402


@pytest.fixture
def world(sessions: Any, gateway: Any, stripe_sim: Any) -> World:
    """The payments services on a private database, against a freshly reset simulator."""
    return World(sessions, gateway, stripe_sim.url)
