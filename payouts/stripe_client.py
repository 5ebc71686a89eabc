"""The one way the app reaches Stripe: a `stripe.StripeClient` built from settings.

`STRIPE_API_BASE` unset means real Stripe; set, both the API and Connect addresses point at
that server (the project's own Stripe-compatible server in tests and local runs). The SDK
retries network errors and 5xx answers `STRIPE_MAX_NETWORK_RETRIES` times, reusing the
idempotency key of the call, so a retried create cannot make a second object. Calls give up
after STRIPE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import stripe
from django.conf import settings
from stripe._base_address import BaseAddresses


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE.rstrip("/")
    addresses: BaseAddresses = {"api": base, "connect": base} if base else {}
    return stripe.StripeClient(
        settings.STRIPE_API_KEY,
        base_addresses=addresses,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        # A stalled answer is an ambiguous failure the sender resolves by looking the
        # transfer up; waiting the SDK's default 80 s would hold a worker for nothing.
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )
