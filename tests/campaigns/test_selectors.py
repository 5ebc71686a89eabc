"""The marketplace's search and filters, eligibility reasons and collaboration lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignTerms,
    ClickDailyCount,
    CollaborationStatus,
    JoinMode,
)
from campaigns.selectors import (
    MarketplaceFilters,
    brand_campaign_list,
    campaign_collaboration_list,
    campaign_ineligibility_reasons,
    marketplace_campaign_list,
)
from tests.campaigns.factories import BrandFactory, CampaignFactory, CollaborationFactory, niche
from tests.connect.factories import CreatorProfileFactory

pytestmark = pytest.mark.django_db


def _titles(**filters: Any) -> list[str]:
    return [c.title for c in marketplace_campaign_list(MarketplaceFilters(**filters))]


def _days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_the_marketplace_lists_only_active_open_campaigns_of_unsuspended_brands_newest_first() -> (
    None
):
    # given
    CampaignFactory(title="Older", published_at=_days_ago(3))
    CampaignFactory(title="Newer", published_at=_days_ago(1))
    CampaignFactory(title="Application", join_mode=JoinMode.APPLICATION, published_at=_days_ago(2))
    CampaignFactory(title="Invite only", join_mode=JoinMode.INVITE_ONLY)
    CampaignFactory(title="Draft", status=CampaignStatus.DRAFT, published_at=None)
    CampaignFactory(title="Paused", status=CampaignStatus.PAUSED)
    CampaignFactory(title="Ended", status=CampaignStatus.ENDED)
    CampaignFactory(title="Suspended brand", brand__suspended_at=timezone.now())
    CampaignFactory(title="Past end date", ends_on=timezone.now().date() - dt.timedelta(days=1))
    CampaignFactory(title="Ends today", ends_on=timezone.now().date(), published_at=_days_ago(5))

    # when
    titles = _titles()

    # then
    assert titles == ["Newer", "Application", "Older", "Ends today"]


def test_the_marketplace_query_matches_title_brand_name_or_brief_in_any_case() -> None:
    # given
    CampaignFactory(title="Spring capsule")
    CampaignFactory(title="Coats", brand=BrandFactory(name="Moda CAPSULE"))
    CampaignFactory(title="Shoes", brief="A capsule wardrobe needs one pair.")
    CampaignFactory(title="Games")

    # when
    titles = _titles(query="Capsule")

    # then
    assert sorted(titles) == ["Coats", "Shoes", "Spring capsule"]


def test_the_marketplace_filters_by_niche() -> None:
    # given
    CampaignFactory(title="Dresses", niche=niche("fashion"))
    CampaignFactory(title="Serum", niche=niche("beauty"))

    # when / then
    assert _titles(niche="beauty") == ["Serum"]


def test_the_marketplace_country_filter_keeps_campaigns_with_no_target_countries() -> None:
    # given
    CampaignFactory(title="Poland", target_countries=["PL"], published_at=_days_ago(1))
    CampaignFactory(title="Iberia", target_countries=["ES", "PT"], published_at=_days_ago(2))
    CampaignFactory(title="Everywhere", target_countries=[], published_at=_days_ago(3))

    # when / then
    assert _titles(country="PT") == ["Iberia", "Everywhere"]
    assert _titles(country="PL") == ["Poland", "Everywhere"]
    assert _titles(country="DE") == ["Everywhere"]


def test_the_marketplace_filters_by_currency() -> None:
    # given
    CampaignFactory(title="Złoty", currency="PLN")
    CampaignFactory(title="Euro", currency="EUR")

    # when / then
    assert _titles(currency="PLN") == ["Złoty"]


def test_the_marketplace_filters_by_commission_type_and_minimum_percent() -> None:
    # given
    CampaignFactory(title="Fixed", percent=None, fixed_minor=2000, published_at=_days_ago(1))
    CampaignFactory(title="Ten", percent=Decimal("10.00"), published_at=_days_ago(2))
    CampaignFactory(title="Twelve and a half", percent=Decimal("12.50"), published_at=_days_ago(3))

    # when / then
    assert _titles(commission_type="fixed") == ["Fixed"]
    assert _titles(commission_type="percent") == ["Ten", "Twelve and a half"]
    assert _titles(min_percent=Decimal("10.00")) == ["Ten", "Twelve and a half"]
    assert _titles(min_percent=Decimal("10.01")) == ["Twelve and a half"]


def test_the_marketplace_filters_and_sorts_by_the_terms_in_force_now() -> None:
    # given: a campaign that paid 20% and now pays 5%
    changed = CampaignFactory(title="Lowered", percent=Decimal("20.00"))
    CampaignTerms.objects.create(
        campaign=changed,
        effective_from=timezone.now(),
        commission_type="percent",
        commission_percent=Decimal("5.00"),
    )
    CampaignFactory(title="Steady", percent=Decimal("8.00"))

    # when / then
    assert _titles(min_percent=Decimal("10.00")) == []
    assert _titles(sort="commission") == ["Steady", "Lowered"]


def test_the_marketplace_sorts_by_commission_percent_then_fixed_amount() -> None:
    # given
    CampaignFactory(title="Five", percent=Decimal("5.00"), published_at=_days_ago(1))
    CampaignFactory(title="Fifteen", percent=Decimal("15.00"), published_at=_days_ago(2))
    CampaignFactory(title="Fixed 10", percent=None, fixed_minor=1000, published_at=_days_ago(3))
    CampaignFactory(title="Fixed 30", percent=None, fixed_minor=3000, published_at=_days_ago(4))

    # when
    titles = _titles(sort="commission")

    # then: percents first (highest first), then fixed amounts (highest first)
    assert titles == ["Fifteen", "Five", "Fixed 30", "Fixed 10"]


def test_the_marketplace_combines_filters() -> None:
    # given
    CampaignFactory(title="Match", currency="PLN", niche=niche("beauty"), target_countries=["PL"])
    CampaignFactory(title="Wrong currency", currency="EUR", niche=niche("beauty"))
    CampaignFactory(title="Wrong niche", currency="PLN", niche=niche("food"))
    CampaignFactory(
        title="Wrong country", currency="PLN", niche=niche("beauty"), target_countries=["ES"]
    )

    # when / then
    assert _titles(currency="PLN", niche="beauty", country="PL") == ["Match"]


# ---------------------------------------------------------------------------------------
# Eligibility


def test_an_eligible_creator_has_no_reasons() -> None:
    # given
    campaign = CampaignFactory(min_followers=1000, eligible_countries=["PL"])
    creator = CreatorProfileFactory(max_followers=1000, country="PL")

    # when / then
    assert campaign_ineligibility_reasons(campaign, creator) == []


def test_ineligibility_reasons_say_every_reason_in_words() -> None:
    # given
    campaign = CampaignFactory(
        status=CampaignStatus.PAUSED,
        ends_on=timezone.now().date() - dt.timedelta(days=1),
        min_followers=25_000,
        eligible_countries=["ES", "CZ"],
    )
    creator = CreatorProfileFactory(max_followers=1_200, country="PL")

    # when
    reasons = campaign_ineligibility_reasons(campaign, creator)

    # then
    assert reasons == [
        "This campaign is not accepting creators right now.",
        "This campaign has ended.",
        "Needs at least 25,000 followers on one platform (you have 1,200).",
        "Open to creators in: Spain, Czechia.",
    ]


def test_a_visitor_without_a_creator_profile_is_asked_to_set_one_up() -> None:
    # given
    campaign = CampaignFactory()

    # when / then
    assert campaign_ineligibility_reasons(campaign, None) == [
        "Set up your creator profile to join campaigns."
    ]


# ---------------------------------------------------------------------------------------
# Brand-side lists


def test_brand_campaign_list_counts_active_creators_and_pending_applications() -> None:
    # given
    campaign = CampaignFactory(percent=Decimal("7.50"))
    CollaborationFactory.create_batch(2, campaign=campaign)
    CollaborationFactory(
        campaign=campaign,
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
    )
    CampaignFactory()  # another brand

    # when
    listed: list[Campaign] = list(brand_campaign_list(campaign.brand))

    # then
    assert [c.pk for c in listed] == [campaign.pk]
    assert listed[0].active_count == 2  # type: ignore[attr-defined]
    assert listed[0].pending_count == 1  # type: ignore[attr-defined]
    assert listed[0].current_commission_percent == Decimal("7.50")  # type: ignore[attr-defined]


def test_campaign_collaboration_list_sums_clicks_and_filters_by_status() -> None:
    # given
    campaign = CampaignFactory()
    clicked = CollaborationFactory(campaign=campaign)
    quiet = CollaborationFactory(campaign=campaign)
    applied = CollaborationFactory(
        campaign=campaign,
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
    )
    today = timezone.now().date()
    ClickDailyCount.objects.create(collaboration=clicked, day=today, clicks=7)
    ClickDailyCount.objects.create(
        collaboration=clicked, day=today - dt.timedelta(days=1), clicks=5
    )

    # when
    everyone = {c.pk: c.click_count for c in campaign_collaboration_list(campaign)}
    applications = list(campaign_collaboration_list(campaign, status="applied"))

    # then
    assert everyone == {clicked.pk: 12, quiet.pk: None, applied.pk: None}
    assert [c.pk for c in applications] == [applied.pk]
