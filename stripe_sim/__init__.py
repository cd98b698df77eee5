"""stripe_sim: a stateful Stripe simulator over HTTP.

Stripe's wire format, idempotency, per-account state (Stripe-Account), fee model, balance
transactions, signed webhooks with retries, a simulated clock and fault injection. Its
defaults are live Stripe's unkind parts too: rate limits (ratelimit.py), 500s replayed for
their idempotency key and 409 for a key in use (idempotency.py), the Search API's indexing
delay (resources/search.py), the return_url rule of redirect-capable payment methods. It depends
on no other package of this project. Start it with `stripe_sim.server.start_simulator` or the
`midway stripe-sim` command; the control API is documented in stripe_sim/control.py.
"""

from .config import SimConfig
from .fees import FeeModel

__all__ = ["FeeModel", "SimConfig", "start_simulator"]


def __getattr__(name: str) -> object:
    # Lazy, so `import stripe_sim.fees` does not start importing the HTTP server.
    if name == "start_simulator":
        from .server import start_simulator

        return start_simulator
    raise AttributeError(name)
