"""Over periods longer than 90 days the dashboards give a week a bar: each week's figures
are exactly the sums of its days in the period (the commissions, click rows and events
say so, independently of the rollups), the weeks the period cuts count only its days, and
the tooltips name the week."""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import translation

from campaigns.models import Collaboration
from connect.money import format_money
from dashboards import selectors
from dashboards.charts import earnings_chart
from dashboards.demo import collaboration_backdate
from dashboards.formatting import day_label
from dashboards.selectors import DailySeries, DayFigures, Period, week_start
from payouts.models import OrderEvent
from payouts.processing import order_events_process_all
from tests.dashboards.expected import (
    campaign_figures,
    click_figures,
    commission_figures,
    expected_campaigns,
    expected_series,
    series_figures,
)
from tests.dashboards.scenario import HOUR, Marketplace, ingest, order_paid, signed_in, store_clicks

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
Figures = Mapping[tuple[str, dt.date], tuple[int, ...]]


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def sell_on(market: Marketplace, days: list[dt.date]) -> None:
    """Clicks and orders of Ola (spring, EUR; coats, PLN) and Ben (spring) on `days`, a
    different number each day, with their campaigns and collaborations active since
    before the first."""
    since = noon(min(days)) - dt.timedelta(days=30)
    collaborations: list[Collaboration] = [market.ola_spring, market.ben_spring, market.ola_coats]
    for collaboration in collaborations:
        collaboration_backdate(collaboration, since)
    for n, day in enumerate(sorted(days)):
        at = noon(day)
        store_clicks(market.ola_spring, 2 + n % 3, at - 3 * HOUR)
        store_clicks(market.ola_coats, 1 + n % 2, at - 2 * HOUR)
        store_clicks(market.ben_spring, 1, at - 2 * HOUR)
        ingest(
            market.moda,
            at,
            *[
                order_paid(
                    f"year-{day}-{k}",
                    f"Y-{day}-{k}",
                    f"{10 + 7 * n + k}.50",
                    at - HOUR,
                    code=code,
                    currency=currency,
                )
                for k, (code, currency) in enumerate(
                    [("OLASPRING", "EUR"), ("OLACOATS", "PLN"), ("BENSPRING", "EUR")][: 1 + n % 3]
                )
            ],
        )
    order_events_process_all()


def by_week(figures: Figures) -> dict[tuple[str, dt.date], tuple[int, ...]]:
    """{(currency, day): figures} summed into {(currency, Monday): figures}."""
    weeks: dict[tuple[str, dt.date], list[int]] = {}
    for (currency, day), values in figures.items():
        total = weeks.setdefault((currency, week_start(day)), [0] * len(values))
        for i, value in enumerate(values):
            total[i] += value
    return {key: tuple(values) for key, values in weeks.items() if any(values)}


def test_periods_over_90_days_go_by_week_from_the_monday_of_their_first_day() -> None:
    # given: a year ending on a Friday (so it starts on a Saturday)
    friday = dt.date(2026, 11, 27)

    # when
    year = Period.last(365, today=friday)
    quarter = Period.last(90, today=friday)

    # then
    assert (quarter.by_week, len(quarter.buckets())) == (False, 90)
    assert quarter.buckets() == quarter.dates()
    buckets = year.buckets()
    assert year.by_week
    assert year.start == dt.date(2025, 11, 28)
    assert buckets[0] == dt.date(2025, 11, 24)  # the Monday before the first day
    assert buckets[-1] == dt.date(2026, 11, 23)
    assert len(buckets) == 53
    assert all(day.weekday() == 0 for day in buckets)
    assert all(b - a == dt.timedelta(days=7) for a, b in itertools.pairwise(buckets))


def test_the_sql_week_of_a_day_is_the_monday_python_gives() -> None:
    # given: three years of days, across year ends and leap days
    first = dt.date(2023, 12, 25)
    expression = Period.last(365).bucket_sql("d")

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d, {expression} FROM ("  # noqa: S608 - our own fixed expression
            "  SELECT (%s::date + n) AS d FROM generate_series(0, 1100) AS n"
            ") days",
            [first],
        )
        rows = cursor.fetchall()

    # then
    assert len(rows) == 1101
    assert all(monday == week_start(day) for day, monday in rows)


def test_a_creators_year_has_a_bar_per_week_each_the_sum_of_its_days(
    market: Marketplace,
) -> None:
    # given: sales all over the year, at both ends of it and just before it
    start = market.today - dt.timedelta(days=364)
    days = [start - dt.timedelta(days=1), start, start + dt.timedelta(days=2)]
    days += [start + dt.timedelta(days=n) for n in (40, 41, 45, 180, 300, 362)]
    sell_on(market, days)
    money = commission_figures(start, market.today, creator=market.ola)
    clicks = click_figures(start, market.today, creator=market.ola)

    # when
    response = signed_in(market.ola.user).get("/creator/earnings/?days=365")

    # then
    assert response.status_code == 200
    activity = response.context["activity"]
    buckets = Period.last(365, today=market.today).buckets()
    assert {len(s.days) for s in activity.series} == {len(buckets)}
    assert [d.day for d in activity.series[0].days] == buckets
    expected = by_week(expected_series(money, clicks))
    assert series_figures(activity) == expected
    assert len({week for _currency, week in expected}) >= 6
    assert campaign_figures(activity) == expected_campaigns(money, clicks)
    # The chart: a tooltip column per week, named by its Monday, with the week's figures.
    html = response.content.decode()
    svg = html[html.index('<svg class="dash-chart"') : html.index("</svg>") + 6]
    root = ET.fromstring(svg)  # noqa: S314 - our own markup
    assert "Weekly earnings and clicks" in str(root.findtext(f"{SVG}title"))
    columns = root.findall(f"{SVG}g[@class='chart-days']/{SVG}rect")
    assert len(columns) == len(buckets)
    currency = activity.series[0].currency
    week = start + dt.timedelta(days=40)
    monday = week_start(week)
    _orders, _revenue, commission, week_clicks = expected[(currency, monday)]
    tooltip = str(columns[buckets.index(monday)].findtext(f"{SVG}title"))
    with translation.override("en"):
        assert tooltip.splitlines() == [
            f"Week of {day_label(monday)}",
            f"Earnings: {format_money(commission, currency)}",
            f"Clicks: {week_clicks}",
        ]
    assert "Each bar is a week." in html


