"""Campaigns: creation, edits with versioned terms, and the lifecycle."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (
    Brand,
    Campaign,
    CampaignActivePeriod,
    CampaignStatus,
    CampaignTerms,
    Collaboration,
    CollaborationStatus,
    CommissionType,
    JoinMode,
)
from campaigns.permissions import require_brand_member
from campaigns.tracking_cache import tracking_cache_forget
from connect.audit import audit_record
from connect.models import Niche, User
from connect.notifications import notify

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TermsInput:
    """What a creator earns: a percent of the order or a fixed amount, and the timings."""

    commission_type: str
    commission_percent: Decimal | None = None
    commission_fixed_minor: int | None = None
    hold_days: int = 30
    attribution_window_days: int = 30


@dataclass(frozen=True)
class CampaignInput:
    title: str
    landing_url: str
    niche: Niche
    currency: str
    brief: str = ""
    target_countries: list[str] = field(default_factory=list)
    join_mode: str = JoinMode.OPEN
    min_followers: int = 0
    eligible_countries: list[str] = field(default_factory=list)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    budget_minor: int | None = None


TERMS_FIELDS = (
    "commission_type",
    "commission_percent",
    "commission_fixed_minor",
    "hold_days",
    "attribution_window_days",
)


def _validate_campaign(data: CampaignInput) -> None:
    errors: dict[str, str] = {}
    if urlsplit(data.landing_url).scheme != "https":
        errors["landing_url"] = _("The landing page must be an https:// address.")
    if data.currency not in settings.CAMPAIGN_CURRENCIES:
        errors["currency"] = _("Choose one of the supported currencies.")
    if data.join_mode not in JoinMode.values:
        errors["join_mode"] = _("Choose how creators join.")
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    if data.budget_minor is not None and data.budget_minor <= 0:
        errors["budget_minor"] = _("The budget must be more than zero.")
    if errors:
        raise ValidationError(errors)


def _validate_terms(terms: TermsInput) -> None:
    errors: dict[str, str] = {}
    if terms.commission_type == CommissionType.PERCENT:
        p = terms.commission_percent
        if p is None or not (Decimal(0) < p <= Decimal(100)) or p != p.quantize(Decimal("0.01")):
            errors["commission_percent"] = _(
                "Enter a percent above 0 and at most 100, with at most two decimals."
            )
        if terms.commission_fixed_minor is not None:
            errors["commission_fixed_minor"] = _("A percent commission has no fixed amount.")
    elif terms.commission_type == CommissionType.FIXED:
        if terms.commission_fixed_minor is None or terms.commission_fixed_minor <= 0:
            errors["commission_fixed_minor"] = _("Enter a fixed amount above zero.")
        if terms.commission_percent is not None:
            errors["commission_percent"] = _("A fixed commission has no percent.")
    else:
        errors["commission_type"] = _("Choose a commission type.")
    if not 0 <= terms.hold_days <= 365:
        errors["hold_days"] = _("The hold period is between 0 and 365 days.")
    if not 1 <= terms.attribution_window_days <= 365:
        errors["attribution_window_days"] = _("The attribution window is between 1 and 365 days.")
    if errors:
        raise ValidationError(errors)


def _terms_snapshot(terms: CampaignTerms | TermsInput | None) -> dict[str, str | int | None]:
    if terms is None:
        return {}
    values = {name: getattr(terms, name) for name in TERMS_FIELDS}
    if values["commission_percent"] is not None:
        values["commission_percent"] = str(
            Decimal(values["commission_percent"]).quantize(Decimal("0.01"))
        )
    return values


def campaign_current_terms(campaign: Campaign) -> CampaignTerms | None:
    return campaign.terms.order_by("-effective_from", "-id").first()


def _append_terms(*, campaign: Campaign, terms: TermsInput, actor: User) -> CampaignTerms:
    return CampaignTerms.objects.create(
        campaign=campaign,
        effective_from=timezone.now(),
        created_by=actor,
        **asdict(terms),
    )


@transaction.atomic
def campaign_create(
    *, brand: Brand, actor: User, data: CampaignInput, terms: TermsInput
) -> Campaign:
    """A brand member drafts a campaign with its first terms."""
    require_brand_member(actor, brand)
    _validate_campaign(data)
    _validate_terms(terms)
    campaign = Campaign.objects.create(brand=brand, status=CampaignStatus.DRAFT, **asdict(data))
    _append_terms(campaign=campaign, terms=terms, actor=actor)
    audit_record(
        actor=actor,
        action="campaigns.campaign.created",
        target=campaign,
        after={"title": campaign.title, **_terms_snapshot(terms)},
    )
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, actor: User, data: CampaignInput, terms: TermsInput
) -> Campaign:
    """Edit a campaign. Changed terms become a new version in force from now: orders placed
    before keep the terms creators joined under, and active creators are emailed."""
    require_brand_member(actor, campaign.brand)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.ENDED:
        raise ValidationError(_("An ended campaign cannot be changed."))
    _validate_campaign(data)
    _validate_terms(terms)
    if data.currency != campaign.currency and campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(
            {"currency": _("The currency is fixed once a campaign is published.")}
        )
    landing_changed = data.landing_url != campaign.landing_url
    budget_changed = data.budget_minor != campaign.budget_minor
    budget_before = {"budget_minor": campaign.budget_minor, "currency": campaign.currency}
    for name, value in asdict(data).items():
        setattr(campaign, name, value)
    campaign.save()
    current = campaign_current_terms(campaign)
    old_terms = _terms_snapshot(current)
    new_terms = _terms_snapshot(terms)
    if old_terms != new_terms:
        _append_terms(campaign=campaign, terms=terms, actor=actor)
        audit_record(
            actor=actor,
            action="campaigns.campaign.terms_changed",
            target=campaign,
            before=old_terms,
            after=new_terms,
        )
        if campaign.status != CampaignStatus.DRAFT:
            active = Collaboration.objects.filter(
                campaign=campaign, status=CollaborationStatus.ACTIVE
            )
            notify(
                users=[c.creator.user for c in active.select_related("creator__user")],
                template="campaign_terms_changed",
                context={"campaign": campaign, "effective_from": timezone.now()},
            )
    if landing_changed:
        tracking_cache_forget(
            tracking_codes=campaign.collaborations.values_list("tracking_code", flat=True)
        )
    if budget_changed:
        audit_record(
            actor=actor,
            action="campaigns.campaign.budget_changed",
            target=campaign,
            before=budget_before,
            after={"budget_minor": campaign.budget_minor, "currency": campaign.currency},
        )
        # The orders' shares of the budget follow the new amount (docs/earnings-rules.md §5).
        campaign_id = campaign.pk
        transaction.on_commit(lambda: _budget_resettle(campaign_id), robust=True)
    return campaign


def _budget_resettle(campaign_id: int) -> None:
    """Send the re-sharing to the workers; if the broker cannot take it, do it here, so
    that the shares never stay out of step with the budget."""
    from config.celery import app

    try:
        app.send_task("payouts.campaign_budget_settle", args=[campaign_id], retry=False)
    except Exception:  # noqa: BLE001 - any broker failure
        from payouts.processing import campaign_budget_settle

        logger.warning(
            "Broker unreachable: sharing out campaign %s's budget in the request.", campaign_id
        )
        campaign_budget_settle(campaign_id)


_TRANSITION_ACTIONS: dict[tuple[str, str], str] = {
    (CampaignStatus.DRAFT, CampaignStatus.ACTIVE): "published",
    (CampaignStatus.PAUSED, CampaignStatus.ACTIVE): "resumed",
    (CampaignStatus.ACTIVE, CampaignStatus.PAUSED): "paused",
    (CampaignStatus.ACTIVE, CampaignStatus.ENDED): "ended",
    (CampaignStatus.PAUSED, CampaignStatus.ENDED): "ended",
}


@transaction.atomic
def campaign_transition(
    *, campaign: Campaign, actor: User | None, to_status: str, staff_override: bool = False
) -> Campaign:
    """Move a campaign along draft → active ⇄ paused → ended, as `Campaign.TRANSITIONS` allows.

    Going active needs a verified, unsuspended brand. A repeated request for the state the
    campaign is already in changes nothing.
    """
    if not staff_override:
        if actor is None:
            raise PermissionDenied(_("Only the brand's members can change its campaigns."))
        require_brand_member(actor, campaign.brand)
    campaign = Campaign.objects.select_for_update().select_related("brand").get(pk=campaign.pk)
    if campaign.status == to_status:
        return campaign
    if to_status not in Campaign.TRANSITIONS.get(campaign.status, set()):
        raise ValidationError(
            _("A campaign cannot go from %(from)s to %(to)s.")
            % {"from": CampaignStatus(campaign.status).label, "to": CampaignStatus(to_status).label}
        )
    if to_status == CampaignStatus.ACTIVE:
        if not campaign.brand.is_verified:
            raise PermissionDenied(
                _("Your brand must be verified before it can publish campaigns.")
            )
        if campaign.brand.is_suspended:
            raise PermissionDenied(_("This brand is suspended."))
        if campaign.ends_on and campaign.ends_on < timezone.now().date():
            raise ValidationError(_("The end date has passed; change it before publishing."))
    before = campaign.status
    now = timezone.now()
    campaign.status = to_status
    if to_status == CampaignStatus.ACTIVE and campaign.published_at is None:
        campaign.published_at = now
    campaign.save(update_fields=["status", "published_at", "updated_at"])
    # The periods when the campaign was active, for attributing orders by their time.
    if to_status == CampaignStatus.ACTIVE:
        CampaignActivePeriod.objects.create(campaign=campaign, started_at=now)
    elif before == CampaignStatus.ACTIVE:
        CampaignActivePeriod.objects.filter(campaign=campaign, ended_at__isnull=True).update(
            ended_at=now
        )
    audit_record(
        actor=actor,
        action=f"campaigns.campaign.{_TRANSITION_ACTIONS[(before, to_status)]}",
        target=campaign,
        before={"status": before},
        after={"status": to_status},
    )
    tracking_cache_forget(
        tracking_codes=campaign.collaborations.values_list("tracking_code", flat=True)
    )
    return campaign


def campaign_publish(*, campaign: Campaign, actor: User) -> Campaign:
    return campaign_transition(campaign=campaign, actor=actor, to_status=CampaignStatus.ACTIVE)


def campaign_resume(*, campaign: Campaign, actor: User) -> Campaign:
    return campaign_transition(campaign=campaign, actor=actor, to_status=CampaignStatus.ACTIVE)


def campaign_pause(*, campaign: Campaign, actor: User, staff_override: bool = False) -> Campaign:
    return campaign_transition(
        campaign=campaign,
        actor=actor,
        to_status=CampaignStatus.PAUSED,
        staff_override=staff_override,
    )


def campaign_end(*, campaign: Campaign, actor: User) -> Campaign:
    return campaign_transition(campaign=campaign, actor=actor, to_status=CampaignStatus.ENDED)


@transaction.atomic
def campaign_budget_exhausted(*, campaign_id: int) -> Campaign | None:
    """The campaign's commissions have used up its budget: pause it (new orders earn
    nothing from now on) and email the brand's members. Called by order processing; does
    nothing if the campaign is no longer active."""
    campaign = Campaign.objects.select_related("brand").get(pk=campaign_id)
    if campaign.status != CampaignStatus.ACTIVE:
        return None
    campaign = campaign_transition(
        campaign=campaign, actor=None, to_status=CampaignStatus.PAUSED, staff_override=True
    )
    members = User.objects.filter(brand_memberships__brand=campaign.brand, is_active=True)
    notify(
        users=members,
        template="campaign_budget_exhausted",
        context={"campaign": campaign, "site_url": settings.SITE_URL},
    )
    return campaign
