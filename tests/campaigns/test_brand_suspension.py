"""Suspending a brand stops its API keys; reinstating it lets them work again, while its
paused campaigns wait for the brand to resume them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIRequestFactory

from campaigns.api_keys import BrandApiKeyAuthentication, brand_api_key_create
from campaigns.models import Brand, CampaignStatus
from campaigns.services import brand_suspend
from campaigns.services.brands import brand_unsuspend
from connect.models import AuditEntry, User
from payouts.models import OrderEvent
from tests.campaigns.factories import BrandFactory, BrandMembershipFactory, CampaignFactory
from tests.connect.factories import UserFactory

pytestmark = pytest.mark.django_db

ORDER_EVENTS = "/api/v1/order-events"
COMMISSIONS = "/api/v1/commissions"
SUSPENDED = (
    "This brand is suspended: its API keys do not work until Connect staff lift the "
    "suspension. Contact support."
)


@pytest.fixture
def staff() -> User:
    return UserFactory(verified=True, is_staff=True, is_superuser=True)


@pytest.fixture
def brand() -> Brand:
    return BrandFactory()


@pytest.fixture
def key(brand: Brand) -> str:
    return brand_api_key_create(brand=brand, actor=None, name="Shop")[1]


def _paid(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "order.paid",
        "order_id": f"A-{event_id}",
        "occurred_at": "2026-03-01T12:30:00Z",
        "amount": "129.99",
        "currency": "EUR",
        "code": "OLACREATES",
    }


def _post_events(client: Client, key: str, *event_ids: str) -> Any:
    return client.post(
        ORDER_EVENTS,
        data={"events": [_paid(event_id) for event_id in event_ids]},
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )


# ---------------------------------------------------------------------------------------
# Services


def test_staff_reinstate_a_brand_with_a_reason_and_its_campaigns_stay_paused(
    staff: User, brand: Brand
) -> None:
    # given
    campaign = CampaignFactory(brand=brand)
    brand_suspend(brand=brand, actor=staff, reason="Unpaid invoices.")
    suspended_at = Brand.objects.get(pk=brand.pk).suspended_at
    assert suspended_at is not None

    # when
    result = brand_unsuspend(brand=brand, actor=staff, reason="  Invoices paid.  ")

    # then
    brand.refresh_from_db()
    campaign.refresh_from_db()
    assert result.suspended_at is None
    assert not brand.is_suspended
    assert campaign.status == CampaignStatus.PAUSED
    entry = AuditEntry.objects.get(action="campaigns.brand.unsuspended")
    assert entry.actor == staff
    assert (entry.target_type, entry.target_id) == ("campaigns.brand", str(brand.pk))
    assert entry.before == {"suspended_at": suspended_at.isoformat()}
    assert entry.after == {"suspended_at": None, "reason": "Invoices paid."}


def test_reinstating_a_brand_that_is_not_suspended_changes_nothing(
    staff: User, brand: Brand
) -> None:
    # when
    result = brand_unsuspend(brand=brand, actor=staff, reason="Nothing to lift.")

    # then
    assert result.suspended_at is None
    assert not AuditEntry.objects.filter(action="campaigns.brand.unsuspended").exists()


def test_only_staff_may_reinstate_a_brand_and_only_with_a_reason(staff: User, brand: Brand) -> None:
    # given
    brand_suspend(brand=brand, actor=staff, reason="Unpaid invoices.")
    owner = BrandMembershipFactory(brand=brand).user

    # when / then
    with pytest.raises(PermissionDenied, match="Only staff can do this"):
        brand_unsuspend(brand=brand, actor=owner, reason="We paid.")
    with pytest.raises(ValidationError) as error:
        brand_unsuspend(brand=brand, actor=staff, reason=" ")

    assert error.value.message_dict == {"reason": ["Give a reason; it is kept in the audit log."]}
    assert Brand.objects.get(pk=brand.pk).is_suspended
    assert not AuditEntry.objects.filter(action="campaigns.brand.unsuspended").exists()


# ---------------------------------------------------------------------------------------
# API keys


def test_a_suspended_brands_key_is_refused_and_works_again_after_reinstatement(
    client: Client, staff: User, brand: Brand, key: str
) -> None:
    # given: the key works
    assert _post_events(client, key, "before").status_code == 202

    # when: staff suspend the brand
    brand_suspend(brand=brand, actor=staff, reason="Chargebacks.")
    refused = _post_events(client, key, "during")

    # then
    assert refused.status_code == 403
    assert refused.json() == {"code": "brand_suspended", "errors": {"detail": [SUSPENDED]}}
    assert list(OrderEvent.objects.values_list("event_id", flat=True)) == ["before"]

    # when: staff lift the suspension
    brand_unsuspend(brand=brand, actor=staff, reason="Resolved.")
    accepted = _post_events(client, key, "after")

    # then
    assert accepted.status_code == 202
    assert accepted.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert sorted(OrderEvent.objects.values_list("event_id", flat=True)) == ["after", "before"]


def test_a_suspended_brands_key_cannot_read_either(
    client: Client, staff: User, brand: Brand, key: str
) -> None:
    # given
    brand_suspend(brand=brand, actor=staff, reason="Chargebacks.")

    # when
    response = client.get(COMMISSIONS, headers={"authorization": f"Bearer {key}"})

    # then
    assert response.status_code == 403
    assert response.json()["errors"] == {"detail": [SUSPENDED]}


def test_refusing_a_suspended_brand_costs_no_extra_query(
    staff: User, brand: Brand, key: str, django_assert_num_queries: Any
) -> None:
    # given: the key was used a moment ago, so its last use is not written again
    brand_suspend(brand=brand, actor=staff, reason="Chargebacks.")
    request = APIRequestFactory().post(ORDER_EVENTS, HTTP_AUTHORIZATION=f"Bearer {key}")
    authentication = BrandApiKeyAuthentication()
    with pytest.raises(Exception, match="This brand is suspended"):
        authentication.authenticate(request)  # type: ignore[arg-type]

    # when / then: the key's row, with its brand, is the only query
    with django_assert_num_queries(1), pytest.raises(Exception, match="This brand is suspended"):
        authentication.authenticate(request)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Admin


def test_staff_reinstate_a_brand_through_the_admin(
    client: Client, staff: User, brand: Brand
) -> None:
    # given
    campaign = CampaignFactory(brand=brand)
    brand_suspend(brand=brand, actor=staff, reason="Fake shop?")
    client.force_login(staff)
    selection = {"action": "unsuspend_brands", "_selected_action": [brand.pk]}

    # when
    asked = client.post("/admin/campaigns/brand/", selection)
    done = client.post(
        "/admin/campaigns/brand/", {**selection, "apply": "1", "reason": "Shop verified."}
    )

    # then
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Lift brand suspensions" in page
    assert brand.name in page
    assert done.status_code == 302
    brand.refresh_from_db()
    campaign.refresh_from_db()
    assert not brand.is_suspended
    assert campaign.status == CampaignStatus.PAUSED
    entry = AuditEntry.objects.get(action="campaigns.brand.unsuspended")
    assert (entry.actor, entry.after["reason"]) == (staff, "Shop verified.")
