"""Rollups for the dashboards: what the pipeline has counted, per collaboration, campaign and day.

Dashboards read these tables only; they never scan commissions, orders or events on a page
view. Each table is written by the code that changes what it counts, in the same database
transaction, as a delta (see `payouts.rollups`):

- `CollaborationDay`: per collaboration (a creator in a campaign) and day of the sale,
  the orders credited, the revenue they drove and the commission they earn. Written by
  processing (`payouts.processing.orders_settle`).
- `CampaignDay`: the same per campaign and day.
- `CollaborationTotal`: the same per collaboration over all time, for the "top creators"
  tables.
- `CreatorMaturity`: per creator, currency and day, the money still in its hold that becomes
  payable that day (what the ledger's `creator_pending` account holds, by date). Written by
  processing and by maturation.
- `BrandEventDay`: per brand and day, how many order events arrived, were refused (by error
  code), were duplicates, and how many orders were left unattributed (by reason). Written
  by the ingest and by processing.

Counting rules (also in docs/earnings-rules.md, "Dashboards"): an order counts for a
collaboration while its commission row has a positive net amount (a fully refunded or
cancelled order no longer counts); revenue is the order's net paid amount; the day is the
UTC date the order.paid event was received. Money columns are in the campaign's currency.
Clicks are counted by the click flush in `campaigns` (`ClickDailyCount` per collaboration
and day, `CampaignClickDay` per campaign and day).

`manage.py check_ledger` compares every rollup with the rows it counts, and the creator and
brand totals with the ledger itself.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q


class _Sales(models.Model):
    """What a rollup row counts of the commissions it covers (see the module docstring)."""

    orders = models.BigIntegerField(default=0)
    revenue_minor = models.BigIntegerField(default=0)
    commission_minor = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class CollaborationDay(_Sales):
    collaboration_id = models.BigIntegerField()
    day = models.DateField()
    creator_id = models.BigIntegerField()
    campaign_id = models.BigIntegerField()
    brand_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                "collaboration_id", "day", name="rollup_collaboration_day_uniq"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["creator_id", "day"], name="rollup_collab_day_creator_idx"),
        ]

    def __str__(self) -> str:
        return f"collaboration {self.collaboration_id} on {self.day}"


class CampaignDay(_Sales):
    campaign_id = models.BigIntegerField()
    day = models.DateField()
    brand_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint("campaign_id", "day", name="rollup_campaign_day_uniq"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # Covering: a brand's dashboard reads a year of its campaigns' days from the
            # index alone (updates of a day's figures are then not HOT: a day's row is
            # written once per batch of its campaign, a cost the page views repay).
            models.Index(
                fields=["brand_id", "day"],
                include=["campaign_id", "currency", "orders", "revenue_minor", "commission_minor"],
                name="rollup_campaign_day_brand_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} on {self.day}"


class CollaborationTotal(_Sales):
    collaboration_id = models.BigIntegerField(primary_key=True)
    creator_id = models.BigIntegerField()
    campaign_id = models.BigIntegerField()
    brand_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["campaign_id", "-revenue_minor"], name="rollup_total_campaign_rev_idx"
            ),
            models.Index(
                fields=["brand_id", "currency", "-revenue_minor"],
                name="rollup_total_brand_rev_idx",
            ),
            models.Index(fields=["creator_id"], name="rollup_total_creator_idx"),
        ]

    def __str__(self) -> str:
        return f"collaboration {self.collaboration_id} in total"


class CreatorMaturity(models.Model):
    creator_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    day = models.DateField()
    pending_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                "creator_id", "currency", "day", name="rollup_creator_maturity_uniq"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # The next payable day: the first one still holding money.
            models.Index(
                fields=["creator_id", "currency", "day"],
                name="rollup_maturity_open_idx",
                condition=Q(pending_minor__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"creator {self.creator_id} {self.currency} payable {self.day}"


class BrandEventKind(models.TextChoices):
    RECEIVED = "received"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    UNATTRIBUTED = "unattributed"


class BrandEventDay(models.Model):
    """`code` is the field at fault of a refused event, or the reason of an unattributed
    order; blank for received and duplicate events."""

    brand_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=BrandEventKind.choices)
    code = models.CharField(max_length=64, blank=True, default="")
    count = models.BigIntegerField(default=0)
    # When the last of them arrived (received, refused and duplicate events).
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["brand_id", "day", "kind", "code"],
                include=["count"],
                name="rollup_brand_event_day_uniq",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # The platform's refused events over recent days, all brands.
            models.Index(fields=["day", "kind"], name="rollup_brand_event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"brand {self.brand_id} {self.day} {self.kind} {self.code}: {self.count}"


__all__ = [
    "BrandEventDay",
    "BrandEventKind",
    "CampaignDay",
    "CollaborationDay",
    "CollaborationTotal",
    "CreatorMaturity",
]
