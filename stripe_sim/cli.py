"""`midway stripe-sim`: serve the simulator in the foreground (registered by cli/main.py)."""

from __future__ import annotations

import signal

import click

from .currencies import is_supported
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
@click.option("--rate-limit-test", default=25, show_default=True, type=click.IntRange(min=0),
              help="Requests/s per sk_test_ key (Stripe's sandbox limit); 0 lifts it.")
@click.option("--rate-limit-live", default=100, show_default=True, type=click.IntRange(min=0),
              help="Requests/s per sk_live_ key (Stripe's live-mode limit); 0 lifts it.")
@click.option("--search-indexing-delay", default=60, show_default=True,
              type=click.IntRange(min=0),
              help="Simulated seconds before a new object appears in Search API results.")
@click.option("--settlement-currencies", default="usd", show_default=True,
              help="Currencies the platform settles in (its bank accounts), comma-separated, "
                   "its default first; charges in other currencies are converted.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def stripe_sim_command(host: str, port: int, api_key: str | None, webhook_url: str | None,
                       webhook_secret: str | None, rate_limit_test: int, rate_limit_live: int,
                       search_indexing_delay: int, settlement_currencies: str,
                       verbose: bool) -> None:
    """Run the stateful Stripe simulator (Stripe API under /v1, control API under /_sim)."""
    settles = tuple(c.strip().lower() for c in settlement_currencies.split(",") if c.strip())
    if not settles or not all(is_supported(c) for c in settles):
        raise click.BadParameter("a comma-separated list of currency codes such as usd,jpy",
                                 param_hint="--settlement-currencies")
    # SIGTERM (a process manager) stops it as Ctrl-C does: connections closed, exit 0; Ctrl-C
    # works even when started with SIGINT ignored (a non-interactive shell's background job).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.default_int_handler)
    sim = start_simulator(host=host, port=port, api_key=api_key, webhook_url=webhook_url,
                          webhook_secret=webhook_secret, verbose=verbose,
                          rate_limit_test_per_s=rate_limit_test,
                          rate_limit_live_per_s=rate_limit_live,
                          search_indexing_delay_s=search_indexing_delay,
                          settlement_currencies=settles, default_currency=settles[0])
    click.echo(f"stripe_sim listening on {sim.url}")
    if webhook_url:
        click.echo(f"default webhook endpoint {webhook_url} secret {sim.webhook_secret}")
    sim.serve_forever()
    click.echo("stripe_sim stopped")


if __name__ == "__main__":
    stripe_sim_command()
