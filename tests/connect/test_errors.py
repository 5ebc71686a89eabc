"""The 500 handler: a database that cannot be reached answers 503 with Retry-After (JSON under
/api/, a page elsewhere); any other failure stays a 500 in the same two shapes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from campaigns.api_keys import brand_api_key_create
from tests.campaigns.factories import BrandFactory
from tests.connect.factories import CreatorProfileFactory

pytestmark = pytest.mark.django_db


@contextmanager
def database(error: Exception) -> Iterator[None]:
    """Every query of this connection fails with `error`, as while PostgreSQL restarts."""

    def fail(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise error

    with connection.execute_wrapper(fail):
        yield


def test_an_api_call_while_the_database_is_down_is_a_503_to_retry() -> None:
    key = brand_api_key_create(brand=BrandFactory(), actor=None, name="Shop")[1]
    client = Client(raise_request_exception=False)

    with database(OperationalError("connection refused")):
        response = client.post(
            "/api/v1/order-events",
            {"events": []},
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "unavailable"
    assert "try again" in response.json()["errors"]["detail"][0]


def test_a_page_while_the_database_is_down_says_to_try_again() -> None:
    client = Client(raise_request_exception=False)
    client.force_login(CreatorProfileFactory().user)

    with database(OperationalError("the database system is starting up")):
        response = client.get("/creator/earnings/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Back in a moment" in response.content.decode()


def test_any_other_failure_stays_a_500_without_retry_after() -> None:
    key = brand_api_key_create(brand=BrandFactory(), actor=None, name="Shop")[1]
    client = Client(raise_request_exception=False)
    client.force_login(CreatorProfileFactory().user)

    with database(ZeroDivisionError("a bug")):
        api = client.get("/api/v1/commissions", headers={"authorization": f"Bearer {key}"})
        page = client.get("/creator/earnings/")

    assert api.status_code == 500
    assert api.json()["code"] == "server_error"
    assert "Retry-After" not in api
    assert page.status_code == 500
    assert "Something went wrong" in page.content.decode()
    assert "Retry-After" not in page
