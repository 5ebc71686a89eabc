"""The staff overview: platform money, payouts by status, failures and how far the workers
and the click flush lag."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final, cast

import redis
from django.utils import timezone

from campaigns.clicks import PROCESSING_SET_KEY, click_buffer, click_buffer_backlog
from dashboards.selectors.common import grouped_rows, utc_today
from payouts.models import (
    OPEN_PAYOUT_STATUSES,
    OrderEvent,
    Payout,
    PayoutStatus,
    ReconciliationDifference,
)

LATEST_FAILED_PAYOUTS: Final = 5
TOP_REFUSING_BRANDS: Final = 5

# ---------------------------------------------------------------------------------------
# The staff dashboard


@dataclass(frozen=True)
class PlatformCurrency:
    """The platform's money in one currency: what creators drove and earned (all time and
    over the last `RECENT_DAYS` days), what was paid out and what is on its way."""

    currency: str
    revenue_minor: int = 0
    commission_minor: int = 0
    recent_revenue_minor: int = 0
    recent_commission_minor: int = 0
    paid_out_minor: int = 0
    in_flight_minor: int = 0


@dataclass(frozen=True)
class PayoutStatusRow:
    status: str
    label: str
    currency: str
    count: int
    amount_minor: int

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PAYOUT_STATUSES


@dataclass(frozen=True)
class PlatformMoney:
    currencies: list[PlatformCurrency]
    statuses: list[PayoutStatusRow]
    recent_days: int

    @property
    def open_payouts(self) -> int:
        return sum(row.count for row in self.statuses if row.is_open)


RECENT_DAYS: Final = 30

_PLATFORM_SQL = """
    SELECT currency, sum(revenue_minor), sum(commission_minor),
           coalesce(sum(revenue_minor) FILTER (WHERE day >= %(since)s), 0),
           coalesce(sum(commission_minor) FILTER (WHERE day >= %(since)s), 0)
    FROM payouts_campaignday
    GROUP BY currency
"""
# Paid out, as the ledger's creator_paid_out accounts hold it: sent and paid payouts, and
# failed ones whose transfer was made (what was not reversed stays paid out).
_PAYOUTS_SQL = """
    SELECT status, currency, count(*), sum(amount_minor),
           coalesce(sum(amount_minor - reversed_minor) FILTER (
               WHERE status IN ('sent', 'paid')
                  OR (status = 'failed' AND stripe_transfer_id <> '')
           ), 0)
    FROM payouts_payout
    GROUP BY status, currency
"""


def platform_money(*, today: dt.date | None = None) -> PlatformMoney:
    """Revenue and commissions per currency from the campaign day rollup, payouts by
    status (two queries)."""
    since = (today or utc_today()) - dt.timedelta(days=RECENT_DAYS - 1)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for currency, revenue, commission, recent_revenue, recent_commission in grouped_rows(
        _PLATFORM_SQL, {"since": since}
    ):
        totals[currency].update(
            revenue=int(revenue or 0),
            commission=int(commission or 0),
            recent_revenue=int(recent_revenue),
            recent_commission=int(recent_commission),
        )
    statuses = []
    labels = dict(PayoutStatus.choices)
    order = {status: n for n, status in enumerate(PayoutStatus.values)}
    for status, currency, count, amount, paid_out in grouped_rows(_PAYOUTS_SQL, ()):
        statuses.append(
            PayoutStatusRow(
                status=status,
                label=str(labels.get(status, status)),
                currency=currency,
                count=int(count),
                amount_minor=int(amount),
            )
        )
        totals[currency]["paid_out"] += int(paid_out)
        if status in OPEN_PAYOUT_STATUSES:
            totals[currency]["in_flight"] += int(amount)
    statuses.sort(key=lambda r: (order.get(r.status, 99), r.currency))
    currencies = [
        PlatformCurrency(
            currency=currency,
            revenue_minor=values["revenue"],
            commission_minor=values["commission"],
            recent_revenue_minor=values["recent_revenue"],
            recent_commission_minor=values["recent_commission"],
            paid_out_minor=values["paid_out"],
            in_flight_minor=values["in_flight"],
        )
        for currency, values in sorted(totals.items())
    ]
    return PlatformMoney(currencies=currencies, statuses=statuses, recent_days=RECENT_DAYS)


@dataclass(frozen=True)
class RefusingBrand:
    brand_id: int
    name: str
    today: int
    week: int


@dataclass(frozen=True)
class FailedEvents:
    """Events the API refused, platform-wide, by UTC day."""

    today: int
    week: int
    brands: list[RefusingBrand]


_FAILED_EVENTS_SQL = """
    SELECT d.brand_id, b.name,
           coalesce(sum(d.count) FILTER (WHERE d.day = %(today)s), 0),
           sum(d.count)
    FROM payouts_brandeventday d JOIN campaigns_brand b ON b.id = d.brand_id
    WHERE d.kind = 'rejected' AND d.day BETWEEN %(since)s AND %(today)s
    GROUP BY d.brand_id, b.name
    HAVING sum(d.count) > 0
    ORDER BY sum(d.count) DESC, b.name
