"""A small marketplace built through the real pipeline, for the dashboard tests.

Two brands, four campaigns in two currencies (one with a commission budget), two creators
and one applicant; clicks stored by the click flush's own storage; order events ingested on
three different days (codes, a click id, a refund, unknown codes, a refused event, a
duplicate), processed, some matured; bank payouts paid, failed and requested.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from campaigns.clicks import ClickRecord, clicks_store, new_click_id
from campaigns.models import Brand, Campaign, Collaboration, CollaborationStatus
from connect.models import CreatorProfile, User
from payouts import payout_services
from payouts.ingest import order_events_ingest
from payouts.models import Payout
from payouts.payout_accounts import bank_account_set
from payouts.processing import commissions_mature, order_events_process_all
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.payouts.pipeline import event

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass
class Marketplace:
    today: dt.date
    now: dt.datetime
    moda: Brand
    sol: Brand
    moda_owner: User
    sol_owner: User
    staff: User
    ola: CreatorProfile
    ben: CreatorProfile
    spring: Campaign  # moda, EUR, 10 %, 30-day hold
    coats: Campaign  # moda, PLN, 15.00 PLN per order, no hold
    glow: Campaign  # moda, EUR, 10 %, 7-day hold, 15.00 EUR budget
    sun: Campaign  # sol, EUR, 20 %, no hold
    ola_spring: Collaboration
    ben_spring: Collaboration
    ola_coats: Collaboration
    ben_glow: Collaboration
    ola_sun: Collaboration
    click_ids: dict[str, str]


def store_clicks(collaboration: Collaboration, count: int, at: dt.datetime) -> list[str]:
    """`count` clicks on the collaboration's link, a second apart from `at`."""
    at_ms = int(at.timestamp() * 1000)
    records = [
        ClickRecord(
            click_id=new_click_id(at_ms + 1000 * n),
            collaboration_id=collaboration.pk,
            ip_hash=f"{collaboration.pk:032x}{n:032x}",
            user_agent="Mozilla/5.0",
            referrer="",
        )
        for n in range(count)
    ]
    clicks_store(records)
    return [str(record.click_id) for record in records]


def ingest(brand: Brand, received_at: dt.datetime, *events: dict[str, Any]) -> None:
    order_events_ingest(brand=brand, events=list(events), received_at=received_at)


def order_paid(
    event_id: str, order_id: str, amount: str, occurred_at: dt.datetime, **more: Any
) -> dict[str, Any]:
    """An order.paid event (`more`: its currency, code or click id)."""
    return event(event_id, order_id=order_id, amount=amount, occurred_at=occurred_at, **more)


