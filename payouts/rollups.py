"""Keeping the dashboard rollups (`payouts.models.rollups`) in step with what they count.

Every writer adds a delta in the same database transaction as the change it counts:

- processing passes each commission row before and after it changed
  (`rollups_commissions_changed`) and each settled order's unattributed reason before and
  after (`rollups_unattributed_changed`);
- maturation passes the rows it approved (`rollups_matured`);
- the ingest counts received, refused and duplicate events (`rollups_events_received`).

Rows are upserted in key order, table by table in one fixed order (collaboration days,
campaign days, collaboration totals, maturity days), so that two writers lock them in the
same order and cannot deadlock; processing writes them just before the ledger, whose rows
come last everywhere.

`rollups_rebuild` recomputes every table from the rows it counts (for a fresh deployment
and for the benchmark's data); `ROLLUP_CHECKS` are the comparisons `check_ledger` runs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db import connection, transaction

from payouts.bulk import json_rows, rows_source
from payouts.models.rollups import BrandEventKind


class CountedCommission(Protocol):
    """What a rollup needs of a commission row (processing's `CommissionRow` has it)."""

    collaboration_id: int
    campaign_id: int
    creator_id: int
    brand_id: int
    currency: str
    amount_minor: int
    net_amount_minor: int
    paid_received_at: dt.datetime | None
    payable_at: dt.datetime | None
    matured: bool
    pending_posted_minor: int


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def _upsert(
    table: str,
    keys: Sequence[tuple[str, str]],
    fixed: Sequence[tuple[str, str]],
    sums: Sequence[tuple[str, str]],
    rows: list[tuple[Any, ...]],
    latest: Sequence[tuple[str, str]] = (),
) -> None:
    """Add `rows` (keys, fixed columns, summed columns, then the `latest` columns, which
    keep the greater value) to `table`, in key order."""
    if not rows:
        return
    columns = [*keys, *fixed, *sums, *latest]
    names = ", ".join(name for name, _type in columns)
    key_names = ", ".join(name for name, _type in keys)
    updates = ", ".join(
        [f"{name} = {table}.{name} + EXCLUDED.{name}" for name, _type in sums]
        + [f"{name} = greatest({table}.{name}, EXCLUDED.{name})" for name, _type in latest]
    )
    rows.sort(key=lambda row: tuple(row[: len(keys)]))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {rows_source(columns)} "  # noqa: S608
            f"ORDER BY {key_names} ON CONFLICT ({key_names}) DO UPDATE SET {updates}",
            [json_rows(rows)],
        )


def _money_of(row: CountedCommission) -> tuple[int, int, int]:
    """(orders, revenue, commission) a commission row counts for."""
    return (1 if row.net_amount_minor > 0 else 0, row.net_amount_minor, row.amount_minor)


def rollups_commissions_changed(
    changes: Iterable[tuple[CountedCommission | None, CountedCommission]],
) -> None:
    """Add to the rollups what each commission change (row before or None, row after) moves.

    The "after" rows must carry the posted amounts the ledger postings of this transaction
    give them (processing's `_postings` sets them)."""
    days: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    campaigns: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    fixed: dict[int, tuple[int, int, int, str]] = {}
    maturity: Counter[tuple[int, str, dt.date]] = Counter()

    def count(row: CountedCommission, sign: int) -> None:
        fixed[row.collaboration_id] = (row.creator_id, row.campaign_id, row.brand_id, row.currency)
        if row.paid_received_at is not None:
            day = utc_day(row.paid_received_at)
            for i, value in enumerate(_money_of(row)):
                days[(row.collaboration_id, day)][i] += sign * value
                campaigns[(row.campaign_id, day)][i] += sign * value
                totals[row.collaboration_id][i] += sign * value
        if not row.matured and row.pending_posted_minor and row.payable_at is not None:
            maturity[(row.creator_id, row.currency, utc_day(row.payable_at))] += (
                sign * row.pending_posted_minor
            )

    for before, after in changes:
        if before is not None:
            count(before, -1)
        count(after, 1)
    money = [("orders", "bigint"), ("revenue_minor", "bigint"), ("commission_minor", "bigint")]
    _upsert(
        "payouts_collaborationday",
        [("collaboration_id", "bigint"), ("day", "date")],
        [
            ("creator_id", "bigint"),
            ("campaign_id", "bigint"),
            ("brand_id", "bigint"),
            ("currency", "varchar"),
        ],
        money,
        [
            (collab, day.isoformat(), *fixed[collab], *values)
            for (collab, day), values in days.items()
            if any(values)
        ],
    )
    campaign_fixed = {c[1]: (c[2], c[3]) for c in fixed.values()}
    _upsert(
        "payouts_campaignday",
        [("campaign_id", "bigint"), ("day", "date")],
        [("brand_id", "bigint"), ("currency", "varchar")],
        money,
        [
            (campaign, day.isoformat(), *campaign_fixed[campaign], *values)
            for (campaign, day), values in campaigns.items()
            if any(values)
        ],
    )
    _upsert(
        "payouts_collaborationtotal",
        [("collaboration_id", "bigint")],
        [
            ("creator_id", "bigint"),
            ("campaign_id", "bigint"),
            ("brand_id", "bigint"),
            ("currency", "varchar"),
        ],
        money,
        [(collab, *fixed[collab], *values) for collab, values in totals.items() if any(values)],
    )
    _maturity_add(maturity)


