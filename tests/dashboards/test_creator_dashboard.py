"""The creator's earnings dashboard: every figure equals what the ledger, the commissions and
the click rows say, on the page as in its context; one creator never sees another's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from connect.money import format_money
from dashboards.selectors import DEFAULT_PERIOD_DAYS
from payouts.processing import order_events_process_all
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.dashboards.expected import (
    campaign_figures,
    click_figures,
    commission_figures,
    expected_campaigns,
    expected_series,
    figure,
    ledger_money,
    maturity,
    section,
    series_figures,
)
from tests.dashboards.scenario import HOUR, Marketplace, ingest, order_paid, signed_in, store_clicks

pytestmark = pytest.mark.django_db


def test_the_balances_and_payable_days_equal_the_ledger_and_the_commissions_in_hold(
    market: Marketplace,
) -> None:
    # given
    ledger = ledger_money(creator=market.ola)
    held = maturity(market.ola.pk, market.today)

    # when
    response = signed_in(market.ola.user).get("/creator/earnings/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    money = {m.currency: m for m in response.context["money"]}
    assert sorted(money) == sorted(ledger) == ["EUR", "PLN"]
    for currency, kinds in ledger.items():
        m = money[currency]
        expected = (
            kinds.get("creator_pending", 0),
            kinds.get("creator_available", 0),
            kinds.get("creator_in_flight", 0),
            kinds.get("creator_paid_out", 0),
        )
        assert (m.pending_minor, m.approved_minor, m.in_flight_minor, m.paid_minor) == expected
        overdue, next_day, next_amount = held.get(currency, (0, None, 0))
        assert (m.being_approved_minor, m.next_payable_on, m.next_payable_minor) == (
            overdue,
            next_day,
            next_amount,
        )
        card = section(html, f'data-money="{currency}"')
        assert figure(card, "balance") == format_money(sum(expected[:3]), currency)
        assert figure(card, "pending") == format_money(expected[0], currency)
        assert figure(card, "approved") == format_money(expected[1], currency)
        assert figure(card, "in_flight") == format_money(expected[2], currency)
        assert figure(card, "paid") == format_money(expected[3], currency)
        if next_day is not None:
            assert f"<strong>{format_money(next_amount, currency)}</strong> on" in card
        if overdue:
            assert f"<strong>{format_money(overdue, currency)}</strong> finished its hold" in card
    # The scenario's own numbers, for a reader: paid 50.00 EUR, 10.00 EUR awaiting
    # approval, 20.00 EUR approved, Spring's 12.00 EUR in its 30-day hold; the coats
    # orders' 30.00 PLN passed their payable day and wait for the maturation run.
    eur, pln = money["EUR"], money["PLN"]
    assert (eur.paid_minor, eur.in_flight_minor, eur.approved_minor, eur.pending_minor) == (
        5000,
        1000,
        2000,
        1200,
    )
    assert eur.balance_minor == 4200
    assert eur.next_payable_minor == 700
    assert eur.next_payable_on == market.today + dt.timedelta(days=27)
    assert (pln.pending_minor, pln.being_approved_minor, pln.next_payable_on) == (3000, 3000, None)


def test_the_chart_and_campaign_figures_equal_the_commissions_and_clicks_of_the_period(
    market: Marketplace,
) -> None:
    # given
    start = market.today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    money = commission_figures(start, market.today, creator=market.ola)
    clicks = click_figures(start, market.today, creator=market.ola)

    # when
    response = signed_in(market.ola.user).get("/creator/earnings/")

    # then
    activity = response.context["activity"]
    assert activity.period.days == DEFAULT_PERIOD_DAYS
    assert all(len(series.days) == DEFAULT_PERIOD_DAYS for series in activity.series)
    assert series_figures(activity) == expected_series(money, clicks)
    assert campaign_figures(activity) == expected_campaigns(money, clicks)
    html = response.content.decode()
    for series in activity.series:
        chart = section(html, f'data-chart="{series.currency}"', "</svg>")
        total = sum(v[2] for k, v in money.items() if k[0] == series.currency)
        assert figure(chart, "earned") == format_money(total, series.currency)
        assert figure(chart, "clicks") == str(
            sum(v for k, v in clicks.items() if k[0] == series.currency)
        )
        assert "<title" in chart and "<desc" in chart
    for row in activity.campaigns:
        if not row.has_activity:
            continue
        tr = section(html, f'<tr data-campaign="{row.campaign_id}"', "</tr>")
        assert figure(tr, "earnings") == format_money(row.commission_minor, row.currency)
        assert figure(tr, "revenue") == format_money(row.revenue_minor, row.currency)
        assert figure(tr, "clicks") == str(row.clicks)
        assert figure(tr, "orders") == str(row.orders)
    # The scenario in words: in EUR she earned 80.00 at Sol and 12.00 in Spring; 15 Spring
    # clicks and 2 orders make 13.3 %; two Coats orders on 6 clicks, 33.3 %.
    spring = section(html, f'<tr data-campaign="{market.spring.pk}"', "</tr>")
    assert figure(spring, "conversion") == "13.3%"
    eur = section(html, 'data-chart="EUR"', "</svg>")
    assert figure(eur, "earned") == "€92.00"


def test_the_period_switch_reads_90_and_365_days_and_falls_back_to_30(
    market: Marketplace,
) -> None:
    # given: an order of Ola's received 50 days ago
    received = market.now - dt.timedelta(days=50)
    ingest(
        market.moda,
        received,
        order_paid("old", "OLD-1", "10.00", received - HOUR, code="OLASPRING"),
    )
    order_events_process_all()
    client = signed_in(market.ola.user)

    # when
    thirty = client.get("/creator/earnings/")
    ninety = client.get("/creator/earnings/?days=90")
    odd = client.get("/creator/earnings/?days=7")

    # then
    def spring_orders(response: Any) -> int:
        return next(
            r.orders for r in response.context["activity"].campaigns if r.title == "Spring capsule"
        )

    assert (thirty.context["period"].days, spring_orders(thirty)) == (30, 2)
    assert (ninety.context["period"].days, spring_orders(ninety)) == (90, 3)
    assert odd.context["period"].days == 30
    assert 'aria-current="page" href="?days=90"' in ninety.content.decode()


def test_another_creator_sees_only_their_own_figures(market: Marketplace) -> None:
    # when
    response = signed_in(market.ben.user).get("/creator/earnings/")

    # then: Ben's money is Ben's ledger; none of Ola's campaigns or amounts appear
    ledger = ledger_money(creator=market.ben)
    money = {m.currency: m for m in response.context["money"]}
    assert {c: (m.pending_minor, m.approved_minor) for c, m in money.items()} == {
        c: (k.get("creator_pending", 0), k.get("creator_available", 0)) for c, k in ledger.items()
    }
    titles = {row.title for row in response.context["activity"].campaigns}
    assert titles == {"Spring capsule", "Glow kit"}
    html = response.content.decode()
    for foreign in ("Sun care", "Autumn coats", "€92.00", "€42.00", "PLN"):
        assert foreign not in html


def test_a_creator_without_sales_is_told_to_share_their_link(settings: Any) -> None:
    # given
    creator = CreatorProfileFactory()

    # when
    response = signed_in(creator.user).get("/creator/earnings/")

    # then
    assert response.status_code == 200
    assert response.context["money"] == []
    assert response.context["charts"] == []
    assert "No sales yet — share your link from My collaborations." in response.content.decode()


def test_anonymous_visitors_sign_in_and_users_without_a_profile_onboard_first() -> None:
    # when
    anonymous = Client().get("/creator/earnings/")
    no_profile = signed_in(UserFactory(verified=True)).get("/creator/earnings/")

    # then
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert no_profile.status_code == 302 and no_profile["Location"].endswith("/onboarding/")


def test_the_page_costs_the_same_queries_however_much_the_creator_earned(
    market: Marketplace, django_assert_max_num_queries: Any
) -> None:
    # given
    client = signed_in(market.ola.user)
    with CaptureQueriesContext(connection) as before:
        client.get("/creator/earnings/?days=365")

    # when: many more orders and clicks on several days
    for day in range(2, 40):
        received = market.now - dt.timedelta(days=day)
        store_clicks(market.ola_spring, 3, received - 2 * HOUR)
        ingest(
            market.moda,
            received,
            *[
                order_paid(
                    f"more-{day}-{n}", f"M-{day}-{n}", "12.00", received - HOUR, code="OLASPRING"
                )
                for n in range(3)
            ],
        )
    order_events_process_all()

    # then
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as after:
        response = client.get("/creator/earnings/?days=365")
    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    for query in after.captured_queries:
        assert "payouts_commission" not in query["sql"]
        assert "payouts_order" not in query["sql"]
