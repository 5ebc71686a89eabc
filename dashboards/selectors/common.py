"""What the creator's and the brand's dashboards share: the period, daily figures, campaign
rows, and reading GROUPING SETS rows into them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.db import connection
from django.utils import timezone

PERIOD_CHOICES: Final = (30, 90, 365)
DEFAULT_PERIOD_DAYS: Final = 30
# Periods longer than this are charted a week a bar (a year is 53 bars, not 365).
WEEKLY_AFTER_DAYS: Final = 90


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def ratio(part: int, whole: int) -> Decimal | None:
    """part / whole as a fraction (None without a whole: "—" on the page, not 0 %)."""
    if whole <= 0:
        return None
    return Decimal(part) / Decimal(whole)


@dataclass(frozen=True)
class Period:
    """The last `days` days up to and including `end` (today, UTC)."""

    days: int
    start: dt.date
    end: dt.date

    @classmethod
    def last(cls, days: int, *, today: dt.date | None = None) -> Period:
        end = today or utc_today()
        return cls(days=days, start=end - dt.timedelta(days=days - 1), end=end)

    @classmethod
    def from_param(cls, value: str | None, *, today: dt.date | None = None) -> Period:
        """The period a `?days=` parameter asks for; the default for anything else."""
        try:
            days = int(value or "")
        except ValueError:
            days = DEFAULT_PERIOD_DAYS
        return cls.last(days if days in PERIOD_CHOICES else DEFAULT_PERIOD_DAYS, today=today)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range(self.days)]

    @property
    def by_week(self) -> bool:
        """Whether the period's figures are given a week at a time."""
        return self.days > WEEKLY_AFTER_DAYS

    def buckets(self) -> list[dt.date]:
        """The first day of each bar: every day of the period or, by week, the Monday of
        every week the period touches (the first may fall before the period's start; its
        bar counts only the period's days)."""
        if not self.by_week:
            return self.dates()
        first = week_start(self.start)
        weeks = (self.end - first).days // 7 + 1
        return [first + dt.timedelta(weeks=n) for n in range(weeks)]

    def bucket_sql(self, column: str) -> str:
        """An SQL expression of a date `column` giving its bar's first day (see `buckets`).
        `column` is a fixed name from our own SQL, never input."""
        if not self.by_week:
            return column
        # Days since Monday 1 January of year 1, modulo 7, back from the day: what
        # date_trunc('week', day::timestamp)::date gives, in date arithmetic alone (cheaper
        # on a year of rows, and no time zone involved).
        return f"({column} - mod({column} - DATE '0001-01-01', 7))"


def week_start(day: dt.date) -> dt.date:
    """The Monday of the (ISO) week of `day`, as PostgreSQL's date_trunc('week') gives it."""
    return day - dt.timedelta(days=day.weekday())


def day_start(day: dt.date) -> dt.datetime:
    """The first instant of a UTC day."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------
# Daily figures and campaign rows, shared by the creator's and the brand's dashboards


@dataclass(frozen=True)
class DayFigures:
    """One bar's figures: a day's, or a week's when the period goes by week (`day` is then
    the week's Monday, see `Period.buckets`)."""

    day: dt.date
    orders: int = 0
    revenue_minor: int = 0
    commission_minor: int = 0
    clicks: int = 0


@dataclass(frozen=True)
class DailySeries:
    """One currency's figures for every day (or week) of a period, zero ones included."""

    currency: str
    days: list[DayFigures]

    @property
    def orders(self) -> int:
        return sum(d.orders for d in self.days)

    @property
    def revenue_minor(self) -> int:
        return sum(d.revenue_minor for d in self.days)

    @property
    def commission_minor(self) -> int:
        return sum(d.commission_minor for d in self.days)

    @property
    def clicks(self) -> int:
        return sum(d.clicks for d in self.days)

    @property
    def conversion(self) -> Decimal | None:
        return ratio(self.orders, self.clicks)

    @property
    def commission_rate(self) -> Decimal | None:
        return ratio(self.commission_minor, self.revenue_minor)


