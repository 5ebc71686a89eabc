"""Factories for brands, campaigns and collaborations (shared by every campaigns test)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from campaigns.codes import new_tracking_code
from campaigns.models import (
    Brand,
    BrandMembership,
    BrandRole,
    Campaign,
    CampaignActivePeriod,
    CampaignStatus,
    CampaignTerms,
    Collaboration,
    CollaborationStatus,
)
from connect.models import Niche
from tests.connect.factories import CreatorProfileFactory, UserFactory


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    website = "https://brand.example.com"
    country = "PL"
    verified_at = factory.LazyFunction(timezone.now)


class BrandMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrandMembership

    brand = factory.SubFactory(BrandFactory)
    user = factory.SubFactory(UserFactory, verified=True)
    role = BrandRole.OWNER


def niche(slug: str = "fashion") -> Niche:
    found, _ = Niche.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    return found


class CampaignFactory(factory.django.DjangoModelFactory):
    """An active open campaign paying 10% with a 30-day hold, unless told otherwise.

    `CampaignFactory(percent=None, fixed_minor=500)` makes a fixed-commission campaign.
    """

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    title = factory.Sequence(lambda n: f"Campaign {n}")
    landing_url = "https://shop.example.com/spring?utm_source=connect"
    niche = factory.LazyFunction(niche)
    currency = "EUR"
    status = CampaignStatus.ACTIVE
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def terms(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        if self.status == CampaignStatus.ACTIVE:
            CampaignActivePeriod.objects.create(
                campaign=self, started_at=timezone.now() - timezone.timedelta(days=365)
            )
        CampaignTerms.objects.create(
            campaign=self,
            effective_from=timezone.now() - timezone.timedelta(days=365),
            commission_type="fixed" if self._fixed_minor else "percent",
            commission_percent=None if self._fixed_minor else self._percent,
            commission_fixed_minor=self._fixed_minor,
            hold_days=self._hold_days,
            attribution_window_days=self._window_days,
        )

    @classmethod
    def _create(cls, model_class: type[Campaign], *args: object, **kwargs: object) -> Campaign:
        percent = kwargs.pop("percent", Decimal("10.00"))
        fixed_minor = kwargs.pop("fixed_minor", None)
        hold_days = kwargs.pop("hold_days", 30)
        window_days = kwargs.pop("window_days", 30)
        campaign = super()._create(model_class, *args, **kwargs)
        campaign._percent = percent
        campaign._fixed_minor = fixed_minor
        campaign._hold_days = hold_days
        campaign._window_days = window_days
        return campaign


class CollaborationFactory(factory.django.DjangoModelFactory):
    """An active collaboration with its codes."""

    class Meta:
        model = Collaboration

    campaign = factory.SubFactory(CampaignFactory)
    brand = factory.LazyAttribute(lambda o: o.campaign.brand)
    creator = factory.SubFactory(CreatorProfileFactory)
    status = CollaborationStatus.ACTIVE
    tracking_code = factory.LazyFunction(new_tracking_code)
    discount_code = factory.Sequence(lambda n: f"CODE{n}")
    activated_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=60))
