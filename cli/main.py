"""The `midway` command: one entry point for operators, CI and the demo."""

from __future__ import annotations

import click

from cli.attention import attention_group
from cli.db import db
from cli.demo import demo
from cli.keys import keys
from cli.payouts import payouts
from cli.recon import recon
from cli.scheduler import scheduler_command
from cli.worker import worker
from stripe_sim.cli import stripe_sim_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Midway Payments: the payments back office of a freight marketplace."""


cli.add_command(db)
cli.add_command(demo)
cli.add_command(stripe_sim_command)
cli.add_command(keys)
cli.add_command(recon)
cli.add_command(worker)
cli.add_command(scheduler_command)
cli.add_command(payouts)
cli.add_command(attention_group)
