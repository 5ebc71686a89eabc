"""Numbers and dates as the dashboards write them, in the reader's language, cheaply.

A year's chart writes a few hundred amounts, counts and dates. Babel's `format_currency`
parses the locale and looks up its pattern and symbols on every call, Django's
`date_format` activates the language's formats on every call; that is most of a page's
time when done per value. Here each language's (and currency's) pattern, symbols and
dates are resolved once per process and kept: a formatter is a closure over them.

The fast formatters write exactly what `connect.money.format_money` and Babel's
`format_decimal` write: each is checked against them on probe values when it is built,
and the exact (slow) one is used for any language whose pattern it cannot follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
from django.utils.translation import gettext

from connect.money import currency_exponent, format_money

Formatter = Callable[[int], str]


def language() -> str:
    """The reader's language as Django names it (pt-br)."""
    return translation.get_language() or "en"


def _babel_name(name: str) -> str:
    return name.replace("-", "_")


# Amounts that check a fast formatter against the exact one before it is trusted.
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
def _money_formatter(currency: str, lang: str) -> Formatter:
    """What `format_money` writes, from the locale's currency pattern and symbols looked up
    once (if it agrees with `format_money` on every probe; otherwise `format_money`)."""
    exponent = currency_exponent(currency)

    def exact(minor: int) -> str:
        return format_money(minor, currency, lang)

    try:
        locale = Locale.parse(_babel_name(lang))
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
    """Exact amounts in the reader's language: 1 234,50 zł."""
    return _money_formatter(currency, language())


def money(minor: int, currency: str) -> str:
    """One exact amount in the reader's language (what `format_money` writes)."""
    return _money_formatter(currency, language())(minor)


@lru_cache(maxsize=64)
def _count_formatter(lang: str) -> Formatter:
    """What `format_decimal` writes for a whole number, from the locale's grouping looked
    up once (checked on the probes like `_money_formatter`)."""

    def exact(value: int) -> str:
        return str(format_decimal(value, locale=_babel_name(lang)))

    try:
        locale = Locale.parse(_babel_name(lang))
        group = locale.number_symbols["latn"]["group"]
        sizes = locale.decimal_formats[None].grouping
    except (KeyError, ValueError, AttributeError):
        return exact

    def fast(value: int) -> str:
        return _grouped(str(value), group, sizes) if value >= 0 else exact(value)

    if all(fast(probe) == exact(probe) for probe in _PROBES):
        return fast
    return exact


def counts_formatter() -> Formatter:
    """Counts in the reader's language: 12,345; 12 345; 12.345."""
    return _count_formatter(language())


def count(value: int) -> str:
    """One count in the reader's language."""
    return _count_formatter(language())(value)


@lru_cache(maxsize=1024)
def _compact_money(minor: int, currency: str, lang: str) -> str:
    value = Decimal(minor).scaleb(-currency_exponent(currency))
    return str(
        format_compact_currency(value, currency, locale=_babel_name(lang), fraction_digits=1)
    )


def money_axis_formatter(currency: str) -> Formatter:
    """Short amounts for an axis: €1.2K, 1,2 tys. zł (axes repeat their round values, so
    each is written once per language)."""
    lang = language()

    def fmt(minor: int) -> str:
        return _compact_money(minor, currency, lang)

    return fmt


@lru_cache(maxsize=1024)
def _compact_count(value: int, lang: str) -> str:
    return str(format_compact_decimal(value, locale=_babel_name(lang), fraction_digits=1))


def count_axis_formatter(value: int) -> str:
    """A short count for an axis: 1.2K, 1,2 tys."""
    return _compact_count(value, language())


# Dates: a chart labels a few hundred days at most, and the same ones on every request of
# the day, so each (day, language) is written once.


@lru_cache(maxsize=8192)
def _day_label(day: dt.date, lang: str) -> str:
    with translation.override(lang):
        return date_format(day, "DATE_FORMAT")


@lru_cache(maxsize=8192)
def _short_day_label(day: dt.date, lang: str) -> str:
    return str(format_skeleton("MMMd", day, locale=_babel_name(lang)))


def day_label(day: dt.date) -> str:
    """The day in the language's date format: May 1, 2026; 1 maja 2026."""
    return _day_label(day, language())


def short_day_label(day: dt.date) -> str:
    """The day without its year, for an axis: May 1; 1 maj."""
    return _short_day_label(day, language())


@lru_cache(maxsize=2048)
def _week_label(monday: dt.date, first: dt.date, last: dt.date, lang: str) -> str:
    with translation.override(lang):
        week = date_format(monday, "DATE_FORMAT")
        if first == monday and last == monday + dt.timedelta(days=6):
            return gettext("Week of %(date)s") % {"date": week}
        return gettext("Week of %(date)s, %(first)s to %(last)s only") % {
            "date": week,
            "first": date_format(first, "DATE_FORMAT"),
            "last": date_format(last, "DATE_FORMAT"),
        }


def week_label(monday: dt.date, *, start: dt.date, end: dt.date) -> str:
    """The week from `monday` as a period from `start` to `end` counts it: "Week of
    3 Nov 2026", and for a week the period cuts, which of its days it counts."""
    first = max(monday, start)
    last = min(monday + dt.timedelta(days=6), end)
    return _week_label(monday, first, last, language())
