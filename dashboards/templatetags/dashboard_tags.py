"""Numbers as the dashboards show them, in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from django import template
from django.utils import translation

register = template.Library()

DASH = "—"


def _locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


@register.filter
def percent(value: Decimal | None) -> str:
    """A fraction as a percentage with one decimal (12.3%, 12,3%); a dash for none."""
    if value is None:
        return DASH
    return str(format_percent(value, "#,##0.0%", locale=_locale()))


@register.filter
def count(value: int | None) -> str:
    """A whole number with the language's grouping (12,345, 12 345, 12.345)."""
    return str(format_decimal(int(value or 0), locale=_locale()))
