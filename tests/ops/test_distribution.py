"""What `pip install .` puts into site-packages: the packages production runs (and the two
user-facing commands' `demo` and `stripe_sim`), no test or benchmark machinery."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
PRODUCTION = {"models", "payments", "jobs", "scheduler", "web", "reconciliation", "config", "cli"}
USER_COMMANDS = {"demo", "stripe_sim"}  # `midway demo`, `midway stripe-sim`


def installed_packages() -> list[str]:
    return find_packages(str(ROOT), include=SETUPTOOLS["packages"]["find"]["include"])


def test_only_production_packages_are_installed() -> None:
    top_level = {name.split(".")[0] for name in installed_packages()}
    assert top_level == PRODUCTION | USER_COMMANDS


def test_no_installed_module_creates_or_drops_databases_or_starts_test_processes() -> None:
    for package in installed_packages():
        for source in (ROOT / package.replace(".", "/")).glob("*.py"):
            text = source.read_text()
            assert "DROP DATABASE" not in text, source
            assert "PrivateRedis" not in text, source
    assert not (ROOT / "harness").exists() and not (ROOT / "models" / "scratch.py").exists()
