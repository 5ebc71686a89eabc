"""The brand's dashboard: its campaigns' figures, top creators, integration health, and its
days as a CSV."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    Brand,
    Campaign,
    CampaignClickDay,
    CampaignStatus,
    Collaboration,
    CollaborationStatus,
)
from dashboards.selectors.common import (
    Activity,
    CampaignRow,
    Period,
    assemble_activity,
    grouped_rows,
    ratio,
)
from payouts.models import BrandEventDay, BrandEventKind, CampaignDay, Order
from payouts.rules import attribution
from payouts.rules.attribution import stored_reason_message

TOP_CREATORS: Final = 10
LATEST_UNATTRIBUTED: Final = 10
# How many of the brand's latest refused events are read to find an example per field.
REFUSED_EXAMPLES_SCAN: Final = 200

# ---------------------------------------------------------------------------------------
# The brand's dashboard


def brand_campaigns(brand: Brand) -> list[Campaign]:
    """The brand's campaigns, drafts last, for the filter and the campaign table."""
    campaigns = Campaign.objects.filter(brand=brand).only(
        "id", "title", "currency", "status", "published_at", "brand_id"
    )
    return sorted(
        campaigns, key=lambda c: (c.status == CampaignStatus.DRAFT, c.title.lower(), c.pk)
    )


# As the creator's (selectors/creator.py): {bucket} is a day or a week.
_BRAND_MONEY_SQL = """
    SELECT GROUPING(bucket) = 1, campaign_id, currency, bucket,
           sum(orders), sum(revenue_minor), sum(commission_minor)
    FROM (
        SELECT campaign_id, currency, {bucket} AS bucket, orders, revenue_minor,
               commission_minor
        FROM payouts_campaignday
        WHERE brand_id = %(brand)s AND day BETWEEN %(start)s AND %(end)s
          AND campaign_id = ANY(%(campaigns)s)
    ) r
    GROUP BY GROUPING SETS ((currency, bucket), (campaign_id, currency))
"""
_BRAND_CLICKS_SQL = """
    SELECT GROUPING(bucket) = 1, campaign_id, currency, bucket, sum(clicks)
    FROM (
        SELECT k.campaign_id, cp.currency, {bucket} AS bucket, k.clicks
        FROM campaigns_campaign cp
        JOIN campaigns_campaignclickday k ON k.campaign_id = cp.id
        WHERE cp.brand_id = %(brand)s AND cp.id = ANY(%(campaigns)s)
          AND k.day BETWEEN %(start)s AND %(end)s
    ) r
    GROUP BY GROUPING SETS ((currency, bucket), (campaign_id, currency))
"""


def brand_activity(brand: Brand, period: Period, campaigns: list[Campaign]) -> Activity:
    """Clicks, orders, revenue and commission cost per currency and day (or week, see
    `Period.by_week`) and per campaign, with each campaign's applications waiting for
    review (three queries, each grouping in SQL: O(days + campaigns) rows). `campaigns` are
    the brand's campaigns shown (all of them, or the one filtered on)."""
    ids = [campaign.pk for campaign in campaigns]
    params = {"brand": brand.pk, "start": period.start, "end": period.end, "campaigns": ids}
    # The ids are the brand's own campaigns'. No brand filter besides: PostgreSQL would
    # AND in a bitmap of all the brand's collaborations (40,000 for a large brand) when
    # the (campaign, status) index alone finds the few applications.
    applications = dict(
        Collaboration.objects.filter(campaign_id__in=ids, status=CollaborationStatus.APPLIED)
        .values_list("campaign_id")
        .annotate(count=Count("id"))
        .values_list("campaign_id", "count")
    )
    rows = {
        campaign.pk: CampaignRow(
            campaign_id=campaign.pk,
            title=campaign.title,
            currency=campaign.currency,
            status=campaign.status,
            status_label=str(campaign.get_status_display()),
            pending_applications=applications.get(campaign.pk, 0),
        )
        for campaign in campaigns
    }
    published = {c.currency for c in campaigns if c.status != CampaignStatus.DRAFT}
    return assemble_activity(
        period,
        grouped_rows(_BRAND_MONEY_SQL.format(bucket=period.bucket_sql("day")), params),
        grouped_rows(_BRAND_CLICKS_SQL.format(bucket=period.bucket_sql("k.day")), params),
        rows,
        currencies=published,
    )


