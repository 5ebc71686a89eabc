"""Recompute every commission from the stored events, from scratch, and compare with live.

`earnings_recompute` walks every order that has events, in chunks, reduces and attributes
each with the same code as the workers (`payouts.earnings`), shares campaign budgets over
the whole history in their documented order, and compares the result with the live
`Commission` rows. It reads in one snapshot and writes nothing. `earnings_apply` settles
the orders that differ through the live path (`orders_settle`), which posts correcting
ledger entries for exactly the difference.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from payouts.earnings import (
    BudgetItem,
    OrderKey,
    budget_allocate,
    events_load,
    facts_load,
    order_decide,
)
from payouts.processing import click_grace, orders_settle
from payouts.rules import Attributed

CHUNK = 5000


@dataclass(frozen=True)
class Difference:
    """One order whose live commissions differ from the recomputed ones."""

    key: OrderKey
    expected: dict[int, int]  # collaboration id -> amount (non-zero only)
    live: dict[int, int]

    def describe(self) -> str:
        return (
            f"brand {self.key[0]} order {self.key[1]!r}: recomputed {self.expected or 'nothing'}"
            f", live {self.live or 'nothing'} (collaboration id: amount in minor units)"
        )


@dataclass
class RecomputeReport:
    orders: int = 0
    events: int = 0
    commissions: int = 0
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    differences: list[Difference] = field(default_factory=list)


def _order_keys() -> Iterator[list[OrderKey]]:
    """Every (brand, order id) with events, in chunks, by keyset over the (brand, order)
    index in its own collation (the walk's order does not matter, only that it is total)."""
    last: tuple[int, str] | None = None
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT DISTINCT brand_id, order_id FROM payouts_orderevent
                WHERE %s::bigint IS NULL OR (brand_id, order_id) > (%s, %s)
                ORDER BY brand_id, order_id
                LIMIT %s
                """,
                [last[0] if last else None, last[0] if last else 0, last[1] if last else "", CHUNK],
            )
            keys = [(brand_id, order_id) for brand_id, order_id in cursor.fetchall()]
        if not keys:
            return
        yield keys
        last = keys[-1]


def _live(keys: list[OrderKey]) -> dict[OrderKey, dict[int, int]]:
    live: dict[OrderKey, dict[int, int]] = {key: {} for key in keys}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.brand_id, o.order_id, c.collaboration_id, c.amount_minor
            FROM unnest(%s::bigint[], %s::varchar[]) AS k(brand_id, order_id)
            JOIN payouts_order o ON o.brand_id = k.brand_id AND o.order_id = k.order_id
            JOIN payouts_commission c ON c.order_id = o.id
            WHERE c.amount_minor <> 0
            """,
            [[k[0] for k in keys], [k[1] for k in keys]],
        )
        for brand_id, order_id, collaboration_id, amount in cursor.fetchall():
            live[(brand_id, order_id)][collaboration_id] = amount
    return live


def earnings_recompute(*, now: dt.datetime | None = None) -> RecomputeReport:
    """Rebuild every commission from the stored events; report each difference from live.

    Orders are compared chunk by chunk, except those of campaigns with a budget: their
    shares depend on the whole history, so they are compared once it has been read.
    """
    now = now or timezone.now()
    report = RecomputeReport()
    # Budgeted campaigns: every order's claim, shared once the whole history is known.
    claims: dict[int, list[tuple[BudgetItem, OrderKey, int]]] = defaultdict(list)
    waiting: dict[OrderKey, tuple[str, dict[int, int]]] = {}
    budgets: dict[int, int | None] = {}
    grace = click_grace()

    def compare(key: OrderKey, currency: str, want: dict[int, int], have: dict[int, int]) -> None:
        report.commissions += len(want)
        for amount in want.values():
            report.totals[currency] += amount
        if want != have:
            report.differences.append(Difference(key=key, expected=want, live=have))

    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for keys in _order_keys():
            events = events_load(keys)
            facts, states = facts_load(events)
            for campaign_id in facts.campaigns.keys() - budgets.keys():
                budgets[campaign_id] = facts.campaigns[campaign_id].budget_minor
            live = _live(keys)
            report.orders += len(keys)
            report.events += sum(len(stored) for stored in events.values())
            for key in keys:
                decision = order_decide(key, states[key], facts, now=now, click_grace=grace)
                attribution = decision.attribution
                if not isinstance(attribution, Attributed):
                    compare(key, decision.currency, {}, live[key])
                    continue
                if budgets.get(attribution.campaign_id) is not None and decision.gross_minor > 0:
                    item = BudgetItem(
                        decision.budget_order, decision.gross_minor, decision.uncapped_minor
                    )
                    claims[attribution.campaign_id].append(
                        (item, key, attribution.collaboration_id)
                    )
                    waiting[key] = (decision.currency, live[key])
                    continue
                want = (
                    {attribution.collaboration_id: decision.uncapped_minor}
                    if decision.uncapped_minor
                    else {}
                )
                compare(key, decision.currency, want, live[key])
    for campaign_id, items in sorted(claims.items()):
        ordered = sorted(items, key=lambda entry: entry[0].order)
        shares = budget_allocate(budgets[campaign_id], 0, [item for item, _k, _c in ordered])
        for (_item, key, collaboration_id), share in zip(ordered, shares, strict=True):
            currency, have = waiting[key]
            want = {collaboration_id: share.amount_minor} if share.amount_minor else {}
            compare(key, currency, want, have)
    report.differences.sort(key=lambda d: (d.key[0], d.key[1].encode()))
    return report


def earnings_apply(differences: list[Difference]) -> int:
    """Settle the differing orders through the live path; returns how many were settled."""
    keys = [difference.key for difference in differences]
    for start in range(0, len(keys), 1000):
        with transaction.atomic():
            orders_settle(keys[start : start + 1000], now=timezone.now())
    return len(keys)


__all__ = ["Difference", "RecomputeReport", "earnings_apply", "earnings_recompute"]
