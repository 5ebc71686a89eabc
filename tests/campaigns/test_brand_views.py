"""The brand side in the browser: brand signup, the team, campaigns and creator reviews."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from campaigns.models import (
    Brand,
    BrandInvitation,
    BrandMembership,
    BrandRole,
    Campaign,
    CampaignStatus,
    CampaignTerms,
    Collaboration,
    CollaborationStatus,
    JoinMode,
)
from connect.models import AuditEntry
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
    niche,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _member_client(client: Client, **membership: Any) -> tuple[Client, BrandMembership]:
    member = BrandMembershipFactory(**membership)
    client.force_login(member.user)
    return client, member


def _application(campaign: Campaign, **kwargs: Any) -> Collaboration:
    return CollaborationFactory(
        campaign=campaign,
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
        pitch="I review running shoes every week.",
        **kwargs,
    )


def _campaign_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Spring running",
        "brief": "Show the **new** shoes on a run.",
        "landing_url": "https://shop.example.com/spring",
        "niche": niche("fitness").pk,
        "target_countries": ["PL", "ES"],
        "commission_type": "percent",
        "commission_percent": "12.50",
        "commission_fixed": "",
        "currency": "EUR",
        "hold_days": "30",
        "attribution_window_days": "14",
        "join_mode": JoinMode.APPLICATION,
        "min_followers": "5000",
        "eligible_countries": ["PL"],
        "starts_on": "2030-03-01",
        "ends_on": "2030-05-31",
        "budget": "5000.00",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# Brand signup


def test_a_verified_user_creates_a_brand_and_becomes_its_owner(client: Client, png_upload) -> None:  # type: ignore[no-untyped-def]
    # given
    user = UserFactory(verified=True)
    client.force_login(user)

    # when
    response = client.post(
        "/brands/new/",
        {
            "name": "Trail Co",
            "slug": "",
            "website": "https://trail.example.com",
            "country": "ES",
            "description": "Shoes for mountains.",
            "logo": png_upload,
        },
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/brand/"
    brand = Brand.objects.get()
    assert (brand.name, brand.slug, brand.country.code) == ("Trail Co", "trail-co", "ES")
    assert brand.verified_at is None
    assert brand.logo.name.endswith(".webp")
    membership = BrandMembership.objects.get()
    assert (membership.user, membership.role) == (user, BrandRole.OWNER)
    home = client.get("/brand/")
    assert home.context["brand"] == brand
    assert "Your brand is waiting for verification" in home.content.decode()


def test_an_unverified_user_cannot_create_a_brand(client: Client) -> None:
    # given
    client.force_login(UserFactory(verified=False))

    # when
    page = client.get("/brands/new/")
    response = client.post(
        "/brands/new/",
        {"name": "Trail Co", "website": "https://trail.example.com", "country": "ES"},
    )

    # then
    assert "campaigns/brand/create.html" not in [t.name for t in page.templates]
    assert "Verify Your Email Address" in page.content.decode()
    assert response.status_code == 200
    assert Brand.objects.count() == 0


def test_a_taken_brand_address_is_shown_on_its_field(client: Client) -> None:
    # given
    BrandFactory(slug="trail-co")
    client.force_login(UserFactory(verified=True))

    # when
    response = client.post(
        "/brands/new/",
        {"name": "Trail Co", "website": "https://trail.example.com", "country": "ES"},
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"slug": ["This address is already taken."]}
    assert Brand.objects.count() == 1


def test_the_brand_home_offers_to_create_a_brand_to_users_without_one(client: Client) -> None:
    # given
    client.force_login(UserFactory(verified=True))

    # when
    response = client.get("/brand/")

    # then
    assert response.status_code == 200
    assert "campaigns/brand/start.html" in [t.name for t in response.templates]
    assert 'href="/brands/new/"' in response.content.decode()


def test_the_brand_home_lists_the_active_brand_s_campaigns(client: Client) -> None:
    # given
    client, member = _member_client(client)
    mine = CampaignFactory(brand=member.brand, title="Spring running")
    CampaignFactory(title="Someone else's")

    # when
    response = client.get("/brand/")

    # then
    assert list(response.context["campaigns"]) == [mine]
    assert 'href="/brand/campaigns/new/"' in response.content.decode()


# The team


def test_an_owner_invites_a_colleague_who_accepts_with_the_invited_address(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    client, owner = _member_client(client, brand=BrandFactory(name="Trail Co"))
    colleague = UserFactory(email="ana@example.com", verified=True)

    # when: the owner invites, and the colleague follows the emailed link
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post("/brand/team/", {"email": "Ana@Example.com", "role": "manager"})
    link = re.search(r"/brand/invitations/[\w-]+/", mail.outbox[0].body).group(0)
    colleague_client = Client()
    colleague_client.force_login(colleague)
    page = colleague_client.get(link)
    accepted = colleague_client.post(link)

    # then
    assert invited.status_code == 302
    assert mail.outbox[0].to == ["ana@example.com"]
    assert "Accept invitation" in page.content.decode()
    assert accepted.status_code == 302
    assert accepted["Location"] == "/brand/"
    membership = BrandMembership.objects.get(user=colleague)
    assert (membership.brand, membership.role) == (owner.brand, BrandRole.MANAGER)
    assert BrandInvitation.objects.get().accepted_at is not None
    team = client.get("/brand/team/")
    assert [m.user.email for m in team.context["members"]] == [
        owner.user.email,
        "ana@example.com",
    ]
    assert list(team.context["invitations"]) == []


def test_an_invitation_opened_with_another_address_explains_and_refuses(client: Client) -> None:
    # given
    brand = BrandFactory()
    invitation = BrandInvitation.objects.create(
        brand=brand, email="ana@example.com", role=BrandRole.MANAGER, token="tok-123"
    )
    client.force_login(UserFactory(email="piotr@example.com", verified=True))

    # when
    page = client.get(f"/brand/invitations/{invitation.token}/")
    client.post(f"/brand/invitations/{invitation.token}/")

    # then
    content = page.content.decode()
    assert "This invitation is for another address" in content
    assert "<strong>ana@example.com</strong>" in content
    assert "<strong>piotr@example.com</strong>" in content
    assert "Accept invitation" not in content
    assert not BrandMembership.objects.filter(brand=brand).exists()


def test_an_invitation_asks_a_signed_out_visitor_to_sign_in_with_the_invited_address(
    client: Client,
) -> None:
    # given
    invitation = BrandInvitation.objects.create(
        brand=BrandFactory(), email="ana@example.com", role=BrandRole.OWNER, token="tok-456"
    )

    # when
    response = client.get(f"/brand/invitations/{invitation.token}/")

    # then
    content = response.content.decode()
    assert "Sign in with <strong>ana@example.com</strong>" in content
    assert "/accounts/login/?next=/brand/invitations/tok-456/" in content


def test_a_manager_cannot_invite_members(client: Client) -> None:
    # given
    client, _manager = _member_client(client, role=BrandRole.MANAGER)

    # when
    response = client.post("/brand/team/", {"email": "ana@example.com", "role": "owner"})

    # then
    assert response.status_code == 403
    assert BrandInvitation.objects.count() == 0


def test_an_owner_removes_a_member_but_not_the_last_owner(client: Client) -> None:
    # given
    client, owner = _member_client(client)
    manager = BrandMembershipFactory(brand=owner.brand, role=BrandRole.MANAGER)

    # when
    removed = client.post(f"/brand/team/{manager.pk}/remove/", follow=True)
    refused = client.post(f"/brand/team/{owner.pk}/remove/", follow=True)

    # then
    assert _messages(removed) == [
        f"{manager.user.email} is no longer a member of {owner.brand.name}."
    ]
    assert _messages(refused) == ["A brand needs at least one owner."]
    assert list(BrandMembership.objects.all()) == [owner]


def test_a_member_of_two_brands_switches_between_them(client: Client) -> None:
    # given
    client, first = _member_client(client, brand=BrandFactory(name="Alpha"))
    second = BrandMembershipFactory(user=first.user, brand=BrandFactory(name="Beta"))
    beta_campaign = CampaignFactory(brand=second.brand)

    # when
    before = client.get("/brand/campaigns/")
    switched = client.post(f"/brand/switch/{second.brand.slug}/")
    after = client.get("/brand/campaigns/")

    # then
    assert before.context["brand"] == first.brand
    assert switched.status_code == 302
    assert after.context["brand"] == second.brand
    assert list(after.context["campaigns"]) == [beta_campaign]
    assert after.context["nav_active_brand"] == second.brand
    assert [b.name for b in after.context["nav_brands"]] == ["Alpha", "Beta"]


def test_switching_to_a_brand_of_someone_else_is_not_found(client: Client) -> None:
    # given
    client, member = _member_client(client)
    other = BrandFactory()

    # when
    response = client.post(f"/brand/switch/{other.slug}/")

    # then
    assert response.status_code == 404
    assert client.get("/brand/").context["brand"] == member.brand


# Campaigns: create and edit


def test_a_campaign_is_saved_as_a_draft_with_its_first_terms(client: Client) -> None:
    # given
    client, member = _member_client(client)

    # when
    response = client.post("/brand/campaigns/new/", _campaign_post())

    # then
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/brand/campaigns/{campaign.pk}/"
    assert (campaign.brand, campaign.status, campaign.currency) == (
        member.brand,
        CampaignStatus.DRAFT,
        "EUR",
    )
    assert campaign.budget_minor == 500000
    assert campaign.target_countries == ["PL", "ES"]
    assert campaign.eligible_countries == ["PL"]
    assert campaign.min_followers == 5000
    assert str(campaign.ends_on) == "2030-05-31"
    terms = CampaignTerms.objects.get()
    assert (
        terms.commission_type,
        terms.commission_percent,
        terms.commission_fixed_minor,
        terms.hold_days,
        terms.attribution_window_days,
    ) == ("percent", Decimal("12.50"), None, 30, 14)


def test_a_fixed_commission_is_typed_as_a_decimal_and_stored_in_minor_units(
    client: Client,
) -> None:
    # given
    client, _member = _member_client(client)

    # when
    client.post(
        "/brand/campaigns/new/",
        _campaign_post(
            commission_type="fixed", commission_percent="", commission_fixed="15.90", currency="PLN"
        ),
    )

    # then
    terms = CampaignTerms.objects.get()
    assert (terms.commission_type, terms.commission_percent, terms.commission_fixed_minor) == (
        "fixed",
        None,
        1590,
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        (
            {"landing_url": "http://shop.example.com"},
            "landing_url",
            "The landing page must be an https:// address.",
        ),
        ({"niche": ""}, "niche", "This field is required."),
        (
            {"commission_percent": "0"},
            "commission_percent",
            "Enter a percent above 0 and at most 100.",
        ),
        (
            {"commission_percent": "100.01"},
            "commission_percent",
            "Enter a percent above 0 and at most 100.",
        ),
        (
            {"commission_percent": "12.345"},
            "commission_percent",
            "Ensure that there are no more than 2 decimal places.",
        ),
        ({"commission_percent": ""}, "commission_percent", "Enter the percent creators earn."),
        (
            {"commission_type": "fixed", "commission_fixed": ""},
            "commission_fixed",
            "Enter the amount creators earn per order.",
        ),
        (
            {"commission_type": "fixed", "commission_fixed": "9.999"},
            "commission_fixed",
            "Enter an amount like 12.50, with at most the decimals EUR allows.",
        ),
        (
            {"commission_type": "fixed", "commission_fixed": "0.00"},
            "commission_fixed",
            "Enter an amount above zero.",
        ),
        (
            {"currency": "JPY"},
            "currency",
            "Select a valid choice. JPY is not one of the available choices.",
        ),
        ({"hold_days": "366"}, "hold_days", "Ensure this value is less than or equal to 365."),
        (
            {"attribution_window_days": "0"},
            "attribution_window_days",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"min_followers": "-1"},
            "min_followers",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"starts_on": "2030-06-01", "ends_on": "2030-05-01"},
            "ends_on",
            "The campaign cannot end before it starts.",
        ),
        (
            {"budget": "abc"},
            "budget",
            "Enter an amount like 12.50, with at most the decimals EUR allows.",
        ),
        ({"budget": "0"}, "budget", "Enter an amount above zero."),
        (
            {"join_mode": "everyone"},
            "join_mode",
            "Select a valid choice. everyone is not one of the available choices.",
        ),
    ],
)
def test_campaign_creation_shows_each_validation_error_on_its_field(
    client: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    # given
    client, _member = _member_client(client)

    # when
    response = client.post("/brand/campaigns/new/", _campaign_post(**overrides))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert Campaign.objects.count() == 0


def test_the_currency_of_a_published_campaign_stays_fixed_in_the_form(client: Client) -> None:
    # given: the currency of a published campaign is fixed
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)

    # when: a paused (published) campaign's form gets a currency through a crafted request
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
    response = client.post(
        f"/brand/campaigns/{campaign.pk}/edit/", _campaign_post(currency="PLN", title="Renamed")
    )

    # then: the disabled field keeps EUR, so the campaign saves in EUR
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.title, campaign.currency) == ("Renamed", "EUR")


def test_editing_a_live_campaign_s_terms_adds_a_version_and_emails_its_creators(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, percent=Decimal("10.00"))
    active = CollaborationFactory(campaign=campaign)
    _application(campaign)

    # when
    form = client.get(f"/brand/campaigns/{campaign.pk}/edit/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/brand/campaigns/{campaign.pk}/edit/",
            _campaign_post(title=campaign.title, commission_percent="15.00"),
            follow=True,
        )

    # then
    assert "This campaign is live: changing the commission terms affects creators" in (
        form.content.decode()
    )
    assert "The 1 creator in this campaign is emailed about the change." in form.content.decode()
    versions = list(campaign.terms.order_by("effective_from"))
    assert [v.commission_percent for v in versions] == [Decimal("10.00"), Decimal("15.00")]
    assert [m.to for m in mail.outbox] == [[active.creator.user.email]]
    assert mail.outbox[0].subject == f"[Connect] New commission terms for {campaign.title}"
    assert _messages(response) == [
        "Saved. The new commission terms apply to orders from now on; "
        "the creators in this campaign are being emailed."
    ]
    assert [t.commission_percent for t in response.context["terms_history"]] == [
        Decimal("15.00"),
        Decimal("10.00"),
    ]


def test_an_edit_that_keeps_the_terms_adds_no_version_and_sends_nothing(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, percent=Decimal("12.50"), window_days=14)
    CollaborationFactory(campaign=campaign)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/brand/campaigns/{campaign.pk}/edit/", _campaign_post(title="New title"))

    # then
    campaign.refresh_from_db()
    assert campaign.title == "New title"
    assert campaign.terms.count() == 1
    assert mail.outbox == []


def test_the_edit_form_starts_from_the_campaign_and_its_terms_in_force(client: Client) -> None:
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(
        brand=member.brand, percent=None, fixed_minor=1250, currency="PLN", budget_minor=99900
    )

    # when
    response = client.get(f"/brand/campaigns/{campaign.pk}/edit/")

    # then
    initial = response.context["form"].initial
    assert (initial["commission_type"], initial["commission_fixed"], initial["budget"]) == (
        "fixed",
        "12.50",
        "999.00",
    )
    assert response.context["form"].fields["currency"].disabled is True


def test_an_ended_campaign_cannot_be_edited(client: Client) -> None:
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.ENDED)

    # when
    response = client.post(
        f"/brand/campaigns/{campaign.pk}/edit/", _campaign_post(title="Renamed"), follow=True
    )

    # then
    assert _messages(response) == ["An ended campaign cannot be changed."]
    campaign.refresh_from_db()
    assert campaign.title != "Renamed"


# Campaigns: lifecycle


def test_publishing_is_refused_while_the_brand_is_unverified(client: Client) -> None:
    # given
    client, member = _member_client(client, brand=BrandFactory(verified_at=None))
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)

    # when
    response = client.post(f"/brand/campaigns/{campaign.pk}/publish/", follow=True)

    # then
    assert _messages(response) == ["Your brand must be verified before it can publish campaigns."]
    assert "Your brand is waiting for verification" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_a_campaign_is_published_paused_resumed_and_ended(client: Client) -> None:
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)
    statuses = []

    # when
    for action in ("publish", "pause", "resume", "end"):
        response = client.post(f"/brand/campaigns/{campaign.pk}/{action}/")
        assert response.status_code == 302
        campaign.refresh_from_db()
        statuses.append(campaign.status)

    # then
    assert statuses == ["active", "paused", "active", "ended"]
    assert campaign.published_at is not None
    assert list(
        AuditEntry.objects.filter(target_id=str(campaign.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "campaigns.campaign.published",
        "campaigns.campaign.paused",
        "campaigns.campaign.resumed",
        "campaigns.campaign.ended",
    ]


def test_an_ended_campaign_cannot_go_back_to_active(client: Client) -> None:
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.ENDED)

    # when
    resumed = client.post(f"/brand/campaigns/{campaign.pk}/resume/", follow=True)
    published = client.post(f"/brand/campaigns/{campaign.pk}/publish/", follow=True)
    paused = client.post(f"/brand/campaigns/{campaign.pk}/pause/", follow=True)

    # then
    assert _messages(resumed) == ["A campaign cannot go from Ended to Active."]
    assert _messages(published) == ["A campaign cannot go from Ended to Active."]
    assert _messages(paused) == ["A campaign cannot go from Ended to Paused."]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ENDED


def test_the_campaign_list_filters_by_status_and_shows_counts(client: Client) -> None:
    # given
    client, member = _member_client(client)
    live = CampaignFactory(brand=member.brand)
    CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)
    _application(live)
    CollaborationFactory(campaign=live)

    # when
    everything = client.get("/brand/campaigns/")
    active = client.get("/brand/campaigns/?status=active")

    # then
    assert [(value, count) for value, _label, count in everything.context["tabs"]] == [
        ("", 2),
        ("draft", 1),
        ("active", 1),
        ("paused", 0),
        ("ended", 0),
    ]
    assert [(c, c.active_count, c.pending_count) for c in active.context["campaigns"]] == [
        (live, 1, 1)
    ]
    assert "1 to review" in active.content.decode()


def test_the_brief_is_rendered_as_sanitized_markdown(client: Client) -> None:
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(
        brand=member.brand,
        brief="Wear it **outside**.\n\n<script>alert(1)</script>[x](javascript:alert(1))",
    )

    # when
    response = client.get(f"/brand/campaigns/{campaign.pk}/")

    # then
    assert str(response.context["brief_html"]) == (
        '<p>Wear it <strong>outside</strong>.</p>\n\n<p><a rel="nofollow noopener noreferrer">x</a></p>'
    )
    assert "<script>alert(1)" not in response.content.decode()


# Collaborations: review, removal and discount codes


def test_an_application_is_accepted_with_a_custom_discount_code(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, join_mode=JoinMode.APPLICATION)
    application = _application(campaign)

    # when
    detail = client.get(f"/brand/campaigns/{campaign.pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/brand/collaborations/{application.pk}/accept/", {"discount_code": "run-ola"}
        )

    # then
    assert [c.pk for c in detail.context["applications"]] == [application.pk]
    assert response["Location"] == f"/brand/campaigns/{campaign.pk}/#creators"
    application.refresh_from_db()
    assert (application.status, application.discount_code) == ("active", "RUN-OLA")
    assert application.tracking_code
    assert [m.to for m in mail.outbox] == [[application.creator.user.email]]


def test_an_application_is_accepted_with_a_code_made_from_the_handle(client: Client) -> None:
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, join_mode=JoinMode.APPLICATION)
    application = _application(campaign, creator=CreatorProfileFactory(handle="ola_runs"))

    # when
    client.post(f"/brand/collaborations/{application.pk}/accept/", {"discount_code": ""})

    # then
    application.refresh_from_db()
    assert (application.status, application.discount_code) == ("active", "OLARUNS")


def test_an_application_is_rejected_with_a_reason_and_needs_one(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, join_mode=JoinMode.APPLICATION)
    application = _application(campaign)

    # when
    without_reason = client.post(f"/brand/collaborations/{application.pk}/reject/", {"reason": ""})
    with django_capture_on_commit_callbacks(execute=True):
        with_reason = client.post(
            f"/brand/collaborations/{application.pk}/reject/",
            {"reason": "We need creators in Spain."},
        )

    # then
    assert without_reason.status_code == 200
    row = without_reason.context["applications"][0]
    assert row.reject_form.errors == {"reason": ["This field is required."]}
    assert with_reason.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == (
        "rejected",
        "We need creators in Spain.",
    )
    assert "We need creators in Spain." in mail.outbox[0].body


def test_a_creator_is_removed_after_a_confirmation_with_an_optional_reason(
    client: Client,
) -> None:
    # given
    client, member = _member_client(client)
    collaboration = CollaborationFactory(campaign=CampaignFactory(brand=member.brand))

    # when
    confirm = client.get(f"/brand/collaborations/{collaboration.pk}/remove/")
    response = client.post(
        f"/brand/collaborations/{collaboration.pk}/remove/", {"reason": "Off-brand posts."}
    )

    # then
    assert f"Remove @{collaboration.creator.handle} from" in confirm.content.decode()
    assert response.status_code == 302
    collaboration.refresh_from_db()
    assert (collaboration.status, collaboration.decision_reason) == ("removed", "Off-brand posts.")
    assert collaboration.removed_at is not None


def test_a_discount_code_is_set_and_must_be_unique_in_the_brand_in_any_case(
    client: Client,
) -> None:
    # given
    client, member = _member_client(client)
    first = CampaignFactory(brand=member.brand)
    second = CampaignFactory(brand=member.brand)
    taken = CollaborationFactory(campaign=first, discount_code="SPRING10")
    collaboration = CollaborationFactory(campaign=second, discount_code="OLD")

    # when
    duplicate = client.post(
        f"/brand/collaborations/{collaboration.pk}/discount-code/", {"discount_code": "spring10"}
    )
    malformed = client.post(
        f"/brand/collaborations/{collaboration.pk}/discount-code/", {"discount_code": "a b"}
    )
    saved = client.post(
        f"/brand/collaborations/{collaboration.pk}/discount-code/", {"discount_code": "ola-15"}
    )

    # then
    assert duplicate.status_code == 200
    row = next(c for c in duplicate.context["creators"] if c.pk == collaboration.pk)
    assert row.discount_form.errors == {
        "discount_code": ["This discount code is already used in your brand."]
    }
    assert "This discount code is already used in your brand." in duplicate.content.decode()
    row = next(c for c in malformed.context["creators"] if c.pk == collaboration.pk)
    assert row.discount_form.errors == {
        "discount_code": ["Use 3 to 32 letters, digits, hyphens or underscores."]
    }
    assert saved.status_code == 302
    collaboration.refresh_from_db()
    taken.refresh_from_db()
    assert (collaboration.discount_code, taken.discount_code) == ("OLA-15", "SPRING10")


def test_a_discount_code_used_in_another_brand_is_free_in_this_one(client: Client) -> None:
    # given
    client, member = _member_client(client)
    CollaborationFactory(discount_code="SPRING10")
    collaboration = CollaborationFactory(campaign=CampaignFactory(brand=member.brand))

    # when
    client.post(
        f"/brand/collaborations/{collaboration.pk}/discount-code/", {"discount_code": "spring10"}
    )

    # then
    collaboration.refresh_from_db()
    assert collaboration.discount_code == "SPRING10"


# Inviting creators


def test_a_creator_is_invited_by_handle_from_the_campaign_page(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    client, member = _member_client(client)
    campaign = CampaignFactory(brand=member.brand, join_mode=JoinMode.INVITE_ONLY)
    creator = CreatorProfileFactory(handle="Ola_Runs")

    # when
    unknown = client.post(f"/brand/campaigns/{campaign.pk}/invite/", {"handle": "@nobody"})
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(f"/brand/campaigns/{campaign.pk}/invite/", {"handle": "@ola_runs"})

    # then
    assert unknown.context["invite_form"].errors == {
        "handle": ["No creator has the handle @nobody."]
    }
    assert invited["Location"] == f"/brand/campaigns/{campaign.pk}/#invited"
    collaboration = Collaboration.objects.get()
    assert (collaboration.creator, collaboration.status, collaboration.invited_by) == (
        creator,
        "invited",
        member.user,
    )
    assert [m.to for m in mail.outbox] == [[creator.user.email]]


def test_a_brand_member_invites_a_creator_from_the_directory(client: Client) -> None:
    # given
    client, member = _member_client(client)
    draft = CampaignFactory(
        brand=member.brand, title="Autumn", status=CampaignStatus.DRAFT, published_at=None
    )
    CampaignFactory(brand=member.brand, title="Over", status=CampaignStatus.ENDED)
    CampaignFactory(title="Not ours")
    creator = CreatorProfileFactory(handle="ola_runs")

    # when
    directory = client.get("/creators/")
    response = client.post(
        "/brand/invite/",
        {"campaign": draft.pk, "handle": "ola_runs", "next": "/creators/?q=ola"},
        follow=True,
    )

    # then
    assert directory.status_code == 200
    assert [c.title for c in directory.context["nav_invite_campaigns"]] == ["Autumn"]
    content = directory.content.decode()
    assert 'action="/brand/invite/"' in content
    assert "Invite to campaign" in content
    assert response.redirect_chain == [("/creators/?q=ola", 302)]
    assert _messages(response) == ["We invited @ola_runs to Autumn."]
    assert Collaboration.objects.get().creator == creator


def test_the_directory_has_no_invite_menu_for_staff_without_a_brand(client: Client) -> None:
    # given
    staff = UserFactory(verified=True, is_staff=True)
    CreatorProfileFactory()
    client.force_login(staff)

    # when
    response = client.get("/creators/")

    # then
    assert response.status_code == 200
    assert "Invite to campaign" not in response.content.decode()


def test_brand_members_may_browse_the_directory_and_others_may_not(client: Client) -> None:
    # given
    member = BrandMembershipFactory()
    outsider = UserFactory(verified=True)

    # when
    client.force_login(member.user)
    as_member = client.get("/creators/")
    client.force_login(outsider)
    as_outsider = client.get("/creators/")

    # then
    assert (as_member.status_code, as_outsider.status_code) == (200, 403)


# Tenancy: a member of one brand never reaches another brand's data


def _other_brand_urls() -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", "/brand/campaigns/{campaign}/", {}),
        ("get", "/brand/campaigns/{campaign}/edit/", {}),
        ("post", "/brand/campaigns/{campaign}/edit/", {"title": "Hijacked"}),
        ("post", "/brand/campaigns/{campaign}/publish/", {}),
        ("post", "/brand/campaigns/{campaign}/pause/", {}),
        ("post", "/brand/campaigns/{campaign}/resume/", {}),
        ("post", "/brand/campaigns/{campaign}/end/", {}),
        ("post", "/brand/campaigns/{campaign}/invite/", {"handle": "{handle}"}),
        ("post", "/brand/invite/", {"campaign": "{campaign}", "handle": "{handle}"}),
        ("post", "/brand/collaborations/{application}/accept/", {"discount_code": ""}),
        ("post", "/brand/collaborations/{application}/reject/", {"reason": "No."}),
        ("get", "/brand/collaborations/{active}/remove/", {}),
        ("post", "/brand/collaborations/{active}/remove/", {"reason": "No."}),
        ("post", "/brand/collaborations/{active}/discount-code/", {"discount_code": "MINE"}),
        ("post", "/brand/team/{membership}/remove/", {}),
        ("post", "/brand/switch/{slug}/", {}),
    ]


@pytest.mark.parametrize(("method", "url", "data"), _other_brand_urls())
def test_a_brand_member_cannot_open_or_change_another_brand_s_pages(
    client: Client, method: str, url: str, data: dict[str, str]
) -> None:
    # given
    client, _member = _member_client(client)
    other_owner = BrandMembershipFactory()
    campaign = CampaignFactory(brand=other_owner.brand, status=CampaignStatus.PAUSED)
    application = _application(campaign)
    active = CollaborationFactory(campaign=campaign, discount_code="THEIRS")
    creator = CreatorProfileFactory()
    ids = {
        "campaign": campaign.pk,
        "application": application.pk,
        "active": active.pk,
        "membership": other_owner.pk,
        "slug": other_owner.brand.slug,
        "handle": creator.handle,
    }

    # when
    response = getattr(client, method)(
        url.format(**ids), {k: v.format(**ids) for k, v in data.items()}
    )

    # then
    assert response.status_code == 404
    campaign.refresh_from_db()
    application.refresh_from_db()
    active.refresh_from_db()
    assert (campaign.status, campaign.title) == (CampaignStatus.PAUSED, campaign.title)
    assert application.status == CollaborationStatus.APPLIED
    assert (active.status, active.discount_code) == (CollaborationStatus.ACTIVE, "THEIRS")
    assert Collaboration.objects.filter(creator=creator).count() == 0
    assert BrandMembership.objects.filter(pk=other_owner.pk).exists()


def test_another_brand_s_team_and_campaigns_never_show_in_lists(client: Client) -> None:
    # given
    client, member = _member_client(client)
    other = BrandMembershipFactory()
    CampaignFactory(brand=other.brand)

    # when
    campaigns = client.get("/brand/campaigns/")
    team = client.get("/brand/team/")

    # then
    assert list(campaigns.context["campaigns"]) == []
    assert [m.user for m in team.context["members"]] == [member.user]


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    # when
    response = client.get("/brand/campaigns/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/brand/campaigns/"


# Staff and the public page


def test_staff_verify_selected_brands_from_the_admin(
    client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    staff = UserFactory(verified=True, is_staff=True, is_superuser=True)
    owner = BrandMembershipFactory(brand=BrandFactory(verified_at=None, name="Trail Co"))
    client.force_login(staff)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/campaigns/brand/",
            {"action": "verify_brands", "_selected_action": [owner.brand.pk]},
            follow=True,
        )

    # then
    assert response.status_code == 200
    owner.brand.refresh_from_db()
    assert (owner.brand.is_verified, owner.brand.verified_by) == (True, staff)
    assert "1 brand verified; its owners are emailed." in response.content.decode()
    assert [m.to for m in mail.outbox] == [[owner.user.email]]


def test_staff_suspend_a_brand_with_a_reason_and_its_campaigns_pause(client: Client) -> None:
    # given
    staff = UserFactory(verified=True, is_staff=True, is_superuser=True)
    campaign = CampaignFactory()
    client.force_login(staff)
    selection = {"action": "suspend_brands", "_selected_action": [campaign.brand.pk]}

    # when
    asked = client.post("/admin/campaigns/brand/", selection)
    response = client.post(
        "/admin/campaigns/brand/", {**selection, "apply": "1", "reason": "Fake shop."}
    )

    # then
    assert "Suspend brands" in asked.content.decode()
    assert response.status_code == 302
    campaign.refresh_from_db()
    campaign.brand.refresh_from_db()
    assert campaign.brand.is_suspended
    assert campaign.status == CampaignStatus.PAUSED
    entry = AuditEntry.objects.get(action="campaigns.brand.suspended")
    assert entry.after == {
        "suspended_at": campaign.brand.suspended_at.isoformat(),
        "reason": "Fake shop.",
    }


def test_the_public_brand_page_shows_only_active_campaigns(client: Client) -> None:
    # given
    brand = BrandFactory(name="Trail Co", description="Shoes for mountains.")
    live = CampaignFactory(brand=brand, title="Spring running")
    CampaignFactory(brand=brand, title="Draft one", status=CampaignStatus.DRAFT)
    CampaignFactory(brand=brand, title="Paused one", status=CampaignStatus.PAUSED)
    CampaignFactory(brand=brand, title="Ended one", status=CampaignStatus.ENDED)
    CampaignFactory(title="Another brand's")

    # when
    response = client.get(f"/brands/{brand.slug}/")

    # then
    assert response.status_code == 200
    assert list(response.context["campaigns"]) == [live]
    content = response.content.decode()
    assert f'href="/campaigns/{live.pk}/"' in content
    assert "Shoes for mountains." in content
    assert "Draft one" not in content


def test_a_suspended_brand_has_no_public_page(client: Client) -> None:
    # given
    brand = BrandFactory(suspended_at=timezone.now())

    # when
    response = client.get(f"/brands/{brand.slug}/")

    # then
    assert response.status_code == 404


# A brand's first day, in real Chromium


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("niches")
def test_a_brand_signs_up_drafts_publishes_and_reviews_creators_in_chromium(
    live_server, browser, screenshot
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from campaigns.services import brand_verify, collaboration_join
    from tests.connect.factories import PASSWORD

    # given: a verified user, two creators and a staff member who will verify the brand
    owner = UserFactory(email="maria@trail.example", verified=True)
    applicant = CreatorProfileFactory(handle="ola_runs", display_name="Ola Runs")
    invitee = CreatorProfileFactory(handle="kuba_trails", display_name="Kuba Trails")
    staff = UserFactory(verified=True, is_staff=True)
    base = live_server.url
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    # when: they create their brand
    page.goto(f"{base}/brand/")
    screenshot(page, "brand-start")
    page.get_by_role("link", name="Create your brand").click()
    # the page's script fills the address from the name once it has loaded
    page.wait_for_url(f"{base}/brands/new/")
    page.wait_for_load_state("load")
    page.fill("#id_name", "Trail Co")
    expect(page.locator("#id_slug")).to_have_value("trail-co")
    page.fill("#id_website", "https://trail.example.com")
    page.select_option("#id_country", "ES")
    page.fill("#id_description", "Running shoes for mountain trails.")
    screenshot(page, "brand-create")
    page.get_by_role("button", name="Create brand").click()

    # then: the brand waits for verification
    expect(page).to_have_url(f"{base}/brand/")
    expect(page.get_by_text("Your brand is waiting for verification")).to_be_visible()
    screenshot(page, "brand-home-unverified")

    # when: they draft a campaign, first with an http landing page
    page.get_by_role("link", name="New campaign").click()
    page.wait_for_load_state("load")
    page.fill("#id_title", "Spring trail season")
    page.fill("#id_landing_url", "http://trail.example.com/spring")
    page.select_option("#id_niche", label="Fitness")
    page.fill("#id_brief", "## What we want\n\nShow the **Summit 3** on a real trail.")
    expect(page.locator("#id_commission_fixed")).to_be_hidden()
    page.fill("#id_commission_percent", "12.5")
    page.check("input[name=join_mode][value=application]")
    page.select_option("#id_eligible_countries", ["ES", "PL"])
    expect(page.get_by_role("button", name="Unselect: Spain")).to_be_visible()
    page.fill("#id_budget", "5000.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The landing page must be an https:// address.")).to_be_visible()
    screenshot(page, "campaign-form-error")
    page.fill("#id_landing_url", "https://trail.example.com/spring")
    page.get_by_role("button", name="Save draft").click()

    # then: the draft cannot be published before verification
    expect(page.get_by_role("heading", name="Spring trail season")).to_be_visible()
    expect(page.get_by_role("button", name="Publish")).to_be_disabled()
    screenshot(page, "campaign-draft")

    # when: staff verify the brand and the owner publishes
    brand_verify(brand=Brand.objects.get(slug="trail-co"), actor=staff)
    page.reload()
    page.get_by_role("button", name="Publish").click()

    # then
    expect(page.get_by_text("The campaign is live: creators can find it now.")).to_be_visible()
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.ACTIVE

    # when: a creator applies and the owner accepts them with a chosen discount code
    collaboration_join(campaign=campaign, creator=applicant, pitch="I run 60 km a week.")
    page.reload()
    expect(page.get_by_text("I run 60 km a week.")).to_be_visible()
    screenshot(page, "campaign-review-queue")
    page.get_by_placeholder("Discount code (optional)").fill("ola-spring")
    page.get_by_role("button", name="Accept").click()

    # then
    expect(page.get_by_text("@ola_runs is in")).to_be_visible()
    expect(page.locator("#creators input[name=discount_code]")).to_have_value("OLA-SPRING")
    screenshot(page, "campaign-active-creator")

    # when: they invite another creator from the directory
    page.goto(f"{base}/creators/")
    card = page.locator(".creator-card", has_text="@kuba_trails")
    card.get_by_role("button", name="Invite to campaign").click()

    # then
    expect(page.get_by_text("We invited @kuba_trails to Spring trail season.")).to_be_visible()
    screenshot(page, "directory-invited")
    assert Collaboration.objects.get(creator=invitee).status == CollaborationStatus.INVITED

    # and the public page lists the live campaign
    page.goto(f"{base}/brands/trail-co/")
    expect(page.get_by_role("link", name="Spring trail season")).to_have_attribute(
        "href", f"/campaigns/{campaign.pk}/"
    )
    screenshot(page, "brand-public")
    page.close()
