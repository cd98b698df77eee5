"""The `midway` command: one entry point for operators, CI and the demo."""

from __future__ import annotations

import click

from cli.db import db
from stripe_sim.cli import stripe_sim_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Midway Payments: the payments back office of a freight marketplace."""


cli.add_command(db)
cli.add_command(stripe_sim_command)
