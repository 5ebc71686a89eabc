"""Processing: turn stored order events into orders, commissions and ledger postings.

The unit of work is a set of orders. `orders_settle` locks their `Order` rows (so that any
number of workers on any number of hosts serialise per order), reduces each from all of its
stored events, attributes it, computes its commission (`payouts.earnings`), shares campaign
budgets, and posts to the ledger the difference between what each commission should be and
what the ledger already holds for it: one balanced transaction per changed commission, under
the idempotency key `commission:<order>:<collaboration>:<revision>`. Everything happens in
one database transaction, with a fixed number of set-based statements per call, whatever the
number of orders (plus two per campaign with a budget).

`order_events_process` claims unprocessed events (`FOR UPDATE SKIP LOCKED`), settles their
orders and marks them processed in that same transaction: a worker killed half-way leaves
nothing behind but its claim, which PostgreSQL releases. Messages only say "there is work";
the sweeper (`order_events_sweep`) finds events that no message brought, so correctness never
depends on the broker.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from payouts.bulk import json_rows, rows_source
from payouts.earnings import (
    BudgetItem,
    CampaignRow,
    OrderDecision,
    OrderKey,
    StoredEvent,
    budget_allocate,
    campaigns_load,
    events_load,
    facts_load,
    order_decide,
)
from payouts.ledger import (
    AccountSpec,
    LedgerLine,
    LedgerPosting,
    ledger_accounts_ensure,
    ledger_post_many,
)
from payouts.models import (
    CommissionStatus,
    LedgerAccountKind,
    LedgerTransactionKind,
)
from payouts.rollups import (
    rollups_commissions_changed,
    rollups_matured,
    rollups_unattributed_changed,
)
from payouts.rules import Attributed, Unattributed

logger = logging.getLogger(__name__)

CLAIM_LIMIT = 1000


def click_grace() -> dt.timedelta:
    """How long an order naming an unknown click waits for it (the redirect buffers clicks
    in Redis for a few seconds before they are stored)."""
    return dt.timedelta(seconds=settings.ORDER_CLICK_GRACE_SECONDS)


# --- enqueueing --------------------------------------------------------------------------------


def order_events_enqueue(batch_id: uuid.UUID | str) -> bool:
    """Ask a worker to process one stored batch. Never raises: if the broker cannot take the
    message, the events stay stored and unprocessed until the sweeper finds them."""
    from payouts.tasks import order_events_process_batch

    try:
        order_events_process_batch.apply_async(args=[str(batch_id)], retry=False)
    except Exception:  # noqa: BLE001 - any broker failure; the sweeper recovers
        logger.warning("Could not enqueue order event batch %s; the sweeper will.", batch_id)
        return False
    return True


def order_events_sweep(*, older_than_seconds: float | None = None, max_batches: int = 200) -> int:
    """Enqueue every batch that still has events unprocessed after `older_than_seconds`
    (a lost message, a killed worker, a broker outage). Returns how many were enqueued."""
    age = (
        settings.ORDER_EVENTS_SWEEP_AFTER_SECONDS
        if older_than_seconds is None
        else older_than_seconds
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT batch_id FROM (
                SELECT batch_id, min(received_at) AS first
                FROM payouts_orderevent
                WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => %s)
                GROUP BY batch_id
            ) b ORDER BY first LIMIT %s
            """,
            [age, max_batches],
        )
        batch_ids = [row[0] for row in cursor.fetchall()]
    return sum(1 for batch_id in batch_ids if order_events_enqueue(batch_id))


# --- claiming ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessResult:
    events: int
    orders: int
    postings: int
    deferred: int = 0