def build_marketplace(settings: Any) -> Marketplace:
    """Build the scenario (see the module docstring); `settings` is pytest-django's."""
    settings.PAYOUT_MINIMUMS = {"*": "10.00"}
    settings.PAYOUT_BANK_CURRENCIES = ["EUR", "PLN"]
    now = timezone.now().replace(microsecond=0)
    today = now.astimezone(dt.UTC).date()
    # Noon of earlier days; today's events a minute ago (so nothing is in the future).
    three_days_ago = day_start(today - dt.timedelta(days=3)) + 12 * HOUR
    ten_days_ago = day_start(today - dt.timedelta(days=10)) + 12 * HOUR
    yesterday = day_start(today - dt.timedelta(days=1)) + 12 * HOUR
    just_now = now - MINUTE

    moda_owner = UserFactory(verified=True, email="anna@moda.example")
    sol_owner = UserFactory(verified=True, email="elena@sol.example")
    moda = BrandFactory(name="Moda Wisła", slug="moda")
    sol = BrandFactory(name="Sol Cosmética", slug="sol")
    BrandMembershipFactory(brand=moda, user=moda_owner)
    BrandMembershipFactory(brand=sol, user=sol_owner)
    staff = UserFactory(is_staff=True, email="ada@connect.example")

    ola = CreatorProfileFactory(handle="ola_creates", display_name="Ola Kowalska")
    ben = CreatorProfileFactory(handle="ben_runs", display_name="Ben Runner")
    carl = CreatorProfileFactory(handle="carl_cooks", display_name="Carl Cook")

    spring = CampaignFactory(brand=moda, title="Spring capsule", percent=Decimal("10"))
    coats = CampaignFactory(
        brand=moda,
        title="Autumn coats",
        currency="PLN",
        percent=None,
        fixed_minor=1500,
        hold_days=0,
    )
    glow = CampaignFactory(
        brand=moda, title="Glow kit", percent=Decimal("10"), hold_days=7, budget_minor=1500
    )
    sun = CampaignFactory(brand=sol, title="Sun care", percent=Decimal("20"), hold_days=0)

    ola_spring = CollaborationFactory(campaign=spring, creator=ola, discount_code="OLASPRING")
    ben_spring = CollaborationFactory(campaign=spring, creator=ben, discount_code="BENSPRING")
    ola_coats = CollaborationFactory(campaign=coats, creator=ola, discount_code="OLACOATS")
    ben_glow = CollaborationFactory(campaign=glow, creator=ben, discount_code="BENGLOW")
    ola_sun = CollaborationFactory(campaign=sun, creator=ola, discount_code="OLASUN")
    # An application waiting for Moda's answer.
    CollaborationFactory(
        campaign=spring,
        creator=carl,
        status=CollaborationStatus.APPLIED,
        tracking_code=None,
        discount_code=None,
        activated_at=None,
    )

    # Clicks: Ola's spring link three days ago, yesterday and today; Ben's today; Ola's
    # coats link yesterday; Ola's sun link today.
    click_ids = {
        "ola_spring_3": store_clicks(ola_spring, 5, three_days_ago - 2 * HOUR)[0],
        "ola_spring_1": store_clicks(ola_spring, 7, yesterday - 3 * HOUR)[0],
    }
    store_clicks(ola_spring, 3, just_now - 30 * MINUTE)
    store_clicks(ben_spring, 4, just_now - 20 * MINUTE)
    store_clicks(ola_coats, 6, yesterday - HOUR)
    store_clicks(ola_sun, 2, just_now - 10 * MINUTE)

    # Ten days ago: Ben's two glow orders (the budget limits the second), an order of
    # Sol's and an unknown code at Moda.
    ingest(
        moda,
        ten_days_ago,
        order_paid("g1", "G-1", "100.00", ten_days_ago - HOUR, code="BENGLOW"),
        order_paid("g2", "G-2", "100.00", ten_days_ago - 30 * MINUTE, code="BENGLOW"),
        order_paid("x1", "X-1", "20.00", ten_days_ago - HOUR, code="NOBODY"),
    )
    # Three days ago: Ola's spring order by code, Sol's orders for Ola.
    ola_first_spring = order_paid("s1", "S-1", "100.00", three_days_ago - HOUR, code="olaspring")
    ingest(moda, three_days_ago, ola_first_spring)
    ingest(
        sol,
        three_days_ago,
        order_paid("u1", "U-1", "300.00", three_days_ago - HOUR, code="OLASUN"),
        order_paid("u2", "U-2", "100.00", three_days_ago - 50 * MINUTE, code="OLASUN"),
        order_paid("u3", "U-3", "15.00", three_days_ago - 40 * MINUTE),
    )
    # Yesterday: Ola's spring order by click, her two coats orders (PLN), a refused event
    # (too many decimals), and a partial refund of her first spring order.
    ingest(
        moda,
        yesterday,
        order_paid("s2", "S-2", "50.00", yesterday - 2 * HOUR, click_id=click_ids["ola_spring_1"]),
        order_paid("c1", "C-1", "200.00", yesterday - 30 * MINUTE, currency="PLN", code="OLACOATS"),
        order_paid("c2", "C-2", "120.00", yesterday - 20 * MINUTE, currency="PLN", code="OLACOATS"),
        order_paid("bad", "B-1", "1.234", yesterday),
        event(
            "s1-refund",
            "order.refunded",
            order_id="S-1",
            amount="30.00",
            occurred_at=yesterday - 10 * MINUTE,
        ),
    )
    # Today: Ben's spring order, an order without code or click, Ola's first spring order
    # sent again (a duplicate), and a refused event at Sol.
    ingest(
        moda,
        just_now,
        order_paid("s3", "S-3", "80.00", just_now - 5 * MINUTE, code="BENSPRING"),
        order_paid("n1", "N-1", "45.00", just_now - 4 * MINUTE),
        ola_first_spring,
    )
    ingest(sol, just_now, event("bad-sol", order_id="B-2", amount="abc"))
    order_events_process_all()
    # Maturation last ran two days ago: Sol's orders (no hold) and Ben's glow orders
    # (payable three days ago) are approved; Ola's coats orders of yesterday (no hold)
    # are past their payable day but wait for the next run.
    commissions_mature(now=now - dt.timedelta(days=2))

    # Payouts by bank: Ola is paid 50.00 EUR, a 20.00 EUR payout fails at the bank, and
    # she asks for 10.00 EUR more (awaiting approval).
    bank_account_set(
        creator=ola,
        holder_name="Ola Kowalska",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        actor=None,
    )
    paid = payout_services.payout_request(creator=ola, currency="EUR", amount_minor=5000)
    failed = payout_services.payout_request(creator=ola, currency="EUR", amount_minor=2000)
    for payout in (paid, failed):
        payout_services.payout_approve(payout=payout, actor=staff)
    payout_services.payout_bank_mark_exported(payouts=[paid, failed], actor=staff)
    payout_services.payout_bank_mark_paid(
        payout=Payout.objects.get(pk=paid.pk), actor=staff, reference="BANK-REF-1"
    )
    payout_services.payout_bank_mark_failed(
        payout=Payout.objects.get(pk=failed.pk), actor=staff, reason="The account is closed."
    )
    payout_services.payout_request(creator=ola, currency="EUR", amount_minor=1000)

    return Marketplace(
        today=today,
        now=now,
        moda=moda,
        sol=sol,
        moda_owner=moda_owner,
        sol_owner=sol_owner,
        staff=staff,
        ola=ola,
        ben=ben,
        spring=spring,
        coats=coats,
        glow=glow,
        sun=sun,
        ola_spring=ola_spring,
        ben_spring=ben_spring,
        ola_coats=ola_coats,
        ben_glow=ben_glow,
        ola_sun=ola_sun,
        click_ids=click_ids,
    )


# ---------------------------------------------------------------------------------------
# Reading the pages


def signed_in(user: Any) -> Client:
    """A test client logged in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response: Any) -> list[list[str]]:
    """The rows of a streamed CSV download."""
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))
