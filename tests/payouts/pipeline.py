"""Helpers for earnings tests: send events through ingest, process them, read balances."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from campaigns.models import Brand, Collaboration
from connect.models import CreatorProfile
from payouts.ingest import IngestResult, order_events_ingest
from payouts.processing import order_events_process_all
from payouts.selectors import brand_balances, creator_balances


def yesterday() -> dt.datetime:
    """A recent order time: inside the factories' campaigns and collaborations."""
    return (timezone.now() - dt.timedelta(days=1)).replace(microsecond=0)


def event(
    event_id: str,
    type_: str = "order.paid",
    *,
    order_id: str = "A-1",
    amount: str | None = "100.00",
    currency: str = "EUR",
    code: str | None = None,
    click_id: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": event_id,
        "type": type_,
        "order_id": order_id,
        "occurred_at": (occurred_at or yesterday()).isoformat(),
        "currency": currency,
    }
    if type_ != "order.cancelled" and amount is not None:
        raw["amount"] = amount
    if code is not None:
        raw["code"] = code
    if click_id is not None:
        raw["click_id"] = click_id
    return raw


def send(brand: Brand, *events: dict[str, Any], process: bool = True) -> IngestResult:
    result = order_events_ingest(brand=brand, events=list(events))
    if process:
        order_events_process_all()
    return result


def balances(creator: CreatorProfile, currency: str = "EUR") -> dict[str, int]:
    found = creator_balances(creator).get(currency, {})
    return {
        "pending": found.get("creator_pending", 0),
        "available": found.get("creator_available", 0),
    }


def owed(brand: Brand, currency: str = "EUR") -> int:
    return -brand_balances(brand).get(currency, {}).get("brand_commission_owed", 0)


def code_of(collaboration: Collaboration) -> str:
    assert collaboration.discount_code is not None
    return collaboration.discount_code