def order_events_process(
    *,
    batch_id: uuid.UUID | str | None = None,
    limit: int = CLAIM_LIMIT,
    now: dt.datetime | None = None,
) -> ProcessResult:
    """Claim up to `limit` unprocessed events (of one batch, or the oldest of any), settle
    their orders and mark them processed, in one transaction."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if batch_id is not None:
            cursor.execute(
                """
                SELECT id, brand_id, order_id FROM payouts_orderevent
                WHERE batch_id = %s AND processed_at IS NULL
                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
                """,
                [str(batch_id), limit],
            )
        else:
            cursor.execute(
                """
                SELECT id, brand_id, order_id FROM payouts_orderevent
                WHERE processed_at IS NULL
                ORDER BY received_at, id LIMIT %s FOR UPDATE SKIP LOCKED
                """,
                [limit],
            )
        claimed = cursor.fetchall()
        if not claimed:
            return ProcessResult(events=0, orders=0, postings=0)
        keys = {(brand_id, order_id) for _pk, brand_id, order_id in claimed}
        result = orders_settle(keys, now=now, claimed={pk for pk, _b, _o in claimed})
    return ProcessResult(
        events=len(claimed),
        orders=result.orders,
        postings=result.postings,
        deferred=result.deferred_events,
    )


def order_events_process_all(*, now: dt.datetime | None = None, limit: int = CLAIM_LIMIT) -> int:
    """Process until nothing is claimable (tests, commands); returns the events processed."""
    total = 0
    while True:
        result = order_events_process(limit=limit, now=now)
        total += result.events - result.deferred
        if result.events == 0 or result.events == result.deferred:
            return total


# --- settling ----------------------------------------------------------------------------------


@dataclass
class CommissionRow:
    """A commission as processing reads and rewrites it."""

    pk: int | None
    order_pk: int
    collaboration_id: int
    campaign_id: int
    creator_id: int
    brand_id: int
    currency: str
    amount_minor: int = 0
    uncapped_minor: int = 0
    gross_minor: int = 0
    budget_share_minor: int = 0
    budget_note: str = ""
    net_amount_minor: int = 0
    paid_received_at: dt.datetime | None = None
    order_ref: str = ""
    payable_at: dt.datetime | None = None
    matured: bool = False
    approved_at: dt.datetime | None = None
    status: str = CommissionStatus.PENDING
    pending_posted_minor: int = 0
    available_posted_minor: int = 0
    revision: int = 0

    @property
    def ident(self) -> tuple[int, int]:
        return (self.order_pk, self.collaboration_id)

    @property
    def budget_order(self) -> tuple[dt.datetime, str]:
        assert self.paid_received_at is not None
        return (self.paid_received_at, self.order_ref)


_COMMISSION_COLUMNS = (
    "id, order_id, collaboration_id, campaign_id, creator_id, brand_id, currency, amount_minor, "
    "uncapped_minor, gross_minor, budget_share_minor, budget_note, net_amount_minor, "
    "paid_received_at, order_ref, payable_at, matured, approved_at, status, "
    "pending_posted_minor, available_posted_minor, revision"
)


def _commission(row: Sequence[Any]) -> CommissionRow:
    return CommissionRow(*row)


def _commissions_of_orders(order_pks: list[int], *, lock: bool) -> list[CommissionRow]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COMMISSION_COLUMNS} FROM payouts_commission "  # noqa: S608
            f"WHERE order_id = ANY(%s::bigint[]) ORDER BY id {'FOR UPDATE' if lock else ''}",
            [order_pks],
        )
        return [_commission(row) for row in cursor.fetchall()]


@dataclass
class SettleResult:
    orders: int = 0
    postings: int = 0
    deferred_events: int = 0
    exhausted_campaigns: list[int] = field(default_factory=list)


def _orders_lock(keys: list[OrderKey]) -> dict[OrderKey, int]:
    """Create the missing order rows and lock all of them, in key order."""
    brand_ids = [k[0] for k in keys]
    order_ids = [k[1] for k in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payouts_order (
                brand_id, order_id, currency, paid_event_id, paid_amount_minor, refunded_minor,
                net_amount_minor, over_refunded_minor, cancelled, awaiting_paid, conflicts, error,
                via, unattributed_reason, unattributed_params, commission_minor, event_count,
                created_at, updated_at
            )
            SELECT k.brand_id, k.order_id, '', '', 0, 0, 0, 0, false, false, '{}', '', '', '',
                   '{}'::jsonb, 0, 0, now(), now()
            FROM unnest(%s::bigint[], %s::varchar[]) AS k(brand_id, order_id)
            ORDER BY k.brand_id, k.order_id COLLATE "C"
            ON CONFLICT (brand_id, order_id) DO NOTHING
            """,
            [brand_ids, order_ids],
        )
        cursor.execute(
            """
            SELECT o.id, o.brand_id, o.order_id
            FROM payouts_order o
            JOIN unnest(%s::bigint[], %s::varchar[]) AS k(brand_id, order_id)
              ON o.brand_id = k.brand_id AND o.order_id = k.order_id
            ORDER BY o.brand_id, o.order_id COLLATE "C"
            FOR UPDATE OF o
            """,
            [brand_ids, order_ids],
        )
        return {(brand_id, order_id): pk for pk, brand_id, order_id in cursor.fetchall()}


