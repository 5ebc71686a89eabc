"""The order reducer: one order's state from all of its events (docs/earnings-rules.md).

The result is a pure function of the *set* of events: it never depends on the order in
which they arrived or on how often one was sent. That is what lets the incremental workers
and a recompute from scratch agree to the minor unit. See docs/earnings-rules.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from django.utils.translation import gettext as _

ORDER_PAID: Final = "order.paid"
ORDER_REFUNDED: Final = "order.refunded"
ORDER_CANCELLED: Final = "order.cancelled"
EVENT_TYPES: Final = frozenset({ORDER_PAID, ORDER_REFUNDED, ORDER_CANCELLED})

EventType = Literal["order.paid", "order.refunded", "order.cancelled"]

# The events of one order name more than one currency: the order is held at zero, since
# no single amount can be trusted, and shown to the brand as an error.
ERROR_MIXED_CURRENCIES: Final = "mixed_currencies"

_CURRENCY = re.compile(r"[A-Z]{3}")


def _require_aware(name: str, value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}.")


@dataclass(frozen=True)
class OrderEventFact:
    """One stored order event, as the reducer and attribution need it.

    Facts are validated when built (ingest has already rejected bad events, so a failure
    here is a programming error, not a brand's mistake): a paid or refunded event carries
    a non-negative amount in minor units, a cancellation carries none, times are aware.
    """

    event_id: str
    type: EventType
    occurred_at: dt.datetime
    received_at: dt.datetime
    amount_minor: int | None
    currency: str
    code: str | None = None
    click_id: str | None = None

    def __post_init__(self) -> None:
        if not self.event_id:
            raise ValueError("An order event needs an event id.")
        if self.type not in EVENT_TYPES:
            raise ValueError(f"Unknown order event type {self.type!r}.")
        _require_aware("occurred_at", self.occurred_at)
        _require_aware("received_at", self.received_at)
        if not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"{self.currency!r} is not an upper-case ISO 4217 code.")
        if self.type == ORDER_CANCELLED:
            if self.amount_minor is not None:
                raise ValueError("An order.cancelled event carries no amount.")
        elif self.amount_minor is None or self.amount_minor < 0:
            raise ValueError(f"An {self.type} event needs an amount of zero or more.")

    def _identity_key(self) -> tuple[object, ...]:
        # Total order over everything a fact holds, so that picking one copy among facts
        # that share an event id is deterministic whatever their arrival order.
        return (
            self.received_at,
            self.type,
            self.occurred_at,
            -1 if self.amount_minor is None else self.amount_minor,
            self.currency,
            self.code or "",
            self.click_id or "",
        )


@dataclass(frozen=True)
class OrderState:
    """What an order is worth, reduced from all of its events.

    `net_amount_minor` is the commissionable amount: max(0, paid − refunds), 0 if
    cancelled, 0 while the order waits for its `order.paid`, and 0 when its events
    disagree on the currency (`error`).
    """

    paid_event: OrderEventFact | None
    paid_amount_minor: int
    refunded_minor: int
    cancelled: bool
    net_amount_minor: int
    currency: str | None
    conflicts: tuple[str, ...]
    over_refunded_minor: int
    awaiting_paid: bool
    occurred_at: dt.datetime | None
    paid_received_at: dt.datetime | None
    error: str | None
    event_ids: tuple[str, ...]

    @property
    def over_refunded(self) -> bool:
        """Refunds exceeded the paid amount: kept, flagged to the brand, order at zero."""
        return self.over_refunded_minor > 0

    @property
    def error_message(self) -> str | None:
        if self.error == ERROR_MIXED_CURRENCIES:
            return _(
                "The events of this order use different currencies; the order counts as "
                "zero until that is resolved."
            )
        return None


def dedupe_events(events: Iterable[OrderEventFact]) -> list[OrderEventFact]:
    """One fact per event id, sorted by id (an id is applied once).

    Ingest stores only the first copy of an id, so normally all copies are equal. If they
    are not, the copy received first wins (ties broken by its content), which mirrors what
    ingest keeps and stays independent of the iteration order.
    """
    chosen: dict[str, OrderEventFact] = {}
    for event in events:
        current = chosen.get(event.event_id)
        if current is None or event._identity_key() < current._identity_key():
            chosen[event.event_id] = event
    return [chosen[event_id] for event_id in sorted(chosen)]


def _paid_precedence(event: OrderEventFact) -> tuple[dt.datetime, str]:
    # Earliest occurred_at, then the smallest event id (compared by code point, which is
    # PostgreSQL's COLLATE "C" order for UTF-8 text).
    return (event.occurred_at, event.event_id)


def reduce_order(events: Iterable[OrderEventFact]) -> OrderState:
    """Reduce one order's events to its state (docs/earnings-rules.md, "An order's state").

    - Duplicates (same event id) count once.
    - The counting `order.paid` is the one with the earliest `occurred_at`, then the
      smallest event id; any other `order.paid` is listed in `conflicts`.
    - Every `order.refunded` subtracts its amount, whatever its timestamps; refunds past the
      paid amount are kept (`refunded_minor`), the excess is `over_refunded_minor`, and the
      order stops at zero.
    - Any `order.cancelled` sets the order to zero.
    - Without an `order.paid` the refunds and cancellations wait (`awaiting_paid`).
    - Events in more than one currency: `error` is set and the order is zero.
    """
    unique = dedupe_events(events)
    event_ids = tuple(event.event_id for event in unique)
    paids = sorted((e for e in unique if e.type == ORDER_PAID), key=_paid_precedence)
    refunded = sum(e.amount_minor or 0 for e in unique if e.type == ORDER_REFUNDED)
    cancelled = any(e.type == ORDER_CANCELLED for e in unique)
    currencies = {e.currency for e in unique}
    error = ERROR_MIXED_CURRENCIES if len(currencies) > 1 else None
    currency = next(iter(currencies)) if len(currencies) == 1 else None

    if not paids:
        return OrderState(
            paid_event=None,
            paid_amount_minor=0,
            refunded_minor=refunded,
            cancelled=cancelled,
            net_amount_minor=0,
            currency=currency,
            conflicts=(),
            over_refunded_minor=0,
            awaiting_paid=bool(unique),
            occurred_at=None,
            paid_received_at=None,
            error=error,
            event_ids=event_ids,
        )

    paid = paids[0]
    paid_amount = paid.amount_minor or 0
    conflicts = tuple(sorted(e.event_id for e in paids[1:]))
    if error is not None:
        # Amounts in different currencies cannot be subtracted from one another.
        over_refunded = 0
        net = 0
    else:
        over_refunded = max(0, refunded - paid_amount)
        net = 0 if cancelled else max(0, paid_amount - refunded)
    return OrderState(
        paid_event=paid,
        paid_amount_minor=paid_amount,
        refunded_minor=refunded,
        cancelled=cancelled,
        net_amount_minor=net,
        currency=currency,
        conflicts=conflicts,
        over_refunded_minor=over_refunded,
        awaiting_paid=False,
        occurred_at=paid.occurred_at,
        paid_received_at=paid.received_at,
        error=error,
        event_ids=event_ids,
    )
