"""Commissions (docs/earnings-rules.md): half-up rounding at the minor unit, fixed amounts, holds,
and the terms in force at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect.money import currency_exponent, to_minor
from payouts.rules.commission import TermsFact, commission_for, payable_at, terms_at

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def percent(p: str, *, effective_from: dt.datetime = T0, terms_id: int = 1) -> TermsFact:
    return TermsFact(
        effective_from=effective_from,
        commission_type="percent",
        commission_percent=Decimal(p),
        commission_fixed_minor=None,
        hold_days=30,
        attribution_window_days=30,
        terms_id=terms_id,
    )


def fixed(amount_minor: int) -> TermsFact:
    return TermsFact(
        effective_from=T0,
        commission_type="fixed",
        commission_percent=None,
        commission_fixed_minor=amount_minor,
        hold_days=30,
        attribution_window_days=30,
    )


def test_the_currencies_of_the_rounding_tests_have_the_expected_minor_units() -> None:
    # given / when / then Babel knows 0-, 2- and 3-decimal currencies
    assert [currency_exponent(c) for c in ("JPY", "EUR", "BHD", "KWD")] == [0, 2, 3, 3]


@pytest.mark.parametrize(
    ("amount", "currency", "p", "expected"),
    [
        # 2 decimals: 1.05 EUR × 10 % = 10.5 cents → 11 cents (the half goes up)
        ("1.05", "EUR", "10", "0.11"),
        # 0.01 EUR × 2.5 % = 0.025 cents → 0
        ("0.01", "EUR", "2.5", "0.00"),
        # 129.99 EUR × 12.5 % = 1624.875 cents → 16.25
        ("129.99", "EUR", "12.5", "16.25"),
        # 0.03 EUR × 50 % = 1.5 cents → 2; 0.01 × 50 % = 0.5 → 1
        ("0.03", "EUR", "50", "0.02"),
        ("0.01", "EUR", "50", "0.01"),
        # just below a half: 0.01 × 49.99 % = 0.4999 cents → 0
        ("0.01", "EUR", "49.99", "0.00"),
        # 0 decimals: 105 JPY × 10 % = 10.5 yen → 11; 25 JPY × 10 % = 2.5 → 3; 24 → 2.4 → 2
        ("105", "JPY", "10", "11"),
        ("25", "JPY", "10", "3"),
        ("24", "JPY", "10", "2"),
        # 3 decimals: 0.105 BHD × 10 % = 10.5 fils → 11 fils
        ("0.105", "BHD", "10", "0.011"),
        # 1.234 KWD × 12.5 % = 154.25 fils → 154 fils; 0.001 KWD × 50 % = 0.5 → 1
        ("1.234", "KWD", "12.5", "0.154"),
        ("0.001", "KWD", "50", "0.001"),
        # 100 % pays the whole net amount
        ("129.99", "EUR", "100", "129.99"),
        # the smallest percent on a large order: 1,000,000.00 EUR × 0.01 % = 100.00 EUR
        ("1000000.00", "EUR", "0.01", "100.00"),
    ],
)
def test_percent_commission_rounds_half_up_at_the_minor_unit(
    amount: str, currency: str, p: str, expected: str
) -> None:
    # given a net order amount and a percent
    net = to_minor(amount, currency)

    # when the commission is computed
    commission = commission_for(net, percent(p))

    # then it is exact to the minor unit
    assert commission == to_minor(expected, currency)


@given(
    net=st.integers(min_value=0, max_value=10**15),
    hundredths=st.integers(min_value=1, max_value=10_000),
)
def test_percent_commission_is_the_half_up_rounding_of_the_exact_value(
    net: int, hundredths: int
) -> None:
    # given a net amount and a percent with two decimals (hundredths of a percent)
    terms = percent(str(Decimal(hundredths) / 100))

    # when the commission is computed
    commission = commission_for(net, terms)

    # then it is floor(exact) below a half and ceil(exact) from a half, in integers only:
    # exact = net × hundredths / 10000
    floor, remainder = divmod(net * hundredths, 10_000)
    assert commission == (floor + 1 if remainder * 2 >= 10_000 else floor)
    assert 0 <= commission <= net


@pytest.mark.parametrize(("net", "expected"), [(1, 500), (10_000, 500), (0, 0)])
def test_fixed_commission_is_paid_when_the_net_amount_is_above_zero(
    net: int, expected: int
) -> None:
    # given a fixed 5.00 commission / when computed / then it depends only on net > 0
    assert commission_for(net, fixed(500)) == expected


def test_a_negative_net_amount_is_refused() -> None:
    # given a negative net, which the reducer never produces / when / then it fails loudly
    with pytest.raises(ValueError, match="never negative"):
        commission_for(-1, percent("10"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"commission_percent": Decimal("0")}, "above 0"),
        ({"commission_percent": Decimal("100.01")}, "at most 100"),
        ({"commission_percent": Decimal("12.345")}, "two decimals"),
        ({"commission_percent": None}, "need a percent"),
        ({"commission_fixed_minor": 100}, "no fixed amount"),
        ({"hold_days": 366}, "hold_days"),
        ({"attribution_window_days": 0}, "attribution_window_days"),
    ],
)
def test_terms_outside_the_database_bounds_cannot_be_built(
    kwargs: dict[str, object], message: str
) -> None:
    # given percent terms with one bad field
    fields: dict[str, object] = {
        "effective_from": T0,
        "commission_type": "percent",
        "commission_percent": Decimal("10"),
        "commission_fixed_minor": None,
        "hold_days": 30,
        "attribution_window_days": 30,
        **kwargs,
    }

    # when / then
    with pytest.raises(ValueError, match=message):
        TermsFact(**fields)  # type: ignore[arg-type]


def test_payable_at_counts_the_hold_from_the_order_time() -> None:
    # given an order received a minute after it happened
    occurred = T0
    received = T0 + dt.timedelta(minutes=1)

    # when / then the 30-day hold runs from the later time, the receipt
    assert payable_at(occurred, received, 30) == dt.datetime(2026, 3, 31, 12, 1, tzinfo=dt.UTC)


def test_payable_at_makes_a_backdated_order_wait_the_full_hold() -> None:
    # given an order sent 40 days after its occurred_at
    occurred = T0
    received = T0 + dt.timedelta(days=40)

    # when / then it still waits 30 days from its receipt
    assert payable_at(occurred, received, 30) == T0 + dt.timedelta(days=70)


def test_payable_at_uses_the_order_time_when_it_is_later_than_the_receipt() -> None:
    # given an order time a little ahead of our clock (the brand's clock runs fast)
    occurred = T0 + dt.timedelta(seconds=5)

    # when / then
    assert payable_at(occurred, T0, 0) == occurred


def test_payable_at_counts_days_as_24_hours_across_daylight_saving() -> None:
    # given an order in Warsaw the day before clocks go forward (29 March 2026)
    warsaw = dt.timezone(dt.timedelta(hours=1))
    occurred = dt.datetime(2026, 3, 28, 12, 0, tzinfo=warsaw)

    # when / then a 1-day hold is 24 hours of elapsed time
    assert payable_at(occurred, occurred, 1) - occurred == dt.timedelta(hours=24)


def test_terms_at_picks_the_latest_version_in_force() -> None:
    # given three versions, the second and third from the same instant
    v1 = percent("10", effective_from=T0, terms_id=1)
    v2 = percent("12", effective_from=T0 + dt.timedelta(days=10), terms_id=2)
    v3 = percent("15", effective_from=T0 + dt.timedelta(days=10), terms_id=3)
    versions = [v3, v1, v2]

    # when / then
    assert terms_at(versions, T0 - dt.timedelta(seconds=1)) is None
    assert terms_at(versions, T0) == v1
    assert terms_at(versions, T0 + dt.timedelta(days=10, seconds=-1)) == v1
    assert terms_at(versions, T0 + dt.timedelta(days=10)) == v3
