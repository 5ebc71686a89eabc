"""From stored facts to what each order earns: the decision shared by the workers and the
recompute.

`facts_load` reads, in a handful of set-based queries, everything the rules need for a set
of orders (their events, the clicks and codes they name, the collaborations and campaigns
behind them, the suspension periods of those collaborations' creators). `order_decide` applies the pure rules of `payouts.rules` to one order, and
`budget_allocate` shares a campaign's budget among its orders in the documented order.
Neither writes anything: `payouts.processing` (live) and `payouts.recompute` (from scratch)
both build on them, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import translation

from campaigns.clicks import click_id_time, parse_click_id
from payouts.models import OrderEventOutcome
from payouts.rules import (
    ActivePeriod,
    Attributed,
    CampaignFact,
    ClickFact,
    CollaborationFact,
    OrderEventFact,
    OrderState,
    TermsFact,
    Unattributed,
    attribute,
    commission_for,
    payable_at,
    reduce_order,
)
from payouts.rules.attribution import UNKNOWN_CLICK, WRONG_CURRENCY

OrderKey = tuple[int, str]  # (brand id, the brand's order id)

# Outcome of a budget share (stored on the commission).
BUDGET_LIMITED = "budget_limited"
BUDGET_EXHAUSTED = "budget_exhausted"


@dataclass(frozen=True)
class StoredEvent:
    """One stored event row: the fact for the rules plus what processing writes back."""

    pk: int
    key: OrderKey
    fact: OrderEventFact
    processed: bool
    outcome: str | None
    outcome_reason: str


@dataclass(frozen=True)
class CollaborationRow:
    fact: CollaborationFact
    brand_id: int
    creator_id: int


@dataclass(frozen=True)
class CampaignRow:
    fact: CampaignFact
    brand_id: int
    budget_minor: int | None
    status: str


@dataclass
class Facts:
    """Everything the rules need for a set of orders, fetched up front, with the lookups
    that attribution makes per order built once."""

    events: dict[OrderKey, list[StoredEvent]] = field(default_factory=dict)
    clicks: dict[str, ClickFact] = field(default_factory=dict)
    collaborations: dict[int, CollaborationRow] = field(default_factory=dict)
    campaigns: dict[int, CampaignRow] = field(default_factory=dict)
    _by_brand: dict[int, dict[int, CollaborationFact]] | None = None
    _by_code: dict[tuple[int, str], list[CollaborationFact]] | None = None
    _campaign_facts: dict[int, CampaignFact] | None = None

    def collaborations_of(self, brand_id: int) -> dict[int, CollaborationFact]:
        if self._by_brand is None:
            self._by_brand = defaultdict(dict)
            for pk, row in self.collaborations.items():
                self._by_brand[row.brand_id][pk] = row.fact
        return self._by_brand.get(brand_id, {})

    def code_matches(self, brand_id: int, code: str | None) -> list[CollaborationFact]:
        """The brand's collaborations whose tracking or discount code is `code`, any case."""
        if not code or not code.strip():
            return []
        if self._by_code is None:
            self._by_code = defaultdict(list)
            for row in self.collaborations.values():
                folded = {
                    c.casefold() for c in (row.fact.tracking_code, row.fact.discount_code) if c
                }
                for value in folded:
                    self._by_code[(row.brand_id, value)].append(row.fact)
        return self._by_code.get((brand_id, code.strip().casefold()), [])

    def campaign_facts(self) -> dict[int, CampaignFact]:
        if self._campaign_facts is None:
            self._campaign_facts = {pk: row.fact for pk, row in self.campaigns.items()}
        return self._campaign_facts


def _fact(row: Sequence[Any]) -> OrderEventFact:
    (
        _pk,
        _brand,
        _order,
        event_id,
        type_,
        occurred_at,
        received_at,
        amount,
        currency,
        code,
        click,
    ) = row[:11]
    return OrderEventFact(
        event_id=event_id,
        type=type_,
        occurred_at=occurred_at,
        received_at=received_at,
        amount_minor=amount,
        currency=currency,
        code=code,
        click_id=str(click) if click is not None else None,
    )


_EVENT_COLUMNS = (
    "e.id, e.brand_id, e.order_id, e.event_id, e.type, e.occurred_at, e.received_at, "
    "e.amount_minor, e.currency, e.code, e.click_id, e.processed_at IS NOT NULL, e.outcome, "
    "e.outcome_reason"
)


