"""Server-side SVG charts for the dashboards: daily bars with an optional line, no script.

A chart is one inline `<svg role="img">` named by its `<title>` and `<desc>`, with a legend,
horizontal gridlines and labelled axes: the bars' scale on the left (money or counts), the
line's on the right. Over each day's bars lies a transparent column whose `<title>` is the
tooltip a browser shows on hover, with every figure of that day in words. Colours come from classes in
static/css/dashboards.css. Every piece of text is escaped here, so the result is safe to
insert into a page as it is.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_decimal,
    get_currency_symbol,
)
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from connect.money import currency_exponent, format_money
from dashboards.selectors import DailySeries, IntegrationHealth

WIDTH = 960
HEIGHT = 300
MARGIN_TOP = 44
MARGIN_BOTTOM = 34
MARGIN_LEFT = 72
MARGIN_RIGHT = 56
TICKS = 4
# At most this many dates under the axis.
DATE_LABELS = 7

Formatter = Callable[[int], str]


def _locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


# Amounts that check a fast formatter against `format_money` before it is trusted.
_PROBES = (0, 5, 99, 1_234, 12_345, 123_456, 1_234_567, 123_456_789, -250, -1_234_567)


def _grouped(digits: str, group: str, sizes: tuple[int, int]) -> str:
    head, tail = digits, ""
    size = sizes[0]
    while len(head) > size:
        tail = group + head[-size:] + tail
        head = head[:-size]
        size = sizes[1]
    return head + tail


@lru_cache(maxsize=256)
def _money_formatter(currency: str, language: str) -> Formatter:
    """A formatter that writes what `format_money` writes, without parsing the locale's
    pattern again for every amount (a year of tooltips formats a thousand of them). It is
    used only if it agrees with `format_money` on every probe; otherwise `format_money`."""
    exponent = currency_exponent(currency)

    def exact(minor: int) -> str:
        return format_money(minor, currency, language)

    try:
        locale = Locale.parse(language.replace("-", "_"))
        pattern = locale.currency_formats["standard"]
        symbols = locale.number_symbols["latn"]
        symbol = get_currency_symbol(currency.upper(), locale)
        group, decimal, minus = symbols["group"], symbols["decimal"], symbols["minusSign"]
    except (KeyError, ValueError, AttributeError):
        return exact
    prefixes = [p.replace("¤", symbol).replace("-", minus) for p in pattern.prefix]
    suffixes = [p.replace("¤", symbol).replace("-", minus) for p in pattern.suffix]
    sizes = pattern.grouping
    scale = 10**exponent

    def fast(minor: int) -> str:
        whole, fraction = divmod(abs(minor), scale)
        number = _grouped(str(whole), group, sizes)
        if exponent:
            number += decimal + str(fraction).rjust(exponent, "0")
        negative = minor < 0
        return prefixes[negative] + number + suffixes[negative]

    if all(fast(probe) == exact(probe) for probe in _PROBES):
        return fast
    return exact


def money_formatter(currency: str) -> Formatter:
    """An exact amount in the reader's language, for tooltips: 1 234,50 zł."""
    return _money_formatter(currency, translation.get_language() or "en")


def money_axis_formatter(currency: str) -> Formatter:
    """A short amount for an axis: €1.2K, 1,2 tys. zł."""
    exponent = currency_exponent(currency)

    def fmt(minor: int) -> str:
        value = Decimal(minor).scaleb(-exponent)
        return str(format_compact_currency(value, currency, locale=_locale(), fraction_digits=1))

    return fmt


@lru_cache(maxsize=64)
def _count_formatter(language: str) -> Formatter:
    """Like `_money_formatter`, for counts: what `format_decimal` writes, checked on probes."""

    def exact(value: int) -> str:
        return str(format_decimal(value, locale=language.replace("-", "_")))

    try:
        locale = Locale.parse(language.replace("-", "_"))
        group = locale.number_symbols["latn"]["group"]
        sizes = locale.decimal_formats[None].grouping
    except (KeyError, ValueError, AttributeError):
        return exact

    def fast(value: int) -> str:
        return _grouped(str(value), group, sizes) if value >= 0 else exact(value)

    if all(fast(probe) == exact(probe) for probe in _PROBES):
        return fast
    return exact


def count_formatter(value: int) -> str:
    """A count in the reader's language: 12,345; 12 345; 12.345."""
    return _count_formatter(translation.get_language() or "en")(value)


def counts_formatter() -> Formatter:
    """`count_formatter` for the reader's language, looked up once (for a chart's days)."""
    return _count_formatter(translation.get_language() or "en")


def count_axis_formatter(value: int) -> str:
    return str(format_compact_decimal(value, locale=_locale(), fraction_digits=1))


@dataclass(frozen=True)
class Series:
    """One row of figures, a value per day; `css_class` picks its colour, `fmt` writes a
    value in words for the tooltip."""

    label: str
    values: Sequence[int]
    css_class: str
    fmt: Formatter = count_formatter


