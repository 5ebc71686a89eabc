"""Posting to the ledger: the only writer of ledger transactions, entries and balances.

Accounts (one per kind, currency and owner; see `payouts.models.ledger`):

- creator_pending: commissions earned but still in their hold;
- creator_available: approved commissions the creator may request as a payout;
- creator_in_flight: amounts reserved by a payout until it is sent or fails;
- creator_paid_out: everything ever paid out to the creator;
- brand_commission_owed: commissions the brand owes the platform;
- platform_clearing: the platform's side of money entering or leaving (one per currency).

Signs: an entry's `amount_minor` is positive for a credit and negative for a debit, and an
account's balance is the plain sum of its entries. The entries of a transaction sum to zero per
currency, so the balances of all accounts of a currency also sum to zero. Creator accounts are
credit-normal: a positive balance is money the platform owes the creator (a clawback may make
`creator_available` negative; later payouts net it). `brand_commission_owed` is debit-normal:
a brand owing 10.00 has the balance -1000. Typical postings (credit first):

- commission:   +creator_pending,   -brand_commission_owed
- maturation:   +creator_available, -creator_pending
- clawback:     +brand_commission_owed, -creator_available (or -creator_pending)
- payout_reserve: +creator_in_flight, -creator_available
- payout_release: +creator_available, -creator_in_flight (a failed payout)
- payout_sent:  +creator_paid_out,  -creator_in_flight
- payout_reversed: +creator_available, -creator_paid_out (a sent transfer came back)

Every posting carries a unique idempotency key: posting the same key again returns the stored
transaction and posts nothing; the same key with other lines is a bug and raises. Postings are
set-based: one statement inserts the transactions, one the entries and one updates the
balance rollups (`LedgerBalance`), in ascending account id order so that concurrent postings
lock balance rows in the same order and cannot deadlock each other. PostgreSQL refuses an
unbalanced transaction at COMMIT and any UPDATE or DELETE of entries or transactions; the
checks here only give a clearer error first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction

from campaigns.models import Brand
from connect.models import CreatorProfile
from payouts.bulk import json_rows, rows_source
from payouts.models.ledger import (
    BRAND_KINDS,
    CREATOR_KINDS,
    PLATFORM_KINDS,
    LedgerAccount,
    LedgerAccountKind,
    LedgerTransaction,
    LedgerTransactionKind,
)

_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_KEY_LENGTH = 200


class LedgerError(ValueError):
    """A posting the ledger refuses before it reaches the database."""


class UnbalancedPostingError(LedgerError):
    """The lines of a posting do not sum to zero in some currency."""


class IdempotencyConflictError(LedgerError):
    """An idempotency key already posted (or repeated in a batch) with different lines."""


class LedgerLine(NamedTuple):
    """One line of a posting: a signed amount (credit > 0, debit < 0) on an account."""

    account_id: int
    amount_minor: int
    currency: str

    @classmethod
    def of(cls, account: LedgerAccount, amount_minor: int) -> LedgerLine:
        """The line for an account instance, taking the currency from the account."""
        return cls(account.pk, amount_minor, account.currency)


LineInput = LedgerLine | tuple[LedgerAccount, int]


@dataclass(frozen=True)
class LedgerPosting:
    """One transaction to post with `ledger_post_many`."""

    idempotency_key: str
    kind: str
    lines: Sequence[LineInput]
    metadata: dict[str, Any] | None = None
    commission_id: int | None = None
    payout_id: int | None = None


@dataclass(frozen=True)
class _Checked:
    """A validated posting: its lines sorted by account, which is also how they compare."""

    key: str
    kind: str
    lines: tuple[LedgerLine, ...]
    metadata: dict[str, Any]
    commission_id: int | None
    payout_id: int | None
    signature: tuple[str, tuple[LedgerLine, ...]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "signature", (self.kind, self.lines))


def _line(raw: LineInput) -> LedgerLine:
    if isinstance(raw, LedgerLine):
        return raw
    account, amount_minor = raw
    if account.pk is None:
        raise LedgerError("A ledger line needs a saved account.")
    return LedgerLine.of(account, amount_minor)


def _check(posting: LedgerPosting) -> _Checked:
    """Refuse a malformed or unbalanced posting with a clear message, before any SQL."""
    key = posting.idempotency_key
    if not key or len(key) > _MAX_KEY_LENGTH:
        raise LedgerError(f"An idempotency key needs 1 to {_MAX_KEY_LENGTH} characters: {key!r}.")
    if posting.kind not in LedgerTransactionKind.values:
        raise LedgerError(f"Unknown ledger transaction kind {posting.kind!r} (key {key!r}).")
    lines = sorted((_line(raw) for raw in posting.lines), key=lambda line: line.account_id)
    if not lines:
        raise LedgerError(f"Posting {key!r} has no lines.")
    totals: dict[str, int] = defaultdict(int)
    seen: set[int] = set()
    for line in lines:
        if type(line.amount_minor) is not int or line.amount_minor == 0:
            raise LedgerError(
                f"Posting {key!r}: amounts are non-zero integers in minor units, "
                f"not {line.amount_minor!r}."
            )
        if not _CURRENCY.fullmatch(line.currency):
            raise LedgerError(f"Posting {key!r}: {line.currency!r} is not an ISO 4217 code.")
        if line.account_id in seen:
            raise LedgerError(f"Posting {key!r}: account {line.account_id} appears twice.")
        seen.add(line.account_id)
        totals[line.currency] += line.amount_minor
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedPostingError(
            f"Posting {key!r} is unbalanced: its lines sum to {unbalanced} (minor units); "
            "every currency must sum to zero."
        )
    return _Checked(
        key=key,
        kind=posting.kind,
        lines=tuple(lines),
        metadata=dict(posting.metadata or {}),
        commission_id=posting.commission_id,
        payout_id=posting.payout_id,
    )


def ledger_post(
    *,
    idempotency_key: str,
    kind: str,
    lines: Sequence[LineInput],
    metadata: dict[str, Any] | None = None,
    commission_id: int | None = None,
    payout_id: int | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, or return the one already posted under this key.

    Lines are `LedgerLine(account_id, amount_minor, currency)` or `(account, amount_minor)`.
    Raises `UnbalancedPostingError` if the lines do not sum to zero per currency and
    `IdempotencyConflictError` if the key was posted with other lines or another kind.
    """
    posting = LedgerPosting(
        idempotency_key=idempotency_key,
        kind=kind,
        lines=lines,
        metadata=metadata,
        commission_id=commission_id,
        payout_id=payout_id,
    )
    return ledger_post_many(postings=[posting])[0]


