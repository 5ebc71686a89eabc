"""The periods when a campaign was active, recorded by its lifecycle for attribution."""

import pytest
from django.utils import timezone

from campaigns.models import CampaignActivePeriod, CampaignStatus
from campaigns.selectors import campaign_active_periods
from campaigns.services import campaign_end, campaign_pause, campaign_publish, campaign_resume
from tests.campaigns.factories import BrandMembershipFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def test_publish_pause_resume_end_record_two_closed_periods() -> None:
    # given
    member = BrandMembershipFactory()
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)
    actor = member.user

    # when
    campaign_publish(campaign=campaign, actor=actor)
    campaign_pause(campaign=campaign, actor=actor)
    campaign_resume(campaign=campaign, actor=actor)
    campaign_end(campaign=campaign, actor=actor)

    # then
    periods = campaign_active_periods([campaign.pk])[campaign.pk]
    assert len(periods) == 2
    (first_start, first_end), (second_start, second_end) = periods
    assert first_start <= first_end <= second_start <= second_end
    assert second_end <= timezone.now()
    campaign.refresh_from_db()
    assert campaign.published_at == first_start


def test_a_repeated_publish_opens_no_second_period() -> None:
    # given
    member = BrandMembershipFactory()
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)

    # when: a double click
    campaign_publish(campaign=campaign, actor=member.user)
    campaign_publish(campaign=campaign, actor=member.user)

    # then
    assert list(
        CampaignActivePeriod.objects.filter(campaign=campaign).values_list("ended_at", flat=True)
    ) == [None]


def test_a_refused_transition_changes_no_period() -> None:
    # given: a draft cannot pause
    member = BrandMembershipFactory()
    campaign = CampaignFactory(brand=member.brand, status=CampaignStatus.DRAFT, published_at=None)

    # when
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        campaign_pause(campaign=campaign, actor=member.user)

    # then
    assert campaign_active_periods([campaign.pk]) == {campaign.pk: []}
