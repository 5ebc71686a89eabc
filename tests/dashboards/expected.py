"""What the dashboards should show, computed straight from the rows the rollups count:
ledger entries, commissions, orders, events and click rows. Independent of the selectors
(and of the rollups) on purpose: a dashboard number equals one of these or the test fails."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from campaigns.models import Click
from payouts.models import Commission, LedgerEntry

UTC = dt.UTC


def ledger_money(**owner: Any) -> dict[str, dict[str, int]]:
    """{currency: {account kind: sum of entries}} for accounts filtered by `owner`."""
    rows = (
        LedgerEntry.objects.filter(**{f"account__{k}": v for k, v in owner.items()})
        .values_list("account__currency", "account__kind")
        .annotate(total=Sum("amount_minor"))
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for currency, kind, total in rows:
        result[currency][kind] = int(total)
    return dict(result)


def platform_ledger(kind: str) -> dict[str, int]:
    rows = (
        LedgerEntry.objects.filter(account__kind=kind)
        .values_list("account__currency")
        .annotate(total=Sum("amount_minor"))
    )
    return {currency: int(total) for currency, total in rows}


def maturity(creator_id: int, today: dt.date) -> dict[str, tuple[int, dt.date | None, int]]:
    """{currency: (due before today, next payable day, its amount)} from the commissions
    still in their hold."""
    days: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for commission in Commission.objects.filter(
        creator_id=creator_id, matured=False, payable_at__isnull=False
    ).exclude(pending_posted_minor=0):
        assert commission.payable_at is not None
        days[commission.currency][commission.payable_at.astimezone(UTC).date()] += (
            commission.pending_posted_minor
        )
    result = {}
    for currency, amounts in days.items():
        overdue = sum(v for day, v in amounts.items() if day < today and v > 0)
        upcoming = sorted((day, v) for day, v in amounts.items() if day >= today and v > 0)
        result[currency] = (overdue, *(upcoming[0] if upcoming else (None, 0)))
    return result


def commission_figures(
    start: dt.date | None = None, end: dt.date | None = None, **scope: Any
) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """{(currency, day): (orders, revenue, commission)} and {("campaign", id): ...} over
    commissions (the day their order.paid arrived) in `scope`, within [start, end]."""
    commissions = Commission.objects.filter(paid_received_at__isnull=False, **scope).annotate(
        day=TruncDate("paid_received_at", tzinfo=UTC)
    )
    if start is not None:
        commissions = commissions.filter(day__gte=start)
    if end is not None:
        commissions = commissions.filter(day__lte=end)
    result: dict[tuple[Any, ...], tuple[int, int, int]] = {}
    aggregates = {
        "orders": Count("id", filter=Q(net_amount_minor__gt=0)),
        "revenue": Sum("net_amount_minor"),
        "commission": Sum("amount_minor"),
    }
    for key in (("currency", "day"), ("campaign_id",)):
        for row in commissions.values(*key).annotate(**aggregates):
            name = tuple(row[k] for k in key) if len(key) == 2 else ("campaign", row[key[0]])
            result[name] = (int(row["orders"]), int(row["revenue"]), int(row["commission"]))
    return result


def click_figures(start: dt.date, end: dt.date, **scope: Any) -> dict[tuple[Any, ...], int]:
    """{(currency, day): clicks} and {("campaign", id): clicks} from the click rows."""
    clicks = Click.objects.filter(**{f"collaboration__{k}": v for k, v in scope.items()}).annotate(
        day=TruncDate("clicked_at", tzinfo=UTC)
    )
    clicks = clicks.filter(day__gte=start, day__lte=end)
    result: dict[tuple[Any, ...], int] = {}
    for row in clicks.values("collaboration__campaign__currency", "day").annotate(n=Count("pk")):
        result[(row["collaboration__campaign__currency"], row["day"])] = row["n"]
    for row in clicks.values("collaboration__campaign_id").annotate(n=Count("pk")):
        result[("campaign", row["collaboration__campaign_id"])] = row["n"]
    return result


def series_figures(activity: Any) -> dict[tuple[str, dt.date], tuple[int, int, int, int]]:
    """A dashboard's daily series as {(currency, day): (orders, revenue, commission,
    clicks)}, days with nothing left out."""
    return {
        (series.currency, day.day): (
            day.orders,
            day.revenue_minor,
            day.commission_minor,
            day.clicks,
        )
        for series in activity.series
        for day in series.days
        if day.orders or day.revenue_minor or day.commission_minor or day.clicks
    }


def campaign_figures(activity: Any) -> dict[int, tuple[int, int, int, int]]:
    """A dashboard's campaign rows as {campaign id: (clicks, orders, revenue, commission)},
    campaigns with nothing left out."""
    return {
        row.campaign_id: (row.clicks, row.orders, row.revenue_minor, row.commission_minor)
        for row in activity.campaigns
        if row.has_activity
    }


def expected_series(
    money: dict[tuple[Any, ...], tuple[int, int, int]], clicks: dict[tuple[Any, ...], int]
) -> dict[tuple[str, dt.date], tuple[int, int, int, int]]:
    keys = {k for k in [*money, *clicks] if k[0] != "campaign"}
    result = {}
    for key in keys:
        orders, revenue, commission = money.get(key, (0, 0, 0))
        figures = (orders, revenue, commission, clicks.get(key, 0))
        if any(figures):
            result[key] = figures
    return result


def expected_campaigns(
    money: dict[tuple[Any, ...], tuple[int, int, int]], clicks: dict[tuple[Any, ...], int]
) -> dict[int, tuple[int, int, int, int]]:
    """{campaign id: (clicks, orders, revenue, commission)} for campaigns with anything."""
    ids = {k[1] for k in [*money, *clicks] if k[0] == "campaign"}
    return {
        campaign_id: (
            clicks.get(("campaign", campaign_id), 0),
            *money.get(("campaign", campaign_id), (0, 0, 0)),
        )
        for campaign_id in ids
    }


def section(html: str, marker: str, end: str = "</section>") -> str:
    """The part of the page from `marker` to the next `end`."""
    start = html.index(marker)
    return html[start : html.index(end, start)]


def figure(html: str, name: str) -> str:
    """The text of the first element marked data-figure=`name` in `html`."""
    marker = f'data-figure="{name}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)].strip()
