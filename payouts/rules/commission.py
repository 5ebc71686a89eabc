"""Commission terms, the commission of an order and when it becomes payable (docs/earnings-rules.md).

Pure functions over facts the caller has fetched, so that the workers, the recompute
command and the tests compute money with the same code. See docs/earnings-rules.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Final, Literal

from connect.money import round_half_up

PERCENT: Final = "percent"
FIXED: Final = "fixed"

CommissionType = Literal["percent", "fixed"]

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class TermsFact:
    """One version of a campaign's terms (`CampaignTerms`), in force from `effective_from`.

    Validated when built with the same bounds as the database constraints: a percent `p`
    with 0 < p ≤ 100 and at most two decimals, or a fixed amount above zero; hold 0–365
    days; attribution window 1–365 days.
    """

    effective_from: dt.datetime
    commission_type: CommissionType
    commission_percent: Decimal | None
    commission_fixed_minor: int | None
    hold_days: int
    attribution_window_days: int
    terms_id: int | None = None

    def __post_init__(self) -> None:
        if self.effective_from.tzinfo is None or self.effective_from.utcoffset() is None:
            raise ValueError("effective_from must be a timezone-aware datetime.")
        if self.commission_type == PERCENT:
            p = self.commission_percent
            if p is None or self.commission_fixed_minor is not None:
                raise ValueError("Percent terms need a percent and no fixed amount.")
            if not p.is_finite() or not (0 < p <= _HUNDRED) or p != p.quantize(_CENT):
                raise ValueError(f"A percent must be above 0, at most 100, two decimals: {p}.")
        elif self.commission_type == FIXED:
            fixed = self.commission_fixed_minor
            if fixed is None or fixed <= 0 or self.commission_percent is not None:
                raise ValueError("Fixed terms need an amount above zero and no percent.")
        else:
            raise ValueError(f"Unknown commission type {self.commission_type!r}.")
        if not 0 <= self.hold_days <= 365:
            raise ValueError(f"hold_days must be between 0 and 365, got {self.hold_days}.")
        if not 1 <= self.attribution_window_days <= 365:
            raise ValueError(
                f"attribution_window_days must be between 1 and 365, "
                f"got {self.attribution_window_days}."
            )


def terms_at(terms_versions: Iterable[TermsFact], when: dt.datetime) -> TermsFact | None:
    """The terms in force at `when`: the latest version with effective_from ≤ when.

    Two versions with the same `effective_from` are told apart by the larger `terms_id`
    (the later one written), as `CampaignTerms.Meta.ordering` does. None if no version was
    in force yet.
    """
    in_force = [t for t in terms_versions if t.effective_from <= when]
    if not in_force:
        return None
    return max(in_force, key=lambda t: (t.effective_from, -1 if t.terms_id is None else t.terms_id))


def commission_for(net_amount_minor: int, terms: TermsFact) -> int:
    """An order's commission in minor units (docs/earnings-rules.md).

    Percent: net × p / 100, rounded half-up to the minor unit (10.5 → 11, 0.025 → 0).
    Fixed: the fixed amount if the net amount is above zero, else 0.
    """
    if net_amount_minor < 0:
        raise ValueError(f"A net order amount is never negative, got {net_amount_minor}.")
    if terms.commission_fixed_minor is not None:
        return terms.commission_fixed_minor if net_amount_minor > 0 else 0
    if terms.commission_percent is None:  # unreachable: TermsFact validates its rule
        raise ValueError("Terms without a commission rule.")
    # Enough digits that any BigInteger amount times a 5-digit percent stays exact.
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(net_amount_minor) * terms.commission_percent / _HUNDRED
        return round_half_up(exact)


def payable_at(
    order_occurred_at: dt.datetime, paid_received_at: dt.datetime, hold_days: int
) -> dt.datetime:
    """When a commission stops being pending (docs/earnings-rules.md).

    The hold counts from the later of the order's `occurred_at` and the time its
    `order.paid` was received, so a backdated order still waits the full hold. A day is
    24 hours of elapsed time (no calendar or daylight-saving shifts).
    """
    for name, value in (
        ("order_occurred_at", order_occurred_at),
        ("paid_received_at", paid_received_at),
    ):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime.")
    if hold_days < 0:
        raise ValueError(f"hold_days is never negative, got {hold_days}.")
    return max(order_occurred_at, paid_received_at) + dt.timedelta(days=hold_days)
