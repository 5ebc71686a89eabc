"""Numbers as the dashboards show them, in the reader's language."""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern
from django import template
from django.utils import translation

from dashboards import formatting

register = template.Library()

DASH = "—"


def _locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


@lru_cache(maxsize=16)
def _percent_pattern(language: str) -> tuple[Locale, NumberPattern]:
    """The language's percent pattern (12,3%; 12,3 %) with exactly one decimal."""
    locale = Locale.parse(language)
    pattern = copy.copy(locale.percent_formats[None])
    pattern.frac_prec = (1, 1)
    return locale, pattern


@register.filter
def percent(value: Decimal | None) -> str:
    """A fraction as a percentage with one decimal (12.3%, 12,3%, 12,3 %); a dash for none."""
    if value is None:
        return DASH
    locale, pattern = _percent_pattern(_locale())
    return str(pattern.apply(value, locale))


@register.filter
def count(value: int | None) -> str:
    """A whole number with the language's grouping (12,345, 12 345, 12.345)."""
    return formatting.count(int(value or 0))


@register.simple_tag
def amount(amount_minor: int, currency: str) -> str:
    """{% amount minor currency %}: what connect's {% money %} writes (`format_money`),
    from the language's currency pattern resolved once rather than on every amount."""
    return formatting.money(int(amount_minor), currency)
