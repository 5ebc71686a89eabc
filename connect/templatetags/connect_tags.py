from decimal import Decimal

from babel.numbers import format_compact_decimal
from django import template
from django.forms import BoundField
from django.utils import translation
from django.utils.formats import number_format

from connect.money import format_money

register = template.Library()


@register.simple_tag
def money(amount_minor: int, currency: str) -> str:
    """{% money amount_minor currency %}: the amount in the reader's language."""
    return format_money(int(amount_minor), currency)


@register.filter
def compact_number(value: int) -> str:
    """Follower counts the way people say them in their language: 1.2K, 1,2 tys., 1,2 mil."""
    lang = (translation.get_language() or "en").replace("-", "_")
    return str(
        format_compact_decimal(int(value), format_type="short", locale=lang, fraction_digits=1)
    )


@register.filter
def bootstrap_widget(bound_field: BoundField) -> str:
    """Render a form field's widget with the Bootstrap class its kind needs."""
    widget = bound_field.field.widget
    input_type = getattr(widget, "input_type", "")
    if input_type in {"checkbox", "radio"}:
        css = "form-check-input"
    elif input_type == "select":
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def percent_number(value: Decimal | str | None) -> str:
    """A commission percent as people write it, in their number format: 12.5, 12,25, 10."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    trimmed = Decimal(format(number.normalize(), "f"))
    return number_format(trimmed, decimal_pos=None, use_l10n=True)
