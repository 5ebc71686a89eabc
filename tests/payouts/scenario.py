"""Order events with the earnings they must produce, sent as a brand sends them, and the checks
that follow a failure: the fault tests and the failure drills share them.

The expected earnings are computed here in integers, not with the pipeline's code, so that a
pipeline that loses, doubles or misrounds an order disagrees with them.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from campaigns.api_keys import brand_api_key_create
from campaigns.models import Brand, Collaboration
from payouts.models import Commission, OrderEvent
from payouts.recompute import earnings_recompute
from payouts.selectors import ledger_checks
from tests.campaigns.factories import CampaignFactory, CollaborationFactory
from tests.payouts.pipeline import balances, event, yesterday

PERCENT = Decimal("12.5")


def orders(
    collabs: list[Collaboration], count: int, *, seed: int, prefix: str = "O"
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Events for `count` orders spread over the collaborations (a fifth partly refunded, a
    twentieth cancelled, refunds sometimes sent before their order.paid), and what each
    creator should earn: 12.5 % of the net amount, rounded half-up, in integers."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    expected: dict[int, int] = defaultdict(int)
    when = yesterday()
    for n in range(count):
        collab = collabs[n % len(collabs)]
        order_id = f"{prefix}{n:05d}"
        paid = rng.randint(100, 50_000)
        net = paid
        order_events = [
            event(
                f"{order_id}-paid",
                order_id=order_id,
                amount=f"{paid // 100}.{paid % 100:02d}",
                code=collab.discount_code,
                occurred_at=when,
            )
        ]
        roll = rng.random()
        if roll < 0.2:
            refund = rng.randint(1, paid)
            net -= refund
            refund_event = event(
                f"{order_id}-refund",
                "order.refunded",
                order_id=order_id,
                amount=f"{refund // 100}.{refund % 100:02d}",
                occurred_at=when,
            )
            if rng.random() < 0.3:
                order_events.insert(0, refund_event)  # out of order
            else:
                order_events.append(refund_event)
        elif roll < 0.25:
            net = 0
            order_events.append(
                event(f"{order_id}-cancel", "order.cancelled", order_id=order_id, occurred_at=when)
            )
        events.extend(order_events)
        # 12.5 % half-up: (net × 125 + 500) // 1000, all in integers.
        expected[collab.creator_id] += (net * 125 + 500) // 1000
    return events, dict(expected)


def assert_earnings(collabs: list[Collaboration], expected: dict[int, int]) -> None:
    for collab in collabs:
        assert balances(collab.creator)["pending"] == expected.get(collab.creator_id, 0)
    assert sum(Commission.objects.values_list("amount_minor", flat=True)) == sum(expected.values())
    failures = [f for check in ledger_checks() for f in check.failures]
    assert failures == []
    assert earnings_recompute().differences == []


def unprocessed() -> int:
    return OrderEvent.objects.filter(processed_at__isnull=True).count()


def post_json(url: str, key: str, body: dict[str, Any], timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - the test builds an http URL
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def shop(niches: None) -> tuple[Brand, str, list[Collaboration]]:
    campaign = CampaignFactory(percent=PERCENT)
    collabs = [CollaborationFactory(campaign=campaign) for _ in range(3)]
    key = brand_api_key_create(brand=campaign.brand, actor=None, name="Shop")[1]
    return campaign.brand, key, collabs