def _status(row: CommissionRow) -> str:
    if row.amount_minor == 0:
        return CommissionStatus.VOID
    return CommissionStatus.APPROVED if row.matured else CommissionStatus.PENDING


def orders_settle(
    keys: Iterable[OrderKey],
    *,
    now: dt.datetime,
    claimed: set[int] | frozenset[int] = frozenset(),
    rebudget: frozenset[int] = frozenset(),
) -> SettleResult:
    """Bring the orders `keys` and their commissions in line with their stored events and
    post the differences to the ledger. Must run inside a transaction (it locks rows).

    `claimed` are event ids this caller claimed: they are marked processed (unless their
    order waits for a click still in the redirect's buffer). Events already processed get
    their outcome refreshed; events claimed by someone else are left to them.
    `rebudget` names campaigns whose budget changed: their shares are shared out again (with
    no budget, every order earns its full commission).
    """
    ordered = sorted(set(keys), key=lambda k: (k[0], k[1].encode()))
    if not ordered:
        return SettleResult()
    order_pks = _orders_lock(ordered)
    events = events_load(ordered)
    facts, states = facts_load(events)
    grace = click_grace()
    decisions = {
        key: order_decide(key, states[key], facts, now=now, click_grace=grace) for key in ordered
    }
    pks = sorted(order_pks.values())
    existing = _commissions_of_orders(pks, lock=False)
    campaigns = dict(facts.campaigns)
    missing = {c.campaign_id for c in existing} - campaigns.keys()
    campaigns.update(campaigns_load(missing))
    touched = sorted(
        {d.campaign_id for d in decisions.values() if d.campaign_id is not None}
        | {c.campaign_id for c in existing}
        | set(rebudget)
    )
    budgeted = [pk for pk in touched if campaigns[pk].budget_minor is not None or pk in rebudget]
    shared = [pk for pk in touched if pk not in budgeted]
    if touched:
        with connection.cursor() as cursor:
            # Budget shares depend on other orders of the campaign: one writer per budgeted
            # campaign. The others are held in KEY SHARE mode, which never blocks another
            # batch but makes a budget edit (and the re-sharing after it, which rewrites
            # commissions of orders it has not locked) wait until this batch commits.
            if budgeted:
                cursor.execute(
                    "SELECT id FROM campaigns_campaign WHERE id = ANY(%s::bigint[]) "
                    "ORDER BY id FOR UPDATE",
                    [budgeted],
                )
            if shared:
                cursor.execute(
                    "SELECT id FROM campaigns_campaign WHERE id = ANY(%s::bigint[]) "
                    "ORDER BY id FOR KEY SHARE",
                    [shared],
                )
        # Read again under those locks: a re-sharing that committed meanwhile may have
        # rewritten these orders' commissions.
        existing = _commissions_of_orders(pks, lock=bool(budgeted))

    current: dict[tuple[int, int], CommissionRow] = {c.ident: c for c in existing}
    targets: dict[tuple[int, int], CommissionRow] = {}
    for key, decision in decisions.items():
        order_pk = order_pks[key]
        if isinstance(decision.attribution, Attributed):
            ident = (order_pk, decision.attribution.collaboration_id)
            base = current.get(ident) or CommissionRow(
                pk=None,
                order_pk=order_pk,
                collaboration_id=decision.attribution.collaboration_id,
                campaign_id=decision.attribution.campaign_id,
                creator_id=decision.creator_id or 0,
                brand_id=key[0],
                currency=decision.currency,
            )
            targets[ident] = replace(
                base,
                campaign_id=decision.attribution.campaign_id,
                creator_id=decision.creator_id or 0,
                currency=decision.currency,
                amount_minor=decision.uncapped_minor,
                uncapped_minor=decision.uncapped_minor,
                gross_minor=decision.gross_minor,
                budget_share_minor=decision.gross_minor,
                budget_note="",
                net_amount_minor=decision.state.net_amount_minor,
                paid_received_at=decision.state.paid_received_at,
                order_ref=key[1],
                payable_at=decision.payable_at,
            )
    for ident, row in current.items():
        if ident not in targets:
            targets[ident] = replace(
                row,
                amount_minor=0,
                uncapped_minor=0,
                gross_minor=0,
                budget_share_minor=0,
                budget_note="",
                net_amount_minor=0,
            )

    result = SettleResult(orders=len(ordered))
    for campaign_id in budgeted:
        exhausted = _budget_share(campaigns[campaign_id], targets, current, set(pks))
        if exhausted:
            result.exhausted_campaigns.append(campaign_id)

    changed = [
        t for ident, t in targets.items() if ident not in current or _differs(current[ident], t)
    ]
    planned = _postings(changed, current)
    ids = _commissions_write(changed) if changed else {}
    amounts: dict[int, int] = {}
    for key, decision in decisions.items():
        ident = (order_pks[key], decision.collaboration_id or 0)
        amounts[order_pks[key]] = targets[ident].amount_minor if ident in targets else 0
    _orders_write({order_pks[key]: d for key, d in decisions.items()}, amounts)
    result.deferred_events = _events_write(decisions, events, claimed, now=now)
    # The dashboards' rollups, then the ledger: both hold rows every batch of a campaign or
    # brand shares, locked from here to COMMIT.
    rollups_commissions_changed((current.get(row.ident), row) for row in changed)
    # The ledger last: its balance rows (a brand's commission account above all) are shared
    # by every batch, and their row locks last from here to COMMIT.
    if planned:
        ledger_post_many(
            postings=[replace(posting, commission_id=ids[row.ident]) for posting, row in planned],
            fetch=False,
        )
    result.postings = len(planned)
    if result.exhausted_campaigns:
        from campaigns.services.campaigns import campaign_budget_exhausted

        for campaign_id in result.exhausted_campaigns:
            if campaigns[campaign_id].status == "active":
                campaign_budget_exhausted(campaign_id=campaign_id)
    return result