def _maturity_add(maturity: Counter[tuple[int, str, dt.date]]) -> None:
    _upsert(
        "payouts_creatormaturity",
        [("creator_id", "bigint"), ("currency", "varchar"), ("day", "date")],
        [],
        [("pending_minor", "bigint")],
        [
            (creator, currency, day.isoformat(), amount)
            for (creator, currency, day), amount in maturity.items()
            if amount
        ],
    )


def rollups_matured(rows: Iterable[CountedCommission]) -> None:
    """Take approved commissions' pending money off their payable days."""
    maturity: Counter[tuple[int, str, dt.date]] = Counter()
    for row in rows:
        if row.pending_posted_minor and row.payable_at is not None:
            maturity[(row.creator_id, row.currency, utc_day(row.payable_at))] -= (
                row.pending_posted_minor
            )
    _maturity_add(maturity)


def _brand_events_add(
    counts: Counter[tuple[int, dt.date, str, str]], last_at: dt.datetime | None = None
) -> None:
    _upsert(
        "payouts_brandeventday",
        [("brand_id", "bigint"), ("day", "date"), ("kind", "varchar"), ("code", "varchar")],
        [],
        [("count", "bigint")],
        [
            (brand, day.isoformat(), kind, code, value, last_at)
            for (brand, day, kind, code), value in counts.items()
            if value
        ],
        latest=[("last_at", "timestamptz")],
    )


def rollups_events_received(
    *,
    brand_id: int,
    received_at: dt.datetime,
    accepted: int,
    duplicates: int,
    refused_codes: Iterable[str],
) -> None:
    """Count one ingested batch: accepted events, duplicates and refusals by error code."""
    day = utc_day(received_at)
    counts: Counter[tuple[int, dt.date, str, str]] = Counter()
    counts[(brand_id, day, BrandEventKind.RECEIVED, "")] += accepted
    counts[(brand_id, day, BrandEventKind.DUPLICATE, "")] += duplicates
    for code in refused_codes:
        counts[(brand_id, day, BrandEventKind.REJECTED, code)] += 1
    _brand_events_add(counts, received_at)


def rollups_unattributed_changed(
    changes: Iterable[tuple[int, tuple[str, dt.datetime | None], tuple[str, dt.datetime | None]]],
) -> None:
    """Count orders left unattributed, by reason and day: (brand id, (reason, paid received
    at) before, the same after) for each settled order."""
    counts: Counter[tuple[int, dt.date, str, str]] = Counter()
    for brand_id, (old_reason, old_at), (new_reason, new_at) in changes:
        if (old_reason, old_at) == (new_reason, new_at):
            continue
        if old_reason and old_at is not None:
            counts[(brand_id, utc_day(old_at), BrandEventKind.UNATTRIBUTED, old_reason)] -= 1
        if new_reason and new_at is not None:
            counts[(brand_id, utc_day(new_at), BrandEventKind.UNATTRIBUTED, new_reason)] += 1
    _brand_events_add(counts)


# --- rebuilding and checking ---------------------------------------------------------------

_COMMISSION_DAY = "(c.paid_received_at AT TIME ZONE 'UTC')::date"
_COMMISSION_MONEY = (
    "count(*) FILTER (WHERE c.net_amount_minor > 0), sum(c.net_amount_minor), sum(c.amount_minor)"
)
_COUNTED = "c.paid_received_at IS NOT NULL"