@dataclass(frozen=True)
class TopCreator:
    """A creator's all-time figures in one of the brand's campaigns (or over all of them
    in one currency: one row per collaboration)."""

    handle: str
    display_name: str
    campaign_title: str
    currency: str
    orders: int
    revenue_minor: int
    commission_minor: int


_TOP_BY_CURRENCY_SQL = """
    SELECT p.handle, p.display_name, cp.title, t.currency, t.orders, t.revenue_minor,
           t.commission_minor
    FROM unnest(%(currencies)s::varchar[]) AS cur(code)
    CROSS JOIN LATERAL (
        SELECT * FROM payouts_collaborationtotal
        WHERE brand_id = %(brand)s AND currency = cur.code AND revenue_minor > 0
        ORDER BY revenue_minor DESC LIMIT %(limit)s
    ) t
    JOIN connect_creatorprofile p ON p.id = t.creator_id
    JOIN campaigns_campaign cp ON cp.id = t.campaign_id
    ORDER BY t.currency, t.revenue_minor DESC, p.handle
"""
_TOP_IN_CAMPAIGN_SQL = """
    SELECT p.handle, p.display_name, cp.title, t.currency, t.orders, t.revenue_minor,
           t.commission_minor
    FROM (
        SELECT * FROM payouts_collaborationtotal
        WHERE campaign_id = %(campaign)s AND brand_id = %(brand)s AND revenue_minor > 0
        ORDER BY revenue_minor DESC LIMIT %(limit)s
    ) t
    JOIN connect_creatorprofile p ON p.id = t.creator_id
    JOIN campaigns_campaign cp ON cp.id = t.campaign_id
    ORDER BY t.revenue_minor DESC, p.handle
"""


def brand_top_creators(
    brand: Brand,
    *,
    currencies: Sequence[str],
    campaign: Campaign | None = None,
    limit: int = TOP_CREATORS,
) -> dict[str, list[TopCreator]]:
    """The creators who drove the most revenue, all time, per currency (one query along the
    (brand, currency, -revenue) or (campaign, -revenue) index)."""
    if campaign is not None:
        sql = _TOP_IN_CAMPAIGN_SQL
        params: dict[str, Any] = {"campaign": campaign.pk, "brand": brand.pk, "limit": limit}
    elif currencies:
        sql = _TOP_BY_CURRENCY_SQL
        params = {"currencies": sorted(currencies), "brand": brand.pk, "limit": limit}
    else:
        return {}
    result: dict[str, list[TopCreator]] = defaultdict(list)
    for handle, name, title, currency, orders, revenue, commission in grouped_rows(sql, params):
        result[currency].append(
            TopCreator(
                handle=handle,
                display_name=name,
                campaign_title=title,
                currency=currency,
                orders=int(orders),
                revenue_minor=int(revenue),
                commission_minor=int(commission),
            )
        )
    return dict(result)


# Unattributed reasons in a few words, for counting them (the full sentence of one order,
# with its click, code or campaign, comes from `stored_reason_message`).
UNATTRIBUTED_LABELS: Final = {
    attribution.NO_CODE_OR_CLICK: _("No click id and no code"),
    attribution.UNKNOWN_CLICK: _("Click id not from your tracking links"),
    attribution.CLICK_AFTER_ORDER: _("Click after the order"),
    attribution.CLICK_OUTSIDE_WINDOW: _("Click outside the attribution window"),
    attribution.UNKNOWN_CODE: _("Unknown code"),
    attribution.COLLABORATION_NOT_ACTIVE: _("Creator not active in the campaign"),
    attribution.CREATOR_SUSPENDED: _("Creator suspended"),
    attribution.CAMPAIGN_NOT_ACTIVE: _("Campaign not active"),
    attribution.NO_TERMS_IN_FORCE: _("No commission terms in force"),
    attribution.WRONG_CURRENCY: _("Another currency than the campaign's"),
}


def unattributed_label(reason: str) -> str:
    label = UNATTRIBUTED_LABELS.get(reason)
    return str(label) if label is not None else reason


@dataclass(frozen=True)
class RefusalRow:
    """Refused events of one field at fault over the period, with the latest message."""

    field: str
    count: int
    example: str = ""
    example_at: dt.datetime | None = None


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class UnattributedOrder:
    order_id: str
    reason: str
    label: str
    message: str
    currency: str
    net_amount_minor: int
    received_at: dt.datetime | None