_DIFF_FIELDS = (
    "campaign_id",
    "creator_id",
    "currency",
    "amount_minor",
    "uncapped_minor",
    "gross_minor",
    "budget_share_minor",
    "budget_note",
    "net_amount_minor",
    "paid_received_at",
    "order_ref",
    "payable_at",
)


def _differs(a: CommissionRow, b: CommissionRow) -> bool:
    return any(getattr(a, name) != getattr(b, name) for name in _DIFF_FIELDS)


def _budget_share(
    campaign: CampaignRow,
    targets: dict[tuple[int, int], CommissionRow],
    current: dict[tuple[int, int], CommissionRow],
    own_orders: set[int],
) -> bool:
    """Share the campaign's budget among the settled orders and those received after the
    earliest of them (their shares may move); update `targets`. True once it is used up."""
    campaign_id = campaign.fact.campaign_id
    budget = campaign.budget_minor
    mine = [t for t in targets.values() if t.campaign_id == campaign_id and t.gross_minor > 0]
    starts = [t.budget_order for t in mine] + [
        c.budget_order
        for c in current.values()
        if c.campaign_id == campaign_id and c.gross_minor > 0
    ]
    with connection.cursor() as cursor:
        if not starts:
            return False
        first = min(starts)
        cursor.execute(
            """
            SELECT COALESCE(sum(budget_share_minor), 0) FROM payouts_commission
            WHERE campaign_id = %s AND gross_minor > 0
              AND (paid_received_at, order_ref) < (%s, %s)
              AND NOT order_id = ANY(%s::bigint[])
            """,
            [campaign_id, first[0], first[1], sorted(own_orders)],
        )
        consumed_before = int(cursor.fetchone()[0])
        cursor.execute(
            f"""
            SELECT {_COMMISSION_COLUMNS} FROM payouts_commission
            WHERE campaign_id = %s AND gross_minor > 0
              AND (paid_received_at, order_ref) >= (%s, %s)
              AND NOT order_id = ANY(%s::bigint[])
            ORDER BY id FOR UPDATE
            """,  # noqa: S608
            [campaign_id, first[0], first[1], sorted(own_orders)],
        )
        later = [_commission(row) for row in cursor.fetchall()]
    for row in later:
        current[row.ident] = row
        targets.setdefault(row.ident, replace(row))
    items = sorted(
        (t for t in targets.values() if t.campaign_id == campaign_id and t.gross_minor > 0),
        key=lambda t: t.budget_order,
    )
    shares = budget_allocate(
        budget,
        consumed_before,
        [BudgetItem(t.budget_order, t.gross_minor, t.uncapped_minor) for t in items],
    )
    for target, share in zip(items, shares, strict=True):
        target.budget_share_minor = share.share_minor
        target.amount_minor = share.amount_minor
        target.budget_note = share.note
    used = consumed_before + sum(share.share_minor for share in shares)
    return budget is not None and used >= budget


