"""The creator's earnings: balances and payable days, daily earnings and clicks, campaign
rows, and their commissions a page at a time or as a CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from django.db.models import QuerySet

from campaigns.models import Campaign, Collaboration
from connect.models import CreatorProfile
from dashboards.selectors.common import (
    Activity,
    CampaignRow,
    Period,
    assemble_activity,
    day_start,
    grouped_rows,
    utc_today,
)
from payouts.models import Commission, LedgerAccountKind
from payouts.selectors import commission_list, creator_balances

COMMISSION_PAGE_SIZE: Final = 50

# ---------------------------------------------------------------------------------------
# The creator's dashboard


@dataclass(frozen=True)
class CreatorMoney:
    """A creator's money in one currency, from the ledger's balances, with when the money
    still in its hold becomes payable (from the maturity rollup)."""

    currency: str
    pending_minor: int
    approved_minor: int
    in_flight_minor: int
    paid_minor: int
    next_payable_on: dt.date | None = None
    next_payable_minor: int = 0
    # Money whose payable day has passed, waiting for the next maturation run.
    being_approved_minor: int = 0

    @property
    def balance_minor(self) -> int:
        """Everything earned and not yet paid out: pending, approved and in flight."""
        return self.pending_minor + self.approved_minor + self.in_flight_minor


_MATURITY_SQL = """
    SELECT currency,
           coalesce(sum(pending_minor) FILTER (WHERE day < %(today)s), 0),
           (array_agg(day ORDER BY day) FILTER (WHERE day >= %(today)s))[1],
           (array_agg(pending_minor ORDER BY day) FILTER (WHERE day >= %(today)s))[1]
    FROM payouts_creatormaturity
    WHERE creator_id = %(creator)s AND pending_minor > 0
    GROUP BY currency
