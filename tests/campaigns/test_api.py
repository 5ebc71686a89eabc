"""The brand API under /api/v1/: each endpoint, its errors, tenancy and pagination."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import (
    Brand,
    BrandRole,
    Campaign,
    CampaignStatus,
    CampaignTerms,
    ClickDailyCount,
    Collaboration,
    CollaborationStatus,
)
from connect.models import AuditEntry, User
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
    niche,
)
from tests.connect.factories import CreatorProfileFactory

pytestmark = pytest.mark.django_db


def _member(brand: Brand, role: str = BrandRole.MANAGER) -> User:
    return BrandMembershipFactory(brand=brand, role=role).user


def _client(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _applied(**overrides: Any) -> Collaboration:
    return CollaborationFactory(
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
        **overrides,
    )


def _campaign_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Spring capsule",
        "brief": "Show three outfits from one capsule.",
        "landing_url": "https://moda.example.com/spring",
        "niche": "fashion",
        "target_countries": ["PL", "CZ"],
        "currency": "PLN",
        "join_mode": "application",
        "min_followers": 5000,
        "eligible_countries": ["PL"],
        "starts_on": "2026-12-01",
        "ends_on": "2027-02-28",
        "budget": "25000.00",
        "terms": {
            "commission_type": "percent",
            "commission_percent": "12.50",
            "hold_days": 14,
            "attribution_window_days": 7,
        },
    }
    body.update(overrides)
    return body


def _url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


# ---------------------------------------------------------------------------------------
# Authentication and tenancy across every endpoint

ENDPOINTS: list[tuple[str, str, str]] = [
    # (method, URL name, which object the URL points at)
    ("get", "brand-campaigns", "brand"),
    ("post", "brand-campaigns", "brand"),
    ("get", "campaign-detail", "campaign"),
    ("patch", "campaign-detail", "campaign"),
    ("post", "campaign-publish", "campaign"),
    ("post", "campaign-pause", "campaign"),
    ("post", "campaign-resume", "campaign"),
    ("post", "campaign-end", "campaign"),
    ("get", "campaign-collaborations", "campaign"),
    ("post", "campaign-invitations", "campaign"),
    ("post", "collaboration-accept", "collaboration"),
    ("post", "collaboration-reject", "collaboration"),
    ("post", "collaboration-remove", "collaboration"),
]


def _endpoint_url(name: str, kind: str, collaboration: Collaboration) -> str:
    if kind == "brand":
        return _url(name, collaboration.campaign.brand.slug)
    if kind == "campaign":
        return _url(name, collaboration.campaign.pk)
    return _url(name, collaboration.pk)


def _snapshot() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    return (
        list(Campaign.objects.order_by("pk").values()),
        list(Collaboration.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize(("method", "name", "kind"), ENDPOINTS)
def test_an_anonymous_request_is_refused_everywhere(method: str, name: str, kind: str) -> None:
    # given
    collaboration = _applied()
    before = _snapshot()

    # when
    response = getattr(_client(), method)(
        _endpoint_url(name, kind, collaboration), {}, format="json"
    )

    # then
    assert response.status_code == 403
    assert response.json() == {
        "code": "not_authenticated",
        "errors": {"detail": ["Authentication credentials were not provided."]},
    }
    assert _snapshot() == before


@pytest.mark.parametrize(("method", "name", "kind"), ENDPOINTS)
def test_a_member_of_another_brand_gets_404_everywhere(method: str, name: str, kind: str) -> None:
    # given
    collaboration = _applied()
    outsider = _member(BrandFactory(), BrandRole.OWNER)
    before = _snapshot()

    # when
    response = getattr(_client(outsider), method)(
        _endpoint_url(name, kind, collaboration),
        {"reason": "x", "creator": collaboration.creator.handle, **_campaign_body()},
        format="json",
    )

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "errors": {"detail": ["Not found."]}}
    assert _snapshot() == before


def test_an_object_that_does_not_exist_is_404_like_another_brands() -> None:
    # given
    user = _member(BrandFactory())

    # when
    responses = [
        _client(user).get(_url("campaign-detail", 999_999)),
        _client(user).get(_url("brand-campaigns", "no-such-brand")),
        _client(user).post(_url("collaboration-accept", 999_999), {}, format="json"),
    ]

    # then
    assert [r.status_code for r in responses] == [404, 404, 404]


def test_the_api_enforces_csrf_for_a_session_login() -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.ACTIVE)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(_member(campaign.brand))

    # when
    response = client.post(_url("campaign-pause", campaign.pk), {}, format="json")

    # then
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["errors"]["detail"][0].startswith("CSRF Failed")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


# ---------------------------------------------------------------------------------------
# GET /brands/<slug>/campaigns


def test_list_campaigns_returns_the_brands_campaigns_with_terms_money_and_counts() -> None:
    # given
    brand = BrandFactory(slug="moda-wisla")
    campaign = CampaignFactory(
        brand=brand,
        title="Coats",
        currency="PLN",
        percent=None,
        fixed_minor=2050,
        hold_days=14,
        window_days=7,
        budget_minor=1_000_000,
        target_countries=["PL"],
        niche=niche("fashion"),
    )
    CollaborationFactory(campaign=campaign)
    _applied(campaign=campaign)
    CampaignFactory()  # another brand's
    user = _member(brand)

    # when
    response = _client(user).get(_url("brand-campaigns", "moda-wisla"))

    # then
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": campaign.pk,
                "brand": "moda-wisla",
                "title": "Coats",
                "brief": "",
                "landing_url": "https://shop.example.com/spring?utm_source=connect",
                "niche": "fashion",
                "target_countries": ["PL"],
                "currency": "PLN",
                "join_mode": "open",
                "min_followers": 0,
                "eligible_countries": [],
                "starts_on": None,
                "ends_on": None,
                "budget": "10000.00",
                "status": "active",
                "published_at": _time(campaign.published_at),
                "created_at": _time(campaign.created_at),
                "updated_at": _time(campaign.updated_at),
                "terms": {
                    "commission_type": "fixed",
                    "commission_percent": None,
                    "commission_fixed": "20.50",
                    "hold_days": 14,
                    "attribution_window_days": 7,
                },
                "active_collaborations": 1,
                "pending_applications": 1,
            }
        ],
    }


def test_list_campaigns_filters_by_status_and_refuses_an_unknown_status() -> None:
    # given
    brand = BrandFactory()
    CampaignFactory(brand=brand, title="Live")
    CampaignFactory(brand=brand, title="Draft", status=CampaignStatus.DRAFT, published_at=None)
    client = _client(_member(brand))

    # when
    drafts = client.get(_url("brand-campaigns", brand.slug), {"status": "draft"})
    unknown = client.get(_url("brand-campaigns", brand.slug), {"status": "deleted"})

    # then
    assert [c["title"] for c in drafts.json()["results"]] == ["Draft"]
    assert unknown.status_code == 400
    assert unknown.json() == {
        "code": "invalid",
        "errors": {"status": ['"deleted" is not a valid choice.']},
    }


def test_list_campaigns_pages_with_a_cursor_newest_first() -> None:
    # given
    brand = BrandFactory()
    campaigns = [CampaignFactory(brand=brand, title=f"Campaign {n}") for n in range(5)]
    client = _client(_member(brand))

    # when
    pages = []
    url: str | None = _url("brand-campaigns", brand.slug) + "?page_size=2"
    while url:
        body = client.get(url).json()
        pages.append([c["id"] for c in body["results"]])
        url = body["next"]

    # then
    newest_first = [c.pk for c in reversed(campaigns)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]


def test_a_tampered_cursor_is_a_400_on_cursor_like_every_list_of_the_api() -> None:
    # given
    campaign = CampaignFactory()
    client = _client(_member(campaign.brand))

    # when
    campaigns = client.get(_url("brand-campaigns", campaign.brand.slug), {"cursor": "not-one"})
    collaborations = client.get(_url("campaign-collaborations", campaign.pk), {"cursor": "x"})

    # then
    for response in (campaigns, collaborations):
        assert response.status_code == 400
        assert response.json() == {
            "code": "invalid",
            "errors": {"cursor": ["This cursor is not one the API gave; start again without it."]},
        }


def test_a_page_size_out_of_range_is_a_400_naming_it() -> None:
    # given
    brand = BrandFactory()
    client = _client(_member(brand))

    # when
    too_big = client.get(_url("brand-campaigns", brand.slug), {"page_size": 201})
    zero = client.get(_url("brand-campaigns", brand.slug), {"page_size": 0})
    largest = client.get(_url("brand-campaigns", brand.slug), {"page_size": 200})

    # then
    assert too_big.status_code == 400
    assert too_big.json() == {
        "code": "invalid",
        "errors": {"page_size": ["Ensure this value is less than or equal to 200."]},
    }
    assert zero.status_code == 400
    assert largest.status_code == 200


def test_a_form_encoded_body_is_refused_with_415() -> None:
    # given
    brand = BrandFactory()
    client = _client(_member(brand))

    # when
    response = client.post(_url("brand-campaigns", brand.slug), {"title": "Spring"})

    # then
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Campaign.objects.filter(brand=brand).exists()


# ---------------------------------------------------------------------------------------
# POST /brands/<slug>/campaigns


def test_create_campaign_drafts_it_with_money_converted_to_minor_units() -> None:
    # given
    brand = BrandFactory(slug="moda-wisla")
    user = _member(brand)

    # when
    response = _client(user).post(
        _url("brand-campaigns", "moda-wisla"), _campaign_body(), format="json"
    )

    # then
    assert response.status_code == 201
    campaign = Campaign.objects.get()
    body = response.json()
    assert body["id"] == campaign.pk
    assert body["status"] == "draft"
    assert body["budget"] == "25000.00"
    assert body["terms"] == {
        "commission_type": "percent",
        "commission_percent": "12.50",
        "commission_fixed": None,
        "hold_days": 14,
        "attribution_window_days": 7,
    }
    assert (campaign.brand, campaign.currency, campaign.budget_minor) == (brand, "PLN", 2_500_000)
    assert campaign.target_countries == ["PL", "CZ"]
    assert campaign.eligible_countries == ["PL"]
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2026, 12, 1), dt.date(2027, 2, 28))
    assert campaign.join_mode == "application"
    assert campaign.min_followers == 5000
    assert campaign.terms.get().commission_percent == Decimal("12.50")
    assert AuditEntry.objects.get().action == "campaigns.campaign.created"


def test_create_campaign_with_a_fixed_commission_and_the_defaults() -> None:
    # given
    brand = BrandFactory()
    body = {
        "title": "Kit",
        "landing_url": "https://hory.example.com/kit",
        "niche": "sports",
        "currency": "CZK",
        "terms": {"commission_type": "fixed", "commission_fixed": "150"},
    }

    # when
    response = _client(_member(brand)).post(
        _url("brand-campaigns", brand.slug), body, format="json"
    )

    # then
    assert response.status_code == 201
    created = response.json()
    assert created["terms"] == {
        "commission_type": "fixed",
        "commission_percent": None,
        "commission_fixed": "150.00",
        "hold_days": 30,
        "attribution_window_days": 30,
    }
    assert (created["join_mode"], created["budget"], created["target_countries"]) == (
        "open",
        None,
        [],
    )
    assert CampaignTerms.objects.get().commission_fixed_minor == 15000


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        # Shapes the serializer refuses
        (
            {"terms": {"commission_type": "percent", "commission_percent": 12.5}},
            {"terms.commission_percent": ['Send this number as a decimal string, like "12.50".']},
        ),
        (
            {"terms": {"commission_type": "percent", "commission_percent": "12.505"}},
            {"terms.commission_percent": ["Enter a percent with at most two decimals."]},
        ),
        (
            {"budget": "100.001"},
            {"budget": ["Enter an amount like 12.50, with at most 2 decimals for PLN."]},
        ),
        ({"budget": 100}, {"budget": ['Send this number as a decimal string, like "12.50".']}),
        ({"niche": "knitting"}, {"niche": ["Object with slug=knitting does not exist."]}),
        (
            {"target_countries": ["PL", "XX"]},
            {"target_countries.1": ['"XX" is not a valid choice.']},
        ),
        (
            {"min_followers": -1},
            {"min_followers": ["Ensure this value is greater than or equal to 0."]},
        ),
        ({"currency": "JPY"}, {"currency": ['"JPY" is not a valid choice.']}),
        # Rules the services refuse, under the API's field names
        (
            {"landing_url": "http://moda.example.com/"},
            {"landing_url": ["The landing page must be an https:// address."]},
        ),
        (
            {"terms": {"commission_type": "percent", "commission_percent": "100.01"}},
            {
                "terms.commission_percent": [
                    "Enter a percent above 0 and at most 100, with at most two decimals."
                ]
            },
        ),
        (
            {"terms": {"commission_type": "fixed", "commission_fixed": "0.00"}},
            {"terms.commission_fixed": ["Enter a fixed amount above zero."]},
        ),
        ({"budget": "0"}, {"budget": ["The budget must be more than zero."]}),
        (
            {"starts_on": "2027-01-02", "ends_on": "2027-01-01"},
            {"ends_on": ["The campaign cannot end before it starts."]},
        ),
    ],
)
def test_create_campaign_refuses_bad_input_with_field_errors(
    overrides: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    # given
    brand = BrandFactory()

    # when
    response = _client(_member(brand)).post(
        _url("brand-campaigns", brand.slug), _campaign_body(**overrides), format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "errors": errors}
    assert Campaign.objects.count() == 0


def test_create_campaign_lists_every_missing_field() -> None:
    # given
    brand = BrandFactory()

    # when
    response = _client(_member(brand)).post(
        _url("brand-campaigns", brand.slug), {"terms": {}}, format="json"
    )

    # then
    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json()["errors"] == {
        "title": required,
        "landing_url": required,
        "niche": required,
        "currency": required,
        "terms.commission_type": required,
    }


# ---------------------------------------------------------------------------------------
# GET/PATCH /campaigns/<id>


def test_retrieve_campaign_returns_it() -> None:
    # given
    campaign = CampaignFactory(title="Serum", currency="EUR", percent=Decimal("9.99"))
    user = _member(campaign.brand)

    # when
    response = _client(user).get(_url("campaign-detail", campaign.pk))

    # then
    assert response.status_code == 200
    assert response.json()["title"] == "Serum"
    assert response.json()["terms"]["commission_percent"] == "9.99"


def test_patch_campaign_changes_only_what_it_sends_and_keeps_the_terms() -> None:
    # given
    campaign = CampaignFactory(title="Old", currency="PLN", percent=Decimal("10.00"), hold_days=14)
    user = _member(campaign.brand)

    # when
    response = _client(user).patch(
        _url("campaign-detail", campaign.pk),
        {"title": "New", "budget": "500.00", "terms": {"hold_days": 21}},
        format="json",
    )

    # then
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.title, campaign.budget_minor, campaign.currency) == ("New", 50_000, "PLN")
    assert campaign.landing_url == "https://shop.example.com/spring?utm_source=connect"
    current = CampaignTerms.objects.filter(campaign=campaign).order_by("-effective_from").first()
    assert current is not None
    assert (current.commission_percent, current.hold_days) == (Decimal("10.00"), 21)
    assert campaign.terms.count() == 2
    assert response.json()["terms"]["hold_days"] == 21


def test_patch_campaign_without_terms_appends_no_terms_version() -> None:
    # given
    campaign = CampaignFactory(percent=Decimal("10.00"))
    user = _member(campaign.brand)

    # when
    response = _client(user).patch(
        _url("campaign-detail", campaign.pk), {"brief": "Shorter."}, format="json"
    )

    # then
    assert response.status_code == 200
    assert campaign.terms.count() == 1
    assert not AuditEntry.objects.filter(action="campaigns.campaign.terms_changed").exists()


def test_patch_campaign_switching_to_a_fixed_commission_drops_the_percent() -> None:
    # given
    campaign = CampaignFactory(currency="EUR", percent=Decimal("10.00"))
    user = _member(campaign.brand)

    # when
    response = _client(user).patch(
        _url("campaign-detail", campaign.pk),
        {"terms": {"commission_type": "fixed", "commission_fixed": "7.50"}},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["terms"]["commission_type"] == "fixed"
    assert response.json()["terms"]["commission_fixed"] == "7.50"
    assert response.json()["terms"]["commission_percent"] is None


def test_patch_campaign_refuses_a_currency_change_after_publishing() -> None:
    # given
    campaign = CampaignFactory(currency="EUR")
    user = _member(campaign.brand)

    # when
    response = _client(user).patch(
        _url("campaign-detail", campaign.pk), {"currency": "PLN"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {"currency": ["The currency is fixed once a campaign is published."]},
    }
    campaign.refresh_from_db()
    assert campaign.currency == "EUR"


def test_patch_a_draft_to_another_currency_keeps_its_amounts() -> None:
    # given
    campaign = CampaignFactory(
        status=CampaignStatus.DRAFT,
        published_at=None,
        currency="EUR",
        budget_minor=100_000,
        percent=None,
        fixed_minor=500,
    )
    user = _member(campaign.brand)

    # when
    response = _client(user).patch(
        _url("campaign-detail", campaign.pk), {"currency": "CZK"}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["currency"] == "CZK"
    assert response.json()["budget"] == "1000.00"
    assert response.json()["terms"]["commission_fixed"] == "5.00"


def test_patch_an_ended_campaign_is_refused_with_a_detail_message() -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.ENDED)
    user = _member(campaign.brand)

    # when
    response = _client(user).patch(
        _url("campaign-detail", campaign.pk), {"title": "Again"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {"detail": ["An ended campaign cannot be changed."]},
    }


# ---------------------------------------------------------------------------------------
# Lifecycle


@pytest.mark.parametrize(
    ("name", "from_status", "to_status"),
    [
        ("campaign-publish", CampaignStatus.DRAFT, CampaignStatus.ACTIVE),
        ("campaign-pause", CampaignStatus.ACTIVE, CampaignStatus.PAUSED),
        ("campaign-resume", CampaignStatus.PAUSED, CampaignStatus.ACTIVE),
        ("campaign-end", CampaignStatus.ACTIVE, CampaignStatus.ENDED),
        ("campaign-end", CampaignStatus.PAUSED, CampaignStatus.ENDED),
    ],
)
def test_lifecycle_endpoints_move_the_campaign_and_repeat_harmlessly(
    name: str, from_status: str, to_status: str
) -> None:
    # given
    campaign = CampaignFactory(status=from_status)
    client = _client(_member(campaign.brand))

    # when
    first = client.post(_url(name, campaign.pk), format="json")
    second = client.post(_url(name, campaign.pk), format="json")

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == to_status
    campaign.refresh_from_db()
    assert campaign.status == to_status
    assert AuditEntry.objects.count() == 1


def test_publish_is_forbidden_for_an_unverified_brand() -> None:
    # given
    campaign = CampaignFactory(
        status=CampaignStatus.DRAFT, published_at=None, brand__verified_at=None
    )
    client = _client(_member(campaign.brand, BrandRole.OWNER))

    # when
    response = client.post(_url("campaign-publish", campaign.pk), format="json")

    # then
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "errors": {"detail": ["Your brand must be verified before it can publish campaigns."]},
    }


def test_a_move_the_lifecycle_does_not_allow_is_a_400() -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.ENDED)
    client = _client(_member(campaign.brand))

    # when
    response = client.post(_url("campaign-resume", campaign.pk), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {"detail": ["A campaign cannot go from Ended to Active."]},
    }


# ---------------------------------------------------------------------------------------
# GET /campaigns/<id>/collaborations


def test_list_collaborations_shows_codes_creator_status_and_clicks() -> None:
    # given
    campaign = CampaignFactory()
    creator = CreatorProfileFactory(handle="ola_creates", display_name="Ola", country="PL")
    active = CollaborationFactory(
        campaign=campaign, creator=creator, tracking_code="Ab3dEf7hJk", discount_code="OLA"
    )
    ClickDailyCount.objects.create(collaboration=active, day=timezone.now().date(), clicks=42)
    client = _client(_member(campaign.brand))

    # when
    response = client.get(_url("campaign-collaborations", campaign.pk))

    # then
    assert response.status_code == 200
    active.refresh_from_db()
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": active.pk,
                "campaign": campaign.pk,
                "status": "active",
                "creator": {
                    "handle": "ola_creates",
                    "display_name": "Ola",
                    "country": "PL",
                    "max_followers": 0,
                },
                "pitch": "",
                "decision_reason": "",
                "tracking_code": "Ab3dEf7hJk",
                "tracking_url": "http://127.0.0.1:8000/r/Ab3dEf7hJk",
                "discount_code": "OLA",
                "clicks": 42,
                "activated_at": _time(active.activated_at),
                "removed_at": None,
                "created_at": _time(active.created_at),
                "updated_at": _time(active.updated_at),
            }
        ],
    }


def test_list_collaborations_filters_by_status_and_pages_with_a_cursor() -> None:
    # given
    campaign = CampaignFactory()
    applications = [_applied(campaign=campaign, pitch=f"Pitch {n}") for n in range(3)]
    CollaborationFactory(campaign=campaign)
    client = _client(_member(campaign.brand))

    # when
    first = client.get(
        _url("campaign-collaborations", campaign.pk), {"status": "applied", "page_size": 2}
    ).json()
    second = client.get(first["next"]).json()
    bad = client.get(_url("campaign-collaborations", campaign.pk), {"status": "gone"})

    # then
    newest_first = [c.pk for c in reversed(applications)]
    assert [c["id"] for c in first["results"]] == newest_first[:2]
    assert [c["id"] for c in second["results"]] == newest_first[2:]
    assert second["next"] is None
    assert {c["status"] for c in first["results"] + second["results"]} == {"applied"}
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"status": ['"gone" is not a valid choice.']}


# ---------------------------------------------------------------------------------------
# POST /campaigns/<id>/invitations


def test_invite_a_creator_by_handle() -> None:
    # given
    campaign = CampaignFactory()
    creator = CreatorProfileFactory(handle="Kuba_Gra")
    user = _member(campaign.brand)

    # when
    response = _client(user).post(
        _url("campaign-invitations", campaign.pk), {"creator": "@kuba_gra"}, format="json"
    )

    # then
    assert response.status_code == 201
    collaboration = Collaboration.objects.get()
    assert (collaboration.creator, collaboration.status) == (creator, "invited")
    assert collaboration.invited_by == user
    assert response.json()["status"] == "invited"
    assert response.json()["creator"]["handle"] == "Kuba_Gra"
    assert response.json()["tracking_code"] is None


def test_invite_refuses_an_unknown_handle_and_a_creator_already_in() -> None:
    # given
    active = CollaborationFactory()
    client = _client(_member(active.campaign.brand))
    url = _url("campaign-invitations", active.campaign.pk)

    # when
    unknown = client.post(url, {"creator": "nobody_here"}, format="json")
    already = client.post(url, {"creator": active.creator.handle}, format="json")
    missing = client.post(url, {}, format="json")

    # then
    assert (unknown.status_code, already.status_code, missing.status_code) == (400, 400, 400)
    assert unknown.json()["errors"] == {"creator": ["No creator has this handle."]}
    assert already.json()["errors"] == {
        "detail": ["This creator is already part of this campaign."]
    }
    assert missing.json()["errors"] == {"creator": ["This field is required."]}


# ---------------------------------------------------------------------------------------
# POST /collaborations/<id>/accept|reject|remove


def test_accept_an_application_gives_codes() -> None:
    # given
    collaboration = _applied(creator=CreatorProfileFactory(handle="lucia_cocina"))
    client = _client(_member(collaboration.campaign.brand))

    # when
    response = client.post(_url("collaboration-accept", collaboration.pk), {}, format="json")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert body["discount_code"] == "LUCIACOCINA"
    assert body["tracking_url"] == f"http://127.0.0.1:8000/r/{body['tracking_code']}"


def test_accept_with_a_discount_code_taken_in_the_brand_is_a_field_error() -> None:
    # given
    taken = CollaborationFactory(discount_code="SPRING10")
    collaboration = _applied(campaign=CampaignFactory(brand=taken.campaign.brand))
    client = _client(_member(taken.campaign.brand))

    # when
    response = client.post(
        _url("collaboration-accept", collaboration.pk), {"discount_code": "spring10"}, format="json"
    )
    chosen = client.post(
        _url("collaboration-accept", collaboration.pk), {"discount_code": "ola-15"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {"discount_code": ["This discount code is already used in your brand."]},
    }
    assert chosen.status_code == 200
    assert chosen.json()["discount_code"] == "OLA-15"


def test_reject_needs_a_reason_and_keeps_it() -> None:
    # given
    collaboration = _applied()
    client = _client(_member(collaboration.campaign.brand))
    url = _url("collaboration-reject", collaboration.pk)

    # when
    missing = client.post(url, {}, format="json")
    blank = client.post(url, {"reason": "   "}, format="json")
    rejected = client.post(url, {"reason": "We need video creators."}, format="json")

    # then
    assert missing.json() == {"code": "invalid", "errors": {"reason": ["This field is required."]}}
    assert blank.json() == {
        "code": "invalid",
        "errors": {"reason": ["This field may not be blank."]},
    }
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "We need video creators."


def test_reject_an_active_collaboration_is_a_400() -> None:
    # given
    collaboration = CollaborationFactory()
    client = _client(_member(collaboration.campaign.brand))

    # when
    response = client.post(
        _url("collaboration-reject", collaboration.pk), {"reason": "Late."}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "detail": ["This collaboration cannot go from Active to Rejected."]
    }


def test_remove_an_active_creator() -> None:
    # given
    collaboration = CollaborationFactory()
    client = _client(_member(collaboration.campaign.brand))

    # when
    response = client.post(
        _url("collaboration-remove", collaboration.pk), {"reason": "Spam."}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "removed"
    assert response.json()["removed_at"] is not None
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.REMOVED


def test_the_creator_of_an_application_cannot_accept_it_through_the_api() -> None:
    # given
    collaboration = _applied()
    client = _client(collaboration.creator.user)

    # when
    response = client.post(_url("collaboration-accept", collaboration.pk), {}, format="json")

    # then: not a member of the brand, so the collaboration does not exist for them
    assert response.status_code == 404
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED
