"""A history of demo clicks and orders for the dashboards (`manage.py seed_demo --history`).

The demo campaigns begin the day they are seeded, so their charts would show a single day.
This adds, for each active demo collaboration, `HISTORY_DAYS` days of clicks and orders
before today, through the same storage as real ones: clicks through the click flush's
`clicks_store`, orders through the ingest (with the day's arrival time) and processing,
then maturation. So every rollup, balance and ledger entry is what the pipeline made.

For those orders to be credited, the demo campaign and collaboration must have been active
on those days: their start (publication, first active period, first terms, activation) is
moved back to just before the history begins. Demo data only: nothing else moves a start.

Idempotent: a collaboration that already has history orders (`HIST-<id>-…`) is left alone.
Deterministic for a given collaboration id, so two runs on fresh databases agree.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.clicks import ClickRecord, clicks_store, new_click_id
from campaigns.models import (
    CampaignActivePeriod,
    CampaignStatus,
    CampaignTerms,
    Collaboration,
    CollaborationStatus,
)
from connect.money import from_minor
from payouts.ingest import order_events_ingest
from payouts.models import OrderEvent
from payouts.processing import commissions_mature, order_events_process_all

HISTORY_DAYS = 90
# A typical order per currency, in minor units: (smallest, largest).
ORDER_AMOUNTS: dict[str, tuple[int, int]] = {
    "EUR": (1_900, 14_900),
    "USD": (2_500, 19_900),
    "PLN": (7_900, 59_900),
    "CZK": (49_000, 299_000),
}
REFUND_SHARE = 0.08
CANCEL_SHARE = 0.03
UNKNOWN_CODE_SHARE = 0.03
CLICK_ATTRIBUTED_SHARE = 0.6


@dataclass
class HistoryResult:
    collaborations: int = 0
    clicks: int = 0
    events: int = 0
    processed: int = 0
    approved: int = 0


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def collaboration_backdate(collaboration: Collaboration, since: dt.datetime) -> None:
    """Make the campaign and the collaboration active from `since` (if they began later):
    demo and test data only, so that orders of earlier days can be credited."""
    campaign = collaboration.campaign
    if campaign.published_at is None or campaign.published_at > since:
        type(campaign).objects.filter(pk=campaign.pk).update(published_at=since)
    first_period = (
        CampaignActivePeriod.objects.filter(campaign=campaign).order_by("started_at").first()
    )
    if first_period is not None and first_period.started_at > since:
        CampaignActivePeriod.objects.filter(pk=first_period.pk).update(started_at=since)
    first_terms = CampaignTerms.objects.filter(campaign=campaign).order_by("effective_from").first()
    if first_terms is not None and first_terms.effective_from > since:
        CampaignTerms.objects.filter(pk=first_terms.pk).update(effective_from=since)
    if collaboration.activated_at is None or collaboration.activated_at > since:
        Collaboration.objects.filter(pk=collaboration.pk).update(activated_at=since)


def _daily_clicks(rng: random.Random, base: float, progress: float, day: dt.date) -> int:
    """A day's clicks: a rising trend, busier weekends, some noise and the odd viral day."""
    weekend = 1.35 if day.weekday() >= 5 else 1.0
    viral = 2.5 if rng.random() < 0.04 else 1.0
    value = base * (0.45 + 0.9 * progress) * weekend * viral * rng.uniform(0.7, 1.3)
    return max(0, round(value))


def _history_events(
    collaboration: Collaboration, days: list[dt.date]
) -> tuple[list[ClickRecord], dict[dt.date, list[dict[str, Any]]]]:
    """The collaboration's clicks and its order events, by the day they arrive."""
    rng = random.Random(f"connect-demo-history-{collaboration.pk}")  # noqa: S311 - demo data
    currency = collaboration.campaign.currency
    low, high = ORDER_AMOUNTS.get(currency, ORDER_AMOUNTS["EUR"])
    base = rng.uniform(18, 45)
    conversion = rng.uniform(0.025, 0.06)
    clicks: list[ClickRecord] = []
    batches: dict[dt.date, list[dict[str, Any]]] = {day: [] for day in days}
    for index, day in enumerate(days):
        start = _day_start(day) + dt.timedelta(hours=7)
        count = _daily_clicks(rng, base, index / max(len(days) - 1, 1), day)
        moments = sorted(
            start + dt.timedelta(seconds=rng.randrange(14 * 3600)) for _ in range(count)
        )
        day_clicks = [
            ClickRecord(
                click_id=new_click_id(int(moment.timestamp() * 1000)),
                collaboration_id=collaboration.pk,
                ip_hash=f"{rng.getrandbits(256):064x}",
                user_agent="Mozilla/5.0 (demo)",
                referrer=rng.choice(["https://www.instagram.com/", "https://www.tiktok.com/", ""]),
            )
            for moment in moments
        ]
        clicks.extend(day_clicks)
        orders = sum(1 for _ in day_clicks if rng.random() < conversion)
        for n in range(orders):
            order_id = f"HIST-{collaboration.pk}-{day:%Y%m%d}-{n + 1}"
            click = rng.choice(day_clicks)
            occurred = click.clicked_at + dt.timedelta(minutes=rng.randrange(3, 50))
            amount = rng.randrange(low, high, 100) - 1  # prices end in .99
            paid: dict[str, Any] = {
                "id": f"{order_id}-paid",
                "type": "order.paid",
                "order_id": order_id,
                "occurred_at": occurred.isoformat(),
                "amount": from_minor(amount, currency),
                "currency": currency,
            }
            roll = rng.random()
            if roll < UNKNOWN_CODE_SHARE:
                paid["code"] = "WELCOME10"
            elif roll < CLICK_ATTRIBUTED_SHARE:
                paid["click_id"] = str(click.click_id)
            else:
                paid["code"] = collaboration.discount_code
            batches[day].append(paid)
            after = rng.random()
            later = min(day + dt.timedelta(days=rng.randrange(1, 6)), days[-1])
            if after < REFUND_SHARE and later > day:
                batches[later].append(
                    {
                        "id": f"{order_id}-refund",
                        "type": "order.refunded",
                        "order_id": order_id,
                        "occurred_at": (_day_start(later) + dt.timedelta(hours=9)).isoformat(),
                        "amount": from_minor(amount // rng.choice([2, 3, 4]), currency),
                        "currency": currency,
                    }
                )
            elif after < REFUND_SHARE + CANCEL_SHARE and later > day:
                batches[later].append(
                    {
                        "id": f"{order_id}-cancel",
                        "type": "order.cancelled",
                        "order_id": order_id,
                        "occurred_at": (_day_start(later) + dt.timedelta(hours=8)).isoformat(),
                        "currency": currency,
                    }
                )
    return clicks, batches


def demo_history_add(
    *, brand_slugs: list[str], days: int = HISTORY_DAYS, now: dt.datetime | None = None
) -> HistoryResult:
    """Add the history (see the module docstring) to the active collaborations of the
    active campaigns of these demo brands; then process and mature, as the workers would."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date()
    history_days = [today - dt.timedelta(days=n) for n in range(days, 0, -1)]
    since = _day_start(history_days[0]) - dt.timedelta(days=1)
    result = HistoryResult()
    collaborations = (
        Collaboration.objects.filter(
            brand__slug__in=brand_slugs,
            status=CollaborationStatus.ACTIVE,
            campaign__status=CampaignStatus.ACTIVE,
        )
        .select_related("campaign", "brand")
        .order_by("pk")
    )
    for collaboration in collaborations:
        if OrderEvent.objects.filter(
            brand=collaboration.brand, order_id__startswith=f"HIST-{collaboration.pk}-"
        ).exists():
            continue
        clicks, batches = _history_events(collaboration, history_days)
        with transaction.atomic():
            collaboration_backdate(collaboration, since)
            result.clicks += clicks_store(clicks)
            for day, events in batches.items():
                if events:
                    # Each day's orders arrive that evening.
                    arrived = _day_start(day) + dt.timedelta(hours=22)
                    order_events_ingest(
                        brand=collaboration.brand, events=events, received_at=arrived
                    )
                    result.events += len(events)
        result.collaborations += 1
    result.processed = order_events_process_all()
    result.approved = commissions_mature()
    return result
