"""Reads for the brand's event log and order pages: every event a brand sent, and what
became of it.

The log merges three tables, newest first: stored events (`OrderEvent`, with the outcome
processing gave them, or none yet), events refused at ingest (`RejectedOrderEvent`) and
copies of event ids already received (`DuplicateOrderEvent`). A brand may have millions of
rows, so the log never counts or offsets: each page asks each table for at most one page
of rows after a cursor (keyset pagination on the indexes of migration 0004), then merges
them in Python. The order of the log is (received_at, kind, id), descending.

Reasons are rendered in the reader's language: an unattributed order's reason from its
stored code and parameters (`payouts.rules.attribution.REASON_MESSAGES`), fixed outcomes
from messages here; what processing stored in English is the last resort.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Brand
from payouts.models import (
    Commission,
    DuplicateOrderEvent,
    LedgerTransactionKind,
    Order,
    OrderEvent,
    OrderEventOutcome,
    RejectedOrderEvent,
)
from payouts.rules.attribution import stored_reason_message
from payouts.rules.reducer import ERROR_MIXED_CURRENCIES
from payouts.selectors import CommissionHistoryItem, order_detail_get

PAGE_SIZE: Final = 50
ORDER_REFUSED_SHOWN: Final = 50

# The log's own outcome names: processing's, plus the two kinds of event never stored.
PROCESSING: Final = "processing"
DUPLICATE: Final = "duplicate"
OUTCOME_CHOICES: Final = [
    (OrderEventOutcome.APPLIED.value, OrderEventOutcome.APPLIED.label),
    (OrderEventOutcome.AWAITING_PAID.value, OrderEventOutcome.AWAITING_PAID.label),
    (OrderEventOutcome.UNATTRIBUTED.value, OrderEventOutcome.UNATTRIBUTED.label),
    (OrderEventOutcome.REJECTED.value, OrderEventOutcome.REJECTED.label),
    (OrderEventOutcome.CONFLICT.value, OrderEventOutcome.CONFLICT.label),
    (PROCESSING, gettext_lazy("Processing")),
    (DUPLICATE, gettext_lazy("Duplicate")),
]
OUTCOME_LABELS: Final = dict(OUTCOME_CHOICES)

# Tie-breakers between the tables at the same received_at (higher: listed first).
KIND_EVENT: Final = 2
KIND_REJECTED: Final = 1
KIND_DUPLICATE: Final = 0

_FIXED_REASONS: Final[dict[str, Any]] = {
    OrderEventOutcome.AWAITING_PAID: gettext_lazy(
        "Waiting for the order.paid event of this order; it counts once that arrives."
    ),
    OrderEventOutcome.CONFLICT: gettext_lazy(
        "Another order.paid of this order counts (the earliest); this one is kept as a "
        "conflict and changes nothing."
    ),
}


# ---------------------------------------------------------------------------------------
# Reasons


unattributed_message = stored_reason_message


def order_reason(order: Order) -> str:
    """Why an order earns nothing, in words: its attribution failure or its error."""
    if order.unattributed_reason:
        text = unattributed_message(order.unattributed_reason, order.unattributed_params)
        if text:
            return text
    if order.error == ERROR_MIXED_CURRENCIES:
        return _(
            "The events of this order use different currencies; the order counts as zero "
            "until that is resolved."
        )
    return ""


def event_reason(outcome: str | None, stored: str, order: Order | None) -> str:
    """The reason shown beside a stored event's outcome, in the reader's language."""
    if outcome is None:
        return _("Received; waiting to be processed.")
    if outcome in _FIXED_REASONS:
        return str(_FIXED_REASONS[outcome])
    if outcome in (OrderEventOutcome.UNATTRIBUTED, OrderEventOutcome.REJECTED) and order:
        text = order_reason(order)
        if text:
            return text
    # Stored in English by processing; translated when the catalog has the sentence.
    return _(stored) if stored else ""


# ---------------------------------------------------------------------------------------
# The log


@dataclass(frozen=True)
class EventLogFilters:
    outcome: str = ""
    source: str = ""
    order_id: str = ""
    event_id: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the log: the key of a row, in the log's order."""

    received_at: dt.datetime
    kind: int
    pk: int

    def encode(self) -> str:
        # Exact microseconds since the epoch (timestamp() is a float and may round).
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        delta = self.received_at - epoch
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}.{self.kind}.{self.pk}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in a link, or None when there is none or it is not one of ours."""
        match = re.fullmatch(r"(-?\d{1,20})\.([0-2])\.(\d{1,20})", text or "")
        if match is None:
            return None
        try:
            received_at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
                microseconds=int(match.group(1))
            )
        except OverflowError:
            return None
        return cls(received_at=received_at, kind=int(match.group(2)), pk=int(match.group(3)))


@dataclass
class EventLogRow:
    """One line of the log, whichever table it comes from."""

    kind: int
    pk: int
    received_at: dt.datetime
    source: str
    event_id: str
    type: str = ""
    order_id: str = ""
    amount_minor: int | None = None
    currency: str = ""
    amount_text: str = ""  # an amount as sent, when it was never read (refused events)
    occurred_at: dt.datetime | None = None
    outcome: str = ""
    reason: str = ""
    has_order_page: bool = False
    original_received_at: dt.datetime | None = None

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.received_at, self.kind, self.pk)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))


@dataclass
class EventLogPage:
    rows: list[EventLogRow] = field(default_factory=list)
    older: Cursor | None = None
    newer: Cursor | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _common(qs: QuerySet[Any], filters: EventLogFilters) -> QuerySet[Any]:
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.event_id:
        qs = qs.filter(event_id=filters.event_id)
    if filters.received_from:
        qs = qs.filter(received_at__gte=_day_start(filters.received_from))
    if filters.received_to:
        qs = qs.filter(received_at__lt=_day_start(filters.received_to + dt.timedelta(days=1)))
    return qs


def _events(brand: Brand, filters: EventLogFilters) -> QuerySet[OrderEvent] | None:
    outcome = filters.outcome
    if outcome == DUPLICATE:
        return None
    qs = OrderEvent.objects.filter(brand=brand)
    if outcome == PROCESSING:
        qs = qs.filter(outcome__isnull=True)
    elif outcome:
        qs = qs.filter(outcome=outcome)
    if filters.order_id:
        qs = qs.filter(order_id=filters.order_id)
    return _common(qs, filters).only(
        "id",
        "received_at",
        "source",
        "event_id",
        "type",
        "order_id",
        "amount_minor",
        "currency",
        "outcome",
        "outcome_reason",
    )


def _rejected(brand: Brand, filters: EventLogFilters) -> QuerySet[RejectedOrderEvent] | None:
    if filters.outcome not in ("", OrderEventOutcome.REJECTED):
        return None
    qs = RejectedOrderEvent.objects.filter(brand=brand)
    if filters.order_id:
        # KT() is `raw ->> 'order_id'`, the expression of the index in migration 0004.
        qs = qs.alias(sent_order_id=KT("raw__order_id")).filter(sent_order_id=filters.order_id)
    return _common(qs, filters)


def _duplicates(brand: Brand, filters: EventLogFilters) -> QuerySet[DuplicateOrderEvent] | None:
    if filters.outcome not in ("", DUPLICATE):
        return None
    qs = DuplicateOrderEvent.objects.filter(brand=brand)
    if filters.order_id:
        qs = qs.filter(
            event_id__in=OrderEvent.objects.filter(brand=brand, order_id=filters.order_id).values(
                "event_id"
            )
        )
    return _common(qs, filters)


def _after(qs: QuerySet[Any], kind: int, cursor: Cursor | None, *, older: bool) -> QuerySet[Any]:
    """The rows of one table on the far side of the cursor, in the log's order.

    The redundant bound on received_at alone lets PostgreSQL start the index scan at the
    cursor instead of filtering its way there from the newest row.
    """
    qs = qs.order_by("-received_at", "-id") if older else qs.order_by("received_at", "id")
    if cursor is None:
        return qs
    t = cursor.received_at
    if older:
        if kind < cursor.kind:
            return qs.filter(received_at__lte=t)
        if kind > cursor.kind:
            return qs.filter(received_at__lt=t)
        return qs.filter(Q(received_at__lt=t) | Q(received_at=t, id__lt=cursor.pk)).filter(
            received_at__lte=t
        )
    if kind > cursor.kind:
        return qs.filter(received_at__gte=t)
    if kind < cursor.kind:
        return qs.filter(received_at__gt=t)
    return qs.filter(Q(received_at__gt=t) | Q(received_at=t, id__gt=cursor.pk)).filter(
        received_at__gte=t
    )


def _event_rows(brand: Brand, events: list[OrderEvent]) -> list[EventLogRow]:
    needs_order = {
        e.order_id
        for e in events
        if e.outcome in (OrderEventOutcome.UNATTRIBUTED, OrderEventOutcome.REJECTED)
    }
    orders = {
        o.order_id: o
        for o in Order.objects.filter(brand=brand, order_id__in=needs_order).only(
            "order_id", "unattributed_reason", "unattributed_params", "error"
        )
    }
    return [_stored_event_row(e, orders.get(e.order_id), has_order_page=True) for e in events]


def _stored_event_row(event: OrderEvent, order: Order | None, **extra: Any) -> EventLogRow:
    """A stored event as the log and the order page show it."""
    return EventLogRow(
        kind=KIND_EVENT,
        pk=event.pk,
        received_at=event.received_at,
        source=event.source,
        event_id=event.event_id,
        type=event.type,
        order_id=event.order_id,
        amount_minor=event.amount_minor,
        currency=event.currency,
        outcome=event.outcome or PROCESSING,
        reason=event_reason(event.outcome, event.outcome_reason, order),
        **extra,
    )


def _sent_text(raw: Any, key: str) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 100 else text[:100] + "…"


def _rejected_rows(rejected: Sequence[RejectedOrderEvent]) -> list[EventLogRow]:
    return [
        EventLogRow(
            kind=KIND_REJECTED,
            pk=r.pk,
            received_at=r.received_at,
            source=r.source,
            event_id=r.event_id,
            type=_sent_text(r.raw, "type"),
            order_id=_sent_text(r.raw, "order_id"),
            amount_text=_sent_text(r.raw, "amount"),
            currency=_sent_text(r.raw, "currency"),
            outcome=OrderEventOutcome.REJECTED,
            reason=r.error,
        )
        for r in rejected
    ]


def _duplicate_rows(brand: Brand, duplicates: list[DuplicateOrderEvent]) -> list[EventLogRow]:
    originals = {
        e.event_id: e
        for e in OrderEvent.objects.filter(
            brand=brand, event_id__in={d.event_id for d in duplicates}
        ).only("event_id", "type", "order_id", "amount_minor", "currency", "received_at")
    }
    rows = []
    for d in duplicates:
        original = originals.get(d.event_id)
        rows.append(
            EventLogRow(
                kind=KIND_DUPLICATE,
                pk=d.pk,
                received_at=d.received_at,
                source=d.source,
                event_id=d.event_id,
                type=original.type if original else "",
                order_id=original.order_id if original else "",
                amount_minor=original.amount_minor if original else None,
                currency=original.currency if original else "",
                outcome=DUPLICATE,
                reason=_("This event id was received before; this copy changed nothing."),
                has_order_page=original is not None,
                original_received_at=original.received_at if original else None,
            )
        )
    return rows


def event_log_page(
    *,
    brand: Brand,
    filters: EventLogFilters,
    cursor: Cursor | None = None,
    older: bool = True,
    page_size: int = PAGE_SIZE,
) -> EventLogPage:
    """One page of the brand's event log, newest first.

    `cursor` with `older=True` gives the rows after it (older ones); with `older=False` the
    page just before it (newer ones). Each table is asked for page_size + 1 rows at most.
    """
    limit = page_size + 1
    sources: list[tuple[int, QuerySet[Any] | None]] = [
        (KIND_EVENT, _events(brand, filters)),
        (KIND_REJECTED, _rejected(brand, filters)),
        (KIND_DUPLICATE, _duplicates(brand, filters)),
    ]
    fetched: dict[int, list[Any]] = {}
    for kind, qs in sources:
        if qs is not None:
            fetched[kind] = list(_after(qs, kind, cursor, older=older)[:limit])

    def keyed(kind: int) -> Iterable[tuple[Cursor, int, Any]]:
        return ((Cursor(obj.received_at, kind, obj.pk), kind, obj) for obj in fetched[kind])

    merged = list(
        heapq.merge(*(keyed(kind) for kind in fetched), key=lambda item: item[0], reverse=older)
    )
    more = len(merged) > page_size
    chosen = merged[:page_size]
    if not older:
        chosen.reverse()
    by_kind: dict[int, list[Any]] = {KIND_EVENT: [], KIND_REJECTED: [], KIND_DUPLICATE: []}
    for _key, kind, obj in chosen:
        by_kind[kind].append(obj)
    rows = {
        (row.kind, row.pk): row
        for row in [
            *_event_rows(brand, by_kind[KIND_EVENT]),
            *_rejected_rows(by_kind[KIND_REJECTED]),
            *_duplicate_rows(brand, by_kind[KIND_DUPLICATE]),
        ]
    }
    page = EventLogPage(rows=[rows[(kind, obj.pk)] for _key, kind, obj in chosen])
    if page.rows:
        first, last = page.rows[0].cursor, page.rows[-1].cursor
        if older:
            page.older = last if more else None
            page.newer = first if cursor is not None else None
        else:
            page.newer = first if more else None
            page.older = last
    return page


# ---------------------------------------------------------------------------------------
# One order


@dataclass(frozen=True)
class CommissionChange:
    """One ledger transaction of a commission, with the commission it belongs to."""

    item: CommissionHistoryItem
    commission: Commission

    @property
    def kind_label(self) -> str:
        kinds = dict(LedgerTransactionKind.choices)
        return str(kinds.get(self.item.kind, self.item.kind))


@dataclass
class OrderPage:
    order_id: str
    order: Order | None  # None while its events wait to be processed
    reason: str
    events: list[EventLogRow]
    refused: list[EventLogRow]
    commissions: list[Commission]
    history: list[CommissionChange]


def brand_order_page(*, brand: Brand, order_id: str) -> OrderPage | None:
    """Everything about one of the brand's orders (`order_detail_get`), with its events'
    reasons and the refused events that named it; None when the brand has no such order."""
    detail = order_detail_get(brand=brand, order_id=order_id)
    if detail is None:
        return None
    order = detail.order if detail.order.pk is not None else None
    refused = list(
        RejectedOrderEvent.objects.filter(brand=brand)
        .alias(sent_order_id=KT("raw__order_id"))
        .filter(sent_order_id=order_id)
        .order_by("-received_at", "-id")[:ORDER_REFUSED_SHOWN]
    )
    by_pk = {c.pk: c for c in detail.commissions}
    history = sorted(
        (
            CommissionChange(item=item, commission=by_pk[pk])
            for pk, items in detail.history.items()
            for item in items
        ),
        key=lambda change: (change.item.created_at, change.commission.pk),
    )
    event_rows = [_stored_event_row(e, order, occurred_at=e.occurred_at) for e in detail.events]
    return OrderPage(
        order_id=order_id,
        order=order,
        reason=order_reason(order) if order is not None else "",
        events=event_rows,
        refused=_rejected_rows(refused),
        commissions=detail.commissions,
        history=history,
    )
