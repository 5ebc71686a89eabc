"""Campaign and collaboration services: every transition, every permission, every code rule."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from campaigns import codes
from campaigns.models import (
    Brand,
    BrandRole,
    Campaign,
    CampaignStatus,
    CampaignTerms,
    Collaboration,
    CollaborationStatus,
    JoinMode,
)
from campaigns.services import (
    CampaignInput,
    TermsInput,
    campaign_create,
    campaign_end,
    campaign_pause,
    campaign_publish,
    campaign_resume,
    campaign_transition,
    campaign_update,
    collaboration_accept,
    collaboration_accept_invitation,
    collaboration_decline,
    collaboration_invite,
    collaboration_join,
    collaboration_reject,
    collaboration_remove,
    collaboration_set_discount_code,
)
from campaigns.tracking_cache import tracking_cache_key
from connect.models import AuditEntry, User
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
    niche,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL_CAMPAIGN_STATUSES = list(CampaignStatus)
ALL_COLLABORATION_STATUSES = list(CollaborationStatus)


def _member(brand: Brand, role: str = BrandRole.MANAGER) -> User:
    return BrandMembershipFactory(brand=brand, role=role).user


def _terms(**overrides: Any) -> TermsInput:
    values: dict[str, Any] = {
        "commission_type": "percent",
        "commission_percent": Decimal("12.50"),
        "hold_days": 30,
        "attribution_window_days": 30,
    }
    values.update(overrides)
    return TermsInput(**values)


def _campaign_input(**overrides: Any) -> CampaignInput:
    values: dict[str, Any] = {
        "title": "Spring capsule",
        "landing_url": "https://shop.example.com/spring",
        "niche": niche("fashion"),
        "currency": "PLN",
    }
    values.update(overrides)
    return CampaignInput(**values)


def _input_of(campaign: Campaign, **overrides: Any) -> CampaignInput:
    """The campaign as it is, as a complete CampaignInput, with some fields changed."""
    fields = {
        name: getattr(campaign, name)
        for name in (
            "title",
            "brief",
            "landing_url",
            "niche",
            "currency",
            "target_countries",
            "join_mode",
            "min_followers",
            "eligible_countries",
            "starts_on",
            "ends_on",
            "budget_minor",
        )
    }
    fields.update(overrides)
    return CampaignInput(**fields)


def _collaboration(status: str, **overrides: Any) -> Collaboration:
    """A collaboration in `status`, with codes only where that status has them."""
    values: dict[str, Any] = {"status": status}
    if status in {CollaborationStatus.APPLIED, CollaborationStatus.INVITED}:
        values.update(tracking_code=None, discount_code=None, activated_at=None)
    if status in {CollaborationStatus.REJECTED, CollaborationStatus.DECLINED}:
        values.update(tracking_code=None, discount_code=None, activated_at=None)
    if status == CollaborationStatus.REMOVED:
        values.update(removed_at=timezone.now())
    values.update(overrides)
    return CollaborationFactory(**values)


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


# ---------------------------------------------------------------------------------------
# campaign_create


def test_campaign_create_drafts_the_campaign_with_its_first_terms_and_an_audit_entry() -> None:
    # given
    brand = BrandFactory()
    actor = _member(brand)

    # when
    campaign = campaign_create(
        brand=brand,
        actor=actor,
        data=_campaign_input(target_countries=["PL", "CZ"], budget_minor=500_000),
        terms=_terms(hold_days=14, attribution_window_days=7),
    )

    # then
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.published_at is None
    assert campaign.brand == brand
    assert campaign.currency == "PLN"
    assert campaign.target_countries == ["PL", "CZ"]
    assert campaign.budget_minor == 500_000
    assert list(
        campaign.terms.values_list(
            "commission_type",
            "commission_percent",
            "commission_fixed_minor",
            "hold_days",
            "attribution_window_days",
            "created_by",
        )
    ) == [("percent", Decimal("12.50"), None, 14, 7, actor.pk)]
    entry = AuditEntry.objects.get()
    assert entry.action == "campaigns.campaign.created"
    assert entry.actor == actor
    assert entry.target_type == "campaigns.campaign"
    assert entry.target_id == str(campaign.pk)
    assert entry.after == {
        "title": "Spring capsule",
        "commission_type": "percent",
        "commission_percent": "12.50",
        "commission_fixed_minor": None,
        "hold_days": 14,
        "attribution_window_days": 7,
    }


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"landing_url": "http://shop.example.com/"},
            {"landing_url": ["The landing page must be an https:// address."]},
        ),
        ({"currency": "JPY"}, {"currency": ["Choose one of the supported currencies."]}),
        ({"join_mode": "secret"}, {"join_mode": ["Choose how creators join."]}),
        (
            {"starts_on": dt.date(2026, 5, 1), "ends_on": dt.date(2026, 4, 30)},
            {"ends_on": ["The campaign cannot end before it starts."]},
        ),
        ({"budget_minor": 0}, {"budget_minor": ["The budget must be more than zero."]}),
    ],
)
def test_campaign_create_refuses_invalid_campaign_fields(
    overrides: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    # given
    brand = BrandFactory()
    actor = _member(brand)

    # when
    with pytest.raises(ValidationError) as exc:
        campaign_create(brand=brand, actor=actor, data=_campaign_input(**overrides), terms=_terms())

    # then
    assert exc.value.message_dict == errors
    assert Campaign.objects.count() == 0
    assert AuditEntry.objects.count() == 0


PERCENT_ERROR = "Enter a percent above 0 and at most 100, with at most two decimals."


@pytest.mark.parametrize(
    ("terms", "errors"),
    [
        (_terms(commission_percent=Decimal(0)), {"commission_percent": [PERCENT_ERROR]}),
        (_terms(commission_percent=Decimal("100.01")), {"commission_percent": [PERCENT_ERROR]}),
        (_terms(commission_percent=Decimal("12.345")), {"commission_percent": [PERCENT_ERROR]}),
        (_terms(commission_percent=None), {"commission_percent": [PERCENT_ERROR]}),
        (
            _terms(commission_fixed_minor=500),
            {"commission_fixed_minor": ["A percent commission has no fixed amount."]},
        ),
        (
            _terms(commission_type="fixed", commission_percent=None, commission_fixed_minor=0),
            {"commission_fixed_minor": ["Enter a fixed amount above zero."]},
        ),
        (
            _terms(commission_type="fixed", commission_fixed_minor=500),
            {"commission_percent": ["A fixed commission has no percent."]},
        ),
        (_terms(commission_type="bonus"), {"commission_type": ["Choose a commission type."]}),
        (_terms(hold_days=366), {"hold_days": ["The hold period is between 0 and 365 days."]}),
        (
            _terms(attribution_window_days=0),
            {"attribution_window_days": ["The attribution window is between 1 and 365 days."]},
        ),
    ],
)
def test_campaign_create_refuses_invalid_terms(
    terms: TermsInput, errors: dict[str, list[str]]
) -> None:
    # given
    brand = BrandFactory()
    actor = _member(brand)

    # when
    with pytest.raises(ValidationError) as exc:
        campaign_create(brand=brand, actor=actor, data=_campaign_input(), terms=terms)

    # then
    assert exc.value.message_dict == errors
    assert Campaign.objects.count() == 0


def test_campaign_create_accepts_the_boundaries_of_the_percent_and_a_fixed_amount() -> None:
    # given
    brand = BrandFactory()
    actor = _member(brand)

    # when
    top = campaign_create(
        brand=brand,
        actor=actor,
        data=_campaign_input(),
        terms=_terms(commission_percent=Decimal("100.00"), hold_days=0),
    )
    bottom = campaign_create(
        brand=brand,
        actor=actor,
        data=_campaign_input(),
        terms=_terms(commission_percent=Decimal("0.01")),
    )
    fixed = campaign_create(
        brand=brand,
        actor=actor,
        data=_campaign_input(),
        terms=_terms(commission_type="fixed", commission_percent=None, commission_fixed_minor=1),
    )

    # then
    assert top.terms.get().commission_percent == Decimal("100.00")
    assert top.terms.get().hold_days == 0
    assert bottom.terms.get().commission_percent == Decimal("0.01")
    assert fixed.terms.get().commission_fixed_minor == 1


# ---------------------------------------------------------------------------------------
# Campaign lifecycle: every pair of statuses

CAMPAIGN_TRANSITION_ACTIONS = {
    (CampaignStatus.DRAFT, CampaignStatus.ACTIVE): "campaigns.campaign.published",
    (CampaignStatus.PAUSED, CampaignStatus.ACTIVE): "campaigns.campaign.resumed",
    (CampaignStatus.ACTIVE, CampaignStatus.PAUSED): "campaigns.campaign.paused",
    (CampaignStatus.ACTIVE, CampaignStatus.ENDED): "campaigns.campaign.ended",
    (CampaignStatus.PAUSED, CampaignStatus.ENDED): "campaigns.campaign.ended",
}
ALLOWED_CAMPAIGN_PAIRS = [
    (from_status, to_status)
    for from_status, targets in Campaign.TRANSITIONS.items()
    for to_status in sorted(targets)
]
REFUSED_CAMPAIGN_PAIRS = [
    (from_status, to_status)
    for from_status, to_status in itertools.product(ALL_CAMPAIGN_STATUSES, repeat=2)
    if from_status != to_status and to_status not in Campaign.TRANSITIONS[from_status]
]


def test_the_campaign_transition_table_is_the_product_lifecycle() -> None:
    # given / when
    allowed = set(ALLOWED_CAMPAIGN_PAIRS)

    # then: draft → active ⇄ paused → ended, nothing else
    assert allowed == set(CAMPAIGN_TRANSITION_ACTIONS)
    assert len(REFUSED_CAMPAIGN_PAIRS) == 16 - 4 - 5


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED_CAMPAIGN_PAIRS)
def test_campaign_transition_makes_every_allowed_move_with_its_audit_entry(
    from_status: str, to_status: str
) -> None:
    # given
    published_at = None if from_status == CampaignStatus.DRAFT else timezone.now()
    campaign = CampaignFactory(status=from_status, published_at=published_at)
    actor = _member(campaign.brand)

    # when
    result = campaign_transition(campaign=campaign, actor=actor, to_status=to_status)

    # then
    campaign.refresh_from_db()
    assert result.status == to_status
    assert campaign.status == to_status
    if from_status == CampaignStatus.DRAFT:
        assert campaign.published_at is not None
    else:
        assert campaign.published_at == published_at
    entry = AuditEntry.objects.get()
    assert entry.action == CAMPAIGN_TRANSITION_ACTIONS[(from_status, to_status)]
    assert entry.actor == actor
    assert entry.target_id == str(campaign.pk)
    assert entry.before == {"status": from_status}
    assert entry.after == {"status": to_status}


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED_CAMPAIGN_PAIRS)
def test_campaign_transition_refuses_every_move_the_table_does_not_allow(
    from_status: str, to_status: str
) -> None:
    # given
    campaign = CampaignFactory(status=from_status)
    actor = _member(campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        campaign_transition(campaign=campaign, actor=actor, to_status=to_status)

    # then
    assert exc.value.messages == [
        f"A campaign cannot go from {CampaignStatus(from_status).label} to "
        f"{CampaignStatus(to_status).label}."
    ]
    campaign.refresh_from_db()
    assert campaign.status == from_status
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("status", ALL_CAMPAIGN_STATUSES)
def test_campaign_transition_to_the_current_status_changes_nothing(status: str) -> None:
    # given
    campaign = CampaignFactory(status=status)
    actor = _member(campaign.brand)
    updated_at = Campaign.objects.get(pk=campaign.pk).updated_at

    # when
    result = campaign_transition(campaign=campaign, actor=actor, to_status=status)

    # then
    assert result.status == status
    assert Campaign.objects.get(pk=campaign.pk).updated_at == updated_at
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("service", "from_status", "to_status", "action"),
    [
        (campaign_publish, CampaignStatus.DRAFT, CampaignStatus.ACTIVE, "published"),
        (campaign_pause, CampaignStatus.ACTIVE, CampaignStatus.PAUSED, "paused"),
        (campaign_resume, CampaignStatus.PAUSED, CampaignStatus.ACTIVE, "resumed"),
        (campaign_end, CampaignStatus.ACTIVE, CampaignStatus.ENDED, "ended"),
        (campaign_end, CampaignStatus.PAUSED, CampaignStatus.ENDED, "ended"),
    ],
)
def test_campaign_lifecycle_services_run_twice_record_one_audit_entry(
    service: Callable[..., Campaign], from_status: str, to_status: str, action: str
) -> None:
    # given
    campaign = CampaignFactory(status=from_status)
    actor = _member(campaign.brand)

    # when
    service(campaign=campaign, actor=actor)
    service(campaign=campaign, actor=actor)

    # then
    campaign.refresh_from_db()
    assert campaign.status == to_status
    assert _actions() == [f"campaigns.campaign.{action}"]


def test_campaign_publish_is_refused_for_an_unverified_brand() -> None:
    # given
    campaign = CampaignFactory(
        status=CampaignStatus.DRAFT, published_at=None, brand__verified_at=None
    )
    actor = _member(campaign.brand, BrandRole.OWNER)

    # when
    with pytest.raises(PermissionDenied) as exc:
        campaign_publish(campaign=campaign, actor=actor)

    # then
    assert str(exc.value) == "Your brand must be verified before it can publish campaigns."
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.published_at is None
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("from_status", [CampaignStatus.DRAFT, CampaignStatus.PAUSED])
def test_going_active_is_refused_for_a_suspended_brand(from_status: str) -> None:
    # given
    campaign = CampaignFactory(status=from_status, brand__suspended_at=timezone.now())
    actor = _member(campaign.brand, BrandRole.OWNER)

    # when
    with pytest.raises(PermissionDenied) as exc:
        campaign_transition(campaign=campaign, actor=actor, to_status=CampaignStatus.ACTIVE)

    # then
    assert str(exc.value) == "This brand is suspended."
    campaign.refresh_from_db()
    assert campaign.status == from_status


def test_campaign_publish_is_refused_once_the_end_date_has_passed() -> None:
    # given
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    campaign = CampaignFactory(status=CampaignStatus.DRAFT, ends_on=yesterday)
    actor = _member(campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        campaign_publish(campaign=campaign, actor=actor)

    # then
    assert exc.value.messages == ["The end date has passed; change it before publishing."]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_campaign_pause_forgets_the_cached_tracking_codes_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    collaboration = CollaborationFactory()
    key = tracking_cache_key(collaboration.tracking_code)
    cache.set(key, "cached redirect target")
    actor = _member(collaboration.campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign_pause(campaign=collaboration.campaign, actor=actor)

    # then
    assert cache.get(key) is None


# ---------------------------------------------------------------------------------------
# campaign_update


def test_campaign_update_of_terms_on_an_active_campaign_appends_a_version_and_emails_active_creators_only(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # given
    campaign = CampaignFactory(percent=Decimal("10.00"), currency="PLN")
    active = CollaborationFactory(campaign=campaign)
    _collaboration(CollaborationStatus.APPLIED, campaign=campaign)
    _collaboration(CollaborationStatus.INVITED, campaign=campaign)
    _collaboration(CollaborationStatus.REMOVED, campaign=campaign)
    CollaborationFactory()  # active in another campaign
    actor = _member(campaign.brand)
    first_version = campaign.terms.get()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=actor,
            data=_input_of(campaign),
            terms=_terms(commission_percent=Decimal("15.00")),
        )

    # then
    versions = list(
        CampaignTerms.objects.filter(campaign=campaign).order_by("effective_from", "id")
    )
    assert [v.commission_percent for v in versions] == [Decimal("10.00"), Decimal("15.00")]
    assert versions[0] == first_version
    assert versions[1].created_by == actor
    assert versions[1].effective_from > first_version.effective_from
    entry = AuditEntry.objects.get(action="campaigns.campaign.terms_changed")
    assert entry.before["commission_percent"] == "10.00"
    assert entry.after["commission_percent"] == "15.00"
    assert [message.to for message in mailoutbox] == [[active.creator.user.email]]


def test_campaign_update_without_a_terms_change_appends_no_version_and_sends_no_email(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # given
    campaign = CampaignFactory(percent=Decimal("10.00"))
    CollaborationFactory(campaign=campaign)
    actor = _member(campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=actor,
            data=_input_of(campaign, title="Spring, renamed"),
            terms=_terms(commission_percent=Decimal("10.00")),
        )

    # then
    campaign.refresh_from_db()
    assert campaign.title == "Spring, renamed"
    assert campaign.terms.count() == 1
    assert mailoutbox == []
    assert AuditEntry.objects.filter(action="campaigns.campaign.terms_changed").count() == 0


def test_campaign_update_of_terms_on_a_draft_appends_a_version_and_emails_nobody(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.DRAFT, published_at=None)
    _collaboration(CollaborationStatus.INVITED, campaign=campaign)
    actor = _member(campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=actor,
            data=_input_of(campaign),
            terms=_terms(
                commission_type="fixed", commission_percent=None, commission_fixed_minor=2500
            ),
        )

    # then
    current = campaign.terms.order_by("-effective_from", "-id").first()
    assert current is not None
    assert (current.commission_type, current.commission_fixed_minor) == ("fixed", 2500)
    assert campaign.terms.count() == 2
    assert mailoutbox == []


@pytest.mark.parametrize("status", [CampaignStatus.ACTIVE, CampaignStatus.PAUSED])
def test_campaign_update_refuses_a_currency_change_after_publishing(status: str) -> None:
    # given
    campaign = CampaignFactory(status=status, currency="EUR")
    actor = _member(campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        campaign_update(
            campaign=campaign, actor=actor, data=_input_of(campaign, currency="PLN"), terms=_terms()
        )

    # then
    assert exc.value.message_dict == {
        "currency": ["The currency is fixed once a campaign is published."]
    }
    campaign.refresh_from_db()
    assert campaign.currency == "EUR"
    assert campaign.terms.count() == 1


def test_campaign_update_lets_a_draft_change_its_currency() -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.DRAFT, published_at=None, currency="EUR")
    actor = _member(campaign.brand)

    # when
    campaign_update(
        campaign=campaign,
        actor=actor,
        data=_input_of(campaign, currency="CZK"),
        terms=_terms(commission_percent=Decimal("10.00")),
    )

    # then
    campaign.refresh_from_db()
    assert campaign.currency == "CZK"


def test_campaign_update_refuses_an_ended_campaign() -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.ENDED)
    actor = _member(campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        campaign_update(
            campaign=campaign, actor=actor, data=_input_of(campaign, title="Again"), terms=_terms()
        )

    # then
    assert exc.value.messages == ["An ended campaign cannot be changed."]
    campaign.refresh_from_db()
    assert campaign.title != "Again"


def test_campaign_update_of_the_landing_url_forgets_the_cached_tracking_codes(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    collaboration = CollaborationFactory(campaign=CampaignFactory(percent=Decimal("10.00")))
    campaign = collaboration.campaign
    key = tracking_cache_key(collaboration.tracking_code)
    cache.set(key, "https://shop.example.com/old")
    actor = _member(campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(
            campaign=campaign,
            actor=actor,
            data=_input_of(campaign, landing_url="https://shop.example.com/new"),
            terms=_terms(commission_percent=Decimal("10.00")),
        )

    # then
    assert cache.get(key) is None


# ---------------------------------------------------------------------------------------
# Tenancy: a member of brand B can touch nothing of brand A


def _other_brand_member() -> User:
    return _member(BrandFactory(), BrandRole.OWNER)


CAMPAIGN_SERVICES: list[tuple[str, Callable[[Campaign, User], Any]]] = [
    (
        "campaign_create",
        lambda c, u: campaign_create(
            brand=c.brand, actor=u, data=_campaign_input(), terms=_terms()
        ),
    ),
    (
        "campaign_update",
        lambda c, u: campaign_update(
            campaign=c, actor=u, data=_input_of(c, title="Hijacked"), terms=_terms()
        ),
    ),
    ("campaign_publish", lambda c, u: campaign_publish(campaign=c, actor=u)),
    ("campaign_pause", lambda c, u: campaign_pause(campaign=c, actor=u)),
    ("campaign_resume", lambda c, u: campaign_resume(campaign=c, actor=u)),
    ("campaign_end", lambda c, u: campaign_end(campaign=c, actor=u)),
    (
        "campaign_transition",
        lambda c, u: campaign_transition(campaign=c, actor=u, to_status=CampaignStatus.ENDED),
    ),
    (
        "collaboration_invite",
        lambda c, u: collaboration_invite(campaign=c, creator=CreatorProfileFactory(), actor=u),
    ),
]


@pytest.mark.parametrize(
    ("name", "service"), CAMPAIGN_SERVICES, ids=[name for name, _ in CAMPAIGN_SERVICES]
)
@pytest.mark.parametrize(
    "status", [CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED]
)
def test_a_member_of_another_brand_cannot_touch_a_campaign(
    name: str, service: Callable[[Campaign, User], Any], status: str
) -> None:
    # given
    campaign = CampaignFactory(status=status)
    outsider = _other_brand_member()
    campaigns_before = Campaign.objects.count()

    # when
    with pytest.raises(PermissionDenied) as exc:
        service(campaign, outsider)

    # then
    assert str(exc.value) == "You are not a member of this brand."
    campaign.refresh_from_db()
    assert campaign.status == status
    assert Campaign.objects.count() == campaigns_before
    assert Collaboration.objects.count() == 0
    assert AuditEntry.objects.count() == 0


COLLABORATION_SERVICES: list[tuple[str, str, Callable[[Collaboration, User], Any]]] = [
    (
        "collaboration_accept",
        CollaborationStatus.APPLIED,
        lambda c, u: collaboration_accept(collaboration=c, actor=u),
    ),
    (
        "collaboration_reject",
        CollaborationStatus.APPLIED,
        lambda c, u: collaboration_reject(collaboration=c, actor=u, reason="No."),
    ),
    (
        "collaboration_remove",
        CollaborationStatus.ACTIVE,
        lambda c, u: collaboration_remove(collaboration=c, actor=u),
    ),
    (
        "collaboration_set_discount_code",
        CollaborationStatus.ACTIVE,
        lambda c, u: collaboration_set_discount_code(collaboration=c, actor=u, code="MINE10"),
    ),
]


@pytest.mark.parametrize(
    ("name", "status", "service"),
    COLLABORATION_SERVICES,
    ids=[name for name, _, _ in COLLABORATION_SERVICES],
)
def test_a_member_of_another_brand_cannot_touch_a_collaboration(
    name: str, status: str, service: Callable[[Collaboration, User], Any]
) -> None:
    # given
    collaboration = _collaboration(status)
    outsider = _other_brand_member()
    before = Collaboration.objects.values().get(pk=collaboration.pk)

    # when
    with pytest.raises(PermissionDenied) as exc:
        service(collaboration, outsider)

    # then
    assert str(exc.value) == "You are not a member of this brand."
    assert Collaboration.objects.values().get(pk=collaboration.pk) == before
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    "service",
    [
        lambda c, u: collaboration_accept_invitation(collaboration=c, actor=u),
        lambda c, u: collaboration_decline(collaboration=c, actor=u),
    ],
    ids=["accept_invitation", "decline"],
)
def test_only_the_invited_creator_answers_an_invitation(
    service: Callable[[Collaboration, User], Any],
) -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.INVITED)
    brand_member = _member(collaboration.campaign.brand)
    other_creator = CreatorProfileFactory().user

    # when / then
    for actor in (brand_member, other_creator):
        with pytest.raises(PermissionDenied) as exc:
            service(collaboration, actor)
        assert str(exc.value) == "Only the invited creator can answer this invitation."
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.INVITED


def test_a_creator_cannot_accept_their_own_application() -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)
    creator_user = collaboration.creator.user

    # when
    with pytest.raises(PermissionDenied):
        collaboration_accept(collaboration=collaboration, actor=creator_user)

    # then
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED
    assert collaboration.tracking_code is None


def test_a_brand_member_cannot_accept_their_own_application_to_their_brand() -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)
    creator_user = collaboration.creator.user
    BrandMembershipFactory(brand=collaboration.campaign.brand, user=creator_user)

    # when
    with pytest.raises(PermissionDenied) as exc:
        collaboration_accept(collaboration=collaboration, actor=creator_user)

    # then
    assert str(exc.value) == "Another member of the brand must decide on your own application."
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED


# ---------------------------------------------------------------------------------------
# Collaboration lifecycle: every allowed move and every refused one

ALLOWED_COLLABORATION_MOVES: list[tuple[str, str, str, str, str]] = [
    # (service, from, to, audit action, who acts)
    ("accept", CollaborationStatus.APPLIED, CollaborationStatus.ACTIVE, "accepted", "brand"),
    ("reject", CollaborationStatus.APPLIED, CollaborationStatus.REJECTED, "rejected", "brand"),
    (
        "accept_invitation",
        CollaborationStatus.INVITED,
        CollaborationStatus.ACTIVE,
        "invitation_accepted",
        "creator",
    ),
    (
        "decline",
        CollaborationStatus.INVITED,
        CollaborationStatus.DECLINED,
        "invitation_declined",
        "creator",
    ),
    ("remove", CollaborationStatus.ACTIVE, CollaborationStatus.REMOVED, "removed", "brand"),
]
COLLABORATION_MOVE_SERVICES: dict[str, tuple[Callable[[Collaboration, User], Any], str]] = {
    "accept": (lambda c, u: collaboration_accept(collaboration=c, actor=u), "brand"),
    "reject": (
        lambda c, u: collaboration_reject(collaboration=c, actor=u, reason="Not this season."),
        "brand",
    ),
    "accept_invitation": (
        lambda c, u: collaboration_accept_invitation(collaboration=c, actor=u),
        "creator",
    ),
    "decline": (lambda c, u: collaboration_decline(collaboration=c, actor=u), "creator"),
    "remove": (lambda c, u: collaboration_remove(collaboration=c, actor=u), "brand"),
}
COLLABORATION_MOVE_TARGETS = {
    "accept": CollaborationStatus.ACTIVE,
    "reject": CollaborationStatus.REJECTED,
    "accept_invitation": CollaborationStatus.ACTIVE,
    "decline": CollaborationStatus.DECLINED,
    "remove": CollaborationStatus.REMOVED,
}
ALLOWED_FROM = {m[0]: m[1] for m in ALLOWED_COLLABORATION_MOVES}
# Every status a service may be asked to move from, except its own "from" and (a repeat,
# which changes nothing) its own target.
REFUSED_COLLABORATION_MOVES = [
    (service, from_status)
    for service in COLLABORATION_MOVE_SERVICES
    for from_status in ALL_COLLABORATION_STATUSES
    if from_status not in {ALLOWED_FROM[service], COLLABORATION_MOVE_TARGETS[service]}
]


def _actor_for(collaboration: Collaboration, who: str) -> User:
    if who == "creator":
        return collaboration.creator.user
    return _member(collaboration.campaign.brand)


def test_the_collaboration_transition_table_matches_the_services() -> None:
    # given / when
    table = {
        (from_status, to_status)
        for from_status, targets in Collaboration.TRANSITIONS.items()
        for to_status in targets
    }

    # then
    assert table == {(m[1], m[2]) for m in ALLOWED_COLLABORATION_MOVES}


@pytest.mark.parametrize(
    ("service", "from_status", "to_status", "action", "who"),
    ALLOWED_COLLABORATION_MOVES,
    ids=[m[0] for m in ALLOWED_COLLABORATION_MOVES],
)
def test_collaboration_services_make_every_allowed_move_with_its_audit_entry(
    service: str, from_status: str, to_status: str, action: str, who: str
) -> None:
    # given
    collaboration = _collaboration(from_status)
    actor = _actor_for(collaboration, who)
    run, _ = COLLABORATION_MOVE_SERVICES[service]

    # when
    result = run(collaboration, actor)

    # then
    collaboration.refresh_from_db()
    assert result.status == to_status
    assert collaboration.status == to_status
    if to_status == CollaborationStatus.ACTIVE:
        assert collaboration.tracking_code is not None
        assert collaboration.discount_code == codes.discount_code_base(collaboration.creator.handle)
        assert collaboration.activated_at is not None
    entry = AuditEntry.objects.get()
    assert entry.action == f"campaigns.collaboration.{action}"
    assert entry.actor == actor
    assert entry.target_type == "campaigns.collaboration"
    assert entry.target_id == str(collaboration.pk)
    assert entry.before["status"] == from_status
    assert entry.after["status"] == to_status


@pytest.mark.parametrize(("service", "from_status"), REFUSED_COLLABORATION_MOVES)
def test_collaboration_services_refuse_every_move_the_table_does_not_allow(
    service: str, from_status: str
) -> None:
    # given
    collaboration = _collaboration(from_status)
    run, who = COLLABORATION_MOVE_SERVICES[service]
    actor = _actor_for(collaboration, who)
    before = Collaboration.objects.values().get(pk=collaboration.pk)

    # when
    with pytest.raises(ValidationError):
        run(collaboration, actor)

    # then
    assert Collaboration.objects.values().get(pk=collaboration.pk) == before
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    "service", list(COLLABORATION_MOVE_SERVICES), ids=list(COLLABORATION_MOVE_SERVICES)
)
def test_collaboration_services_run_twice_record_one_audit_entry(service: str) -> None:
    # given
    from_status = ALLOWED_FROM[service]
    collaboration = _collaboration(from_status)
    run, who = COLLABORATION_MOVE_SERVICES[service]
    actor = _actor_for(collaboration, who)
    run(collaboration, actor)
    after_first = Collaboration.objects.values().get(pk=collaboration.pk)

    # when
    run(collaboration, actor)

    # then
    assert Collaboration.objects.values().get(pk=collaboration.pk) == after_first
    assert AuditEntry.objects.count() == 1


def test_collaboration_accept_refuses_an_invitation_the_creator_has_not_answered() -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.INVITED)
    actor = _member(collaboration.campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_accept(collaboration=collaboration, actor=actor)

    # then
    assert exc.value.messages == ["Only applications can be accepted by the brand."]


def test_collaboration_accept_invitation_refuses_an_application() -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_accept_invitation(
            collaboration=collaboration, actor=collaboration.creator.user
        )

    # then
    assert exc.value.messages == ["Only invitations can be accepted by the creator."]


def test_collaboration_accept_invitation_refuses_an_ended_campaign() -> None:
    # given
    collaboration = _collaboration(
        CollaborationStatus.INVITED, campaign=CampaignFactory(status=CampaignStatus.ENDED)
    )

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_accept_invitation(
            collaboration=collaboration, actor=collaboration.creator.user
        )

    # then
    assert exc.value.messages == ["This campaign has ended."]
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.INVITED


def test_collaboration_reject_needs_a_reason() -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)
    actor = _member(collaboration.campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_reject(collaboration=collaboration, actor=actor, reason="   ")

    # then
    assert exc.value.message_dict == {"reason": ["Tell the creator why."]}
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED


def test_collaboration_reject_keeps_the_reason_and_emails_the_creator(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)
    actor = _member(collaboration.campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_reject(
            collaboration=collaboration, actor=actor, reason="  We look for video creators.  "
        )

    # then
    collaboration.refresh_from_db()
    assert collaboration.decision_reason == "We look for video creators."
    assert AuditEntry.objects.get().after == {
        "status": "rejected",
        "reason": "We look for video creators.",
    }
    assert [message.to for message in mailoutbox] == [[collaboration.creator.user.email]]


def test_collaboration_accept_emails_the_creator(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)
    actor = _member(collaboration.campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_accept(collaboration=collaboration, actor=actor)

    # then
    assert [message.to for message in mailoutbox] == [[collaboration.creator.user.email]]


def test_collaboration_remove_stops_the_collaboration_and_forgets_its_cached_code(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    collaboration = CollaborationFactory()
    key = tracking_cache_key(collaboration.tracking_code)
    cache.set(key, "cached redirect target")
    actor = _member(collaboration.campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        collaboration_remove(collaboration=collaboration, actor=actor, reason=" Fake followers. ")

    # then
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.REMOVED
    assert collaboration.removed_at is not None
    assert collaboration.decision_reason == "Fake followers."
    # The codes stay, so that orders before the removal still resolve to this creator.
    assert collaboration.tracking_code is not None
    assert cache.get(key) is None


def test_collaboration_remove_keeps_the_cache_until_the_change_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    collaboration = CollaborationFactory()
    key = tracking_cache_key(collaboration.tracking_code)
    cache.set(key, "cached redirect target")
    actor = _member(collaboration.campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        collaboration_remove(collaboration=collaboration, actor=actor)

    # then: nothing is forgotten before the commit (a rollback must keep the cache right)
    assert cache.get(key) == "cached redirect target"
    assert len(callbacks) == 2  # forget the code, email the creator


# ---------------------------------------------------------------------------------------
# collaboration_join


def _open_campaign(**overrides: Any) -> Campaign:
    overrides.setdefault("join_mode", JoinMode.OPEN)
    return CampaignFactory(**overrides)


def test_collaboration_join_of_an_open_campaign_is_active_at_once_with_codes() -> None:
    # given
    campaign = _open_campaign()
    creator = CreatorProfileFactory(handle="Ola_Creates")

    # when
    collaboration = collaboration_join(campaign=campaign, creator=creator)

    # then
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.ACTIVE
    assert collaboration.brand == campaign.brand
    assert collaboration.discount_code == "OLACREATES"
    assert collaboration.tracking_code is not None
    assert len(collaboration.tracking_code) == codes.TRACKING_CODE_LENGTH
    assert collaboration.activated_at is not None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor) == ("campaigns.collaboration.joined", creator.user)


def test_collaboration_join_of_an_application_campaign_applies_with_the_pitch() -> None:
    # given
    campaign = _open_campaign(join_mode=JoinMode.APPLICATION)
    creator = CreatorProfileFactory()

    # when
    collaboration = collaboration_join(
        campaign=campaign, creator=creator, pitch="  I review coats every autumn.  "
    )

    # then
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED
    assert collaboration.pitch == "I review coats every autumn."
    assert collaboration.tracking_code is None
    assert collaboration.discount_code is None
    assert _actions() == ["campaigns.collaboration.applied"]


def test_collaboration_join_of_an_application_campaign_needs_a_pitch() -> None:
    # given
    campaign = _open_campaign(join_mode=JoinMode.APPLICATION)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_join(campaign=campaign, creator=CreatorProfileFactory(), pitch=" ")

    # then
    assert exc.value.message_dict == {"pitch": ["Tell the brand why you are a good fit."]}
    assert Collaboration.objects.count() == 0


def test_an_invite_only_campaign_cannot_be_joined() -> None:
    # given
    campaign = _open_campaign(join_mode=JoinMode.INVITE_ONLY)

    # when
    with pytest.raises(PermissionDenied) as exc:
        collaboration_join(campaign=campaign, creator=CreatorProfileFactory(), pitch="Hi!")

    # then
    assert str(exc.value) == "This campaign is by invitation only."
    assert Collaboration.objects.count() == 0


@pytest.mark.parametrize(
    ("campaign_fields", "creator_fields", "message"),
    [
        (
            {"min_followers": 50_000},
            {"max_followers": 49_999},
            "Needs at least 50,000 followers on one platform (you have 49,999).",
        ),
        (
            {"eligible_countries": ["ES", "PT"]},
            {"country": "PL"},
            "Open to creators in: Spain, Portugal.",
        ),
        (
            {"status": CampaignStatus.PAUSED},
            {},
            "This campaign is not accepting creators right now.",
        ),
        (
            {"status": CampaignStatus.DRAFT, "published_at": None},
            {},
            "This campaign is not accepting creators right now.",
        ),
    ],
)
def test_an_ineligible_creator_cannot_join(
    campaign_fields: dict[str, Any], creator_fields: dict[str, Any], message: str
) -> None:
    # given
    campaign = _open_campaign(**campaign_fields)
    creator = CreatorProfileFactory(**creator_fields)

    # when
    with pytest.raises(PermissionDenied) as exc:
        collaboration_join(campaign=campaign, creator=creator)

    # then
    assert str(exc.value) == message
    assert Collaboration.objects.count() == 0


def test_an_eligible_creator_meeting_the_minimum_exactly_joins() -> None:
    # given
    campaign = _open_campaign(min_followers=50_000, eligible_countries=["PL", "CZ"])
    creator = CreatorProfileFactory(max_followers=50_000, country="CZ")

    # when
    collaboration = collaboration_join(campaign=campaign, creator=creator)

    # then
    assert collaboration.status == CollaborationStatus.ACTIVE


def test_a_creator_without_a_verified_email_cannot_join() -> None:
    # given
    campaign = _open_campaign()
    creator = CreatorProfileFactory(user=UserFactory(verified=False))

    # when
    with pytest.raises(PermissionDenied) as exc:
        collaboration_join(campaign=campaign, creator=creator)

    # then
    assert str(exc.value) == "Verify your email address before joining campaigns."


@pytest.mark.parametrize(
    ("join_mode", "pitch", "status"),
    [
        (JoinMode.OPEN, "", CollaborationStatus.ACTIVE),
        (JoinMode.APPLICATION, "Pick me.", CollaborationStatus.APPLIED),
    ],
)
def test_collaboration_join_run_twice_returns_the_same_collaboration(
    join_mode: str, pitch: str, status: str
) -> None:
    # given
    campaign = _open_campaign(join_mode=join_mode)
    creator = CreatorProfileFactory()
    first = collaboration_join(campaign=campaign, creator=creator, pitch=pitch)

    # when
    second = collaboration_join(campaign=campaign, creator=creator, pitch=pitch)

    # then
    assert second.pk == first.pk
    assert second.status == status
    assert second.tracking_code == first.tracking_code
    assert Collaboration.objects.count() == 1
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    "status",
    [CollaborationStatus.REJECTED, CollaborationStatus.DECLINED, CollaborationStatus.REMOVED],
)
def test_a_creator_who_left_a_campaign_cannot_join_it_again(status: str) -> None:
    # given
    old = _collaboration(status, campaign=_open_campaign())

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_join(campaign=old.campaign, creator=old.creator)

    # then
    assert exc.value.messages == ["You have already been part of this campaign."]
    old.refresh_from_db()
    assert old.status == status


# ---------------------------------------------------------------------------------------
# Codes


def test_discount_codes_are_unique_per_brand_in_any_letter_case_with_a_numbered_suffix() -> None:
    # given
    brand = BrandFactory()
    spring = _open_campaign(brand=brand)
    autumn = _open_campaign(brand=brand)
    first = CreatorProfileFactory(handle="ola_creates")
    second = CreatorProfileFactory(handle="OlaCreates")
    third = CreatorProfileFactory(handle="ola_Creates_")

    # when
    a = collaboration_join(campaign=spring, creator=first)
    b = collaboration_join(campaign=autumn, creator=second)
    c = collaboration_join(campaign=spring, creator=third)
    elsewhere = collaboration_join(campaign=_open_campaign(), creator=second)

    # then
    assert [a.discount_code, b.discount_code, c.discount_code] == [
        "OLACREATES",
        "OLACREATES2",
        "OLACREATES3",
    ]
    # Another brand's codes live in their own namespace.
    assert elsewhere.discount_code == "OLACREATES"


def test_a_short_handle_gets_a_padded_discount_code() -> None:
    # given
    campaign = _open_campaign()
    creator = CreatorProfileFactory(handle="ab_")

    # when
    collaboration = collaboration_join(campaign=campaign, creator=creator)

    # then
    assert collaboration.discount_code == "ABCODE"


def test_collaboration_accept_takes_the_brand_chosen_discount_code_in_capitals() -> None:
    # given
    collaboration = _collaboration(CollaborationStatus.APPLIED)
    actor = _member(collaboration.campaign.brand)

    # when
    collaboration_accept(collaboration=collaboration, actor=actor, discount_code=" spring-ola10 ")

    # then
    collaboration.refresh_from_db()
    assert collaboration.discount_code == "SPRING-OLA10"


def test_a_brand_chosen_discount_code_taken_in_another_case_is_refused() -> None:
    # given
    taken = CollaborationFactory(discount_code="SPRING10")
    brand = taken.campaign.brand
    collaboration = _collaboration(
        CollaborationStatus.APPLIED, campaign=CampaignFactory(brand=brand)
    )
    actor = _member(brand)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_accept(collaboration=collaboration, actor=actor, discount_code="spring10")

    # then
    assert exc.value.message_dict == {
        "discount_code": ["This discount code is already used in your brand."]
    }
    collaboration.refresh_from_db()
    assert collaboration.status == CollaborationStatus.APPLIED
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("code", ["ab", "has space", "x" * 33, "emoji🙂"])
def test_a_malformed_discount_code_is_refused(code: str) -> None:
    # given
    collaboration = CollaborationFactory()
    actor = _member(collaboration.campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_set_discount_code(collaboration=collaboration, actor=actor, code=code)

    # then
    assert exc.value.messages == ["Use 3 to 32 letters, digits, hyphens or underscores."]


def test_collaboration_set_discount_code_changes_the_code_and_refuses_a_taken_one() -> None:
    # given
    other = CollaborationFactory(discount_code="TAKEN1")
    collaboration = CollaborationFactory(
        campaign=CampaignFactory(brand=other.campaign.brand), discount_code="OLD1"
    )
    actor = _member(collaboration.campaign.brand)

    # when
    collaboration_set_discount_code(collaboration=collaboration, actor=actor, code="new-code")
    with pytest.raises(ValidationError) as exc:
        collaboration_set_discount_code(collaboration=collaboration, actor=actor, code="taken1")

    # then
    collaboration.refresh_from_db()
    assert collaboration.discount_code == "NEW-CODE"
    assert exc.value.message_dict == {
        "discount_code": ["This discount code is already used in your brand."]
    }
    entry = AuditEntry.objects.get()
    assert entry.action == "campaigns.collaboration.discount_code_changed"
    assert (entry.before, entry.after) == (
        {"discount_code": "OLD1"},
        {"discount_code": "NEW-CODE"},
    )


def test_collaboration_set_discount_code_keeps_its_own_code_in_another_case() -> None:
    # given
    collaboration = CollaborationFactory(discount_code="OLA10")
    actor = _member(collaboration.campaign.brand)

    # when
    collaboration_set_discount_code(collaboration=collaboration, actor=actor, code="ola10")

    # then
    collaboration.refresh_from_db()
    assert collaboration.discount_code == "OLA10"


def test_tracking_codes_are_unique_and_a_collision_draws_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    existing = CollaborationFactory(tracking_code="AAAAAAAAAA")
    draws = iter(["AAAAAAAAAA", "BBBBBBBBBB"])
    monkeypatch.setattr("campaigns.services.collaborations.new_tracking_code", lambda: next(draws))

    # when
    collaboration = collaboration_join(campaign=_open_campaign(), creator=CreatorProfileFactory())

    # then
    assert collaboration.tracking_code == "BBBBBBBBBB"
    assert existing.tracking_code == "AAAAAAAAAA"
    assert Collaboration.objects.filter(tracking_code="BBBBBBBBBB").count() == 1


def test_tracking_codes_of_many_joins_are_all_different() -> None:
    # given
    campaign = _open_campaign()
    creators = CreatorProfileFactory.create_batch(25)

    # when
    joined = [collaboration_join(campaign=campaign, creator=creator) for creator in creators]

    # then
    tracking_codes = {collaboration.tracking_code for collaboration in joined}
    assert len(tracking_codes) == 25
    assert all(len(code) == codes.TRACKING_CODE_LENGTH for code in tracking_codes)


# ---------------------------------------------------------------------------------------
# collaboration_invite


def test_collaboration_invite_invites_once_and_emails_the_creator(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # given
    campaign = _open_campaign(join_mode=JoinMode.INVITE_ONLY)
    creator = CreatorProfileFactory()
    actor = _member(campaign.brand)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = collaboration_invite(campaign=campaign, creator=creator, actor=actor)
        second = collaboration_invite(campaign=campaign, creator=creator, actor=actor)

    # then
    assert first.pk == second.pk
    first.refresh_from_db()
    assert first.status == CollaborationStatus.INVITED
    assert first.invited_by == actor
    assert first.tracking_code is None
    assert _actions() == ["campaigns.collaboration.invited"]
    assert [message.to for message in mailoutbox] == [[creator.user.email]]


def test_collaboration_invite_refuses_a_creator_already_in_the_campaign() -> None:
    # given
    collaboration = CollaborationFactory()
    actor = _member(collaboration.campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_invite(
            campaign=collaboration.campaign, creator=collaboration.creator, actor=actor
        )

    # then
    assert exc.value.messages == ["This creator is already part of this campaign."]


def test_collaboration_invite_refuses_an_ended_campaign() -> None:
    # given
    campaign = CampaignFactory(status=CampaignStatus.ENDED)
    actor = _member(campaign.brand)

    # when
    with pytest.raises(ValidationError) as exc:
        collaboration_invite(campaign=campaign, creator=CreatorProfileFactory(), actor=actor)

    # then
    assert exc.value.messages == ["An ended campaign cannot invite creators."]
    assert Collaboration.objects.count() == 0


def test_an_invited_creator_of_an_invite_only_campaign_gets_codes_on_accepting() -> None:
    # given
    campaign = _open_campaign(join_mode=JoinMode.INVITE_ONLY)
    creator = CreatorProfileFactory(handle="kuba_gra")
    invitation = collaboration_invite(
        campaign=campaign, creator=creator, actor=_member(campaign.brand)
    )

    # when
    collaboration = collaboration_accept_invitation(collaboration=invitation, actor=creator.user)

    # then
    assert collaboration.status == CollaborationStatus.ACTIVE
    assert collaboration.discount_code == "KUBAGRA"
    assert _actions() == [
        "campaigns.collaboration.invited",
        "campaigns.collaboration.invitation_accepted",
    ]


# ---------------------------------------------------------------------------------------
# Concurrency: two requests of the same creator at the same moment


@pytest.mark.django_db(transaction=True)
def test_the_same_creator_joining_from_two_threads_at_once_ends_with_one_collaboration(
    niches: None,
) -> None:
    # given: no brand members, so the join sends no email and needs no template
    campaign = _open_campaign()
    creator = CreatorProfileFactory()
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[Exception] = []

    def join() -> None:
        try:
            start.wait()
            results.append(collaboration_join(campaign=campaign, creator=creator).pk)
        except Exception as exc:  # noqa: BLE001 - reported on the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=join) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert errors == []
    collaboration = Collaboration.objects.get()
    assert results == [collaboration.pk, collaboration.pk]
    assert collaboration.status == CollaborationStatus.ACTIVE
    assert AuditEntry.objects.filter(action="campaigns.collaboration.joined").count() == 1
