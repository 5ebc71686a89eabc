"""Property tests of the whole /api/v1/ against its own OpenAPI schema (schemathesis).

Every operation of the schema served at /api/v1/schema/ gets generated requests, valid and
invalid, sent through the WSGI application as a member of a brand: the brand's API key on
the key endpoints, the member's signed-in session (with its CSRF token) on the session
endpoints. Each operation is tried with requests that fit the schema and with requests that
do not (positive and negative generation), 25 of each. Each request goes twice: once as
generated (ids that mostly do not exist) and once with the path's ids pointing at the
seeded brand's real campaign, collaborations and order, so the reads return data and the
writes reach the services. No answer may be a 5xx,
and every answer must be documented: its status code, its content type and its body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaigns.api_keys import brand_api_key_create
from campaigns.models import CollaborationStatus
from config.wsgi import application
from payouts.models import OrderEvent
from tests.campaigns.factories import BrandMembershipFactory, CampaignFactory, CollaborationFactory
from tests.payouts.pipeline import event, send, yesterday

pytestmark = pytest.mark.django_db


@dataclass
class World:
    api_key: str
    session_cookie: str
    csrf_token: str
    path_ids: dict[str, Any]


@pytest.fixture(autouse=True)
def wsgi_connection_kept() -> Iterator[None]:
    """Keep the test's database connection (and its transaction) across WSGI requests, as
    Django's test client does: the request signals would otherwise close it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(settings: Any) -> World:
    """A brand with a campaign, creators in each state of a collaboration, processed order
    events (paid, partly refunded) and so commissions; its key and a member's session."""
    # The property run makes hundreds of requests a minute with one key.
    settings.ORDER_EVENTS_RATE_LIMIT = "100000/m"
    settings.READ_API_RATE_LIMIT = "100000/m"
    member = BrandMembershipFactory()
    brand = member.brand
    campaign = CampaignFactory(brand=brand)
    active = CollaborationFactory(campaign=campaign)
    applied = CollaborationFactory(
        campaign=campaign, status=CollaborationStatus.APPLIED, activated_at=None
    )
    CollaborationFactory(campaign=campaign, status=CollaborationStatus.INVITED, activated_at=None)
    assert active.discount_code is not None
    send(
        brand,
        event("evt-1", order_id="ORD-1", amount="120.00", code=active.discount_code),
        event("evt-2", order_id="ORD-2", amount="80.00", code=active.discount_code),
        event(
            "evt-3",
            "order.refunded",
            order_id="ORD-2",
            amount="30.00",
            code=active.discount_code,
            occurred_at=yesterday() + dt.timedelta(hours=2),
        ),
    )
    assert OrderEvent.objects.filter(brand=brand).count() == 3
    _, full_key = brand_api_key_create(brand=brand, actor=None, name="Shop backend")
    browser = Client()
    browser.force_login(member.user)
    return World(
        api_key=full_key,
        session_cookie=browser.cookies["sessionid"].value,
        csrf_token=get_random_string(32),
        path_ids={
            "slug": brand.slug,
            "campaign_id": campaign.pk,
            "collaboration_id": applied.pk,
            "order_id": "ORD-2",
        },
    )


# The schema as the application serves it (drawing it reads no database), and its
# operations, one test each.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
OPERATIONS = sorted(result.ok().label for result in schema.get_all_operations())

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def credentials(case: schemathesis.Case, world: World) -> dict[str, Any]:
    """The brand's key where the operation takes one, else the member's session."""
    security = case.operation.definition.raw.get("security", [])
    schemes = {name for requirement in security for name in requirement}
    if "brandApiKey" in schemes:
        return {"headers": {"Authorization": f"Bearer {world.api_key}"}}
    return {
        "headers": {"X-CSRFToken": world.csrf_token},
        "cookies": {"sessionid": world.session_cookie, "csrftoken": world.csrf_token},
    }


@pytest.mark.parametrize("label", OPERATIONS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_documented_and_none_is_a_server_error(
    label: str, mode: GenerationMode, world: World
) -> None:
    method, path = label.split(" ", 1)
    operation = schema[path][method]

    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case: schemathesis.Case) -> None:
        auth = credentials(case, world)
        case.call_and_validate(checks=CHECKS, **auth)
        if case.path_parameters:
            case.path_parameters = {
                name: world.path_ids.get(name, value)
                for name, value in case.path_parameters.items()
            }
            case.call_and_validate(checks=CHECKS, **auth)

    answers_as_documented()


def test_an_api_url_no_route_matches_answers_the_json_error(client: Client) -> None:
    answer = client.get("/api/v1/campaigns/not-a-number")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "not_found"
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_niche_no_slug_can_be_is_a_400_not_a_database_error(world: World) -> None:
    client = Client()
    client.cookies["sessionid"] = world.session_cookie
    answer = client.post(
        f"/api/v1/brands/{world.path_ids['slug']}/campaigns",
        {
            "title": "Spring",
            "landing_url": "https://shop.example.com",
            "niche": "fa\x00shion",
            "currency": "EUR",
        },
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["niche"] == ["Invalid value."]