@transaction.atomic
def ledger_post_many(
    *, postings: Sequence[LedgerPosting], fetch: bool = True
) -> list[LedgerTransaction]:
    """Post many transactions in four statements, whatever their number; idempotent per key.

    Returns the transactions in the order of `postings` (a key repeated in the batch with
    the same lines maps to the same transaction). Keys already posted are checked to have
    the same lines and kind and are otherwise left alone, so a retried batch posts only
    what is missing. One conflicting posting refuses the whole batch. With `fetch=False`
    nothing is read back and an empty list is returned.
    """
    by_key: dict[str, _Checked] = {}
    for posting in postings:
        checked = _check(posting)
        earlier = by_key.get(checked.key)
        if earlier is not None and earlier.signature != checked.signature:
            raise IdempotencyConflictError(
                f"Idempotency key {checked.key!r} appears twice in the batch with different lines."
            )
        by_key.setdefault(checked.key, checked)
    if not by_key:
        return []
    # Sorted keys: two batches sharing keys wait on each other's key in the same order.
    batch = [by_key[key] for key in sorted(by_key)]

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payouts_ledgertransaction
                (idempotency_key, kind, created_at, metadata, commission_id, payout_id)
            SELECT posting.key, posting.kind, now(), posting.metadata, posting.commission_id,
                   posting.payout_id
            FROM {source}
            ORDER BY posting.key
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key
            """.format(  # noqa: S608
                source=rows_source(
                    [
                        ("key", "text"),
                        ("kind", "text"),
                        ("metadata", "jsonb"),
                        ("commission_id", "bigint"),
                        ("payout_id", "bigint"),
                    ],
                    alias="posting",
                )
            ),
            [json_rows((p.key, p.kind, p.metadata, p.commission_id, p.payout_id) for p in batch)],
        )
        new_ids: dict[str, int] = {key: tx_id for tx_id, key in cursor.fetchall()}
        existing = [p for p in batch if p.key not in new_ids]
        if existing:
            _check_same_as_posted(cursor, existing)
        fresh = [p for p in batch if p.key in new_ids]
        if fresh:
            _insert_entries_and_balances(cursor, fresh, new_ids)

    if not fetch:  # the caller needs no model instances (the processing hot path)
        return []
    stored = LedgerTransaction.objects.in_bulk(list(by_key), field_name="idempotency_key")
    return [stored[posting.idempotency_key] for posting in postings]


def _check_same_as_posted(cursor: Any, postings: list[_Checked]) -> None:
    """Raise if a key already in the ledger was posted with other lines or another kind."""
    cursor.execute(
        """
        SELECT t.idempotency_key, t.kind, e.account_id, e.amount_minor, e.currency
        FROM payouts_ledgertransaction t
        JOIN payouts_ledgerentry e ON e.transaction_id = t.id
        WHERE t.idempotency_key = ANY(%s::text[])
        ORDER BY t.idempotency_key, e.account_id
        """,
        [[p.key for p in postings]],
    )
    posted: dict[str, tuple[str, list[LedgerLine]]] = {}
    for key, kind, account_id, amount_minor, currency in cursor.fetchall():
        posted.setdefault(key, (kind, []))[1].append(LedgerLine(account_id, amount_minor, currency))
    for posting in postings:
        kind, lines = posted.get(posting.key, ("", []))
        if (kind, tuple(lines)) != posting.signature:
            raise IdempotencyConflictError(
                f"Idempotency key {posting.key!r} was already posted as {kind!r} with lines "
                f"{lines}; refusing different lines {list(posting.lines)} ({posting.kind!r})."
            )


def _insert_entries_and_balances(
    cursor: Any, postings: list[_Checked], new_ids: dict[str, int]
) -> None:
    """One multi-row insert of the entries, one upsert of the balance rollups."""
    tx_ids: list[int] = []
    account_ids: list[int] = []
    amounts: list[int] = []
    currencies: list[str] = []
    deltas: dict[int, int] = defaultdict(int)
    for posting in postings:
        for line in posting.lines:
            tx_ids.append(new_ids[posting.key])
            account_ids.append(line.account_id)
            amounts.append(line.amount_minor)
            currencies.append(line.currency)
            deltas[line.account_id] += line.amount_minor
    source = rows_source(
        [
            ("transaction_id", "bigint"),
            ("account_id", "bigint"),
            ("amount_minor", "bigint"),
            ("currency", "text"),
        ]
    )
    cursor.execute(
        "INSERT INTO payouts_ledgerentry (transaction_id, account_id, amount_minor, currency) "  # noqa: S608
        f"SELECT * FROM {source}",
        [json_rows(zip(tx_ids, account_ids, amounts, currencies, strict=True))],
    )
    ordered = sorted(deltas.items())
    # Ascending account ids: the lock order every posting shares (no deadlocks between them).
    cursor.execute(
        """
        INSERT INTO payouts_ledgerbalance (account_id, balance_minor)
        SELECT account_id, delta
        FROM unnest(%s::bigint[], %s::bigint[]) AS d(account_id, delta)
        ORDER BY account_id
        ON CONFLICT (account_id) DO UPDATE
            SET balance_minor = payouts_ledgerbalance.balance_minor + EXCLUDED.balance_minor
        """,
        [[account_id for account_id, _ in ordered], [delta for _, delta in ordered]],
    )


def ledger_account_get_or_create(
    *,
    kind: str,
    currency: str,
    creator: CreatorProfile | None = None,
    brand: Brand | None = None,
) -> LedgerAccount:
    """The account for (kind, currency, owner), created with a zero balance if missing.

    Race-safe: concurrent callers insert with ON CONFLICT DO NOTHING and then all read the
    one row that won.
    """
    if kind in CREATOR_KINDS:
        if creator is None or brand is not None:
            raise LedgerError(f"A {kind} account belongs to a creator, and only to a creator.")
    elif kind in BRAND_KINDS:
        if brand is None or creator is not None:
            raise LedgerError(f"A {kind} account belongs to a brand, and only to a brand.")
    elif kind in PLATFORM_KINDS:
        if creator is not None or brand is not None:
            raise LedgerError(f"A {kind} account belongs to the platform, not to an owner.")
    else:
        raise LedgerError(
            f"Unknown ledger account kind {kind!r}; one of {LedgerAccountKind.values}."
        )
    if not _CURRENCY.fullmatch(currency):
        raise LedgerError(f"{currency!r} is not an ISO 4217 code in capitals.")
    creator_id = creator.pk if creator is not None else None
    brand_id = brand.pk if brand is not None else None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payouts_ledgeraccount (kind, currency, creator_id, brand_id, created_at)
            VALUES (%s, %s, %s, %s, now())
            ON CONFLICT (kind, currency, creator_id, brand_id) DO NOTHING
            RETURNING id
            """,
            [kind, currency, creator_id, brand_id],
        )
        row = cursor.fetchone()
        if row is not None:
            cursor.execute(
                "INSERT INTO payouts_ledgerbalance (account_id, balance_minor) VALUES (%s, 0) "
                "ON CONFLICT (account_id) DO NOTHING",
                [row[0]],
            )
        else:
            # Another caller won the race (or the account existed): read the winner's id.
            cursor.execute(
                """
                SELECT id FROM payouts_ledgeraccount
                WHERE kind = %s AND currency = %s
                  AND creator_id IS NOT DISTINCT FROM %s AND brand_id IS NOT DISTINCT FROM %s
                """,
                [kind, currency, creator_id, brand_id],
            )
            row = cursor.fetchone()
        assert row is not None
    return LedgerAccount.objects.get(pk=row[0])


