"""The server-side SVG charts: named for screen readers, a tooltip per day with its figures in
words, round axes, and every text escaped."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from babel.numbers import format_decimal
from django.utils import translation

from connect.money import format_money
from dashboards.charts import (
    DailyChart,
    Series,
    count_formatter,
    earnings_chart,
    money_axis_formatter,
    money_formatter,
    nice_ceiling,
    render_daily_chart,
)
from dashboards.selectors import DailySeries, DayFigures

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [dt.date(2026, 5, 1) + dt.timedelta(days=n) for n in range(3)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own markup


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, (4, 1)),
        (3, (4, 1)),
        (7, (8, 2)),
        (10, (12, 3)),
        (9_999, (10_000, 2_500)),
        (12_345, (16_000, 4_000)),
        (400, (400, 100)),
    ],
)
def test_axes_end_on_a_round_number_with_round_steps(value: int, expected: tuple[int, int]) -> None:
    top, step = nice_ceiling(value)
    assert (top, step) == expected
    assert top >= value and top == step * 4


def test_the_chart_is_named_and_described_and_each_day_has_a_tooltip() -> None:
    # given
    chart = DailyChart(
        chart_id="c1",
        title="Daily earnings",
        description="Earnings and clicks",
        days=DAYS,
        bars=[Series("Earnings", [1250, 0, 300], "chart-earnings", money_formatter("EUR"))],
        line=Series("Clicks", [4, 0, 12], "chart-clicks"),
        bar_axis=money_axis_formatter("EUR"),
    )

    # when
    with translation.override("en"):
        root = parse(render_daily_chart(chart))

    # then
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Daily earnings"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Earnings and clicks"  # type: ignore[union-attr]
    columns = root.findall(f"{SVG}g[@class='chart-days']/{SVG}rect")
    tooltips = [column.find(f"{SVG}title").text for column in columns]  # type: ignore[union-attr]
    assert tooltips == [
        "May 1, 2026\nEarnings: €12.50\nClicks: 4",
        "May 2, 2026\nEarnings: €0.00\nClicks: 0",
        "May 3, 2026\nEarnings: €3.00\nClicks: 12",
    ]
    # a bar for each day with earnings (a rectangle in the series' path), none for the
    # empty day; the tooltip columns lie on top of them
    (bars,) = root.findall(f"{SVG}path[@class='chart-bar chart-earnings']")
    assert bars.get("d", "").count("M") == 2
    layers = list(root)
    assert layers.index(root.find(f"{SVG}g[@class='chart-days']")) > layers.index(bars)
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks[:5] == ["€0", "€4", "€8", "€12", "€16"]  # 12.50 rounds the axis up to 16
    assert {"May 1", "May 3"} <= set(ticks)
    legend = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-legend-text"]
    assert legend == ["Earnings", "Clicks (right axis)"]
    assert len(root.findall(f"{SVG}polyline")) == 1


def test_every_text_is_escaped() -> None:
    # given: text that would be markup
    nasty = '<script>alert("x")</script> & co'
    chart = DailyChart(
        chart_id='id"><x',
        title=nasty,
        description=nasty,
        days=DAYS,
        bars=[Series(nasty, [1, 2, 3], 'c" onload="x')],
        line=Series(nasty, [1, 2, 3], "chart-clicks"),
    )

    # when
    svg = str(render_daily_chart(chart))

    # then: well-formed, and no element or attribute came from the text
    root = parse(svg)
    assert "<script" not in svg
    assert "onload" not in {attr for el in root.iter() for attr in el.attrib}
    assert all(el.tag.startswith(SVG) for el in root.iter())
    assert root.find(f"{SVG}title").text == nasty  # type: ignore[union-attr]


def test_dates_and_amounts_follow_the_readers_language() -> None:
    # given
    series = DailySeries(
        currency="PLN",
        days=[DayFigures(day=d, commission_minor=123_456, clicks=3) for d in DAYS],
    )

    # when
    with translation.override("pl"):
        svg = str(earnings_chart(series, chart_id="pl"))

    # then
    assert "1234,56\xa0zł" in svg or "1\xa0234,56\xa0zł" in svg
    assert re.search(r"1 maj", svg)


@pytest.mark.parametrize("language", ["en", "pl", "es"])
@pytest.mark.parametrize("currency", ["EUR", "PLN", "USD", "CZK", "JPY", "HUF"])
def test_the_tooltips_amounts_are_exactly_what_format_money_writes(
    language: str, currency: str
) -> None:
    # given
    amounts = [
        0,
        1,
        7,
        99,
        100,
        999,
        1_000,
        12_345,
        99_999,
        100_000,
        1_234_567,
        10**10,
        -5,
        -99_999,
    ]

    # when
    with translation.override(language):
        fmt = money_formatter(currency)
        written = [fmt(amount) for amount in amounts]
        expected = [format_money(amount, currency) for amount in amounts]

    # then
    assert written == expected


@pytest.mark.parametrize("language", ["en", "pl", "es"])
def test_the_tooltips_counts_are_exactly_what_babel_writes(language: str) -> None:
    # given
    counts = [0, 7, 999, 1_000, 1_234, 12_345, 123_456, 1_234_567, -1_234]

    # when
    with translation.override(language):
        written = [count_formatter(n) for n in counts]

    # then
    assert written == [format_decimal(n, locale=language) for n in counts]