EXPECTED_SQL: dict[str, str] = {
    "payouts_collaborationday": f"""
        SELECT c.collaboration_id, {_COMMISSION_DAY} AS day, c.creator_id, c.campaign_id,
               c.brand_id, c.currency, {_COMMISSION_MONEY}
        FROM payouts_commission c WHERE {_COUNTED}
        GROUP BY c.collaboration_id, 2, c.creator_id, c.campaign_id, c.brand_id, c.currency
    """,  # noqa: S608
    "payouts_campaignday": f"""
        SELECT c.campaign_id, {_COMMISSION_DAY} AS day, c.brand_id, c.currency,
               {_COMMISSION_MONEY}
        FROM payouts_commission c WHERE {_COUNTED}
        GROUP BY c.campaign_id, 2, c.brand_id, c.currency
    """,  # noqa: S608
    "payouts_collaborationtotal": f"""
        SELECT c.collaboration_id, c.creator_id, c.campaign_id, c.brand_id, c.currency,
               {_COMMISSION_MONEY}
        FROM payouts_commission c WHERE {_COUNTED}
        GROUP BY c.collaboration_id, c.creator_id, c.campaign_id, c.brand_id, c.currency
    """,  # noqa: S608
    "payouts_creatormaturity": """
        SELECT c.creator_id, c.currency, (c.payable_at AT TIME ZONE 'UTC')::date AS day,
               sum(c.pending_posted_minor)
        FROM payouts_commission c
        WHERE NOT c.matured AND c.pending_posted_minor <> 0 AND c.payable_at IS NOT NULL
        GROUP BY c.creator_id, c.currency, 3
    """,
    "payouts_brandeventday": """
        SELECT brand_id, (received_at AT TIME ZONE 'UTC')::date, 'received', '', count(*),
               max(received_at)
        FROM payouts_orderevent GROUP BY 1, 2
        UNION ALL
        SELECT brand_id, (received_at AT TIME ZONE 'UTC')::date, 'duplicate', '', count(*),
               max(received_at)
        FROM payouts_duplicateorderevent GROUP BY 1, 2
        UNION ALL
        SELECT brand_id, (received_at AT TIME ZONE 'UTC')::date, 'rejected', error_field,
               count(*), max(received_at)
        FROM payouts_rejectedorderevent GROUP BY 1, 2, 4
        UNION ALL
        SELECT brand_id, (paid_received_at AT TIME ZONE 'UTC')::date, 'unattributed',
               unattributed_reason, count(*), NULL::timestamptz
        FROM payouts_order
        WHERE unattributed_reason <> '' AND paid_received_at IS NOT NULL
        GROUP BY 1, 2, 4
    """,
}

# Each table's key and counted columns (and any column kept but not compared), in the
# order of EXPECTED_SQL's columns.
_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "payouts_collaborationday": (
        ("collaboration_id", "day", "creator_id", "campaign_id", "brand_id", "currency"),
        ("orders", "revenue_minor", "commission_minor"),
        (),
    ),
    "payouts_campaignday": (
        ("campaign_id", "day", "brand_id", "currency"),
        ("orders", "revenue_minor", "commission_minor"),
        (),
    ),
    "payouts_collaborationtotal": (
        ("collaboration_id", "creator_id", "campaign_id", "brand_id", "currency"),
        ("orders", "revenue_minor", "commission_minor"),
        (),
    ),
    "payouts_creatormaturity": (("creator_id", "currency", "day"), ("pending_minor",), ()),
    "payouts_brandeventday": (("brand_id", "day", "kind", "code"), ("count",), ("last_at",)),
}


@transaction.atomic
def rollups_rebuild() -> None:
    """Recompute every rollup from the rows it counts. Locks the tables it rebuilds, so run it
    with the workers stopped or accept that they wait."""
    with connection.cursor() as cursor:
        for table, sql in EXPECTED_SQL.items():
            keys, sums, kept = _TABLES[table]
            names = ", ".join((*keys, *sums, *kept))
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(f"INSERT INTO {table} ({names}) {sql}")
        cursor.execute("LOCK TABLE campaigns_campaignclickday IN EXCLUSIVE MODE")
        cursor.execute("DELETE FROM campaigns_campaignclickday")
        cursor.execute(
            f"INSERT INTO campaigns_campaignclickday (campaign_id, day, clicks) {_CLICKS_SQL}"
        )


_CLICKS_SQL = """
    SELECT c.campaign_id, d.day, sum(d.clicks)
    FROM campaigns_clickdailycount d JOIN campaigns_collaboration c ON c.id = d.collaboration_id
    GROUP BY c.campaign_id, d.day
"""


