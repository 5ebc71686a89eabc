"""Every notification email of the campaigns services, rendered in each language we ship.

The emails are sent by the real services after commit, so these tests also check that each
service passes the context its templates need. Facts (names, codes, links, amounts) are
asserted in every language; English wording is asserted exactly only in English, since the
Polish and Spanish catalogs translate it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.template.loader import get_template
from django.utils import translation

from campaigns.models import BrandRole, CollaborationStatus, JoinMode
from campaigns.services.brands import brand_member_invite, brand_verify
from campaigns.services.campaigns import CampaignInput, TermsInput, campaign_update
from campaigns.services.collaborations import (
    collaboration_accept,
    collaboration_accept_invitation,
    collaboration_decline,
    collaboration_invite,
    collaboration_join,
    collaboration_reject,
    collaboration_remove,
)
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://connect.example"
LANGUAGES = ["en", "pl", "es"]
Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


def _team(language: str, campaign_kwargs: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """A brand owner who reads email in `language`, and their active campaign."""
    owner = BrandMembershipFactory(
        brand=BrandFactory(name="Zielona Szafa & Co"),
        user=UserFactory(verified=True, preferred_language=language),
        role=BrandRole.OWNER,
    )
    campaign = CampaignFactory(
        brand=owner.brand, title="Spring <Linen> Drop", **(campaign_kwargs or {})
    )
    return owner.user, campaign


def _creator(language: str, **kwargs: Any) -> Any:
    return CreatorProfileFactory(
        user=UserFactory(verified=True, preferred_language=language),
        handle="ola_creates",
        display_name="Ola Kowalska",
        **kwargs,
    )


def _only_email(to: str) -> mail.EmailMessage:
    assert [message.to for message in mail.outbox] == [[to]]
    message = mail.outbox[0]
    assert "\n" not in message.subject
    assert "&amp;" not in message.body and "&lt;" not in message.body  # text, not HTML
    return message


@pytest.mark.parametrize("language", LANGUAGES)
def test_brand_verified_email_tells_the_owner_they_can_publish(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    staff = UserFactory(verified=True, is_staff=True)
    owner = BrandMembershipFactory(
        brand=BrandFactory(name="Zielona Szafa & Co", verified_at=None),
        user=UserFactory(verified=True, preferred_language=language),
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        brand_verify(brand=owner.brand, actor=staff)

    # then
    message = _only_email(owner.user.email)
    assert "Zielona Szafa & Co" in message.subject
    assert "Zielona Szafa & Co" in message.body
    assert f"{SITE}/brand/campaigns/" in message.body
    if language == "en":
        assert (
            message.subject == "[Connect] Zielona Szafa & Co is verified: you can publish campaigns"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_brand_member_invited_email_carries_the_invitation_link(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner = BrandMembershipFactory(brand=BrandFactory(name="Zielona Szafa & Co"))

    # when: the invitee may have no account yet, so the email is in the inviter's language
    with translation.override(language), django_capture_on_commit_callbacks(execute=True):
        invitation = brand_member_invite(
            brand=owner.brand, actor=owner.user, email="Marta@Example.com", role="manager"
        )

    # then
    message = _only_email("marta@example.com")
    assert "Zielona Szafa & Co" in message.subject
    assert owner.user.email in message.body
    assert f"{SITE}/brand/invitations/{invitation.token}/" in message.body
    assert "marta@example.com" in message.body
    if language == "en":
        assert (
            message.subject
            == "[Connect] You are invited to join Zielona Szafa & Co's team on Connect"
        )
        assert "as Manager." in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_campaign_terms_changed_email_lists_the_new_terms(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team("en", {"percent": Decimal("10.00"), "hold_days": 30})
    collaboration = CollaborationFactory(campaign=campaign, creator=_creator(language))
    data = CampaignInput(
        **{name: getattr(campaign, name) for name in CampaignInput.__dataclass_fields__}
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=owner,
            data=data,
            terms=TermsInput(
                commission_type="percent",
                commission_percent=Decimal("12.50"),
                hold_days=14,
                attribution_window_days=7,
            ),
        )

    # then
    message = _only_email(collaboration.creator.user.email)
    assert "Spring <Linen> Drop" in message.subject
    assert "Zielona Szafa & Co" in message.body
    # Spanish writes a (non-breaking) space before the percent sign.
    expected_percent = {"en": "12.5%", "pl": "12,5%", "es": "12,5\xa0%"}[language]
    assert expected_percent in message.body
    assert "14" in message.body and "7" in message.body
    assert f"{SITE}/campaigns/{campaign.pk}/" in message.body
    if language == "en":
        assert message.subject == "[Connect] New commission terms for Spring <Linen> Drop"
        assert "- Commission: 12.5% of each order\n" in message.body
        assert "- Payable 14 days after the order\n" in message.body
        assert "- Orders within 7 days of a click on your link count\n" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_collaboration_joined_email_introduces_the_creator_to_the_brand(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team(language)
    creator = _creator("en")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration = collaboration_join(campaign=campaign, creator=creator)

    # then
    message = _only_email(owner.email)
    assert "Ola Kowalska" in message.subject and "Spring <Linen> Drop" in message.subject
    assert "@ola_creates" in message.body
    assert collaboration.discount_code == "OLACREATES"
    assert "OLACREATES" in message.body
    assert f"{SITE}/brand/campaigns/{campaign.pk}/" in message.body
    assert f"{SITE}/@ola_creates" in message.body
    if language == "en":
        assert message.subject == "[Connect] Ola Kowalska joined Spring <Linen> Drop"


@pytest.mark.parametrize("language", LANGUAGES)
def test_collaboration_applied_email_carries_the_pitch_to_the_brand(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team(language, {"join_mode": JoinMode.APPLICATION})
    creator = _creator("en", max_followers=12500)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_join(
            campaign=campaign, creator=creator, pitch="I style linen for 12k readers & more."
        )

    # then
    message = _only_email(owner.email)
    assert "Ola Kowalska" in message.subject and "Spring <Linen> Drop" in message.subject
    assert "I style linen for 12k readers & more." in message.body
    assert f"{SITE}/brand/campaigns/{campaign.pk}/" in message.body
    assert {"en": "12,500", "pl": "12\xa0500", "es": "12\xa0500"}[language] in message.body
    if language == "en":
        assert message.subject == (
            "[Connect] New application from Ola Kowalska for Spring <Linen> Drop"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_application_accepted_email_gives_the_creator_link_and_code(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team("en", {"percent": None, "fixed_minor": 1250})
    collaboration = CollaborationFactory(
        campaign=campaign,
        creator=_creator(language),
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
        pitch="Linen!",
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration = collaboration_accept(
            collaboration=collaboration, actor=owner, discount_code="OLA10"
        )

    # then
    message = _only_email(collaboration.creator.user.email)
    assert "Zielona Szafa & Co" in message.subject
    assert f"{SITE}/r/{collaboration.tracking_code}" in message.body
    assert "OLA10" in message.body
    assert f"{SITE}/collaborations/{collaboration.pk}/" in message.body
    assert {"en": "€12.50", "pl": "12,50\xa0€", "es": "12,50\xa0€"}[language] in message.body
    if language == "en":
        assert message.subject == (
            "[Connect] You are in: Zielona Szafa & Co accepted you for Spring <Linen> Drop"
        )
        assert message.body.startswith("Hi Ola Kowalska,\n")


@pytest.mark.parametrize("language", LANGUAGES)
def test_application_rejected_email_gives_the_brands_reason(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team("en")
    collaboration = CollaborationFactory(
        campaign=campaign,
        creator=_creator(language),
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_reject(
            collaboration=collaboration, actor=owner, reason="We need creators in Spain <now>."
        )

    # then
    message = _only_email(collaboration.creator.user.email)
    assert "Spring <Linen> Drop" in message.subject
    assert "We need creators in Spain <now>." in message.body
    assert "Zielona Szafa & Co" in message.body
    assert f"{SITE}/campaigns/" in message.body
    if language == "en":
        assert message.subject == "[Connect] Your application to Spring <Linen> Drop"


@pytest.mark.parametrize("language", LANGUAGES)
def test_collaboration_invited_email_links_to_the_invitation(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team("en", {"percent": Decimal("15.00")})
    creator = _creator(language)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration = collaboration_invite(campaign=campaign, creator=creator, actor=owner)

    # then
    message = _only_email(creator.user.email)
    assert "Zielona Szafa & Co" in message.subject and "Spring <Linen> Drop" in message.subject
    assert ("15\xa0%" if language == "es" else "15%") in message.body
    assert f"{SITE}/collaborations/{collaboration.pk}/" in message.body
    if language == "en":
        assert message.subject == "[Connect] Zielona Szafa & Co invited you to Spring <Linen> Drop"
        assert "- Commission: 15% of each order\n" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_invitation_accepted_email_tells_the_brand(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team(language)
    creator = _creator("en")
    collaboration = collaboration_invite(campaign=campaign, creator=creator, actor=owner)
    mail.outbox.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration = collaboration_accept_invitation(
            collaboration=collaboration, actor=creator.user
        )

    # then
    message = _only_email(owner.email)
    assert "Ola Kowalska" in message.subject and "Spring <Linen> Drop" in message.subject
    assert collaboration.discount_code in message.body
    assert f"{SITE}/brand/campaigns/{campaign.pk}/" in message.body
    if language == "en":
        assert message.subject == (
            "[Connect] Ola Kowalska accepted your invitation to Spring <Linen> Drop"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_invitation_declined_email_tells_the_brand(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team(language)
    creator = _creator("en")
    collaboration = collaboration_invite(campaign=campaign, creator=creator, actor=owner)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_decline(collaboration=collaboration, actor=creator.user)

    # then
    message = _only_email(owner.email)
    assert "Ola Kowalska" in message.subject and "Spring <Linen> Drop" in message.subject
    assert "@ola_creates" in message.body
    assert f"{SITE}/brand/campaigns/{campaign.pk}/" in message.body
    if language == "en":
        assert message.subject == (
            "[Connect] Ola Kowalska declined your invitation to Spring <Linen> Drop"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_collaboration_removed_email_gives_the_reason(
    language: str, django_capture_on_commit_callbacks: Capture
) -> None:
    # given
    owner, campaign = _team("en")
    collaboration = CollaborationFactory(
        campaign=campaign, creator=_creator(language), discount_code="OLA10"
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_remove(
            collaboration=collaboration, actor=owner, reason="Your posts broke our guidelines."
        )

    # then
    message = _only_email(collaboration.creator.user.email)
    assert "Spring <Linen> Drop" in message.subject
    assert "Your posts broke our guidelines." in message.body
    assert "OLA10" in message.body
    assert f"{SITE}/collaborations/{collaboration.pk}/" in message.body
    if language == "en":
        assert message.subject == "[Connect] You were removed from Spring <Linen> Drop"


def test_every_email_template_used_by_the_services_exists() -> None:
    # given: the templates named in notify(...) and notify_emails(...) calls
    services = Path(__file__).resolve().parents[2] / "campaigns" / "services"
    names = set()
    for path in services.glob("*.py"):
        names |= set(re.findall(r'template="([a-z_]+)"', path.read_text()))

    # when / then
    assert names == {
        "brand_verified",
        "brand_member_invited",
        "campaign_terms_changed",
        "collaboration_joined",
        "collaboration_applied",
        "application_accepted",
        "application_rejected",
        "collaboration_invited",
        "invitation_accepted",
        "invitation_declined",
        "collaboration_removed",
        "campaign_budget_exhausted",
    }
    for name in names:
        get_template(f"emails/{name}_subject.txt")
        get_template(f"emails/{name}_body.txt")