@dataclass(frozen=True)
class DailyChart:
    """Bars per day (drawn over each other, each narrower than the one before: revenue
    behind commission) and an optional line (clicks) on its own scale."""

    chart_id: str
    title: str
    description: str
    days: Sequence[dt.date]
    bars: Sequence[Series]
    line: Series | None = None
    bar_axis: Formatter = count_axis_formatter
    line_axis: Formatter = count_axis_formatter


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


@lru_cache(maxsize=4096)
def _day_label(day: dt.date, language: str) -> str:
    with translation.override(language):
        return date_format(day, "DATE_FORMAT")


def _day_title(chart: DailyChart, index: int, language: str) -> str:
    day = chart.days[index]
    lines = [_day_label(day, language)]
    for series in [*chart.bars, *([chart.line] if chart.line else [])]:
        lines.append(f"{series.label}: {series.fmt(series.values[index])}")
    return "\n".join(lines)


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
        label = format_skeleton("MMMd", chart.days[index], locale=_locale())
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

    # On top of the bars, a transparent full-height column per day: what the pointer rests
    # on, and the day's tooltip (its <title>) with every figure of the day in words.
    parts.append('<g class="chart-days">')
    language = translation.get_language() or "en"
    for index in range(count):
        parts.append(
            f'<rect class="chart-hit" x="{_fmt(MARGIN_LEFT + slot * index)}" y="{MARGIN_TOP}" '
            f'width="{_fmt(slot)}" height="{plot_h}">'
            f"<title>{escape(_day_title(chart, index, language))}</title></rect>"
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


def earnings_chart(series: DailySeries, *, chart_id: str) -> SafeString:
    """A creator's daily earnings (bars) and clicks (line) in one currency."""
    days = [d.day for d in series.days]
    money = money_formatter(series.currency)
    counts = counts_formatter()
    return render_daily_chart(
        DailyChart(
            chart_id=chart_id,
            title=gettext("Daily earnings and clicks in %(currency)s")
            % {"currency": series.currency},
            description=gettext(
                "%(earnings)s earned from %(orders)s orders and %(clicks)s clicks between "
                "%(start)s and %(end)s. Bars show each day's earnings, the line its clicks."
            )
            % {
                "earnings": money(series.commission_minor),
                "orders": count_formatter(series.orders),
                "clicks": count_formatter(series.clicks),
                "start": date_format(days[0], "DATE_FORMAT"),
                "end": date_format(days[-1], "DATE_FORMAT"),
            },
            days=days,
            bars=[
                Series(
                    gettext("Earnings"),
                    [d.commission_minor for d in series.days],
                    "chart-earnings",
                    money,
                )
            ],
            line=Series(gettext("Clicks"), [d.clicks for d in series.days], "chart-clicks", counts),
            bar_axis=money_axis_formatter(series.currency),
        )
    )


def brand_chart(series: DailySeries, *, chart_id: str) -> SafeString:
    """A brand's daily revenue and commission cost (bars) and clicks (line) in one
    currency."""
    days = [d.day for d in series.days]
    money = money_formatter(series.currency)
    counts = counts_formatter()
    return render_daily_chart(
        DailyChart(
            chart_id=chart_id,
            title=gettext("Daily revenue, commission cost and clicks in %(currency)s")
            % {"currency": series.currency},
            description=gettext(
                "%(revenue)s revenue from %(orders)s orders, %(cost)s commission cost and "
                "%(clicks)s clicks between %(start)s and %(end)s. Bars show each day's revenue "
                "with its commission cost inside, the line its clicks."
            )
            % {
                "revenue": money(series.revenue_minor),
                "orders": count_formatter(series.orders),
                "cost": money(series.commission_minor),
                "clicks": count_formatter(series.clicks),
                "start": date_format(days[0], "DATE_FORMAT"),
                "end": date_format(days[-1], "DATE_FORMAT"),
            },
            days=days,
            bars=[
                Series(
                    gettext("Revenue"),
                    [d.revenue_minor for d in series.days],
                    "chart-revenue",
                    money,
                ),
                Series(
                    gettext("Commission cost"),
                    [d.commission_minor for d in series.days],
                    "chart-cost",
                    money,
                ),
            ],
            line=Series(gettext("Clicks"), [d.clicks for d in series.days], "chart-clicks", counts),
            bar_axis=money_axis_formatter(series.currency),
        )
    )


def events_chart(health: IntegrationHealth, *, chart_id: str) -> SafeString:
    """A brand's order events received per day (bars) and refused (line)."""
    days = [d.day for d in health.days]
    counts = counts_formatter()
    return render_daily_chart(
        DailyChart(
            chart_id=chart_id,
            title=gettext("Order events received and refused per day"),
            description=gettext(
                "%(received)s events received and %(refused)s refused between %(start)s and "
                "%(end)s. Bars show the events received each day, the line those refused."
            )
            % {
                "received": count_formatter(health.received),
                "refused": count_formatter(health.refused),
                "start": date_format(days[0], "DATE_FORMAT"),
                "end": date_format(days[-1], "DATE_FORMAT"),
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
        )
    )
