"""The project's Stripe-compatible server for app tests: one per test module, reset per test,
with settings pointing the app's `stripe_client()` at it.

Use: `from tests.payouts.stripe_fixtures import stripe_server, _stripe_server_process  # noqa`
and request the `stripe_server` fixture; `stripe_server.control("faults", ...)` drives it.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe

from stripe_server import serve

WEBHOOK_SECRET = "whsec_connect_tests"


@dataclass
class StripeServer:
    url: str

    def control(self, path: str, **params: Any) -> dict[str, Any]:
        """POST form params to /_control/<path> (lists as `name[0]=`)."""
        pairs: list[tuple[str, str]] = []
        for key, value in params.items():
            if isinstance(value, list):
                pairs += [(f"{key}[{i}]", str(v)) for i, v in enumerate(value)]
            else:
                pairs.append((key, str(value)))
        request = urllib.request.Request(  # noqa: S310 - the server's own http URL
            f"{self.url}/_control/{path}",
            data=urllib.parse.urlencode(pairs).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())

    def client(self, *, retries: int = 0) -> stripe.StripeClient:
        return stripe.StripeClient(
            "sk_test_connect_local",
            base_addresses={"api": self.url, "connect": self.url},
            max_network_retries=retries,
        )


@pytest.fixture(scope="module")
def _stripe_server_process() -> Iterator[StripeServer]:
    httpd, _ = serve("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield StripeServer(f"http://127.0.0.1:{httpd.server_port}")
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def stripe_server(_stripe_server_process: StripeServer, settings: Any) -> Iterator[StripeServer]:
    """A clean server (no accounts, transfers or faults; a large platform balance)."""
    server = _stripe_server_process
    server.control("reset")
    server.control("webhooks", url="", secret=WEBHOOK_SECRET)
    for currency in ("eur", "pln", "usd"):
        server.control("balance", currency=currency, amount=10**12)
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield server
