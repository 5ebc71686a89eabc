"""Reads of the payouts app: ledger balances, the ledger's invariants, and commissions and
orders as their brand and their creator see them."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from campaigns.models import Brand
from connect.models import CreatorProfile
from payouts.models.events import OrderEvent
from payouts.models.ledger import (
    LedgerAccount,
    LedgerAccountKind,
    LedgerBalance,
    LedgerTransaction,
)
from payouts.models.orders import Commission, Order
from payouts.rollups import ROLLUP_CHECKS


def account_balance(account: LedgerAccount) -> int:
    """The account's balance in minor units (credit-positive), from the maintained rollup."""
    balance = LedgerBalance.objects.filter(account_id=account.pk).values_list(
        "balance_minor", flat=True
    )
    return next(iter(balance), 0)


def _balances_by_currency(accounts: list[tuple[str, str, int | None]]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, currency, balance_minor in accounts:
        result[currency][kind] = balance_minor or 0
    return dict(result)


def creator_balances(creator: CreatorProfile) -> dict[str, dict[str, int]]:
    """{currency: {account kind: balance in minor units}} over the creator's accounts.

    Only accounts that exist are listed; a positive balance is money owed to the creator.
    """
    rows = LedgerAccount.objects.filter(creator=creator).values_list(
        "kind", "currency", "balance__balance_minor"
    )
    return _balances_by_currency(list(rows))


def brand_balances(brand: Brand) -> dict[str, dict[str, int]]:
    """{currency: {account kind: balance}} over the brand's accounts (debit-normal: a brand
    owing 10.00 EUR of commissions shows -1000)."""
    rows = LedgerAccount.objects.filter(brand=brand).values_list(
        "kind", "currency", "balance__balance_minor"
    )
    return _balances_by_currency(list(rows))


@dataclass(frozen=True)
class LedgerCheck:
    """One invariant of the ledger and what breaks it (empty `failures`: it holds)."""

    name: str
    failures: list[str]


_CHECKS: list[tuple[str, str, str]] = [
    (
        "every transaction sums to zero per currency",
        """
        SELECT transaction_id, currency, sum(amount_minor)
        FROM payouts_ledgerentry
        GROUP BY transaction_id, currency
        HAVING sum(amount_minor) <> 0
        ORDER BY transaction_id, currency
        """,
        "transaction {0}: {1} entries sum to {2}",
    ),
    (
        "every transaction has entries",
        """
        SELECT t.id, t.idempotency_key
        FROM payouts_ledgertransaction t
        WHERE NOT EXISTS (SELECT 1 FROM payouts_ledgerentry e WHERE e.transaction_id = t.id)
        ORDER BY t.id
        """,
        "transaction {0} ({1}) has no entries",
    ),
    (
        "every entry's currency is its account's",
        """
        SELECT e.id, e.currency, e.account_id, a.currency
        FROM payouts_ledgerentry e
        LEFT JOIN payouts_ledgeraccount a ON a.id = e.account_id
        WHERE a.id IS NULL OR a.currency <> e.currency
        ORDER BY e.id
        """,
        "entry {0} in {1} is on account {2} in {3}",
    ),
    (
        "every balance rollup equals the sum of its entries",
        """
        SELECT a.id, coalesce(b.balance_minor, 0), coalesce(s.total, 0)
        FROM payouts_ledgeraccount a
        LEFT JOIN payouts_ledgerbalance b ON b.account_id = a.id
        LEFT JOIN (
            SELECT account_id, sum(amount_minor) AS total
            FROM payouts_ledgerentry GROUP BY account_id
        ) s ON s.account_id = a.id
        WHERE coalesce(b.balance_minor, 0) <> coalesce(s.total, 0)
        ORDER BY a.id
        """,
        "account {0}: rollup {1} but entries sum to {2}",
    ),
    (
        "every commission's posted amounts equal its ledger entries",
        """
        SELECT c.id, c.pending_posted_minor, coalesce(l.pending, 0),
               c.available_posted_minor, coalesce(l.available, 0)
        FROM payouts_commission c
        LEFT JOIN (
            SELECT t.commission_id,
                   sum(e.amount_minor) FILTER (WHERE a.kind = 'creator_pending') AS pending,
                   sum(e.amount_minor) FILTER (WHERE a.kind = 'creator_available') AS available
            FROM payouts_ledgertransaction t
            JOIN payouts_ledgerentry e ON e.transaction_id = t.id
            JOIN payouts_ledgeraccount a ON a.id = e.account_id
            WHERE t.commission_id IS NOT NULL
            GROUP BY t.commission_id
        ) l ON l.commission_id = c.id
        WHERE c.pending_posted_minor <> coalesce(l.pending, 0)
           OR c.available_posted_minor <> coalesce(l.available, 0)
        ORDER BY c.id
        """,
        "commission {0}: pending {1} posted but {2} in the ledger, available {3} but {4}",
    ),
    (
        "the ledger holds exactly each commission's amount",
        """
        SELECT id, amount_minor, pending_posted_minor + available_posted_minor
        FROM payouts_commission
        WHERE amount_minor <> pending_posted_minor + available_posted_minor
        ORDER BY id
        """,
        "commission {0}: amount {1} but the ledger holds {2}",
    ),
    (
        "every ledger commission posting belongs to a commission",
        """
        SELECT t.id, t.commission_id
        FROM payouts_ledgertransaction t
        LEFT JOIN payouts_commission c ON c.id = t.commission_id
        WHERE t.commission_id IS NOT NULL AND c.id IS NULL
        ORDER BY t.id
        """,
        "transaction {0} names commission {1}, which does not exist",
    ),
    (
        "no commission without its events",
        """
        SELECT c.id, o.order_id
        FROM payouts_commission c
        JOIN payouts_order o ON o.id = c.order_id
        WHERE c.amount_minor <> 0
          AND NOT EXISTS (
              SELECT 1 FROM payouts_orderevent e
              WHERE e.brand_id = o.brand_id AND e.order_id = o.order_id
                AND e.type = 'order.paid' AND e.event_id = o.paid_event_id
          )
        ORDER BY c.id
        """,
        "commission {0} on order {1} has no stored order.paid event behind it",
    ),
    (
        "every payout's ledger postings match its status",
        """
        SELECT p.id, p.status, coalesce(l.in_flight, 0), coalesce(l.paid_out, 0),
               coalesce(l.available, 0)
        FROM payouts_payout p
        LEFT JOIN (
            SELECT t.payout_id,
                   sum(e.amount_minor) FILTER (WHERE a.kind = 'creator_in_flight') AS in_flight,
                   sum(e.amount_minor) FILTER (WHERE a.kind = 'creator_paid_out') AS paid_out,
                   sum(e.amount_minor) FILTER (WHERE a.kind = 'creator_available') AS available
            FROM payouts_ledgertransaction t
            JOIN payouts_ledgerentry e ON e.transaction_id = t.id
            JOIN payouts_ledgeraccount a ON a.id = e.account_id
            WHERE t.payout_id IS NOT NULL
            GROUP BY t.payout_id
        ) l ON l.payout_id = p.id
        WHERE coalesce(l.in_flight, 0) <> CASE
                WHEN p.status IN ('requested', 'approved', 'sending') THEN p.amount_minor ELSE 0
              END
           OR coalesce(l.paid_out, 0) <> CASE
                WHEN p.status IN ('sent', 'paid')
                  OR (p.status = 'failed' AND p.stripe_transfer_id <> '')
                THEN p.amount_minor - p.reversed_minor ELSE 0
              END
           OR coalesce(l.available, 0) <> -(coalesce(l.in_flight, 0) + coalesce(l.paid_out, 0))
        ORDER BY p.id
        """,
        "payout {0} ({1}): in flight {2}, paid out {3}, available {4} in the ledger",
    ),
    (
        "every ledger payout posting belongs to a payout",
        """
        SELECT t.id, t.payout_id
        FROM payouts_ledgertransaction t
        LEFT JOIN payouts_payout p ON p.id = t.payout_id
        WHERE t.payout_id IS NOT NULL AND p.id IS NULL
        ORDER BY t.id
        """,
        "transaction {0} names payout {1}, which does not exist",
    ),
]


def ledger_checks() -> list[LedgerCheck]:
    """Run every ledger invariant as one set-based query each (read in one snapshot)."""
    results: list[LedgerCheck] = []
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            # One snapshot for all checks, so that postings committing meanwhile cannot make
            # a rollup look out of step with the entries.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for name, sql, message in [*_CHECKS, *ROLLUP_CHECKS]:
            cursor.execute(sql)
            failures = [message.format(*row) for row in cursor.fetchall()]
            results.append(LedgerCheck(name=name, failures=failures))
    return results


def ledger_totals() -> dict[str, int]:
    """How many accounts, transactions and entries the ledger holds (for summaries)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM payouts_ledgeraccount),
                   (SELECT count(*) FROM payouts_ledgertransaction),
                   (SELECT count(*) FROM payouts_ledgerentry)
            """
        )
        row = cursor.fetchone()
    accounts, transactions, entries = row if row is not None else (0, 0, 0)
    return {"accounts": accounts, "transactions": transactions, "entries": entries}


