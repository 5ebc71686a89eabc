"""The app's Stripe client, configured by settings, against the Stripe-compatible server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import stripe
from pytest_django.fixtures import Settings as SettingsWrapper

from payouts.stripe_client import stripe_client
from stripe_server import serve


@pytest.fixture
def stripe_url() -> Iterator[str]:
    httpd, _ = serve("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_the_client_reaches_the_server_that_settings_name(
    settings: SettingsWrapper, stripe_url: str
) -> None:
    # given
    settings.STRIPE_API_BASE = f"{stripe_url}/"
    settings.STRIPE_API_KEY = "sk_test_settings"

    # when
    account = stripe_client().v1.accounts.create(
        {"country": "FR", "capabilities": {"transfers": {"requested": True}}}
    )

    # then: it exists there, and the transfers capability waits for onboarding
    fetched = stripe_client().v1.accounts.retrieve(account.id)
    assert fetched.id.startswith("acct_")
    assert fetched.payouts_enabled is False


def test_a_key_the_server_does_not_know_is_refused_through_the_sdk(
    settings: SettingsWrapper, stripe_url: str
) -> None:
    settings.STRIPE_API_BASE = stripe_url
    settings.STRIPE_API_KEY = "rk_live_not_a_test_key"

    with pytest.raises(stripe.AuthenticationError):
        stripe_client().v1.balance.retrieve()