@dataclass(frozen=True)
class CampaignRow:
    """A campaign's figures over a period (for the creator: their own part of it)."""

    campaign_id: int
    title: str
    currency: str
    brand_name: str = ""
    status: str = ""
    status_label: str = ""
    clicks: int = 0
    orders: int = 0
    revenue_minor: int = 0
    commission_minor: int = 0
    pending_applications: int = 0

    @property
    def conversion(self) -> Decimal | None:
        return ratio(self.orders, self.clicks)

    @property
    def commission_rate(self) -> Decimal | None:
        return ratio(self.commission_minor, self.revenue_minor)

    @property
    def has_activity(self) -> bool:
        return bool(self.clicks or self.orders or self.revenue_minor or self.commission_minor)


@dataclass(frozen=True)
class Activity:
    """A period's daily series per currency and its campaign rows."""

    period: Period
    series: list[DailySeries]
    campaigns: list[CampaignRow]

    @property
    def has_activity(self) -> bool:
        return any(row.has_activity for row in self.campaigns)


@dataclass
class _Figures:
    orders: int = 0
    revenue_minor: int = 0
    commission_minor: int = 0
    clicks: int = 0


def grouped_rows(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        yield from cursor.fetchall()


def assemble_activity(
    period: Period,
    money_rows: Iterable[tuple[Any, ...]],
    click_rows: Iterable[tuple[Any, ...]],
    campaigns: dict[int, CampaignRow],
    currencies: Iterable[str],
) -> Activity:
    """Combine GROUPING SETS rows into daily series and campaign rows.

    `money_rows` are (by_campaign, campaign_id, currency, day, orders, revenue, commission),
    `click_rows` (by_campaign, campaign_id, currency, day, clicks): a row with by_campaign
    set is a campaign's total over the period, otherwise a currency's day (its week's
    Monday when the period goes by week: the SQL groups on `period.bucket_sql`).
    """
    days: dict[str, dict[dt.date, _Figures]] = defaultdict(lambda: defaultdict(_Figures))
    per_campaign: dict[int, _Figures] = defaultdict(_Figures)
    for by_campaign, campaign_id, currency, day, orders, revenue, commission in money_rows:
        figures = per_campaign[campaign_id] if by_campaign else days[currency][day]
        figures.orders += int(orders or 0)
        figures.revenue_minor += int(revenue or 0)
        figures.commission_minor += int(commission or 0)
    for by_campaign, campaign_id, currency, day, clicks in click_rows:
        figures = per_campaign[campaign_id] if by_campaign else days[currency][day]
        figures.clicks += int(clicks or 0)
    rows = []
    for campaign_id, row in campaigns.items():
        figures = per_campaign.get(campaign_id, _Figures())
        rows.append(
            CampaignRow(
                campaign_id=row.campaign_id,
                title=row.title,
                currency=row.currency,
                brand_name=row.brand_name,
                status=row.status,
                status_label=row.status_label,
                pending_applications=row.pending_applications,
                clicks=figures.clicks,
                orders=figures.orders,
                revenue_minor=figures.revenue_minor,
                commission_minor=figures.commission_minor,
            )
        )
    rows.sort(key=lambda r: (-r.revenue_minor, -r.commission_minor, -r.clicks, r.title.lower()))
    series = []
    buckets = period.buckets()
    empty = _Figures()
    for currency in sorted(set(days) | set(currencies)):
        by_day = days.get(currency, {})
        figures_of = [(day, by_day.get(day, empty)) for day in buckets]
        series.append(
            DailySeries(
                currency=currency,
                days=[
                    DayFigures(day, f.orders, f.revenue_minor, f.commission_minor, f.clicks)
                    for day, f in figures_of
                ],
            )
        )
    return Activity(period=period, series=series, campaigns=rows)
