from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect.money import MoneyError, format_money, from_minor, round_half_up, to_minor


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("129.99", "EUR", 12999),
        ("200", "PLN", 20000),
        ("0.5", "EUR", 50),
        ("-3.10", "EUR", -310),
        ("1500", "JPY", 1500),
    ],
)
def test_to_minor_parses_decimal_strings(text: str, currency: str, minor: int) -> None:
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("129.999", "EUR", "'129.999' has 3 decimals; EUR allows 2."),
        ("12.5", "JPY", "'12.5' has 1 decimals; JPY allows 0."),
        ("1e3", "EUR", "'1e3' is not a decimal amount like 129.99."),
        ("12,50", "EUR", "'12,50' is not a decimal amount like 129.99."),
        ("10", "EURO", "'EURO' is not an ISO 4217 currency code."),
    ],
)
def test_to_minor_refuses_what_is_not_an_amount(text: str, currency: str, message: str) -> None:
    with pytest.raises(MoneyError) as exc:
        to_minor(text, currency)
    assert str(exc.value) == message


@given(
    st.integers(min_value=-(10**14), max_value=10**14),
    st.sampled_from(["EUR", "PLN", "HUF", "JPY", "GBP"]),
)
def test_from_minor_and_to_minor_round_trip(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency), currency) == minor


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_round_half_up_rounds_halves_away_from_zero(tenths: int) -> None:
    # given: a value with one decimal, as tenths of a minor unit
    value = Decimal(tenths) / 10

    # when
    rounded = round_half_up(value)

    # then
    expected = (abs(tenths) + 5) // 10 * (1 if tenths >= 0 else -1)
    assert rounded == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "€1,234.50"), ("pl", "1\xa0234,50\xa0€"), ("es", "1.234,50\xa0€")],
)
def test_format_money_follows_the_readers_language(locale: str, expected: str) -> None:
    assert format_money(123450, "EUR", locale=locale) == expected


def test_format_money_uses_the_currency_exponent() -> None:
    assert format_money(20000, "PLN", locale="pl") == "200,00\xa0zł"


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        ("12.50", "en", "12.5"),
        ("12.50", "pl", "12,5"),
        ("10.00", "es", "10"),
        ("12.25", "es", "12,25"),
        ("100", "en", "100"),
    ],
)
def test_percent_number_drops_trailing_zeros_in_the_readers_format(
    value: str, language: str, expected: str
) -> None:
    from django.utils import translation

    from connect.templatetags.connect_tags import percent_number

    with translation.override(language):
        assert percent_number(Decimal(value)) == expected
