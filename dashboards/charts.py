"""Server-side SVG charts for the dashboards: bars with an optional line, no script.

A chart is one inline `<svg role="img">` named by its `<title>` and `<desc>`, with a legend,
horizontal gridlines and labelled axes: the bars' scale on the left (money or counts), the
line's on the right. A bar is a day, or a week over periods longer than 90 days (a year is
53 bars). Over each bar lies a transparent column whose `<title>` is the tooltip a browser
shows on hover, with every figure of that day or week in words. Colours come from classes
in static/css/dashboards.css. Every piece of text is escaped here, so the result is safe to
insert into a page as it is. Amounts, counts and dates are written by
`dashboards.formatting`, which resolves each language's patterns once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape  # what django.utils.html.escape does, without its lazy-text wrapper

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from dashboards.formatting import (
    Formatter,
    count,
    count_axis_formatter,
    counts_formatter,
    day_label,
    money_axis_formatter,
    money_formatter,
    short_day_label,
    week_label,
)
from dashboards.selectors import DailySeries, IntegrationHealth, Period

# Formatters the tests and callers know from here.
__all__ = [
    "DailyChart",
    "Series",
    "brand_chart",
    "count_formatter",
    "earnings_chart",
    "events_chart",
    "money_axis_formatter",
    "money_formatter",
    "nice_ceiling",
    "render_daily_chart",
]

WIDTH = 960
HEIGHT = 300
MARGIN_TOP = 44
MARGIN_BOTTOM = 34
MARGIN_LEFT = 72
MARGIN_RIGHT = 56
TICKS = 4
# At most this many dates under the axis.
DATE_LABELS = 7

count_formatter = count


@dataclass(frozen=True)
class Series:
    """One row of figures, a value per bar (a day or a week); `css_class` picks its
    colour, `fmt` writes a value in words for the tooltip."""

    label: str
    values: Sequence[int]
    css_class: str
    fmt: Formatter = count_formatter


@dataclass(frozen=True)
class DailyChart:
    """Bars per day (drawn over each other, each narrower than the one before: revenue
    behind commission) and an optional line (clicks) on its own scale.

    With a `period` that goes by week (`Period.by_week`), each bar is a week: `days` are
    the weeks' Mondays, and the tooltips name the week (and the days of it the period
    counts, for the weeks it cuts)."""

    chart_id: str
    title: str
    description: str
    days: Sequence[dt.date]
    bars: Sequence[Series]
    line: Series | None = None
    bar_axis: Formatter = count_axis_formatter
    line_axis: Formatter = count_axis_formatter
    period: Period | None = None

    @property
    def by_week(self) -> bool:
        return self.period is not None and self.period.by_week

    def bar_labels(self) -> list[str]:
        """Each bar's date in words, the first line of its tooltip."""
        period = self.period
        if period is not None and period.by_week:
            return [week_label(day, start=period.start, end=period.end) for day in self.days]
        return [day_label(day) for day in self.days]


# Round steps, times a power of ten.
_STEPS = (
    Decimal(1),
    Decimal(2),
    Decimal("2.5"),
    Decimal(3),
    Decimal(4),
    Decimal(5),
    Decimal(6),
    Decimal(8),
)


def nice_ceiling(value: int, ticks: int = TICKS) -> tuple[int, int]:
    """A round top for an axis at or above `value` and its step: (top, step), whole
    numbers, the step a round number times a power of ten (money in minor units and counts
    both get round ticks), as small as reaches `value`."""
    if value <= 0:
        return ticks, 1
    magnitude = 10 ** max(0, math.floor(math.log10(value / ticks)))
    for scale in (magnitude, magnitude * 10):
        for multiple in _STEPS:
            step = multiple * scale
            if step == step.to_integral_value() and step * ticks >= value:
                return int(step) * ticks, int(step)
    raise AssertionError("unreachable: ten times the magnitude always reaches the value")


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _bar_titles(chart: DailyChart) -> list[str]:
    """Each bar's tooltip: its date, then every series' figure in words."""
    series = [*chart.bars, *([chart.line] if chart.line else [])]
    written = [[f"{s.label}: {text}" for text in map(s.fmt, s.values)] for s in series]
    return ["\n".join(lines) for lines in zip(chart.bar_labels(), *written, strict=True)]