"""


def creator_money(creator: CreatorProfile, *, today: dt.date | None = None) -> list[CreatorMoney]:
    """The creator's balances per currency (one query on the ledger's balance rollups) and
    their next payable day (one query on the maturity rollup's partial index)."""
    today = today or utc_today()
    balances = creator_balances(creator)
    maturity = {
        currency: (int(overdue), next_day, int(next_amount or 0))
        for currency, overdue, next_day, next_amount in grouped_rows(
            _MATURITY_SQL, {"today": today, "creator": creator.pk}
        )
    }
    result = []
    for currency in sorted(set(balances) | set(maturity)):
        kinds = balances.get(currency, {})
        overdue, next_day, next_amount = maturity.get(currency, (0, None, 0))
        result.append(
            CreatorMoney(
                currency=currency,
                pending_minor=kinds.get(LedgerAccountKind.CREATOR_PENDING, 0),
                approved_minor=kinds.get(LedgerAccountKind.CREATOR_AVAILABLE, 0),
                in_flight_minor=kinds.get(LedgerAccountKind.CREATOR_IN_FLIGHT, 0),
                paid_minor=kinds.get(LedgerAccountKind.CREATOR_PAID_OUT, 0),
                next_payable_on=next_day,
                next_payable_minor=next_amount,
                being_approved_minor=overdue,
            )
        )
    return result


# One pass over the creator's rollup rows of the period (index (creator_id, day)): the
# (currency, bar) grouping feeds the chart, the (campaign) grouping the campaign table. A
# bar is a day, or a week for long periods (`Period.bucket_sql` fills in {bucket}).
_CREATOR_MONEY_SQL = """
    SELECT GROUPING(bucket) = 1, campaign_id, currency, bucket,
           sum(orders), sum(revenue_minor), sum(commission_minor)
    FROM (
        SELECT campaign_id, currency, {bucket} AS bucket, orders, revenue_minor,
               commission_minor
        FROM payouts_collaborationday
        WHERE creator_id = %(creator)s AND day BETWEEN %(start)s AND %(end)s
    ) r
    GROUP BY GROUPING SETS ((currency, bucket), (campaign_id, currency))
"""
_CREATOR_CLICKS_SQL = """
    SELECT GROUPING(bucket) = 1, campaign_id, currency, bucket, sum(clicks)
    FROM (
        SELECT c.campaign_id, cp.currency, {bucket} AS bucket, d.clicks
        FROM campaigns_collaboration c
        JOIN campaigns_campaign cp ON cp.id = c.campaign_id
        JOIN campaigns_clickdailycount d ON d.collaboration_id = c.id
        WHERE c.creator_id = %(creator)s AND d.day BETWEEN %(start)s AND %(end)s
    ) r
    GROUP BY GROUPING SETS ((currency, bucket), (campaign_id, currency))
"""


def creator_collaborated_campaigns(creator: CreatorProfile) -> list[Campaign]:
    """The campaigns the creator has been active in (now or before), by title: the only
    ones their numbers can come from, and the only ones their filters accept."""
    collaborations = (
        Collaboration.objects.filter(creator=creator, activated_at__isnull=False)
        .select_related("campaign__brand")
        .only(
            "campaign__id",
            "campaign__title",
            "campaign__currency",
            "campaign__status",
            "campaign__brand__name",
        )
    )
    return sorted(
        (collaboration.campaign for collaboration in collaborations),
        key=lambda c: (c.title.lower(), c.pk),
    )


def creator_activity(
    creator: CreatorProfile, period: Period, campaigns: list[Campaign]
) -> Activity:
    """The creator's earnings and clicks per currency and day (or week, see
    `Period.by_week`), and per campaign, over the period (two queries). `campaigns` are
    `creator_collaborated_campaigns(creator)`."""
    params = {"creator": creator.pk, "start": period.start, "end": period.end}
    rows = {
        campaign.pk: CampaignRow(
            campaign_id=campaign.pk,
            title=campaign.title,
            currency=campaign.currency,
            brand_name=campaign.brand.name,
            status=campaign.status,
            status_label=str(campaign.get_status_display()),
        )
        for campaign in campaigns
    }
    activity = assemble_activity(
        period,
        grouped_rows(_CREATOR_MONEY_SQL.format(bucket=period.bucket_sql("day")), params),
        grouped_rows(_CREATOR_CLICKS_SQL.format(bucket=period.bucket_sql("d.day")), params),
        rows,
        currencies=(),
    )
    # A chart per currency the period saw something in; campaign rows for every campaign.
    series = [s for s in activity.series if s.clicks or s.orders or s.commission_minor]
    return Activity(period=period, series=series, campaigns=activity.campaigns)


# ---------------------------------------------------------------------------------------
# The creator's commissions, one page at a time and as a CSV


@dataclass(frozen=True)
class CommissionFilters:
    campaign_id: int | None = None
    status: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None


def creator_commissions(
    creator: CreatorProfile, filters: CommissionFilters
) -> QuerySet[Commission]:
    """The creator's commissions as filtered (on the campaign, the status, and the day the
    order.paid arrived), unordered: callers order by (-updated_at, -id), which the
    (creator, -updated_at) index serves."""
    commissions = commission_list(
        creator=creator, campaign_id=filters.campaign_id, status=filters.status
    )
    if filters.received_from is not None:
        commissions = commissions.filter(paid_received_at__gte=day_start(filters.received_from))
    if filters.received_to is not None:
        commissions = commissions.filter(
            paid_received_at__lt=day_start(filters.received_to + dt.timedelta(days=1))
        )
    return commissions


COMMISSION_CSV_COLUMNS: Final = (
    "order_ref",
    "campaign__title",
    "currency",
    "net_amount_minor",
    "amount_minor",
    "status",
    "paid_received_at",
    "payable_at",
)


def creator_commission_rows(
    creator: CreatorProfile, filters: CommissionFilters, *, chunk_size: int = 2000
) -> Iterator[tuple[Any, ...]]:
    """The creator's commissions as filtered, newest change first, as tuples of
    `COMMISSION_CSV_COLUMNS`, read through a server-side cursor `chunk_size` rows at a time:
    a million rows never sit in memory."""
    return (
        creator_commissions(creator, filters)
        .order_by("-updated_at", "-id")
        .values_list(*COMMISSION_CSV_COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
