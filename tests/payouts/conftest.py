"""Fixtures shared by the payouts tests: the project's Stripe-compatible server."""

from tests.payouts.stripe_fixtures import _stripe_server_process, stripe_server

__all__ = ["_stripe_server_process", "stripe_server"]