@dataclass(frozen=True)
class EventDay:
    """One bar of events: a day, or a week from its Monday (see `Period.buckets`)."""

    day: dt.date
    received: int = 0
    refused: int = 0


@dataclass(frozen=True)
class IntegrationHealth:
    """How the brand's order events arrive: volume, refusals, duplicates and orders that
    could not be credited to a creator."""

    period: Period
    last_received_at: dt.datetime | None
    days: list[EventDay]
    refusals: list[RefusalRow]
    reasons: list[ReasonRow]
    duplicates: int
    latest_unattributed: list[UnattributedOrder] = field(default_factory=list)

    @property
    def received(self) -> int:
        return sum(d.received for d in self.days)

    @property
    def refused(self) -> int:
        return sum(d.refused for d in self.days)

    @property
    def unattributed(self) -> int:
        return sum(r.count for r in self.reasons)

    @property
    def refusal_rate(self) -> Decimal | None:
        return ratio(self.refused, self.received + self.refused)


_BRAND_EVENTS_SQL = """
    SELECT kind, GROUPING(bucket) = 1, bucket, code, sum(count)
    FROM (
        SELECT kind, {bucket} AS bucket, code, count
        FROM payouts_brandeventday
        WHERE brand_id = %(brand)s AND day BETWEEN %(start)s AND %(end)s
    ) r
    GROUP BY GROUPING SETS ((kind, bucket), (kind, code))
"""


def brand_integration_health(brand: Brand, period: Period) -> IntegrationHealth:
    """The brand's event counters over the period (four queries: the last arrival, the
    daily counters, the latest refused events for examples, the latest unattributed
    orders on their partial index)."""
    last_received_at = (
        BrandEventDay.objects.filter(brand_id=brand.pk, kind=BrandEventKind.RECEIVED)
        .order_by("-day")
        .values_list("last_at", flat=True)
        .first()
    )
    per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_code: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    params = {"brand": brand.pk, "start": period.start, "end": period.end}
    for kind, by_code, day, code, count in grouped_rows(
        _BRAND_EVENTS_SQL.format(bucket=period.bucket_sql("day")), params
    ):
        if by_code:
            per_code[kind][code] += int(count)
        else:
            per_day[day][kind] += int(count)
    examples = _latest_refusals(brand)
    refusals = [
        RefusalRow(
            field=code or "event",
            count=count,
            example=examples.get(code, ("", None))[0],
            example_at=examples.get(code, ("", None))[1],
        )
        for code, count in per_code[BrandEventKind.REJECTED].items()
        if count
    ]
    refusals.sort(key=lambda r: (-r.count, r.field))
    reasons = [
        ReasonRow(reason=code, label=unattributed_label(code), count=count)
        for code, count in per_code[BrandEventKind.UNATTRIBUTED].items()
        if count
    ]
    reasons.sort(key=lambda r: (-r.count, r.reason))
    return IntegrationHealth(
        period=period,
        last_received_at=last_received_at,
        days=[
            EventDay(
                day=day,
                received=per_day[day][BrandEventKind.RECEIVED] if day in per_day else 0,
                refused=per_day[day][BrandEventKind.REJECTED] if day in per_day else 0,
            )
            for day in period.buckets()
        ],
        refusals=refusals,
        reasons=reasons,
        duplicates=sum(per_code[BrandEventKind.DUPLICATE].values()),
        latest_unattributed=brand_unattributed_latest(brand),
    )


# The latest refused event per field at fault, among the brand's latest ones: PostgreSQL
# picks them, so that a handful of rows (not `REFUSED_EXAMPLES_SCAN`) come back.
_LATEST_REFUSALS_SQL = """
    SELECT DISTINCT ON (error_field) error_field, error, received_at
    FROM (
        SELECT error_field, error, received_at, id
        FROM payouts_rejectedorderevent
        WHERE brand_id = %(brand)s
        ORDER BY received_at DESC, id DESC
        LIMIT %(limit)s
    ) latest
    ORDER BY error_field, received_at DESC, id DESC
"""