def events_load(keys: Sequence[OrderKey]) -> dict[OrderKey, list[StoredEvent]]:
    """All stored events of the orders `keys`, in one query."""
    result: dict[OrderKey, list[StoredEvent]] = {key: [] for key in keys}
    if not keys:
        return result
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {_EVENT_COLUMNS}
            FROM unnest(%s::bigint[], %s::varchar[]) AS k(brand_id, order_id)
            JOIN payouts_orderevent e ON e.brand_id = k.brand_id AND e.order_id = k.order_id
            """,  # noqa: S608
            [[k[0] for k in keys], [k[1] for k in keys]],
        )
        for row in cursor.fetchall():
            key = (row[1], row[2])
            result[key].append(
                StoredEvent(
                    pk=row[0],
                    key=key,
                    fact=_fact(row),
                    processed=row[11],
                    outcome=row[12],
                    outcome_reason=row[13],
                )
            )
    return result


def _click_facts(click_ids: Iterable[str]) -> dict[str, ClickFact]:
    parsed: dict[uuid.UUID, str] = {}
    for raw in click_ids:
        value = parse_click_id(raw)
        if value is not None:
            parsed[value] = raw
    if not parsed:
        return {}
    ids = sorted(parsed)
    with connection.cursor() as cursor:
        # Both key columns: PostgreSQL prunes to the days the ids name (UUIDv7 carry time).
        cursor.execute(
            """
            SELECT c.click_id, c.collaboration_id, c.clicked_at
            FROM campaigns_click c
            WHERE c.clicked_at = ANY(%s::timestamptz[]) AND c.click_id = ANY(%s::uuid[])
            """,
            [[click_id_time(i) for i in ids], ids],
        )
        rows = cursor.fetchall()
    return {
        parsed[click_id]: ClickFact(
            click_id=parsed[click_id], collaboration_id=collab_id, clicked_at=clicked_at
        )
        for click_id, collab_id, clicked_at in rows
        if click_id in parsed
    }


def creator_suspensions_load(creator_ids: Iterable[int]) -> dict[int, tuple[ActivePeriod, ...]]:
    """The suspension periods of these creators, oldest first, in one query (creators never
    suspended are absent)."""
    ids = sorted(set(creator_ids))
    if not ids:
        return {}
    periods: dict[int, list[ActivePeriod]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT creator_id, started_at, ended_at FROM connect_creatorsuspension "
            "WHERE creator_id = ANY(%s::bigint[]) ORDER BY creator_id, started_at",
            [ids],
        )
        for creator_id, started_at, ended_at in cursor.fetchall():
            periods[creator_id].append(ActivePeriod(start=started_at, end=ended_at))
    return {creator_id: tuple(found) for creator_id, found in periods.items()}


def _collaboration_rows(
    brand_ids: set[int], codes: set[str], collaboration_ids: set[int]
) -> dict[int, CollaborationRow]:
    if not (codes or collaboration_ids):
        return {}
    folded = sorted({code.lower() for code in codes})
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, campaign_id, tracking_code, discount_code, activated_at, removed_at,
                   brand_id, creator_id
            FROM campaigns_collaboration
            WHERE id = ANY(%s::bigint[])
               OR (brand_id = ANY(%s::bigint[])
                   AND (tracking_code = ANY(%s::varchar[])
                        OR lower(discount_code) = ANY(%s::varchar[])
                        OR lower(tracking_code) = ANY(%s::varchar[])))
            """,
            [sorted(collaboration_ids), sorted(brand_ids), sorted(codes), folded, folded],
        )
        rows = cursor.fetchall()
    suspensions = creator_suspensions_load({row[7] for row in rows})
    return {
        row[0]: CollaborationRow(
            fact=CollaborationFact(
                collaboration_id=row[0],
                campaign_id=row[1],
                tracking_code=row[2],
                discount_code=row[3],
                activated_at=row[4],
                removed_at=row[5],
                creator_suspensions=suspensions.get(row[7], ()),
            ),
            brand_id=row[6],
            creator_id=row[7],
        )
        for row in rows
    }


