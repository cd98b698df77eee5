"""`midway stripe-sim`: serve the simulator in the foreground (registered by cli/main.py)."""

from __future__ import annotations

import signal

import click

from .server import start_simulator


@click.command("stripe-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=12111, show_default=True, type=int, help="0 picks a free port.")
@click.option("--api-key", default=None,
              help="Accept only this key (default: any key starting with sk_test_).")
@click.option("--webhook-url", default=None,
              help="Register a default endpoint receiving every event (incl. Connect).")
@click.option("--webhook-secret", default=None,
              help="Signing secret (whsec_...) of the default endpoint; generated if omitted.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def stripe_sim_command(host: str, port: int, api_key: str | None, webhook_url: str | None,
                       webhook_secret: str | None, verbose: bool) -> None:
    """Run the stateful Stripe simulator (Stripe API under /v1, control API under /_sim)."""
    # SIGTERM (a process manager) stops it as Ctrl-C does: connections closed, exit 0.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sim = start_simulator(host=host, port=port, api_key=api_key, webhook_url=webhook_url,
                          webhook_secret=webhook_secret, verbose=verbose)
    click.echo(f"stripe_sim listening on {sim.url}")
    if webhook_url:
        click.echo(f"default webhook endpoint {webhook_url} secret {sim.webhook_secret}")
    sim.serve_forever()
    click.echo("stripe_sim stopped")


if __name__ == "__main__":
    stripe_sim_command()
