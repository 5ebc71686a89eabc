"""The brand's dashboard: campaign figures, top creators and integration health equal what
the commissions, click rows, orders and events say; a brand sees only its own."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.test import Client
from django.test.utils import CaptureQueriesContext

from campaigns.models import Click, Collaboration, CollaborationStatus
from connect.money import format_money, from_minor
from payouts.models import (
    Commission,
    DuplicateOrderEvent,
    Order,
    OrderEvent,
    RejectedOrderEvent,
)
from payouts.processing import order_events_process_all
from tests.campaigns.factories import CampaignFactory, CollaborationFactory
from tests.connect.factories import UserFactory
from tests.dashboards.expected import (
    campaign_figures,
    click_figures,
    commission_figures,
    expected_campaigns,
    expected_series,
    figure,
    section,
    series_figures,
)
from tests.dashboards.scenario import (
    HOUR,
    Marketplace,
    csv_rows,
    ingest,
    order_paid,
    signed_in,
    store_clicks,
)
from tests.payouts.pipeline import event

pytestmark = pytest.mark.django_db


def test_overall_and_campaign_figures_equal_the_commissions_and_clicks_of_the_period(
    market: Marketplace,
) -> None:
    # given
    start = market.today - dt.timedelta(days=29)
    money = commission_figures(start, market.today, brand=market.moda)
    clicks = click_figures(start, market.today, campaign__brand=market.moda)

    # when
    response = signed_in(market.moda_owner).get("/brand/dashboard/")

    # then
    assert response.status_code == 200
    activity = response.context["activity"]
    assert series_figures(activity) == expected_series(money, clicks)
    assert campaign_figures(activity) == expected_campaigns(money, clicks)
    html = response.content.decode()
    for series in activity.series:
        block = section(html, f'data-overview="{series.currency}"')
        currency = series.currency
        revenue = sum(v[1] for k, v in money.items() if k[0] == currency)
        cost = sum(v[2] for k, v in money.items() if k[0] == currency)
        orders = sum(v[0] for k, v in money.items() if k[0] == currency)
        click_count = sum(v for k, v in clicks.items() if k[0] == currency)
        assert figure(block, "revenue") == format_money(revenue, currency)
        assert figure(block, "cost") == format_money(cost, currency)
        assert figure(block, "orders") == str(orders)
        assert figure(block, "clicks") == str(click_count)
        assert figure(block, "rate") == f"{cost / revenue:.1%}"
        assert figure(block, "conversion") == f"{orders / click_count:.1%}"
        assert '<svg class="dash-chart"' in block
    for row in activity.campaigns:
        tr = section(html, f'<tr data-campaign="{row.campaign_id}"', "</tr>")
        assert figure(tr, "revenue") == format_money(row.revenue_minor, row.currency)
        assert figure(tr, "cost") == format_money(row.commission_minor, row.currency)
        assert figure(tr, "clicks") == str(row.clicks)
    # In words: EUR revenue 200.00 (glow) + 70.00 + 50.00 + 80.00 (spring), cost 35.00.
    eur = section(html, 'data-overview="EUR"')
    assert (figure(eur, "revenue"), figure(eur, "cost"), figure(eur, "rate")) == (
        "€400.00",
        "€35.00",
        "8.8%",
    )
    glow = section(html, f'<tr data-campaign="{market.glow.pk}"', "</tr>")
    assert figure(glow, "conversion") == "—"


def test_pending_applications_are_counted_per_campaign(market: Marketplace) -> None:
    # when
    response = signed_in(market.moda_owner).get("/brand/dashboard/")

    # then
    applied = dict(
        Collaboration.objects.filter(
            campaign__brand=market.moda, status=CollaborationStatus.APPLIED
        )
        .values_list("campaign_id")
        .annotate(n=Count("id"))
    )
    rows = {r.campaign_id: r.pending_applications for r in response.context["activity"].campaigns}
    assert {k: v for k, v in rows.items() if v} == applied == {market.spring.pk: 1}
    assert response.context["pending_applications"] == 1
    assert "1 creator is waiting for your answer" in response.content.decode()


def test_top_creators_are_ranked_by_all_time_revenue_per_currency(market: Marketplace) -> None:
    # given: an order of Ben's 50 days ago, outside the 30 days but all-time
    received = market.now - dt.timedelta(days=50)
    ingest(
        market.moda,
        received,
        order_paid("old-ben", "OLD-B", "500.00", received - HOUR, code="BENSPRING"),
    )
    order_events_process_all()
    expected: dict[str, list[tuple[str, str, int, int, int]]] = defaultdict(list)
    totals = (
        Commission.objects.filter(brand=market.moda, paid_received_at__isnull=False)
        .values("currency", "collaboration_id", "creator__handle", "campaign__title")
        .annotate(
            orders=Count("id", filter=Q(net_amount_minor__gt=0)),
            revenue=Sum("net_amount_minor"),
            commission=Sum("amount_minor"),
        )
        .order_by("currency", "-revenue")
    )
    for t in totals:
        if t["revenue"] > 0:
            expected[t["currency"]].append(
                (
                    t["creator__handle"],
                    t["campaign__title"],
                    t["orders"],
                    t["revenue"],
                    t["commission"],
                )
            )

    # when
    response = signed_in(market.moda_owner).get("/brand/dashboard/")

    # then
    shown = {
        block["series"].currency: [
            (t.handle, t.campaign_title, t.orders, t.revenue_minor, t.commission_minor)
            for t in block["top"]
        ]
        for block in response.context["overview"]
    }
    assert shown == dict(expected)
    assert shown["EUR"][0] == ("ben_runs", "Spring capsule", 2, 58000, 5800)
    html = response.content.decode()
    assert "By revenue, all time (not only this period)" in html
    assert format_money(58000, "EUR") in section(html, 'data-top="EUR"', "</table>")


def test_one_campaign_shows_its_own_figures_and_creators(market: Marketplace) -> None:
    # when
    response = signed_in(market.moda_owner).get(f"/brand/dashboard/?campaign={market.coats.pk}")

    # then
    assert response.context["campaign"] == market.coats
    assert [r.campaign_id for r in response.context["activity"].campaigns] == [market.coats.pk]
    (block,) = response.context["overview"]
    assert (block["series"].currency, block["series"].revenue_minor) == ("PLN", 32000)
    assert [t.handle for t in block["top"]] == ["ola_creates"]


def test_integration_health_counts_events_refusals_duplicates_and_unattributed_orders(
    market: Marketplace,
) -> None:
    # given
    start = market.today - dt.timedelta(days=29)

    def in_period(queryset: Any, field: str) -> Any:
        return queryset.annotate(day=TruncDate(field, tzinfo=dt.UTC)).filter(
            day__gte=start, day__lte=market.today
        )

    received = in_period(OrderEvent.objects.filter(brand=market.moda), "received_at").count()
    refused = in_period(RejectedOrderEvent.objects.filter(brand=market.moda), "received_at")
    duplicates = in_period(
        DuplicateOrderEvent.objects.filter(brand=market.moda), "received_at"
    ).count()
    reasons = dict(
        in_period(
            Order.objects.filter(brand=market.moda).exclude(unattributed_reason=""),
            "paid_received_at",
        )
        .values_list("unattributed_reason")
        .annotate(n=Count("id"))
    )
    latest = list(
        Order.objects.filter(brand=market.moda)
        .exclude(unattributed_reason="")
        .order_by("-id")
        .values_list("order_id", flat=True)[:10]
    )
    last_at = OrderEvent.objects.filter(brand=market.moda).order_by("-received_at")[0].received_at

    # when
    response = signed_in(market.moda_owner).get("/brand/dashboard/")

    # then
    health = response.context["health"]
    assert (health.received, health.refused, health.duplicates) == (
        received,
        refused.count(),
        duplicates,
    )
    assert (received, refused.count(), duplicates) == (10, 1, 1)
    assert health.refusal_rate == Decimal(1) / Decimal(11)
    assert {r.field: r.count for r in health.refusals} == dict(
        refused.values_list("error_field").annotate(n=Count("id"))
    )
    assert health.refusals[0].example == refused.get().error
    assert (
        {r.reason: r.count for r in health.reasons}
        == reasons
        == {
            "unknown_code": 1,
            "no_code_or_click": 1,
        }
    )
    assert [o.order_id for o in health.latest_unattributed] == latest
    assert sorted(latest) == ["N-1", "X-1"]
    assert health.last_received_at == last_at
    html = section(response.content.decode(), "data-health")
    assert figure(html, "received") == "10"
    assert figure(html, "refused") == "1"
    assert "9.1% of all sent" in html
    assert figure(html, "duplicates") == "1"
    assert figure(html, "unattributed") == "2"
    assert "No click id and no code" in html and "Unknown code" in html
    assert "The code NOBODY is not a tracking code or discount code of this brand." in html
    assert 'href="/brand/orders/N-1/"' in html
    assert "has 3 decimals" in html
    received_per_day = {d.day: d.received for d in health.days if d.received}
    assert received_per_day == dict(
        in_period(OrderEvent.objects.filter(brand=market.moda), "received_at")
        .values_list("day")
        .annotate(n=Count("id"))
    )


def test_the_csv_has_a_row_per_campaign_and_day_streamed(market: Marketplace) -> None:
    # given: the figures per (day, campaign) from the commissions and the click rows
    start = market.today - dt.timedelta(days=29)
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in (
        Commission.objects.filter(brand=market.moda, paid_received_at__isnull=False)
        .annotate(day=TruncDate("paid_received_at", tzinfo=dt.UTC))
        .filter(day__gte=start)
        .values("day", "campaign__title")
        .annotate(
            orders=Count("id", filter=Q(net_amount_minor__gt=0)),
            revenue=Sum("net_amount_minor"),
            commission=Sum("amount_minor"),
        )
    ):
        figures = expected[(row["day"].isoformat(), row["campaign__title"])]
        figures[1:] = [row["orders"], row["revenue"], row["commission"]]
    for row in (
        Click.objects.filter(collaboration__campaign__brand=market.moda)
        .annotate(day=TruncDate("clicked_at", tzinfo=dt.UTC))
        .filter(day__gte=start)
        .values("day", "collaboration__campaign__title")
        .annotate(n=Count("pk"))
    ):
        expected[(row["day"].isoformat(), row["collaboration__campaign__title"])][0] = row["n"]
    currencies = {"Spring capsule": "EUR", "Glow kit": "EUR", "Autumn coats": "PLN"}

    # when
    response = signed_in(market.moda_owner).get("/brand/dashboard.csv?days=30")

    # then
    rows = csv_rows(response)
    assert rows[0] == ["date", "campaign", "currency", "clicks", "orders", "revenue", "commission"]
    body = rows[1:]
    assert [r[:2] for r in body] == sorted(r[:2] for r in body)
    with_figures = [r for r in body if r[3:5] != ["0", "0"]]
    assert with_figures == sorted(
        [
            day,
            title,
            currencies[title],
            str(clicks),
            str(orders),
            from_minor(revenue, currencies[title]),
            from_minor(commission, currencies[title]),
        ]
        for (day, title), (clicks, orders, revenue, commission) in expected.items()
    )
    glow_day = (market.today - dt.timedelta(days=10)).isoformat()
    assert [glow_day, "Glow kit", "EUR", "0", "2", "200.00", "15.00"] in body
    # Every published campaign has a row for every day since it was published (today,
    # for the factories' campaigns), zeros included.
    today = market.today.isoformat()
    assert {r[1] for r in body if r[0] == today} == set(currencies)


def test_a_brand_member_sees_only_their_brand(market: Marketplace) -> None:
    # given
    sol = signed_in(market.sol_owner)

    # when
    page = sol.get("/brand/dashboard/")
    foreign = sol.get(f"/brand/dashboard/?campaign={market.spring.pk}")
    foreign_csv = sol.get(f"/brand/dashboard.csv?campaign={market.spring.pk}")
    export = sol.get("/brand/dashboard.csv")

    # then
    assert [r.title for r in page.context["activity"].campaigns] == ["Sun care"]
    html = page.content.decode()
    for other in ("Spring capsule", "Autumn coats", "Glow kit", "N-1", "X-1", "ben_runs"):
        assert other not in html
    assert (foreign.status_code, foreign_csv.status_code) == (404, 404)
    assert {row[1] for row in csv_rows(export)[1:]} == {"Sun care"}
    assert page.context["health"].refused == 1  # Sol's own refused event, not Moda's


def test_users_without_a_brand_are_sent_to_create_one_and_visitors_to_sign_in() -> None:
    # when
    no_brand = signed_in(UserFactory(verified=True)).get("/brand/dashboard/")
    anonymous = Client().get("/brand/dashboard/")

    # then
    assert no_brand.status_code == 302 and no_brand["Location"] == "/brand/"
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_dashboard_costs_the_same_queries_however_much_the_brand_sold(
    market: Marketplace, django_assert_max_num_queries: Any
) -> None:
    # given
    client = signed_in(market.moda_owner)
    with CaptureQueriesContext(connection) as before:
        client.get("/brand/dashboard/?days=365")

    # when: more campaigns, creators, clicks, orders and refusals
    for n in range(5):
        campaign = CampaignFactory(brand=market.moda, title=f"Extra {n}")
        collaboration = CollaborationFactory(campaign=campaign, discount_code=f"EXTRA{n}")
        for day in range(2, 12):
            received = market.now - dt.timedelta(days=day)
            store_clicks(collaboration, 2, received - 2 * HOUR)
            ingest(
                market.moda,
                received,
                order_paid(
                    f"extra-{n}-{day}", f"E-{n}-{day}", "30.00", received - HOUR, code=f"EXTRA{n}"
                ),
                event(f"bad-{n}-{day}", order_id="Z", amount="-1"),
            )
    order_events_process_all()

    # then
    with django_assert_max_num_queries(16), CaptureQueriesContext(connection) as after:
        response = client.get("/brand/dashboard/?days=365")
    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    for query in after.captured_queries:
        sql = query["sql"]
        assert "payouts_commission" not in sql
        assert "payouts_orderevent" not in sql
        assert "FROM payouts_order" not in sql or "LIMIT 10" in sql
