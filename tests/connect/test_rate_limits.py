"""Every rate limit, reached: each lets the allowed number of attempts through and refuses
the next one. Signing up per address is in test_security.py. The limits are lowered here so
that the tests stay short; our own fixed windows are set per hour so that a test does not
straddle the end of a window."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.api_keys import brand_api_key_create
from campaigns.models import Brand, BrandApiKey
from connect.tokens import creator_token_create
from payouts.models import OrderEvent
from tests.campaigns.factories import BrandFactory, BrandMembershipFactory
from tests.connect.factories import PASSWORD, CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(client: Client, email: str, password: str) -> int:
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return int(response.status_code)


# ---------------------------------------------------------------------------------------
# Accounts (allauth)


def test_logins_from_one_address_are_limited(client: Client, settings: Any) -> None:
    # given
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    users = [UserFactory(verified=True) for _ in range(4)]

    # when
    statuses = []
    for user in users:
        statuses.append(login(client, user.email, PASSWORD))
        client.logout()

    # then: three people sign in from the address, the fourth is refused
    assert statuses == [302, 302, 302, 429]
    assert "_auth_user_id" not in client.session


def test_failed_logins_lock_the_account_only_after_the_limit(client: Client, settings: Any) -> None:
    # given
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "10/m/ip,3/5m/key",
    }
    user = UserFactory(email="ola@example.com", verified=True)
    for _ in range(2):
        assert login(client, user.email, "wrong-password") == 200

    # when: under the limit, the right password still signs in
    assert login(client, user.email, PASSWORD) == 302
    client.logout()
    login(client, user.email, "wrong-password")
    assert login(client, user.email, "wrong-password") == 200
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    # then: after the third failure in the window even the right password is refused
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_requests_are_limited_per_email_and_per_address(
    client: Client, settings: Any, mailoutbox: list[Any]
) -> None:
    # given
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "reset_password": "4/m/ip,2/m/key",
    }
    first, second = UserFactory(verified=True), UserFactory(verified=True)

    def reset(email: str) -> int:
        return int(client.post("/accounts/password/reset/", {"email": email}).status_code)

    # when
    per_email = [reset(first.email) for _ in range(3)]
    other_email = reset(second.email)
    past_address_limit = reset(second.email)

    # then: two for one email address, then 429; another email address still gets its
    # mail, until the requests from the one IP address (refused ones count) pass four
    assert per_email == [302, 302, 429]
    assert other_email == 302
    assert past_address_limit == 429
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [first.email, first.email, second.email]
    )


# ---------------------------------------------------------------------------------------
# API keys in the browser


def test_making_api_keys_in_the_browser_is_limited_per_user(client: Client, settings: Any) -> None:
    # given
    settings.API_KEY_CREATE_RATE_LIMIT = "3/h"
    member = BrandMembershipFactory()
    client.force_login(member.user)
    url = reverse("brand:api_key_create")

    # when
    statuses = [client.post(url, {"name": f"Key {n}"}).status_code for n in range(3)]
    refused = client.post(url, {"name": "One too many"})

    # then
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "too many API keys" in refused.content.decode()
    assert BrandApiKey.objects.filter(brand=member.brand).count() == 3
    # another member of the brand has their own count
    colleague = BrandMembershipFactory(brand=member.brand)
    client.force_login(colleague.user)
    assert client.post(url, {"name": "Colleague's key"}).status_code == 200


# ---------------------------------------------------------------------------------------
# API key and creator token authentication failures


@pytest.fixture
def brand() -> Brand:
    return BrandFactory()


@pytest.fixture
def key(brand: Brand) -> str:
    return brand_api_key_create(brand=brand, actor=None, name="Shop")[1]


def read(client: Client, key: str, address: str = "203.0.113.7") -> Any:
    return client.get(
        "/api/v1/commissions", headers={"authorization": f"Bearer {key}"}, REMOTE_ADDR=address
    )


def wrong(secret: str) -> str:
    return secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")


@pytest.fixture
def creator_token() -> str:
    creator = CreatorProfileFactory()
    return creator_token_create(creator=creator, actor=creator.user, name="Sheet")[1]


@pytest.fixture(params=["key", "creator_token"])
def secret(request: pytest.FixtureRequest) -> str:
    """A right secret of each kind: a brand API key, then a creator token."""
    return str(request.getfixturevalue(request.param))


def test_wrong_secrets_from_one_address_are_throttled(
    client: Client, settings: Any, secret: str
) -> None:
    # given
    settings.API_KEY_FAILURE_RATE_LIMIT = "3/h"

    # when
    failures = [read(client, wrong(secret)).status_code for _ in range(3)]
    after_wrong = read(client, wrong(secret))
    after_right = read(client, secret)

    # then: three 401s, then 429 for any secret from that address, the right one included
    assert failures == [401, 401, 401]
    assert after_wrong.status_code == 429
    assert after_right.status_code == 429
    retry_after = int(after_right["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert after_right.json() == {
        "code": "throttled",
        "errors": {
            "detail": [
                "Too many wrong API keys from your address (the limit is 3/h). "
                f"Expected available in {retry_after} second{'' if retry_after == 1 else 's'}."
            ]
        },
    }
    # another address is not affected
    assert read(client, secret, address="198.51.100.9").status_code == 200


def test_right_secrets_do_not_count_as_failures(client: Client, settings: Any, secret: str) -> None:
    # given
    settings.API_KEY_FAILURE_RATE_LIMIT = "2/h"

    # when
    statuses = [read(client, secret).status_code for _ in range(5)]

    # then
    assert statuses == [200] * 5


def test_wrong_creator_tokens_and_wrong_api_keys_share_one_limit(
    client: Client, settings: Any, key: str, creator_token: str
) -> None:
    # given: a guesser alternates between the two kinds of secret
    settings.API_KEY_FAILURE_RATE_LIMIT = "4/h"
    guesses = [wrong(creator_token), wrong(key)] * 2

    # when
    failures = [read(client, guess).status_code for guess in guesses]
    key_after = read(client, key)
    token_after = read(client, creator_token)

    # then: four wrong secrets of either kind reach the one limit, which holds for both
    assert failures == [401, 401, 401, 401]
    assert key_after.status_code == 429
    assert token_after.status_code == 429


# ---------------------------------------------------------------------------------------
# The ingest API


def test_order_events_are_limited_per_key_after_the_allowed_requests(
    client: Client, settings: Any, brand: Brand, key: str
) -> None:
    # given
    settings.ORDER_EVENTS_RATE_LIMIT = "3/h"

    def send(n: int) -> Any:
        body = {
            "events": [
                {
                    "id": f"evt_{n}",
                    "type": "order.paid",
                    "order_id": f"A-{n}",
                    "occurred_at": "2025-03-01T12:30:00Z",
                    "amount": "129.99",
                    "currency": "EUR",
                }
            ]
        }
        return client.post(
            "/api/v1/order-events",
            data=body,
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )

    # when
    statuses = [send(n).status_code for n in range(3)]
    refused = send(3)

    # then
    assert statuses == [202, 202, 202]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert refused.json()["code"] == "throttled"
    assert OrderEvent.objects.filter(brand=brand).count() == 3