def _postings(
    changed: list[CommissionRow], current: dict[tuple[int, int], CommissionRow]
) -> list[tuple[LedgerPosting, CommissionRow]]:
    """The ledger transactions that bring each changed commission to its amount; updates the
    rows' posted amounts, revision and status to what will be posted."""
    moves: list[tuple[CommissionRow, int]] = []
    for row in changed:
        before = current.get(row.ident)
        if before is not None:
            row.pending_posted_minor = before.pending_posted_minor
            row.available_posted_minor = before.available_posted_minor
            row.revision = before.revision
            row.matured = before.matured
        held = row.available_posted_minor if row.matured else row.pending_posted_minor
        delta = row.amount_minor - held
        row.status = _status(row)
        if delta:
            moves.append((row, delta))
    if not moves:
        return []
    specs: set[AccountSpec] = set()
    for row, _delta in moves:
        account_kind = (
            LedgerAccountKind.CREATOR_AVAILABLE
            if row.matured
            else LedgerAccountKind.CREATOR_PENDING
        )
        specs.add((account_kind, row.currency, row.creator_id, None))
        specs.add((LedgerAccountKind.BRAND_COMMISSION_OWED, row.currency, None, row.brand_id))
    accounts = ledger_accounts_ensure(sorted(specs, key=str))
    postings: list[tuple[LedgerPosting, CommissionRow]] = []
    for row, delta in moves:
        creator_kind = (
            LedgerAccountKind.CREATOR_AVAILABLE
            if row.matured
            else LedgerAccountKind.CREATOR_PENDING
        )
        creator_account = accounts[(creator_kind, row.currency, row.creator_id, None)]
        brand_account = accounts[
            (LedgerAccountKind.BRAND_COMMISSION_OWED, row.currency, None, row.brand_id)
        ]
        kind: str
        if row.revision == 0:
            kind = LedgerTransactionKind.COMMISSION
        elif row.matured and delta < 0:
            kind = LedgerTransactionKind.CLAWBACK
        else:
            kind = LedgerTransactionKind.COMMISSION_ADJUSTMENT
        row.revision += 1
        if row.matured:
            row.available_posted_minor += delta
        else:
            row.pending_posted_minor += delta
        postings.append(
            (
                LedgerPosting(
                    idempotency_key=f"commission:{row.order_pk}:{row.collaboration_id}:{row.revision}",
                    kind=kind,
                    lines=[
                        LedgerLine(creator_account, delta, row.currency),
                        LedgerLine(brand_account, -delta, row.currency),
                    ],
                    metadata={"order": row.order_ref, "amount_minor": row.amount_minor},
                ),
                row,
            )
        )
    return postings


