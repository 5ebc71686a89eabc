"""Fixtures shared by the payouts tests: the project's Stripe-compatible server, and a shop
(a brand with an API key and three collaborations) for the fault tests."""

from tests.payouts.scenario import shop
from tests.payouts.stripe_fixtures import _stripe_server_process, stripe_server

__all__ = ["_stripe_server_process", "shop", "stripe_server"]