def campaigns_load(campaign_ids: Iterable[int]) -> dict[int, CampaignRow]:
    """Campaigns with their active periods and every version of their terms (3 queries)."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    periods: dict[int, list[ActivePeriod]] = defaultdict(list)
    terms: dict[int, list[TermsFact]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT campaign_id, started_at, ended_at FROM campaigns_campaignactiveperiod "
            "WHERE campaign_id = ANY(%s::bigint[]) ORDER BY campaign_id, started_at",
            [ids],
        )
        for campaign_id, started_at, ended_at in cursor.fetchall():
            periods[campaign_id].append(ActivePeriod(start=started_at, end=ended_at))
        cursor.execute(
            "SELECT id, campaign_id, effective_from, commission_type, commission_percent, "
            "commission_fixed_minor, hold_days, attribution_window_days "
            "FROM campaigns_campaignterms WHERE campaign_id = ANY(%s::bigint[])",
            [ids],
        )
        for row in cursor.fetchall():
            terms[row[1]].append(
                TermsFact(
                    terms_id=row[0],
                    effective_from=row[2],
                    commission_type=row[3],
                    commission_percent=row[4],
                    commission_fixed_minor=row[5],
                    hold_days=row[6],
                    attribution_window_days=row[7],
                )
            )
        cursor.execute(
            "SELECT id, currency, brand_id, budget_minor, status FROM campaigns_campaign "
            "WHERE id = ANY(%s::bigint[])",
            [ids],
        )
        rows = cursor.fetchall()
    return {
        pk: CampaignRow(
            fact=CampaignFact(
                campaign_id=pk,
                currency=currency,
                active_periods=tuple(periods[pk]),
                terms_versions=tuple(terms[pk]),
            ),
            brand_id=brand_id,
            budget_minor=budget_minor,
            status=status,
        )
        for pk, currency, brand_id, budget_minor, status in rows
    }


def facts_load(
    events: dict[OrderKey, list[StoredEvent]],
) -> tuple[Facts, dict[OrderKey, OrderState]]:
    """Reduce each order and fetch the attribution facts its counting `order.paid` needs."""
    states = {key: reduce_order(e.fact for e in stored) for key, stored in events.items()}
    brand_ids: set[int] = set()
    codes: set[str] = set()
    click_ids: set[str] = set()
    for (brand_id, _order_id), state in states.items():
        paid = state.paid_event
        if paid is None:
            continue
        brand_ids.add(brand_id)
        if paid.code and paid.code.strip():
            codes.add(paid.code.strip())
        if paid.click_id and paid.click_id.strip():
            click_ids.add(paid.click_id.strip())
    clicks = _click_facts(click_ids)
    collaborations = _collaboration_rows(
        brand_ids, codes, {click.collaboration_id for click in clicks.values()}
    )
    campaigns = campaigns_load(row.fact.campaign_id for row in collaborations.values())
    return Facts(
        events=events, clicks=clicks, collaborations=collaborations, campaigns=campaigns
    ), states


@dataclass(frozen=True)
class OrderDecision:
    """What one order earns by the rules, before the campaign budget."""

    key: OrderKey
    state: OrderState
    attribution: Attributed | Unattributed | None  # None: waiting for its order.paid
    creator_id: int | None
    currency: str
    uncapped_minor: int  # the commission on the net amount
    gross_minor: int  # the commission on the paid amount: what the order takes of a budget
    payable_at: dt.datetime | None
    # Per event id: (outcome, reason in English).
    event_outcomes: dict[str, tuple[str, str]]
    # An unknown click that may still be on its way from the redirect's buffer.
    click_may_arrive: bool = False

    @property
    def campaign_id(self) -> int | None:
        return self.attribution.campaign_id if isinstance(self.attribution, Attributed) else None

    @property
    def collaboration_id(self) -> int | None:
        if isinstance(self.attribution, Attributed):
            return self.attribution.collaboration_id
        return None

    @property
    def budget_order(self) -> tuple[dt.datetime, str]:
        assert self.state.paid_received_at is not None
        return (self.state.paid_received_at, self.key[1])


def _english(message: Any) -> str:
    with translation.override("en"):
        return str(message)


def order_decide(
    key: OrderKey, state: OrderState, facts: Facts, *, now: dt.datetime, click_grace: dt.timedelta
) -> OrderDecision:
    """Attribute one reduced order and compute its commission (docs/earnings-rules.md)."""
    brand_id = key[0]
    event_ids = state.event_ids
    paid = state.paid_event
    if paid is None:
        waiting = _english(
            "Waiting for the order.paid event of this order; it counts once that arrives."
        )
        return OrderDecision(
            key=key,
            state=state,
            attribution=None,
            creator_id=None,
            currency=state.currency or "",
            uncapped_minor=0,
            gross_minor=0,
            payable_at=None,
            event_outcomes=dict.fromkeys(event_ids, (OrderEventOutcome.AWAITING_PAID, waiting)),
        )
    brand_collaborations = facts.collaborations_of(brand_id)
    click = facts.clicks.get((paid.click_id or "").strip())
    if click is not None and click.collaboration_id not in brand_collaborations:
        click = None
    attribution = attribute(
        paid,
        click=click,
        code_matches=facts.code_matches(brand_id, paid.code),
        collaborations=brand_collaborations,
        campaigns=facts.campaign_facts(),
    )
    outcomes: dict[str, tuple[str, str]] = {}
    if isinstance(attribution, Attributed):
        terms = attribution.terms
        uncapped = commission_for(state.net_amount_minor, terms)
        gross = 0 if state.error else commission_for(state.paid_amount_minor, terms)
        assert state.occurred_at is not None and state.paid_received_at is not None
        payable = payable_at(state.occurred_at, state.paid_received_at, terms.hold_days)
        creator_id = facts.collaborations[attribution.collaboration_id].creator_id
        for event_id in event_ids:
            if event_id in state.conflicts:
                outcomes[event_id] = (
                    OrderEventOutcome.CONFLICT,
                    _english(
                        "Another order.paid of this order counts (the earliest); this one is "
                        "kept as a conflict and changes nothing."
                    ),
                )
            elif state.error:
                with translation.override("en"):
                    error = state.error_message or state.error
                outcomes[event_id] = (OrderEventOutcome.REJECTED, error)
            else:
                outcomes[event_id] = (OrderEventOutcome.APPLIED, "")
        return OrderDecision(
            key=key,
            state=state,
            attribution=attribution,
            creator_id=creator_id,
            currency=state.currency or paid.currency,
            uncapped_minor=uncapped,
            gross_minor=gross,
            payable_at=payable,
            event_outcomes=outcomes,
        )
    message = _english(attribution.message)
    outcome = (
        OrderEventOutcome.REJECTED
        if attribution.reason == WRONG_CURRENCY
        else OrderEventOutcome.UNATTRIBUTED
    )
    may_arrive = False
    if attribution.reason == UNKNOWN_CLICK:
        parsed = parse_click_id(paid.click_id)
        may_arrive = parsed is not None and click_id_time(parsed) > now - click_grace
    return OrderDecision(
        key=key,
        state=state,
        attribution=attribution,
        creator_id=None,
        currency=state.currency or paid.currency,
        uncapped_minor=0,
        gross_minor=0,
        payable_at=None,
        event_outcomes=dict.fromkeys(event_ids, (outcome, message)),
        click_may_arrive=may_arrive,
    )


@dataclass(frozen=True)
class BudgetItem:
    """One order's claim on a campaign budget, in consumption order."""

    order: tuple[dt.datetime, str]  # (paid_received_at, order id)
    gross_minor: int
    uncapped_minor: int


@dataclass(frozen=True)
class BudgetShare:
    share_minor: int
    amount_minor: int
    note: str


def budget_allocate(
    budget_minor: int | None, consumed_before_minor: int, items: Sequence[BudgetItem]
) -> list[BudgetShare]:
    """Share what is left of a budget among orders, in the order given (docs/earnings-rules.md).

    Each order takes its commission on the paid amount (`gross_minor`), or what is left;
    it earns its commission on the net amount, up to what it took. Refunds therefore lower
    what an order earns without returning budget to later orders, so an order's share only
    depends on the orders received before it.
    """
    if budget_minor is None:
        return [BudgetShare(item.gross_minor, item.uncapped_minor, "") for item in items]
    remaining = max(0, budget_minor - consumed_before_minor)
    shares: list[BudgetShare] = []
    for item in items:
        share = min(item.gross_minor, remaining)
        remaining -= share
        note = ""
        if share < item.gross_minor:
            note = BUDGET_EXHAUSTED if share == 0 else BUDGET_LIMITED
        shares.append(BudgetShare(share, min(item.uncapped_minor, share), note))
    return shares