def _commissions_write(rows: list[CommissionRow]) -> dict[tuple[int, int], int]:
    """Insert or update the commissions in one statement; their ids by (order, collaboration)."""
    columns = [
        ("order_id", "bigint", lambda r: r.order_pk),
        ("collaboration_id", "bigint", lambda r: r.collaboration_id),
        ("campaign_id", "bigint", lambda r: r.campaign_id),
        ("creator_id", "bigint", lambda r: r.creator_id),
        ("brand_id", "bigint", lambda r: r.brand_id),
        ("currency", "varchar", lambda r: r.currency),
        ("amount_minor", "bigint", lambda r: r.amount_minor),
        ("uncapped_minor", "bigint", lambda r: r.uncapped_minor),
        ("gross_minor", "bigint", lambda r: r.gross_minor),
        ("budget_share_minor", "bigint", lambda r: r.budget_share_minor),
        ("budget_note", "varchar", lambda r: r.budget_note),
        ("net_amount_minor", "bigint", lambda r: r.net_amount_minor),
        ("paid_received_at", "timestamptz", lambda r: r.paid_received_at),
        ("order_ref", "varchar", lambda r: r.order_ref),
        ("payable_at", "timestamptz", lambda r: r.payable_at),
        ("matured", "boolean", lambda r: r.matured),
        ("approved_at", "timestamptz", lambda r: r.approved_at),
        ("status", "varchar", lambda r: r.status),
        ("pending_posted_minor", "bigint", lambda r: r.pending_posted_minor),
        ("available_posted_minor", "bigint", lambda r: r.available_posted_minor),
        ("revision", "integer", lambda r: r.revision),
    ]
    names = ", ".join(name for name, _t, _f in columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name, _t, _f in columns[2:])
    rows = sorted(rows, key=lambda r: r.ident)
    source = rows_source([(name, sql_type) for name, sql_type, _f in columns])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO payouts_commission ({names}, created_at, updated_at)
            SELECT v.*, now(), now() FROM {source}
            ON CONFLICT (order_id, collaboration_id) DO UPDATE SET {updates}, updated_at = now()
            RETURNING id, order_id, collaboration_id
            """,  # noqa: S608
            [json_rows([getter(r) for _n, _t, getter in columns] for r in rows)],  # type: ignore[no-untyped-call]
        )
        return {(order_pk, collab): pk for pk, order_pk, collab in cursor.fetchall()}


def _orders_write(decisions: dict[int, OrderDecision], amounts: dict[int, int]) -> None:
    """Write every settled order's reduced state and attribution in one statement."""
    pks = sorted(decisions)
    values: dict[str, list[Any]] = defaultdict(list)
    for pk in pks:
        d = decisions[pk]
        s = d.state
        a = d.attribution
        values["id"].append(pk)
        values["currency"].append(s.currency or d.currency or "")
        values["paid_event_id"].append(s.paid_event.event_id if s.paid_event else "")
        values["paid_amount_minor"].append(s.paid_amount_minor)
        values["refunded_minor"].append(s.refunded_minor)
        values["net_amount_minor"].append(s.net_amount_minor)
        values["over_refunded_minor"].append(s.over_refunded_minor)
        values["cancelled"].append(s.cancelled)
        values["awaiting_paid"].append(s.awaiting_paid)
        values["conflicts"].append(list(s.conflicts))
        values["error"].append(s.error or "")
        values["occurred_at"].append(s.occurred_at)
        values["paid_received_at"].append(s.paid_received_at)
        credited = a if isinstance(a, Attributed) else None
        values["collaboration_id"].append(credited.collaboration_id if credited else None)
        values["campaign_id"].append(credited.campaign_id if credited else None)
        values["creator_id"].append(d.creator_id if credited else None)
        values["via"].append(credited.via if credited else "")
        values["terms_id"].append(credited.terms.terms_id if credited else None)
        values["unattributed_reason"].append(a.reason if isinstance(a, Unattributed) else "")
        params = a.stored_params() if isinstance(a, Unattributed) else {}
        values["unattributed_params"].append(params)
        values["commission_minor"].append(amounts.get(pk, 0))
        values["event_count"].append(len(s.event_ids))
    types = {
        "id": "bigint",
        "currency": "varchar",
        "paid_event_id": "varchar",
        "paid_amount_minor": "bigint",
        "refunded_minor": "bigint",
        "net_amount_minor": "bigint",
        "over_refunded_minor": "bigint",
        "cancelled": "boolean",
        "awaiting_paid": "boolean",
        "conflicts": "jsonb",
        "error": "varchar",
        "occurred_at": "timestamptz",
        "paid_received_at": "timestamptz",
        "collaboration_id": "bigint",
        "campaign_id": "bigint",
        "creator_id": "bigint",
        "via": "varchar",
        "terms_id": "bigint",
        "unattributed_reason": "varchar",
        "unattributed_params": "jsonb",
        "commission_minor": "bigint",
        "event_count": "integer",
    }
    names = list(types)
    sets = ", ".join(
        f"{name} = ARRAY(SELECT jsonb_array_elements_text(v.conflicts))::varchar[]"
        if name == "conflicts"
        else f"{name} = v.{name}"
        for name in names[1:]
    )
    source = rows_source([(name, types[name]) for name in names])
    with connection.cursor() as cursor:
        # `old` is the same row as this statement's snapshot saw it: before the update.
        cursor.execute(
            f"UPDATE payouts_order o SET {sets}, updated_at = now() "  # noqa: S608
            f"FROM {source} JOIN payouts_order old ON old.id = v.id WHERE o.id = v.id "
            "RETURNING o.brand_id, old.unattributed_reason, old.paid_received_at, "
            "o.unattributed_reason, o.paid_received_at",
            [json_rows(zip(*(values[name] for name in names), strict=True))],
        )
        rollups_unattributed_changed(
            (brand_id, (old_reason, old_at), (new_reason, new_at))
            for brand_id, old_reason, old_at, new_reason, new_at in cursor.fetchall()
        )


