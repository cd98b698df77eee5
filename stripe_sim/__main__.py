"""`python -m stripe_sim`: same as `midway stripe-sim`."""

from .cli import stripe_sim_command

stripe_sim_command()
