"""The `midway` command: one entry point for operators, CI and the demo.

Each subcommand is imported only when it runs: `midway --help` and `midway keys create` must not
pay for pandas, Flask, the broker or the ORM of commands they do not run. The one-line help of
each command is therefore written here too (a test checks it matches the command's docstring).
"""

from __future__ import annotations

import importlib

import click

# name -> ("module:attribute", one-line help shown by `midway --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "attention": (
        "cli.attention:attention_group",
        "Money rows that need a person: list them, retry or cancel one.",
    ),
    "db": ("cli.db:db", "Database schema migrations."),
    "demo": (
        "cli.demo:demo",
        "Run a week of a freight marketplace end to end and hand finance its reports.",
    ),
    "keys": ("cli.keys:keys", "API keys (stored hashed; the secret is printed once, at creation)."),
    "payouts": ("cli.payouts:payouts", "Carrier payouts."),
    "recon": ("cli.recon:recon", "Reconciliation of Stripe's balance against the ledger."),
    "scheduler": (
        "cli.scheduler:scheduler_command",
        "Run the scheduler: nightly reconciliation, payout batching, the sweeper.",
    ),
    "stripe-sim": (
        "stripe_sim.cli:stripe_sim_command",
        "Run the stateful Stripe simulator (Stripe API under /v1, control API under /_sim).",
    ),
    "worker": (
        "cli.worker:worker",
        "Run `dramatiq jobs.worker` with WORKER_PROCESSES processes of WORKER_THREADS threads.",
    ),
}


def load_command(name: str) -> click.Command:
    target, _ = COMMANDS[name]
    module_name, attribute = target.split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(command, click.Command), target
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def invoke(self, ctx: click.Context) -> object:
        """A command that cannot reach its database says so in one line (exit 2, or the exit code
        the command chose), not with a driver's traceback."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            from cli.database_errors import explain

            answer = explain(error)
            if answer is None:
                raise
            if isinstance(error, click.ClickException):  # keep the command's own exit code
                raise type(error)(answer.message) from None
            raise answer from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=text).get_short_help_str(width))
            for name, (_, text) in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Midway Payments: the payments back office of a freight marketplace."""