def _events_write(
    decisions: dict[OrderKey, OrderDecision],
    events: dict[OrderKey, list[StoredEvent]],
    claimed: set[int] | frozenset[int],
    *,
    now: dt.datetime,
) -> int:
    """Record each event's outcome; mark the claimed ones processed. Returns how many claimed
    events were left unprocessed (their order waits for a click still on its way)."""
    ids: list[int] = []
    outcomes: list[str | None] = []
    reasons: list[str] = []
    processed: list[bool] = []
    deferred = 0
    for key, decision in decisions.items():
        for event in events[key]:
            mine = event.pk in claimed
            if not (mine or event.processed):
                continue  # claimed by another worker, or not yet: they will write it
            outcome, reason = decision.event_outcomes.get(event.fact.event_id, (None, ""))
            if mine and decision.click_may_arrive:
                deferred += 1
                continue
            if not mine and (event.outcome, event.outcome_reason) == (outcome, reason):
                continue
            ids.append(event.pk)
            outcomes.append(outcome)
            reasons.append(reason)
            processed.append(mine)
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE payouts_orderevent e
                SET outcome = v.outcome, outcome_reason = v.reason,
                    processed_at = CASE WHEN v.mine THEN %s ELSE e.processed_at END
                FROM {source}
                WHERE e.id = v.id
                """.format(  # noqa: S608
                    source=rows_source(
                        [
                            ("id", "bigint"),
                            ("outcome", "varchar"),
                            ("reason", "text"),
                            ("mine", "boolean"),
                        ]
                    )
                ),
                [now, json_rows(zip(ids, outcomes, reasons, processed, strict=True))],
            )
    return deferred


def campaign_budget_settle(campaign_id: int, *, now: dt.datetime | None = None) -> int:
    """Share a campaign's budget out again after it changed: settle its earliest crediting
    order, which re-shares every later one. Returns how many commissions changed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.brand_id, o.order_id FROM payouts_commission c
            JOIN payouts_order o ON o.id = c.order_id
            WHERE c.campaign_id = %s AND c.gross_minor > 0
            ORDER BY c.paid_received_at, c.order_ref LIMIT 1
            """,
            [campaign_id],
        )
        row = cursor.fetchone()
        if row is None:
            return 0
        result = orders_settle(
            [(row[0], row[1])], now=now or timezone.now(), rebudget=frozenset({campaign_id})
        )
    return result.postings


# --- maturation --------------------------------------------------------------------------------


def commissions_mature(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Approve commissions whose hold has passed: move what the ledger holds for each from
    the creator's pending balance to available (one transaction each, key
    `maturation:<commission id>`). Returns how many were approved. Safe to run anywhere and
    concurrently: rows locked by processing or by another run are skipped until next time."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {", ".join("c." + c.strip() for c in _COMMISSION_COLUMNS.split(","))}
            FROM payouts_commission c JOIN payouts_order o ON o.id = c.order_id
            WHERE c.matured = false AND c.amount_minor > 0 AND c.payable_at <= %s
            ORDER BY c.payable_at, c.id
            LIMIT %s
            FOR UPDATE OF o, c SKIP LOCKED
            """,  # noqa: S608
            [now, limit],
        )
        rows = [_commission(row) for row in cursor.fetchall()]
        if not rows:
            return 0
        specs: set[AccountSpec] = set()
        for row in rows:
            specs.add((LedgerAccountKind.CREATOR_PENDING, row.currency, row.creator_id, None))
            specs.add((LedgerAccountKind.CREATOR_AVAILABLE, row.currency, row.creator_id, None))
        accounts = ledger_accounts_ensure(sorted(specs, key=str))
        postings = []
        for row in rows:
            moved = row.pending_posted_minor
            if moved:
                postings.append(
                    LedgerPosting(
                        idempotency_key=f"maturation:{row.pk}",
                        kind=LedgerTransactionKind.MATURATION,
                        lines=[
                            LedgerLine(
                                accounts[
                                    (
                                        LedgerAccountKind.CREATOR_AVAILABLE,
                                        row.currency,
                                        row.creator_id,
                                        None,
                                    )
                                ],
                                moved,
                                row.currency,
                            ),
                            LedgerLine(
                                accounts[
                                    (
                                        LedgerAccountKind.CREATOR_PENDING,
                                        row.currency,
                                        row.creator_id,
                                        None,
                                    )
                                ],
                                -moved,
                                row.currency,
                            ),
                        ],
                        metadata={"order": row.order_ref},
                        commission_id=row.pk,
                    )
                )
        rollups_matured(rows)
        ledger_post_many(postings=postings, fetch=False)
        cursor.execute(
            """
            UPDATE payouts_commission
            SET matured = true, approved_at = %s, status = %s,
                available_posted_minor = available_posted_minor + pending_posted_minor,
                pending_posted_minor = 0, updated_at = now()
            WHERE id = ANY(%s::bigint[])
            """,
            [now, CommissionStatus.APPROVED, [row.pk for row in rows]],
        )
    return len(rows)
