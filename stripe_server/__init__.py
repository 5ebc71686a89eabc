"""A small Stripe-compatible HTTP server covering the Stripe Connect calls Connect makes.

Stripe cannot be reached from these machines and no public fake covers Connect, so tests and
`make run` point the real `stripe` SDK at this server (`STRIPE_API_BASE`). State lives in memory.
"""

from stripe_server.app import App, State, serve, sign_payload

__all__ = ["App", "State", "serve", "sign_payload"]