AccountSpec = tuple[str, str, int | None, int | None]  # (kind, currency, creator id, brand id)


def ledger_accounts_ensure(specs: Sequence[AccountSpec]) -> dict[AccountSpec, int]:
    """The ids of many accounts at once, creating the missing ones (with a zero balance).

    Three statements whatever the number; race-safe like `ledger_account_get_or_create`.
    Owners are not re-validated here beyond what the table's constraints refuse.
    """
    unique = sorted(set(specs), key=lambda s: (s[0], s[1], s[2] or 0, s[3] or 0))
    if not unique:
        return {}
    for kind, currency, _creator, _brand in unique:
        if kind not in LedgerAccountKind.values:
            raise LedgerError(f"Unknown ledger account kind {kind!r}.")
        if not _CURRENCY.fullmatch(currency):
            raise LedgerError(f"{currency!r} is not an ISO 4217 code in capitals.")
    arrays: list[list[Any]] = [
        [s[0] for s in unique],
        [s[1] for s in unique],
        [s[2] for s in unique],
        [s[3] for s in unique],
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH created AS (
                INSERT INTO payouts_ledgeraccount (kind, currency, creator_id, brand_id, created_at)
                SELECT kind, currency, creator_id, brand_id, now()
                FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[])
                    AS s(kind, currency, creator_id, brand_id)
                ON CONFLICT (kind, currency, creator_id, brand_id) DO NOTHING
                RETURNING id
            )
            INSERT INTO payouts_ledgerbalance (account_id, balance_minor)
            SELECT id, 0 FROM created
            ON CONFLICT (account_id) DO NOTHING
            """,
            arrays,
        )
        # One branch per kind of owner, each an equality join that the unique index serves
        # (IS NOT DISTINCT FROM on the owner columns can use no index, and would compare
        # every account of a kind and currency).
        cursor.execute(
            """
            SELECT a.id, a.kind, a.currency, a.creator_id, a.brand_id
            FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[])
                AS s(kind, currency, creator_id, brand_id)
            JOIN payouts_ledgeraccount a
              ON a.kind = s.kind AND a.currency = s.currency AND a.creator_id = s.creator_id
             AND a.brand_id IS NULL
            UNION ALL
            SELECT a.id, a.kind, a.currency, a.creator_id, a.brand_id
            FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[])
                AS s(kind, currency, creator_id, brand_id)
            JOIN payouts_ledgeraccount a
              ON a.kind = s.kind AND a.currency = s.currency AND a.brand_id = s.brand_id
             AND a.creator_id IS NULL
            UNION ALL
            SELECT a.id, a.kind, a.currency, a.creator_id, a.brand_id
            FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[])
                AS s(kind, currency, creator_id, brand_id)
            JOIN payouts_ledgeraccount a
              ON a.kind = s.kind AND a.currency = s.currency
             AND a.creator_id IS NULL AND a.brand_id IS NULL
            WHERE s.creator_id IS NULL AND s.brand_id IS NULL
            """,
            arrays * 3,
        )
        return {
            (kind, currency, creator, brand): pk
            for pk, kind, currency, creator, brand in cursor.fetchall()
        }