def _difference_sql(table: str, sql: str) -> str:
    """Rows where the rollup and the recount differ (a missing row counts as zeros)."""
    keys, sums, kept = _TABLES[table]
    expected_cols = ", ".join((*keys, *(f"e_{name}" for name in (*sums, *kept))))
    join = " AND ".join(f"r.{k} = e.{k}" for k in keys)
    differs = " OR ".join(f"coalesce(r.{name}, 0) <> coalesce(e.e_{name}, 0)" for name in sums)
    shown_keys = ", ".join(f"coalesce(r.{k}::text, e.{k}::text)" for k in keys)
    shown = ", ".join(
        f"coalesce(r.{name}, 0) || ' vs ' || coalesce(e.e_{name}, 0)" for name in sums
    )
    return f"""
        SELECT concat_ws('/', {shown_keys}), concat_ws(', ', {shown})
        FROM {table} r FULL OUTER JOIN (
            SELECT * FROM ({sql}) AS x({expected_cols})
        ) e ON {join}
        WHERE {differs}
        ORDER BY 1
        LIMIT 100
    """  # noqa: S608


def _against_ledger(*, owner: str, rollup: str, entries: str, sign: str = "") -> str:
    """Totals per owner and currency that differ between a rollup (`rollup` yields owner,
    currency, total) and the ledger entries of commission postings matching `entries`
    (`sign` "-" for a debit-normal account)."""
    return f"""
        SELECT coalesce(r.owner, l.owner) || '/' || coalesce(r.currency, l.currency),
               coalesce(r.total, 0), coalesce(l.total, 0)
        FROM ({rollup}) AS r(owner, currency, total)
        FULL OUTER JOIN (
            SELECT a.{owner}, a.currency, {sign}sum(e.amount_minor)
            FROM payouts_ledgerentry e
            JOIN payouts_ledgeraccount a ON a.id = e.account_id
            JOIN payouts_ledgertransaction t ON t.id = e.transaction_id
            WHERE {entries} AND t.commission_id IS NOT NULL
            GROUP BY 1, 2
        ) AS l(owner, currency, total) ON l.owner = r.owner AND l.currency = r.currency
        WHERE coalesce(r.total, 0) <> coalesce(l.total, 0)
        ORDER BY 1 LIMIT 100
    """  # noqa: S608


# (name, SQL yielding (key, detail) rows that break it, message) for `check_ledger`.
ROLLUP_CHECKS: list[tuple[str, str, str]] = [
    (
        f"rollup {table.removeprefix('payouts_')} equals its recount",
        _difference_sql(table, sql),
        f"{table.removeprefix('payouts_')} {{0}}: rollup vs recount {{1}}",
    )
    for table, sql in EXPECTED_SQL.items()
] + [
    (
        "rollup campaignclickday equals its recount",
        f"""
        SELECT coalesce(r.campaign_id, e.campaign_id) || '/' || coalesce(r.day, e.day),
               coalesce(r.clicks, 0) || ' vs ' || coalesce(e.clicks, 0)
        FROM campaigns_campaignclickday r FULL OUTER JOIN (
            SELECT * FROM ({_CLICKS_SQL}) AS x(campaign_id, day, clicks)
        ) e ON r.campaign_id = e.campaign_id AND r.day = e.day
        WHERE coalesce(r.clicks, 0) <> coalesce(e.clicks, 0)
        ORDER BY 1 LIMIT 100
        """,  # noqa: S608
        "campaign click day {0}: rollup vs recount {1}",
    ),
    (
        "creator earnings rollups equal the ledger's commission postings",
        _against_ledger(
            owner="creator_id",
            rollup="SELECT creator_id, currency, sum(commission_minor) "
            "FROM payouts_collaborationtotal GROUP BY 1, 2",
            entries="a.kind IN ('creator_pending', 'creator_available') "
            "AND t.kind IN ('commission', 'commission_adjustment', 'clawback')",
        ),
        "creator/currency {0}: rollups count {1} commission, the ledger {2}",
    ),
    (
        "brand cost rollups equal the ledger's commission postings to each brand",
        _against_ledger(
            owner="brand_id",
            rollup="SELECT brand_id, currency, sum(commission_minor) "
            "FROM payouts_campaignday GROUP BY 1, 2",
            entries="a.kind = 'brand_commission_owed'",
            sign="-",
        ),
        "brand/currency {0}: rollups count {1} commission, the ledger {2}",
    ),
    (
        "maturity rollups equal what the ledger holds pending for commissions",
        _against_ledger(
            owner="creator_id",
            rollup="SELECT creator_id, currency, sum(pending_minor) "
            "FROM payouts_creatormaturity GROUP BY 1, 2",
            entries="a.kind = 'creator_pending'",
        ),
        "creator/currency {0}: {1} due by day in the rollup, {2} pending in the ledger",
    ),
]