def render_daily_chart(chart: DailyChart) -> SafeString:
    """The chart as an inline SVG element."""
    count = len(chart.days)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bottom = MARGIN_TOP + plot_h
    slot = plot_w / max(count, 1)
    bar_top, bar_step = nice_ceiling(max((max(s.values, default=0) for s in chart.bars), default=0))
    line_top, line_step = nice_ceiling(max(chart.line.values, default=0) if chart.line else 0)

    def bar_y(value: int) -> float:
        return bottom - plot_h * value / bar_top

    def line_y(value: int) -> float:
        return bottom - plot_h * value / line_top

    title_id = f"{chart.chart_id}-title"
    desc_id = f"{chart.chart_id}-desc"
    parts: list[str] = [
        f'<svg class="dash-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'id="{escape(chart.chart_id)}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(title_id)}">{escape(chart.title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(chart.description)}</desc>',
    ]

    # Gridlines and the left (bars) and right (line) scales.
    parts.append('<g class="chart-grid" aria-hidden="true">')
    for tick in range(TICKS + 1):
        y = bottom - plot_h * tick / TICKS
        css = "chart-baseline" if tick == 0 else "chart-gridline"
        parts.append(
            f'<line class="{css}" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{MARGIN_LEFT - 8}" y="{_fmt(y + 4)}" '
            f'text-anchor="end">{escape(chart.bar_axis(bar_step * tick))}</text>'
        )
        if chart.line is not None:
            parts.append(
                f'<text class="chart-tick chart-tick-line" x="{WIDTH - MARGIN_RIGHT + 8}" '
                f'y="{_fmt(y + 4)}" text-anchor="start">'
                f"{escape(chart.line_axis(line_step * tick))}</text>"
            )
    parts.append("</g>")

    # Dates under the axis, the latest day always labelled.
    every = max(1, math.ceil(count / DATE_LABELS))
    parts.append('<g class="chart-dates" aria-hidden="true">')
    for index in range(count - 1, -1, -every):
        x = MARGIN_LEFT + slot * (index + 0.5)
        label = short_day_label(chart.days[index])
        parts.append(
            f'<text class="chart-tick" x="{_fmt(x)}" y="{bottom + 20}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</g>")

    # The bars: one path per series, a rectangle per day, each series narrower than the one
    # behind it.
    width = slot - min(2.0, slot * 0.2)
    for depth, series in enumerate(chart.bars):
        bar_w = width * (1 - 0.35 * depth)
        segments = []
        for index, value in enumerate(series.values):
            if value > 0 and bar_w > 0:
                x = MARGIN_LEFT + slot * index + (slot - bar_w) / 2
                y = min(bar_y(value), bottom - 1)
                segments.append(f"M{_fmt(x)} {bottom}V{_fmt(y)}h{_fmt(bar_w)}V{bottom}z")
        if segments:
            parts.append(
                f'<path class="chart-bar {escape(series.css_class)}" d="{"".join(segments)}" '
                'aria-hidden="true"/>'
            )

    if chart.line is not None and count:
        points = " ".join(
            f"{_fmt(MARGIN_LEFT + slot * (i + 0.5))},{_fmt(line_y(v))}"
            for i, v in enumerate(chart.line.values)
        )
        parts.append(
            f'<polyline class="chart-line {escape(chart.line.css_class)}" points="{points}" '
            'aria-hidden="true"/>'
        )
        if count <= 31:
            for i, value in enumerate(chart.line.values):
                parts.append(
                    f'<circle class="chart-dot {escape(chart.line.css_class)}" '
                    f'cx="{_fmt(MARGIN_LEFT + slot * (i + 0.5))}" cy="{_fmt(line_y(value))}" '
                    'r="2.5" aria-hidden="true"/>'
                )

    # On top of the bars, a transparent full-height column per bar: what the pointer rests
    # on, and the bar's tooltip (its <title>) with every figure of the day (week) in words.
    parts.append('<g class="chart-days">')
    width_text = _fmt(slot)
    for index, title in enumerate(_bar_titles(chart)):
        parts.append(
            f'<rect class="chart-hit" x="{_fmt(MARGIN_LEFT + slot * index)}" y="{MARGIN_TOP}" '
            f'width="{width_text}" height="{plot_h}">'
            f"<title>{escape(title)}</title></rect>"
        )
    parts.append("</g>")

    # The legend, above the plot on the left.
    parts.append('<g class="chart-legend" aria-hidden="true">')
    x = float(MARGIN_LEFT)
    for series in chart.bars:
        parts.append(
            f'<rect class="chart-bar {escape(series.css_class)}" x="{_fmt(x)}" y="12" '
            'width="12" height="12" rx="2"/>'
        )
        parts.append(
            f'<text class="chart-legend-text" x="{_fmt(x + 18)}" y="22">'
            f"{escape(series.label)}</text>"
        )
        x += 18 + 8 * len(series.label) + 24
    if chart.line is not None:
        parts.append(
            f'<line class="chart-line {escape(chart.line.css_class)}" x1="{_fmt(x)}" '
            f'x2="{_fmt(x + 16)}" y1="18" y2="18"/>'
        )
        parts.append(
            f'<text class="chart-legend-text" x="{_fmt(x + 22)}" y="22">'
            f"{escape(chart.line.label)} ({escape(gettext('right axis'))})</text>"
        )
    parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


# ---------------------------------------------------------------------------------------
# The dashboards' charts


def _span(days: Sequence[dt.date], period: Period | None) -> dict[str, str]:
    """The first and last day a chart counts, in words."""
    if period is not None:
        return {"start": day_label(period.start), "end": day_label(period.end)}
    return {"start": day_label(days[0]), "end": day_label(days[-1])}


def _money_and_clicks_chart(
    series: DailySeries,
    *,
    chart_id: str,
    period: Period | None,
    title: str,
    description: str,
    amounts: dict[str, int],
    bars: list[tuple[str, list[int], str]],
) -> SafeString:
    """Money bars, each (label, a value per bar, css class), in the series' currency with
    its clicks as the line. `title` names the currency as %(currency)s; `description` the
    period, the orders and the clicks as %(start)s, %(end)s, %(orders)s and %(clicks)s,
    and each of `amounts` by its key."""
    days = [d.day for d in series.days]
    money = money_formatter(series.currency)
    counts = counts_formatter()
    return render_daily_chart(
        DailyChart(
            chart_id=chart_id,
            title=title % {"currency": series.currency},
            description=description
            % {
                **{name: money(amount) for name, amount in amounts.items()},
                "orders": counts(series.orders),
                "clicks": counts(series.clicks),
                **_span(days, period),
            },
            days=days,
            bars=[Series(label, values, css_class, money) for label, values, css_class in bars],
            line=Series(gettext("Clicks"), [d.clicks for d in series.days], "chart-clicks", counts),
            bar_axis=money_axis_formatter(series.currency),
            period=period,
        )
    )


def earnings_chart(
    series: DailySeries, *, chart_id: str, period: Period | None = None
) -> SafeString:
    """A creator's earnings (bars) and clicks (line) in one currency, per day, or per week
    when `period` goes by week."""
    if period is not None and period.by_week:
        title = gettext("Weekly earnings and clicks in %(currency)s")
        description = gettext(
            "%(earnings)s earned from %(orders)s orders and %(clicks)s clicks between "
            "%(start)s and %(end)s. Bars show each week's earnings, the line its clicks."
        )
    else:
        title = gettext("Daily earnings and clicks in %(currency)s")
        description = gettext(
            "%(earnings)s earned from %(orders)s orders and %(clicks)s clicks between "
            "%(start)s and %(end)s. Bars show each day's earnings, the line its clicks."
        )
    return _money_and_clicks_chart(
        series,
        chart_id=chart_id,
        period=period,
        title=title,
        description=description,
        amounts={"earnings": series.commission_minor},
        bars=[(gettext("Earnings"), [d.commission_minor for d in series.days], "chart-earnings")],
    )


def brand_chart(series: DailySeries, *, chart_id: str, period: Period | None = None) -> SafeString:
    """A brand's revenue and commission cost (bars) and clicks (line) in one currency, per
    day, or per week when `period` goes by week."""
    if period is not None and period.by_week:
        title = gettext("Weekly revenue, commission cost and clicks in %(currency)s")
        description = gettext(
            "%(revenue)s revenue from %(orders)s orders, %(cost)s commission cost and "
            "%(clicks)s clicks between %(start)s and %(end)s. Bars show each week's revenue "
            "with its commission cost inside, the line its clicks."
        )
    else:
        title = gettext("Daily revenue, commission cost and clicks in %(currency)s")
        description = gettext(
            "%(revenue)s revenue from %(orders)s orders, %(cost)s commission cost and "
            "%(clicks)s clicks between %(start)s and %(end)s. Bars show each day's revenue "
            "with its commission cost inside, the line its clicks."
        )
    return _money_and_clicks_chart(
        series,
        chart_id=chart_id,
        period=period,
        title=title,
        description=description,
        amounts={"revenue": series.revenue_minor, "cost": series.commission_minor},
        bars=[
            (gettext("Revenue"), [d.revenue_minor for d in series.days], "chart-revenue"),
            (gettext("Commission cost"), [d.commission_minor for d in series.days], "chart-cost"),
        ],
    )


def events_chart(health: IntegrationHealth, *, chart_id: str) -> SafeString:
    """A brand's order events received (bars) and refused (line) per day, or per week
    when its period goes by week."""
    days = [d.day for d in health.days]
    counts = counts_formatter()
    if health.period.by_week:
        title = gettext("Order events received and refused per week")
        description = gettext(
            "%(received)s events received and %(refused)s refused between %(start)s and "
            "%(end)s. Bars show the events received each week, the line those refused."
        )
    else:
        title = gettext("Order events received and refused per day")
        description = gettext(
            "%(received)s events received and %(refused)s refused between %(start)s and "
            "%(end)s. Bars show the events received each day, the line those refused."
        )
    return render_daily_chart(
        DailyChart(
            chart_id=chart_id,
            title=title,
            description=description
            % {
                "received": counts(health.received),
                "refused": counts(health.refused),
                **_span(days, health.period),
            },
            days=days,
            bars=[
                Series(
                    gettext("Received"), [d.received for d in health.days], "chart-events", counts
                )
            ],
            line=Series(
                gettext("Refused"), [d.refused for d in health.days], "chart-refused", counts
            ),
            period=health.period,
        )
    )
