"""POST /api/v1/order-events: validation, duplicates, storing, limits and immutability."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, InternalError, connection, connections, transaction
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from campaigns.api_keys import brand_api_key_create, brand_api_key_revoke
from campaigns.models import Brand
from payouts import api as payouts_api
from payouts.models import OrderEvent, RejectedOrderEvent
from tests.campaigns.factories import BrandFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/order-events"
CLICK = "0192f1a4-7b3c-7d2e-8f00-0123456789ab"


@pytest.fixture
def brand() -> Brand:
    return BrandFactory()


@pytest.fixture
def key(brand: Brand) -> str:
    return brand_api_key_create(brand=brand, actor=None, name="Shop")[1]


def paid(event_id: str = "evt_1", **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id,
        "type": "order.paid",
        "order_id": "A-1001",
        "occurred_at": "2025-03-01T12:30:00Z",
        "amount": "129.99",
        "currency": "EUR",
        "code": "OLACREATES",
        "click_id": CLICK,
    }
    event.update(overrides)
    return {name: value for name, value in event.items() if value is not ...}


def post(client: Client, key: str | None, body: Any, *, raw: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return client.post(
        URL,
        data=raw if raw is not None else body,
        content_type="application/json",
        headers=headers,
    )


# ---------------------------------------------------------------------------------------
# Accepted events


def test_a_valid_event_is_stored_as_sent_and_answered_202(
    client: Client, brand: Brand, key: str
) -> None:
    # when
    response = post(client, key, {"events": [paid()]})

    # then
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    event = OrderEvent.objects.get()
    assert event.brand == brand
    assert event.event_id == "evt_1"
    assert event.type == "order.paid"
    assert event.order_id == "A-1001"
    assert event.occurred_at == dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.UTC)
    assert event.amount_minor == 12999
    assert event.currency == "EUR"
    assert event.code == "OLACREATES"
    assert event.click_id == uuid.UUID(CLICK)
    assert event.source == "api"
    assert event.processed_at is None
    assert event.outcome is None


def test_refunds_and_cancellations_are_stored_with_their_amounts(client: Client, key: str) -> None:
    # given
    events = [
        paid("r1", type="order.refunded", amount="20", code=None, click_id=...),
        paid("c1", type="order.cancelled", amount=..., occurred_at="2025-03-01T13:30:00+02:00"),
        paid("j1", amount="1500", currency="JPY"),
        paid("k1", amount="1.234", currency="KWD"),
    ]

    # when
    response = post(client, key, {"events": events})

    # then
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    stored = {e.event_id: e for e in OrderEvent.objects.all()}
    assert stored["r1"].amount_minor == 2000
    assert stored["r1"].code is None
    assert stored["r1"].click_id is None
    assert stored["c1"].amount_minor is None
    assert stored["c1"].occurred_at == dt.datetime(2025, 3, 1, 11, 30, tzinfo=dt.UTC)
    assert stored["j1"].amount_minor == 1500
    assert stored["k1"].amount_minor == 1234


def test_duplicates_already_stored_and_within_the_batch_are_counted_and_ignored(
    client: Client, key: str
) -> None:
    # given
    post(client, key, {"events": [paid("evt_1")]})

    # when: evt_1 again, evt_2 twice (the second with another amount)
    response = post(
        client,
        key,
        {"events": [paid("evt_1"), paid("evt_2"), paid("evt_2", amount="1.00")]},
    )

    # then
    assert response.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert sorted(OrderEvent.objects.values_list("event_id", "amount_minor")) == [
        ("evt_1", 12999),
        ("evt_2", 12999),
    ]


def test_the_same_event_id_from_two_brands_is_two_events(client: Client, key: str) -> None:
    # given
    other_key = brand_api_key_create(brand=BrandFactory(), actor=None, name="Other")[1]
    post(client, other_key, {"events": [paid("evt_1")]})

    # when
    response = post(client, key, {"events": [paid("evt_1")]})

    # then
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert OrderEvent.objects.count() == 2


def test_valid_events_are_stored_when_others_in_the_batch_are_rejected(
    client: Client, brand: Brand, key: str
) -> None:
    # given
    events = [paid("ok_1"), paid("bad_1", type="order.shipped"), "nope", paid("ok_2")]

    # when
    response = post(client, key, {"events": events})

    # then
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [
            {
                "index": 1,
                "id": "bad_1",
                "error": "type must be order.paid, order.refunded or order.cancelled, "
                "not order.shipped.",
            },
            {"index": 2, "id": None, "error": "An event must be a JSON object."},
        ],
    }
    assert sorted(OrderEvent.objects.values_list("event_id", flat=True)) == ["ok_1", "ok_2"]
    rejected = list(RejectedOrderEvent.objects.order_by("index"))
    assert [(r.index, r.event_id, r.raw) for r in rejected] == [
        (1, "bad_1", paid("bad_1", type="order.shipped")),
        (2, "", "nope"),
    ]
    assert {r.brand_id for r in rejected} == {brand.pk}
    assert rejected[0].error.startswith("type must be")
    assert (
        len(
            {r.batch_id for r in rejected}
            | set(OrderEvent.objects.values_list("batch_id", flat=True))
        )
        == 1
    )


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (paid(id=...), "id is required."),
        (paid(id=""), "id is required."),
        (paid(id=12), "id must be a string."),
        (paid(id="x" * 101), "id must be at most 100 characters; this one has 101."),
        (paid(type=...), "type is required."),
        (
            paid(type="order.shipped"),
            "type must be order.paid, order.refunded or order.cancelled, not order.shipped.",
        ),
        (paid(order_id=...), "order_id is required."),
        (paid(order_id="o" * 101), "order_id must be at most 100 characters; this one has 101."),
        (paid(order_id="A\x00B"), "order_id must not contain a NUL character."),
        (paid(occurred_at=...), "occurred_at is required."),
        (
            paid(occurred_at="2025-03-01T12:30:00"),
            "occurred_at must have a time zone: end it with Z or an offset like +01:00.",
        ),
        (
            paid(occurred_at="yesterday"),
            "occurred_at must be an RFC 3339 timestamp like 2025-03-01T12:30:00Z, not yesterday.",
        ),
        (
            paid(occurred_at="2025-03-01"),
            "occurred_at must be an RFC 3339 timestamp like 2025-03-01T12:30:00Z, not 2025-03-01.",
        ),
        (
            paid(occurred_at="2025-02-30T12:30:00Z"),
            "occurred_at is not a real date and time: 2025-02-30T12:30:00Z.",
        ),
        (paid(currency=...), "currency is required."),
        (paid(currency="XYZ"), "currency must be an ISO 4217 code like EUR, not XYZ."),
        (paid(currency="DEM"), "currency must be an ISO 4217 code like EUR, not DEM."),
        (paid(amount=...), "amount is required for order.paid."),
        (paid(type="order.refunded", amount=...), "amount is required for order.refunded."),
        (paid(amount=129.99), 'amount must be a decimal string like "129.99", not 129.99.'),
        (paid(amount="12.345"), "amount '12.345' has 3 decimals; EUR allows 2."),
        (paid(amount="1.5", currency="JPY"), "amount '1.5' has 1 decimals; JPY allows 0."),
        (paid(amount="12,50"), "amount '12,50' is not a decimal amount like 129.99."),
        (paid(amount="0.00"), "amount must be greater than zero."),
        (paid(amount="-5.00"), "amount must be greater than zero."),
        (
            paid(type="order.cancelled", amount="10.00"),
            "order.cancelled takes no amount: leave amount out.",
        ),
        (paid(code="c" * 101), "code must be at most 100 characters; this one has 101."),
        (paid(code=5), "code must be a string."),
        (paid(click_id="not-a-uuid"), "click_id must be a UUID, not not-a-uuid."),
        ([1, 2], "An event must be a JSON object."),
    ],
)
def test_each_invalid_event_is_rejected_with_a_clear_error(
    client: Client, key: str, event: Any, error: str
) -> None:
    # when
    response = post(client, key, {"events": [event]})

    # then
    assert response.status_code == 202
    sent_id = event.get("id") if isinstance(event, dict) else None
    assert response.json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [
            {"index": 0, "id": sent_id if isinstance(sent_id, str) else None, "error": error}
        ],
    }
    assert not OrderEvent.objects.exists()
    assert RejectedOrderEvent.objects.get().error == error


def test_a_lowercase_currency_and_empty_optional_fields_are_accepted(
    client: Client, key: str
) -> None:
    # when
    response = post(client, key, {"events": [paid(currency="pln", code="", click_id=None)]})

    # then
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    event = OrderEvent.objects.get()
    assert (event.currency, event.code, event.click_id) == ("PLN", None, None)


# ---------------------------------------------------------------------------------------
# Refused requests


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ([paid()], {"detail": ['Send a JSON object like {"events": [...]}.']}),
        ({}, {"events": ['Send the events as a list under "events".']}),
        ({"events": {"id": "x"}}, {"events": ['Send the events as a list under "events".']}),
        ({"events": []}, {"events": ["Send at least one event."]}),
    ],
)
def test_a_body_that_is_not_a_batch_is_a_400(
    client: Client, key: str, body: Any, errors: dict[str, list[str]]
) -> None:
    # when
    response = post(client, key, body)

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "errors": errors}
    assert not OrderEvent.objects.exists()


def test_malformed_json_is_a_400(client: Client, key: str) -> None:
    # when
    response = post(client, key, None, raw='{"events": [')

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["errors"]["detail"][0].startswith("JSON parse error")


def test_1000_events_are_accepted_in_a_handful_of_queries(
    client: Client, key: str, django_assert_max_num_queries: Any
) -> None:
    # given
    events = [paid(f"evt_{i}", order_id=f"A-{i}") for i in range(999)] + [paid("bad", id=...)]

    # when: one statement per kind of row, plus the day's counters
    with django_assert_max_num_queries(7):
        response = post(client, key, {"events": events})

    # then
    assert response.status_code == 202
    assert response.json()["accepted"] == 999
    assert response.json()["rejected"] == [{"index": 999, "id": None, "error": "id is required."}]
    assert OrderEvent.objects.count() == 999


def test_1001_events_are_refused(client: Client, key: str) -> None:
    # when
    response = post(client, key, {"events": [paid(f"evt_{i}") for i in range(1001)]})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {"events": ["Send at most 1000 events per request; this one has 1001."]},
    }
    assert not OrderEvent.objects.exists()


def test_a_body_too_large_is_refused_before_it_is_read(
    client: Client, key: str, settings: Any
) -> None:
    # given
    settings.ORDER_EVENTS_MAX_BODY_BYTES = 100

    # when
    response = post(client, key, {"events": [paid(), paid("evt_2")]})

    # then
    assert response.status_code == 413
    assert response.json() == {
        "code": "too_large",
        "errors": {"detail": ["The body is larger than 100 bytes; send fewer events."]},
    }


@pytest.mark.parametrize(
    ("header", "error", "code"),
    [
        (
            None,
            "Send your brand API key in the header “Authorization: Bearer ck_live_…”.",
            "not_authenticated",
        ),
        (
            "Token abc",
            "Send your API key as “Authorization: Bearer ck_live_…”.",
            "authentication_failed",
        ),
        (
            "Bearer ck_live_abcdefgh_" + "A" * 43,
            "This API key is not valid: it is mistyped, unknown or revoked.",
            "authentication_failed",
        ),
    ],
    ids=["absent", "other-scheme", "unknown-key"],
)
def test_a_missing_or_wrong_key_is_a_401(
    client: Client, header: str | None, error: str, code: str
) -> None:
    # when
    response = client.post(
        URL,
        data={"events": [paid()]},
        content_type="application/json",
        headers={"authorization": header} if header else {},
    )

    # then
    assert response.status_code == 401
    assert response.json() == {"code": code, "errors": {"detail": [error]}}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not OrderEvent.objects.exists()


def test_a_revoked_key_is_a_401(client: Client, brand: Brand) -> None:
    # given
    api_key, full_key = brand_api_key_create(brand=brand, actor=None, name="Old")
    brand_api_key_revoke(api_key=api_key, actor=None)

    # when
    response = post(client, full_key, {"events": [paid()]})

    # then
    assert response.status_code == 401
    assert response.json()["errors"]["detail"] == [
        "This API key is not valid: it is mistyped, unknown or revoked."
    ]
    assert not OrderEvent.objects.exists()


def test_a_session_login_does_not_open_the_endpoint(client: Client, brand: Brand) -> None:
    # given
    from tests.campaigns.factories import BrandMembershipFactory

    member = BrandMembershipFactory(brand=brand)
    client.force_login(member.user)

    # when
    response = post(client, None, {"events": [paid()]})

    # then
    assert response.status_code == 401


def test_too_many_requests_per_key_is_a_429_with_retry_after(
    client: Client, brand: Brand, key: str, settings: Any
) -> None:
    # given
    settings.ORDER_EVENTS_RATE_LIMIT = "2/m"
    other_key = brand_api_key_create(brand=brand, actor=None, name="Other")[1]
    post(client, key, {"events": [paid("evt_1")]})
    post(client, key, {"events": [paid("evt_2")]})

    # when
    response = post(client, key, {"events": [paid("evt_3")]})

    # then
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json() == {
        "code": "throttled",
        "errors": {
            "detail": [
                "Too many requests with this API key (the limit is 2/m). "
                f"Expected available in {retry_after} second{'' if retry_after == 1 else 's'}."
            ]
        },
    }
    assert sorted(OrderEvent.objects.values_list("event_id", flat=True)) == ["evt_1", "evt_2"]
    # the limit is per key: another key of the brand still gets through
    assert post(client, other_key, {"events": [paid("evt_3")]}).status_code == 202


def test_events_are_still_stored_when_the_rate_limit_store_is_down(
    client: Client, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    def down(*args: Any, **kwargs: Any) -> None:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(payouts_api.cache, "add", down)

    # when
    response = post(client, key, {"events": [paid()]})

    # then
    assert response.status_code == 202
    assert OrderEvent.objects.count() == 1


# ---------------------------------------------------------------------------------------
# Immutability


def test_the_database_refuses_to_change_or_delete_what_the_brand_sent(
    client: Client, key: str
) -> None:
    # given
    post(client, key, {"events": [paid()]})
    event = OrderEvent.objects.get()

    # when / then: a raw column cannot change
    for statement in [
        "UPDATE payouts_orderevent SET amount_minor = 1 WHERE id = %s",
        "UPDATE payouts_orderevent SET code = NULL WHERE id = %s",
        "UPDATE payouts_orderevent SET occurred_at = now() WHERE id = %s",
        "DELETE FROM payouts_orderevent WHERE id = %s",
    ]:
        with (
            pytest.raises((IntegrityError, InternalError), match="order events are"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])

    # when / then: processing may record its outcome
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payouts_orderevent SET processed_at = now(), outcome = 'applied' WHERE id = %s",
            [event.pk],
        )
    event.refresh_from_db()
    assert event.outcome == "applied"
    assert event.amount_minor == 12999


# ---------------------------------------------------------------------------------------
# Concurrency


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_posted_twice_at_once_stores_each_event_once() -> None:
    # given
    brand = BrandFactory()
    _, full_key = brand_api_key_create(brand=brand, actor=None, name="Shop")
    events = [paid(f"evt_{i}", order_id=f"A-{i}") for i in range(500)]
    barrier = threading.Barrier(2)
    answers: list[dict[str, Any]] = []

    def send() -> None:
        try:
            barrier.wait()
            answers.append(post(Client(), full_key, {"events": events}).json())
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert OrderEvent.objects.count() == 500
    assert sorted((a["accepted"], a["duplicates"]) for a in answers) == [(0, 500), (500, 0)]
