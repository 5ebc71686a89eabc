"""Money: the one module that converts between decimal strings and integer minor units,
rounds, and formats amounts for people.

Amounts are integers in the currency's minor unit (cents, grosze) beside an ISO 4217 code.
Floats never touch money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from django.utils import translation

_DECIMAL_PATTERN = re.compile(r"^-?\d{1,15}(?:\.(\d+))?$")


class MoneyError(ValueError):
    """A decimal string that cannot be an amount of the given currency."""


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for an ISO 4217 currency (EUR 2, HUF 2, JPY 0)."""
    code = currency.upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise MoneyError(f"'{currency}' is not an ISO 4217 currency code.")
    return int(get_currency_precision(code))


def to_minor(amount: str, currency: str) -> int:
    """Parse a decimal string ("129.99") into minor units (12999) for the currency.

    More decimals than the currency allows is an error, never a silent rounding.
    """
    exponent = currency_exponent(currency)
    text = amount.strip() if isinstance(amount, str) else ""
    match = _DECIMAL_PATTERN.fullmatch(text)
    if not match:
        raise MoneyError(f"'{amount}' is not a decimal amount like 129.99.")
    decimals = match.group(1) or ""
    if len(decimals) > exponent:
        raise MoneyError(
            f"'{amount}' has {len(decimals)} decimals; {currency.upper()} allows {exponent}."
        )
    return int(Decimal(text).scaleb(exponent))


def from_minor(amount_minor: int, currency: str) -> str:
    """Render minor units as the API's decimal string: 12999 EUR -> "129.99"."""
    exponent = currency_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exponent)
    return f"{value:.{exponent}f}"


def round_half_up(value: Decimal) -> int:
    """Round a fractional number of minor units to a whole one, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(amount_minor: int, currency: str, locale: str | None = None) -> str:
    """Format an amount for people in the active (or given) language's conventions."""
    exponent = currency_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exponent)
    lang = locale or translation.get_language() or "en"
    return format_currency(value, currency.upper(), locale=lang.replace("-", "_"))
