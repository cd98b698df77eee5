"""`midway --help` and `midway keys create` load only what they use (counted in modules, not
timed): the heavy libraries of other commands stay unimported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from cli.main import COMMANDS, load_command

# Libraries a command that does not use them must not pay for at start.
HEAVY = {
    "pandas",
    "numpy",
    "flask",
    "dramatiq",
    "redis",
    "stripe",
    "apscheduler",
    "alembic",
    "prometheus_client",
    "openpyxl",
    "requests",
    "werkzeug",
    "gunicorn",
}

PROBE = """
import json, sys
from cli.main import cli
try:
    cli(sys.argv[1:], prog_name="midway", standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    *output, modules = done.stdout.strip().splitlines()
    return set(json.loads(modules)), "\n".join(output)


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_help_lists_every_command_and_imports_none_of_them() -> None:
    modules, output = loaded_modules(["--help"])
    for name in COMMANDS:
        assert name in output
    assert not top_level(modules) & (HEAVY | {"sqlalchemy", "models", "web", "jobs"})
    # Python itself plus click: before lazy loading `--help` loaded about 1,500 modules.
    assert len(modules) < 200, len(modules)


def test_keys_create_loads_the_orm_and_nothing_else_heavy(committed_database_url: str) -> None:
    modules, output = loaded_modules(
        ["keys", "create", "--role", "backend", "--name", "startup-probe"],
        {"DATABASE_URL": committed_database_url},
    )
    assert "secret (shown once; store it now):" in output
    assert "sqlalchemy" in top_level(modules)
    assert not top_level(modules) & HEAVY, sorted(top_level(modules) & HEAVY)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert isinstance(command, click.Command) and command.help
    first_paragraph = " ".join(command.help.split("\n\n")[0].split())
    assert first_paragraph == COMMANDS[name][1]
