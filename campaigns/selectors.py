"""Reads for brands, campaigns, the marketplace and collaborations."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from campaigns.models import (
    Brand,
    BrandMembership,
    Campaign,
    CampaignActivePeriod,
    CampaignStatus,
    CampaignTerms,
    ClickDailyCount,
    Collaboration,
    JoinMode,
)
from connect.models import CreatorProfile, User


def brands_for_user(user: User) -> QuerySet[Brand]:
    if not user.is_authenticated:
        return Brand.objects.none()
    return Brand.objects.filter(memberships__user=user).order_by("name")


def brand_get_by_slug(slug: str) -> Brand | None:
    return Brand.objects.filter(slug=slug).first()


def brand_members(brand: Brand) -> QuerySet[BrandMembership]:
    return brand.memberships.select_related("user").order_by("role", "user__email")


def _current_terms_subquery(field: str, campaign_ref: str = "pk") -> Subquery:
    """The terms in force now (latest `effective_from`) for the campaign at `campaign_ref`."""
    return Subquery(
        CampaignTerms.objects.filter(campaign=OuterRef(campaign_ref))
        .order_by("-effective_from", "-id")
        .values(field)[:1]
    )


def _click_total_subquery() -> Subquery:
    """A collaboration's clicks, summed from the daily counts the click flush maintains."""
    return Subquery(
        ClickDailyCount.objects.filter(collaboration=OuterRef("pk"))
        .values("collaboration")
        .annotate(total=Sum("clicks"))
        .values("total")
    )


def with_current_terms(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Annotate each campaign with the terms in force now (`current_*`)."""
    return campaigns.annotate(
        current_commission_type=_current_terms_subquery("commission_type"),
        current_commission_percent=_current_terms_subquery("commission_percent"),
        current_commission_fixed_minor=_current_terms_subquery("commission_fixed_minor"),
        current_hold_days=_current_terms_subquery("hold_days"),
        current_attribution_window_days=_current_terms_subquery("attribution_window_days"),
    )


def brand_campaign_list(brand: Brand) -> QuerySet[Campaign]:
    return with_current_terms(
        Campaign.objects.filter(brand=brand)
        .select_related("niche")
        .annotate(
            active_count=Count("collaborations", filter=Q(collaborations__status="active")),
            pending_count=Count("collaborations", filter=Q(collaborations__status="applied")),
        )
    ).order_by("-created_at")


@dataclass(frozen=True)
class MarketplaceFilters:
    query: str = ""
    niche: str = ""
    country: str = ""
    currency: str = ""
    commission_type: str = ""
    min_percent: Decimal | None = None
    sort: str = "newest"


def marketplace_campaign_list(filters: MarketplaceFilters) -> QuerySet[Campaign]:
    """Active campaigns of unsuspended brands matching the marketplace's search and filters."""
    campaigns = with_current_terms(
        Campaign.objects.filter(status=CampaignStatus.ACTIVE, brand__suspended_at__isnull=True)
        .exclude(join_mode=JoinMode.INVITE_ONLY)
        .select_related("brand", "niche")
    )
    today = timezone.now().date()
    campaigns = campaigns.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if filters.query:
        campaigns = campaigns.filter(
            Q(title__icontains=filters.query)
            | Q(brand__name__icontains=filters.query)
            | Q(brief__icontains=filters.query)
        )
    if filters.niche:
        campaigns = campaigns.filter(niche__slug=filters.niche)
    if filters.country:
        campaigns = campaigns.filter(
            Q(target_countries__contains=[filters.country]) | Q(target_countries=[])
        )
    if filters.currency:
        campaigns = campaigns.filter(currency=filters.currency)
    if filters.commission_type:
        campaigns = campaigns.filter(current_commission_type=filters.commission_type)  # type: ignore[misc]
    if filters.min_percent is not None:
        campaigns = campaigns.filter(  # type: ignore[misc]
            current_commission_type="percent", current_commission_percent__gte=filters.min_percent
        )
    if filters.sort == "commission":
        # PostgreSQL sorts NULLs first in descending order: without nulls_last every
        # fixed-amount campaign (no percent) would rank above a 30 % one.
        campaigns = campaigns.order_by(
            F("current_commission_percent").desc(nulls_last=True),
            F("current_commission_fixed_minor").desc(nulls_last=True),
            "-published_at",
            "-id",
        )
    else:
        campaigns = campaigns.order_by("-published_at", "-id")
    return campaigns


def campaign_ineligibility_reasons(campaign: Campaign, creator: CreatorProfile | None) -> list[str]:
    """Why this creator cannot join this campaign; empty when they can."""
    if creator is None:
        return [_("Set up your creator profile to join campaigns.")]
    reasons = []
    if campaign.status != CampaignStatus.ACTIVE:
        reasons.append(_("This campaign is not accepting creators right now."))
    today = timezone.now().date()
    if campaign.ends_on and campaign.ends_on < today:
        reasons.append(_("This campaign has ended."))
    if campaign.min_followers and creator.max_followers < campaign.min_followers:
        reasons.append(
            _("Needs at least %(count)s followers on one platform (you have %(yours)s).")
            % {"count": f"{campaign.min_followers:,}", "yours": f"{creator.max_followers:,}"}
        )
    if campaign.eligible_countries and creator.country.code not in campaign.eligible_countries:
        names = ", ".join(str(countries.name(code)) for code in campaign.eligible_countries)
        reasons.append(_("Open to creators in: %(countries)s.") % {"countries": names})
    return reasons


def creator_collaboration_list(creator: CreatorProfile) -> QuerySet[Collaboration]:
    return with_current_terms_for_collaborations(
        Collaboration.objects.filter(creator=creator)
        .select_related("campaign", "campaign__brand")
        .annotate(click_count=_click_total_subquery())
        .order_by("-updated_at")
    )


def with_current_terms_for_collaborations(
    collaborations: QuerySet[Collaboration],
) -> QuerySet[Collaboration]:
    return collaborations.annotate(
        current_commission_type=_current_terms_subquery("commission_type", "campaign"),
        current_commission_percent=_current_terms_subquery("commission_percent", "campaign"),
        current_commission_fixed_minor=_current_terms_subquery(
            "commission_fixed_minor", "campaign"
        ),
    )


def campaign_collaboration_list(
    campaign: Campaign, status: str | None = None
) -> QuerySet[Collaboration]:
    collaborations = (
        Collaboration.objects.filter(campaign=campaign)
        .select_related("creator", "creator__user")
        .annotate(click_count=_click_total_subquery())
    )
    if status:
        collaborations = collaborations.filter(status=status)
    return collaborations.order_by("status", "-updated_at")


def collaboration_click_count(collaboration: Collaboration) -> int:
    total = ClickDailyCount.objects.filter(collaboration=collaboration).aggregate(
        total=Sum("clicks")
    )
    return int(total["total"] or 0)


def campaign_active_periods(
    campaign_ids: list[int],
) -> dict[int, list[tuple[datetime.datetime, datetime.datetime | None]]]:
    """For each campaign, the (start, end or None) spans when it was active, oldest first."""
    periods: dict[int, list[tuple[datetime.datetime, datetime.datetime | None]]] = {
        pk: [] for pk in campaign_ids
    }
    rows = CampaignActivePeriod.objects.filter(campaign_id__in=campaign_ids).order_by(
        "campaign_id", "started_at"
    )
    for campaign_id, started_at, ended_at in rows.values_list(
        "campaign_id", "started_at", "ended_at"
    ):
        periods[campaign_id].append((started_at, ended_at))
    return periods