# ---------------------------------------------------------------------------------------
# Commissions and orders, as their brand and their creator read them


def commission_list(
    *,
    brand: Brand | None = None,
    creator: CreatorProfile | None = None,
    campaign_id: int | None = None,
    creator_handle: str | None = None,
    status: str | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[Commission]:
    """The commissions of one brand or of one creator, never both nor neither: every list
    is scoped to the one who reads it. Filters are optional; `creator_handle` matches in
    any letter case, `updated_since` includes the instant itself.

    Campaign and creator come joined in (the campaign's brief left out). The queryset is
    not ordered: the caller orders it by updated time, which the indexes
    (brand, -updated_at) and (creator, -updated_at) serve.
    """
    if (brand is None) == (creator is None):
        raise ValueError("List the commissions of exactly one brand or one creator.")
    commissions = Commission.objects.select_related("campaign", "creator").defer("campaign__brief")
    if brand is not None:
        commissions = commissions.filter(brand=brand)
    else:
        commissions = commissions.filter(creator=creator)
    if campaign_id is not None:
        commissions = commissions.filter(campaign_id=campaign_id)
    if creator_handle is not None:
        commissions = commissions.filter(creator__handle__iexact=creator_handle)
    if status is not None:
        commissions = commissions.filter(status=status)
    if updated_since is not None:
        commissions = commissions.filter(updated_at__gte=updated_since)
    return commissions


@dataclass(frozen=True)
class CommissionCursor:
    """A position in the commissions' (updated_at, id) order, newest first; `back` walks
    towards newer rows (the previous page). Encoded, it is the opaque `cursor` of the read
    API's and the creator's commission pages."""

    updated_at: dt.datetime
    pk: int
    back: bool = False

    def encode(self) -> str:
        text = json.dumps([self.updated_at.isoformat(), self.pk, int(self.back)])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> CommissionCursor:
        """The cursor `encode` wrote; ValueError for any other text."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            updated_at, pk, back = json.loads(raw)
            position = dt.datetime.fromisoformat(updated_at)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise ValueError(text) from None
        if (
            position.tzinfo is None
            or not isinstance(pk, int)
            or not 0 < pk < 2**63
            or back not in (0, 1)
        ):
            raise ValueError(text)
        return cls(updated_at=position, pk=pk, back=bool(back))


@dataclass(frozen=True)
class CommissionKeysetPage:
    """One page of commissions, newest change first, with where the pages beside it start
    (None where there is none)."""

    commissions: list[Commission]
    next: CommissionCursor | None
    previous: CommissionCursor | None
    # Walked back past the newest row: the page is empty, start again from the top.
    restart: bool = False


def commission_keyset_page(
    commissions: QuerySet[Commission], cursor: CommissionCursor | None, *, size: int
) -> CommissionKeysetPage:
    """`size` of `commissions` after (or, walking back, before) the cursor, by
    (-updated_at, -id): a keyset page, so it costs one indexed query however deep it is, and
    rows that share an updated time (processing writes a whole batch at once) are neither
    skipped nor repeated."""
    if cursor is None:
        rows = list(commissions.order_by("-updated_at", "-id")[: size + 1])
    elif not cursor.back:
        after = Q(updated_at__lt=cursor.updated_at) | Q(
            updated_at=cursor.updated_at, id__lt=cursor.pk
        )
        # The first condition repeats the second's bound where the index can use it.
        rows = list(
            commissions.filter(after, updated_at__lte=cursor.updated_at).order_by(
                "-updated_at", "-id"
            )[: size + 1]
        )
    else:
        before = Q(updated_at__gt=cursor.updated_at) | Q(
            updated_at=cursor.updated_at, id__gt=cursor.pk
        )
        rows = list(
            commissions.filter(before, updated_at__gte=cursor.updated_at).order_by(
                "updated_at", "id"
            )[: size + 1]
        )
    more = len(rows) > size
    page = rows[:size]
    back = cursor is not None and cursor.back
    if back:
        page.reverse()
    next_cursor = previous_cursor = None
    if page:
        if more or back:
            last = page[-1]
            next_cursor = CommissionCursor(updated_at=last.updated_at, pk=last.pk)
        if cursor is not None and (more or not back):
            first = page[0]
            previous_cursor = CommissionCursor(updated_at=first.updated_at, pk=first.pk, back=True)
    return CommissionKeysetPage(
        commissions=page, next=next_cursor, previous=previous_cursor, restart=back and not page
    )


@dataclass(frozen=True)
class CommissionHistoryItem:
    """One ledger transaction of a commission, seen from the creator's side: how much it
    moved on the creator's pending and available balances (a maturation moves the same
    amount out of pending and into available)."""

    commission_id: int
    kind: str
    currency: str
    pending_minor: int
    available_minor: int
    created_at: dt.datetime

    @property
    def amount_minor(self) -> int:
        """The change to what the creator earns (zero for a maturation)."""
        return self.pending_minor + self.available_minor


@dataclass(frozen=True)
class OrderDetail:
    """An order with everything behind it: its events, its commissions and their ledger
    history (by commission id).

    `processed` is false while any of its events waits for processing; an order whose
    events are all still waiting has no row yet and comes back as an unsaved `Order` with
    nothing reduced (zero amounts, no attribution).
    """

    order: Order
    events: list[OrderEvent]
    commissions: list[Commission]
    history: dict[int, list[CommissionHistoryItem]]

    @property
    def processed(self) -> bool:
        return all(event.processed_at is not None for event in self.events)


def commission_history(commissions: list[Commission]) -> dict[int, list[CommissionHistoryItem]]:
    """The ledger transactions of these commissions, oldest first, in one query."""
    currencies = {commission.pk: commission.currency for commission in commissions}
    if not currencies:
        return {}

    def creator_side(kind: str) -> Coalesce:
        return Coalesce(Sum("entries__amount_minor", filter=Q(entries__account__kind=kind)), 0)

    rows = (
        LedgerTransaction.objects.filter(commission_id__in=sorted(currencies))
        .annotate(
            pending_minor=creator_side(LedgerAccountKind.CREATOR_PENDING),
            available_minor=creator_side(LedgerAccountKind.CREATOR_AVAILABLE),
        )
        .order_by("created_at", "id")
        .values_list("commission_id", "kind", "pending_minor", "available_minor", "created_at")
    )
    history: dict[int, list[CommissionHistoryItem]] = {pk: [] for pk in currencies}
    for commission_id, kind, pending_minor, available_minor, created_at in rows:
        assert commission_id is not None  # filtered on it
        history[commission_id].append(
            CommissionHistoryItem(
                commission_id=commission_id,
                kind=kind,
                currency=currencies[commission_id],
                pending_minor=pending_minor,
                available_minor=available_minor,
                created_at=created_at,
            )
        )
    return history


def order_detail_get(*, brand: Brand, order_id: str) -> OrderDetail | None:
    """The brand's order `order_id` (its own id for it) with its events, commissions and
    their ledger history; None when the brand has sent no event for it. Four queries."""
    order = (
        Order.objects.select_related("campaign", "creator")
        .defer("campaign__brief")
        .filter(brand=brand, order_id=order_id)
        .first()
    )
    events = list(
        OrderEvent.objects.filter(brand=brand, order_id=order_id).order_by("occurred_at", "id")
    )
    if order is None:
        if not events:
            return None
        order = Order(brand=brand, order_id=order_id, currency=events[0].currency)
        return OrderDetail(order=order, events=events, commissions=[], history={})
    commissions = list(
        Commission.objects.filter(order=order)
        .select_related("campaign", "creator")
        .defer("campaign__brief")
        .order_by("id")
    )
    return OrderDetail(
        order=order,
        events=events,
        commissions=commissions,
        history=commission_history(commissions),
    )