def _latest_refusals(brand: Brand) -> dict[str, tuple[str, dt.datetime]]:
    """The latest message per field at fault among the brand's latest refused events
    (a bounded read on the (brand, -received_at) index)."""
    return {
        error_field: (error, received_at)
        for error_field, error, received_at in grouped_rows(
            _LATEST_REFUSALS_SQL, {"brand": brand.pk, "limit": REFUSED_EXAMPLES_SCAN}
        )
    }


def brand_unattributed_latest(
    brand: Brand, *, limit: int = LATEST_UNATTRIBUTED
) -> list[UnattributedOrder]:
    """The brand's latest orders left unattributed, newest first (the partial index
    `order_unattributed_idx` on (brand, -id))."""
    orders = (
        Order.objects.filter(brand=brand)
        .exclude(unattributed_reason="")
        .order_by("-id")
        .values_list(
            "order_id",
            "unattributed_reason",
            "unattributed_params",
            "currency",
            "net_amount_minor",
            "paid_received_at",
        )[:limit]
    )
    return [
        UnattributedOrder(
            order_id=order_id,
            reason=reason,
            label=unattributed_label(reason),
            message=stored_reason_message(reason, params) or unattributed_label(reason),
            currency=currency,
            net_amount_minor=net,
            received_at=received_at,
        )
        for order_id, reason, params, currency, net, received_at in orders
    ]


# ---------------------------------------------------------------------------------------
# The brand's days as a CSV


@dataclass(frozen=True)
class CampaignDayRow:
    day: dt.date
    campaign_id: int
    title: str
    currency: str
    clicks: int = 0
    orders: int = 0
    revenue_minor: int = 0
    commission_minor: int = 0


def _by_day(
    rows: Iterator[tuple[Any, ...]],
) -> Iterator[tuple[dt.date, dict[int, tuple[Any, ...]]]]:
    """Rows sorted by (day, campaign id), grouped into one dict per day."""
    current: dt.date | None = None
    found: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        day, campaign_id = row[0], row[1]
        if day != current:
            if current is not None:
                yield current, found
            current, found = day, {}
        found[campaign_id] = row[2:]
    if current is not None:
        yield current, found


def brand_campaign_days(
    brand: Brand, period: Period, campaigns: list[Campaign], *, chunk_size: int = 2000
) -> Iterator[CampaignDayRow]:
    """One row per campaign and day of the period, by day then campaign title: every
    published campaign from the day it was published, zeros included. Reads the campaign
    day and click day rollups through two server-side cursors, a day at a time."""
    ids = [campaign.pk for campaign in campaigns]
    money = _by_day(
        CampaignDay.objects.filter(
            brand_id=brand.pk, campaign_id__in=ids, day__range=(period.start, period.end)
        )
        .order_by("day", "campaign_id")
        .values_list("day", "campaign_id", "orders", "revenue_minor", "commission_minor")
        .iterator(chunk_size=chunk_size)
    )
    clicks = _by_day(
        CampaignClickDay.objects.filter(campaign_id__in=ids, day__range=(period.start, period.end))
        .order_by("day", "campaign_id")
        .values_list("day", "campaign_id", "clicks")
        .iterator(chunk_size=chunk_size)
    )
    ordered = sorted(campaigns, key=lambda c: (c.title.lower(), c.pk))
    next_money = next(money, None)
    next_clicks = next(clicks, None)
    for day in period.dates():
        day_money: dict[int, tuple[Any, ...]] = {}
        day_clicks: dict[int, tuple[Any, ...]] = {}
        if next_money is not None and next_money[0] == day:
            day_money = next_money[1]
            next_money = next(money, None)
        if next_clicks is not None and next_clicks[0] == day:
            day_clicks = next_clicks[1]
            next_clicks = next(clicks, None)
        for campaign in ordered:
            published = campaign.published_at is not None and (
                campaign.published_at.astimezone(dt.UTC).date() <= day
            )
            if not (published or campaign.pk in day_money or campaign.pk in day_clicks):
                continue
            orders, revenue, commission = day_money.get(campaign.pk, (0, 0, 0))
            yield CampaignDayRow(
                day=day,
                campaign_id=campaign.pk,
                title=campaign.title,
                currency=campaign.currency,
                clicks=int(day_clicks.get(campaign.pk, (0,))[0]),
                orders=int(orders),
                revenue_minor=int(revenue),
                commission_minor=int(commission),
            )
