"""The dashboards' rollups: kept by the pipeline in step with what they count, recounted by
`check_ledger`, and rebuilt from scratch to the same rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from campaigns.clicks import ClickRecord, click_partitions_ensure, clicks_store, new_click_id
from campaigns.models import CampaignClickDay
from payouts.models import (
    BrandEventDay,
    CampaignDay,
    CollaborationDay,
    CollaborationTotal,
    Commission,
    CreatorMaturity,
)
from payouts.processing import commissions_mature
from payouts.rollups import rollups_rebuild
from payouts.selectors import ledger_checks
from tests.campaigns.factories import CampaignFactory, CollaborationFactory
from tests.payouts.pipeline import event, send

pytestmark = pytest.mark.django_db


def failures() -> dict[str, list[str]]:
    return {check.name: check.failures for check in ledger_checks() if check.failures}


def clicks(collaboration_id: int, count: int, at: dt.datetime) -> None:
    at_ms = int(at.timestamp() * 1000)
    clicks_store(
        [
            ClickRecord(
                click_id=new_click_id(at_ms + n),
                collaboration_id=collaboration_id,
                ip_hash=f"{n:064x}",
                user_agent="Mozilla/5.0",
                referrer="",
            )
            for n in range(count)
        ]
    )


def table(model: Any, *fields: str) -> list[tuple[Any, ...]]:
    return list(model.objects.order_by(*fields).values_list(*fields))


@pytest.fixture
def scenario() -> dict[str, Any]:
    """Two creators in one EUR campaign (10 %, 7-day hold), one in a PLN campaign (5 %)."""
    eur = CampaignFactory(percent=Decimal("10"), hold_days=7)
    anna = CollaborationFactory(campaign=eur)
    ben = CollaborationFactory(campaign=eur)
    pln = CollaborationFactory(
        campaign=CampaignFactory(brand=eur.brand, currency="PLN", percent=Decimal("5"))
    )
    return {"brand": eur.brand, "eur": eur, "anna": anna, "ben": ben, "pln": pln}


def test_processing_counts_orders_revenue_commission_and_maturity_per_day(
    scenario: dict[str, Any],
) -> None:
    # given
    anna, ben, pln, brand = scenario["anna"], scenario["ben"], scenario["pln"], scenario["brand"]
    now = timezone.now().replace(microsecond=0)
    today = now.astimezone(dt.UTC).date()
    occurred = now - dt.timedelta(days=1)

    # when: three paid orders, a partial and a full refund, a PLN order, an unknown code,
    # a duplicate and a refused event
    send(
        brand,
        event("p1", order_id="A-1", amount="100.00", code=anna.discount_code),
        event("p2", order_id="A-2", amount="50.00", code=anna.discount_code),
        event("p3", order_id="B-1", amount="80.00", code=ben.discount_code),
        event("p4", order_id="P-1", amount="200.00", currency="PLN", code=pln.discount_code),
        event("p5", order_id="X-1", amount="10.00", code="NOBODY"),
        event("p6", order_id="X-2", amount="1.234"),
    )
    send(
        brand,
        event("r1", "order.refunded", order_id="A-1", amount="40.00"),
        event("r2", "order.refunded", order_id="B-1", amount="80.00"),
        event("p1", order_id="A-1", amount="100.00", code=anna.discount_code),
    )

    # then: per collaboration and day (the day the order.paid arrived)
    assert table(
        CollaborationDay, "collaboration_id", "day", "orders", "revenue_minor", "commission_minor"
    ) == sorted(
        [
            (anna.pk, today, 2, 6000 + 5000, 600 + 500),
            (ben.pk, today, 0, 0, 0),
            (pln.pk, today, 1, 20000, 1000),
        ]
    )
    assert table(CampaignDay, "campaign_id", "day", "currency", "orders", "commission_minor") == (
        sorted(
            [
                (scenario["eur"].pk, today, "EUR", 2, 1100),
                (pln.campaign_id, today, "PLN", 1, 1000),
            ]
        )
    )
    assert table(CollaborationTotal, "collaboration_id", "orders", "revenue_minor") == sorted(
        [(anna.pk, 2, 11000), (ben.pk, 0, 0), (pln.pk, 1, 20000)]
    )
    # What becomes payable on which day: the day each commission's hold ends.
    payable = {
        c.payable_at.astimezone(dt.UTC).date()
        for c in Commission.objects.filter(creator_id=anna.creator_id)
        if c.payable_at is not None
    }
    assert len(payable) == 1
    assert min(payable) - occurred.astimezone(dt.UTC).date() >= dt.timedelta(days=7)
    assert (
        CreatorMaturity.objects.filter(creator_id=anna.creator_id, pending_minor__gt=0)
        .values_list("day", "pending_minor")
        .get()
    ) == (min(payable), 1100)
    events = {
        (row.kind, row.code): row.count
        for row in BrandEventDay.objects.filter(brand_id=brand.pk, day=today)
    }
    assert events == {
        ("received", ""): 7,
        ("duplicate", ""): 1,
        ("rejected", "amount"): 1,
        ("unattributed", "unknown_code"): 1,
    }
    assert failures() == {}

    # when: the hold passes
    commissions_mature(now=now + dt.timedelta(days=40))

    # then: nothing is due any more, and the ledger agrees
    assert sum(CreatorMaturity.objects.values_list("pending_minor", flat=True)) == 0
    assert failures() == {}


def test_clicks_are_counted_per_campaign_and_day_and_a_rerun_counts_nothing(
    scenario: dict[str, Any],
) -> None:
    # given
    click_partitions_ensure(days_back=3, days_ahead=1)
    anna, ben = scenario["anna"], scenario["ben"]
    now = timezone.now()
    today = now.astimezone(dt.UTC).date()

    # when
    clicks(anna.pk, 5, now)
    clicks(ben.pk, 3, now)
    clicks(anna.pk, 2, now - dt.timedelta(days=2))

    # then
    assert table(CampaignClickDay, "campaign_id", "day", "clicks") == [
        (scenario["eur"].pk, today - dt.timedelta(days=2), 2),
        (scenario["eur"].pk, today, 8),
    ]
    assert failures() == {}


def test_check_ledger_names_a_rollup_out_of_step(scenario: dict[str, Any]) -> None:
    # given
    anna, brand = scenario["anna"], scenario["brand"]
    send(brand, event("p1", order_id="A-1", amount="100.00", code=anna.discount_code))
    assert failures() == {}

    # when: one campaign day and one maturity day drift
    with connection.cursor() as cursor:
        cursor.execute("UPDATE payouts_campaignday SET commission_minor = commission_minor + 1")
        cursor.execute("UPDATE payouts_creatormaturity SET pending_minor = pending_minor - 5")

    # then
    found = failures()
    assert set(found) == {
        "rollup campaignday equals its recount",
        "brand cost rollups equal the ledger's commission postings to each brand",
        "rollup creatormaturity equals its recount",
        "maturity rollups equal what the ledger holds pending for commissions",
    }
    assert found["rollup campaignday equals its recount"] == [
        f"campaignday {scenario['eur'].pk}/{timezone.now().astimezone(dt.UTC).date()}"
        f"/{brand.pk}/EUR: rollup vs recount 1 vs 1, 10000 vs 10000, 1001 vs 1000"
    ]


REBUILT_FIELDS: dict[Any, tuple[str, ...]] = {
    CollaborationDay: ("collaboration_id", "day", "orders", "revenue_minor", "commission_minor"),
    CampaignDay: ("campaign_id", "day", "orders", "revenue_minor", "commission_minor"),
    CollaborationTotal: ("collaboration_id", "orders", "revenue_minor", "commission_minor"),
    CreatorMaturity: ("creator_id", "currency", "day", "pending_minor"),
    BrandEventDay: ("brand_id", "day", "kind", "code", "count", "last_at"),
    CampaignClickDay: ("campaign_id", "day", "clicks"),
}


def _counts(model: Any, row: tuple[Any, ...]) -> bool:
    fields = REBUILT_FIELDS[model]
    counted = {"orders", "revenue_minor", "commission_minor", "pending_minor", "count", "clicks"}
    return any(value for name, value in zip(fields, row, strict=True) if name in counted)


def test_a_rebuild_gives_the_rows_the_pipeline_kept(scenario: dict[str, Any]) -> None:
    # given
    click_partitions_ensure(days_back=1, days_ahead=1)
    anna, pln, brand = scenario["anna"], scenario["pln"], scenario["brand"]
    clicks(anna.pk, 4, timezone.now())
    send(
        brand,
        event("p1", order_id="A-1", amount="100.00", code=anna.discount_code),
        event("p2", order_id="P-1", amount="20.00", currency="PLN", code=pln.discount_code),
        event("p3", order_id="X-1", amount="5.00"),
        event("p4", order_id="X-2", currency="XXX"),
    )
    send(brand, event("c1", "order.cancelled", order_id="P-1"))
    kept = {model: table(model, *fields) for model, fields in REBUILT_FIELDS.items()}

    # when
    rollups_rebuild()

    # then: the same counts (a row that counts nothing may be kept or left out)
    for model, fields in REBUILT_FIELDS.items():
        assert kept[model], model
        rebuilt = table(model, *fields)
        assert [r for r in rebuilt if _counts(model, r)] == [
            r for r in kept[model] if _counts(model, r)
        ], model
    assert failures() == {}


def test_the_rebuild_command_repairs_a_drifted_rollup(scenario: dict[str, Any]) -> None:
    # given
    anna, brand = scenario["anna"], scenario["brand"]
    send(brand, event("p1", order_id="A-1", amount="100.00", code=anna.discount_code))
    CollaborationTotal.objects.update(revenue_minor=1)
    assert "rollup collaborationtotal equals its recount" in failures()

    # when
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)

    # then
    assert "Rollups rebuilt" in out.getvalue()
    assert CollaborationTotal.objects.get().revenue_minor == 10000
    assert failures() == {}