def test_ninety_days_stay_a_bar_per_day(market: Marketplace) -> None:
    # when
    response = signed_in(market.ola.user).get("/creator/earnings/?days=90")

    # then
    activity = response.context["activity"]
    assert {len(s.days) for s in activity.series} == {90}
    assert "Daily earnings and clicks" in response.content.decode()


def test_a_period_cutting_its_first_and_last_weeks_counts_only_its_own_days(
    market: Marketplace,
) -> None:
    # given: a year that starts and ends on a Wednesday, with sales the day before it
    # starts and the day after it ends (in the same weeks) that it must leave out
    end = market.today - dt.timedelta(days=1)
    while (end - dt.timedelta(days=364)).weekday() != 2:
        end -= dt.timedelta(days=1)
    period = Period.last(365, today=end)
    start = period.start
    assert (start.weekday(), end.weekday()) == (2, 2)
    outside = [start - dt.timedelta(days=1), end + dt.timedelta(days=1)]
    sell_on(
        market, [*outside, start, start + dt.timedelta(days=4), end - dt.timedelta(days=2), end]
    )
    campaigns = selectors.creator_collaborated_campaigns(market.ola)

    # when
    creator = selectors.creator_activity(market.ola, period, campaigns)
    brand = selectors.brand_activity(market.moda, period, selectors.brand_campaigns(market.moda))
    health = selectors.brand_integration_health(market.moda, period)

    # then: the first and last bars hold only the period's days
    ola_money = commission_figures(start, end, creator=market.ola)
    ola_clicks = click_figures(start, end, creator=market.ola)
    assert series_figures(creator) == by_week(expected_series(ola_money, ola_clicks))
    moda_money = commission_figures(start, end, brand=market.moda)
    moda_clicks = click_figures(start, end, campaign__brand=market.moda)
    assert series_figures(brand) == by_week(expected_series(moda_money, moda_clicks))
    first = {s.currency: s.days[0] for s in brand.series}
    assert first["EUR"].day == week_start(start) < start
    # Wednesday's and Sunday's orders; not Tuesday's, the day before the period
    in_period = moda_money[("EUR", start)][0] + moda_money[("EUR", start + dt.timedelta(days=4))][0]
    assert first["EUR"].orders == in_period == 3
    events = (
        OrderEvent.objects.filter(brand=market.moda)
        .annotate(day=TruncDate("received_at", tzinfo=dt.UTC))
        .filter(day__gte=start, day__lte=end)
        .values_list("day")
        .annotate(n=Count("id"))
    )
    received: dict[dt.date, int] = defaultdict(int)
    for day, n in events:
        received[week_start(day)] += n
    assert {d.day: d.received for d in health.days if d.received} == dict(received)
    assert [d.day for d in health.days] == period.buckets()


def test_a_cut_weeks_tooltip_says_which_of_its_days_it_counts() -> None:
    # given: a year from Wednesday 3 December 2025 to Wednesday 2 December 2026
    period = Period.last(365, today=dt.date(2026, 12, 2))
    days = [DayFigures(day=monday, commission_minor=1000) for monday in period.buckets()]
    series = DailySeries(currency="EUR", days=days)

    # when
    with translation.override("en"):
        root = ET.fromstring(earnings_chart(series, chart_id="y", period=period))  # noqa: S314

    # then
    columns = root.findall(f"{SVG}g[@class='chart-days']/{SVG}rect")
    titles = [str(c.findtext(f"{SVG}title")).splitlines()[0] for c in columns]
    assert len(titles) == 53
    assert titles[0] == "Week of Dec. 1, 2025, Dec. 3, 2025 to Dec. 7, 2025 only"
    assert titles[1] == "Week of Dec. 8, 2025"
    assert titles[-1] == "Week of Nov. 30, 2026, Nov. 30, 2026 to Dec. 2, 2026 only"
    desc = str(root.findtext(f"{SVG}desc"))
    assert "between Dec. 3, 2025 and Dec. 2, 2026" in desc
    assert "each week's earnings" in desc


def test_the_brands_year_goes_by_week_on_the_page(market: Marketplace) -> None:
    # given
    start = market.today - dt.timedelta(days=364)
    sell_on(market, [start, start + dt.timedelta(days=100), start + dt.timedelta(days=101)])
    money = commission_figures(start, market.today, brand=market.moda)
    clicks = click_figures(start, market.today, campaign__brand=market.moda)

    # when
    response = signed_in(market.moda_owner).get("/brand/dashboard/?days=365")

    # then
    assert response.status_code == 200
    activity = response.context["activity"]
    assert series_figures(activity) == by_week(expected_series(money, clicks))
    buckets = Period.last(365, today=market.today).buckets()
    assert [d.day for d in response.context["health"].days] == buckets
    html = response.content.decode()
    assert html.count('class="chart-hit"') == len(buckets) * (len(activity.series) + 1)
    assert "Weekly revenue, commission cost and clicks in EUR" in html
    assert "Order events received and refused per week" in html