"""


def failed_events(*, today: dt.date | None = None) -> FailedEvents:
    """Refused events today and over the last 7 days, with the brands refused most (one
    query on the brand event day rollup)."""
    today = today or utc_today()
    rows = list(
        grouped_rows(_FAILED_EVENTS_SQL, {"today": today, "since": today - dt.timedelta(days=6)})
    )
    return FailedEvents(
        today=sum(int(row[2]) for row in rows),
        week=sum(int(row[3]) for row in rows),
        brands=[
            RefusingBrand(brand_id=brand_id, name=name, today=int(day), week=int(week))
            for brand_id, name, day, week in rows[:TOP_REFUSING_BRANDS]
        ],
    )


def failed_payouts_latest(*, limit: int = LATEST_FAILED_PAYOUTS) -> list[Payout]:
    """The latest failed payouts with their creator (failed payouts are few: the status
    index finds them, then they are sorted by when they failed)."""
    return list(
        Payout.objects.filter(status=PayoutStatus.FAILED)
        .select_related("creator")
        .order_by("-failed_at", "-id")[:limit]
    )


def reconciliation_open_count() -> int:
    return ReconciliationDifference.objects.filter(resolved_at__isnull=True).count()


@dataclass(frozen=True)
class WorkerLag:
    """The oldest order event still waiting for processing (none: the workers keep up)."""

    oldest_received_at: dt.datetime | None
    now: dt.datetime

    @property
    def seconds(self) -> int:
        if self.oldest_received_at is None:
            return 0
        return max(0, int((self.now - self.oldest_received_at).total_seconds()))


def worker_lag() -> WorkerLag:
    """One row from the partial index of unprocessed events, oldest first."""
    oldest = (
        OrderEvent.objects.filter(processed_at__isnull=True)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return WorkerLag(oldest_received_at=oldest, now=timezone.now())


@dataclass(frozen=True)
class ClickFlushLag:
    """Clicks waiting in Redis for the flush: pending, held by flushes in progress (or
    dead ones), and when the oldest of those flushes claimed its chunk."""

    available: bool
    pending: int = 0
    processing: int = 0
    flushes: int = 0
    oldest_claim_at: dt.datetime | None = None
    # Whether that Redis writes an append-only file, so that a restart keeps the waiting
    # clicks (README, "Services and settings"); None when it does not say.
    on_disk: bool | None = None

    @property
    def oldest_claim_seconds(self) -> int | None:
        if self.oldest_claim_at is None:
            return None
        return max(0, int((timezone.now() - self.oldest_claim_at).total_seconds()))


def click_flush_lag() -> ClickFlushLag:
    """The click buffer's backlog (`click_buffer_backlog`) and its oldest claim, read from
    the buffer's Redis; unavailable when Redis does not answer."""
    try:
        backlog = click_buffer_backlog()
        oldest = cast(
            list[tuple[bytes, float]],
            click_buffer().zrange(PROCESSING_SET_KEY, 0, 0, withscores=True),
        )
        persistence = cast(dict[str, Any], click_buffer().info("persistence"))
    except redis.RedisError:
        return ClickFlushLag(available=False)
    aof = persistence.get("aof_enabled")
    oldest_at = None
    if oldest:
        _token, started = oldest[0]
        oldest_at = dt.datetime.fromtimestamp(min(float(started), time.time()), tz=dt.UTC)
    return ClickFlushLag(
        available=True,
        pending=int(backlog["pending"]),
        processing=int(backlog["processing"]),
        flushes=int(backlog["flushes"]),
        oldest_claim_at=oldest_at,
        on_disk=None if aof is None else bool(int(aof)),
    )
