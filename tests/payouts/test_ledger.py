"""The ledger: posting, idempotency, balances, the database's own guards and check_ledger."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payouts.ledger import (
    IdempotencyConflictError,
    LedgerError,
    LedgerLine,
    LedgerPosting,
    UnbalancedPostingError,
    ledger_account_get_or_create,
    ledger_post,
    ledger_post_many,
)
from payouts.models import LedgerAccountKind, LedgerBalance, LedgerEntry, LedgerTransaction
from payouts.selectors import account_balance, brand_balances, creator_balances, ledger_checks
from tests.payouts.factories import ledger_accounts, post_commission


def _entries_sum(account_id: int) -> int:
    return sum(
        LedgerEntry.objects.filter(account_id=account_id).values_list("amount_minor", flat=True)
    )


@pytest.mark.django_db
def test_a_balanced_posting_moves_the_balances_exactly() -> None:
    # given
    accounts = ledger_accounts("EUR")

    # when
    tx = post_commission(accounts, 1234, key="commission:1")
    ledger_post(
        idempotency_key="maturation:1",
        kind="maturation",
        lines=[(accounts.available, 1000), (accounts.pending, -1000)],
    )

    # then
    assert tx.kind == "commission"
    assert sorted(tx.entries.values_list("amount_minor", flat=True)) == [-1234, 1234]
    assert creator_balances(accounts.creator) == {
        "EUR": {
            "creator_pending": 234,
            "creator_available": 1000,
            "creator_in_flight": 0,
            "creator_paid_out": 0,
        }
    }
    assert brand_balances(accounts.brand) == {"EUR": {"brand_commission_owed": -1234}}
    assert account_balance(accounts.pending) == 234


@pytest.mark.django_db
def test_posting_the_same_key_twice_posts_once() -> None:
    # given
    accounts = ledger_accounts("EUR")
    first = post_commission(accounts, 500, key="commission:42")

    # when
    again = post_commission(accounts, 500, key="commission:42")

    # then
    assert again.pk == first.pk
    assert LedgerTransaction.objects.count() == 1
    assert LedgerEntry.objects.count() == 2
    assert account_balance(accounts.pending) == 500
    assert account_balance(accounts.brand_owed) == -500


@pytest.mark.django_db
def test_the_same_key_with_different_lines_is_refused() -> None:
    # given
    accounts = ledger_accounts("EUR")
    post_commission(accounts, 500, key="commission:42")

    # when / then
    with pytest.raises(IdempotencyConflictError, match="commission:42"):
        post_commission(accounts, 501, key="commission:42")
    assert account_balance(accounts.pending) == 500


@pytest.mark.django_db
def test_the_same_key_twice_in_one_batch_with_different_lines_is_refused() -> None:
    # given
    accounts = ledger_accounts("EUR")
    lines_a = [LedgerLine.of(accounts.pending, 1), LedgerLine.of(accounts.brand_owed, -1)]
    lines_b = [LedgerLine.of(accounts.pending, 2), LedgerLine.of(accounts.brand_owed, -2)]

    # when / then
    with pytest.raises(IdempotencyConflictError, match="twice in the batch"):
        ledger_post_many(
            postings=[
                LedgerPosting(idempotency_key="k", kind="commission", lines=lines_a),
                LedgerPosting(idempotency_key="k", kind="commission", lines=lines_b),
            ]
        )
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_unbalanced_lines_before_the_database() -> None:
    # given
    accounts = ledger_accounts("EUR")

    # when / then
    with pytest.raises(UnbalancedPostingError, match=r"\{'EUR': 1\}"):
        ledger_post(
            idempotency_key="bad",
            kind="commission",
            lines=[(accounts.pending, 101), (accounts.brand_owed, -100)],
        )
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lines_amounts", "message"),
    [([], "no lines"), ([0, 0], "non-zero integers"), ([1.5, -1.5], "non-zero integers")],
)
def test_the_service_refuses_malformed_lines(lines_amounts: list[float], message: str) -> None:
    # given
    accounts = ledger_accounts("EUR")
    targets = [accounts.pending, accounts.brand_owed]

    # when / then
    with pytest.raises(LedgerError, match=message):
        ledger_post(
            idempotency_key="bad",
            kind="commission",
            lines=[
                (target, amount) for target, amount in zip(targets, lines_amounts, strict=False)
            ],  # type: ignore[misc]
        )


@pytest.mark.django_db
def test_a_multi_currency_transaction_balances_per_currency() -> None:
    # given
    eur = ledger_accounts("EUR")
    pln = ledger_accounts("PLN", creator=eur.creator, brand=eur.brand)

    # when
    ledger_post(
        idempotency_key="mixed",
        kind="correction",
        lines=[
            (eur.pending, 700),
            (eur.brand_owed, -700),
            (pln.pending, 3000),
            (pln.brand_owed, -3000),
        ],
    )

    # then
    balances = creator_balances(eur.creator)
    assert balances["EUR"]["creator_pending"] == 700
    assert balances["PLN"]["creator_pending"] == 3000
    with pytest.raises(UnbalancedPostingError, match=r"'EUR': 700, 'PLN': -700"):
        ledger_post(
            idempotency_key="cross",
            kind="correction",
            lines=[(eur.pending, 700), (pln.brand_owed, -700)],
        )


@pytest.mark.django_db
def test_an_entry_in_another_currency_than_its_account_is_refused_by_the_database() -> None:
    # given
    accounts = ledger_accounts("EUR")

    # when / then
    with (
        pytest.raises(IntegrityError, match="ledger_entry_account_currency_fk"),
        transaction.atomic(),
    ):
        ledger_post(
            idempotency_key="wrong-currency",
            kind="correction",
            lines=[
                LedgerLine(accounts.pending.pk, 100, "PLN"),
                LedgerLine(accounts.brand_owed.pk, -100, "PLN"),
            ],
        )


@pytest.mark.django_db
def test_accounts_are_unique_per_kind_currency_and_owner() -> None:
    # given
    accounts = ledger_accounts("EUR")

    # when
    again = ledger_account_get_or_create(
        kind=LedgerAccountKind.CREATOR_PENDING, currency="EUR", creator=accounts.creator
    )
    platform = ledger_account_get_or_create(
        kind=LedgerAccountKind.PLATFORM_CLEARING, currency="EUR"
    )
    platform_again = ledger_account_get_or_create(
        kind=LedgerAccountKind.PLATFORM_CLEARING, currency="EUR"
    )

    # then
    assert again.pk == accounts.pending.pk
    assert platform_again.pk == platform.pk
    assert account_balance(platform) == 0
    with pytest.raises(LedgerError, match="belongs to a creator"):
        ledger_account_get_or_create(
            kind=LedgerAccountKind.CREATOR_PENDING, currency="EUR", brand=accounts.brand
        )


def _raw_commit(sql: str, params: list[object]) -> None:
    """Run SQL in its own database transaction, as any client could, and COMMIT it."""
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(sql, params)
            cursor.execute("COMMIT")
        except Exception:
            cursor.execute("ROLLBACK")
            raise


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_an_unbalanced_transaction_at_commit() -> None:
    # given
    accounts = ledger_accounts("EUR")
    sql = """
        WITH tx AS (
            INSERT INTO payouts_ledgertransaction (idempotency_key, kind, created_at, metadata)
            VALUES ('raw', 'correction', now(), '{}') RETURNING id
        )
        INSERT INTO payouts_ledgerentry (transaction_id, account_id, amount_minor, currency)
        SELECT tx.id, %s, 100, 'EUR' FROM tx
    """

    # when / then
    with pytest.raises(IntegrityError, match="unbalanced: its EUR entries sum to 100"):
        _raw_commit(sql, [accounts.pending.pk])
    assert LedgerTransaction.objects.count() == 0
    assert LedgerEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_transaction_without_entries_at_commit() -> None:
    # when / then
    with pytest.raises(IntegrityError, match="has no entries"):
        _raw_commit(
            "INSERT INTO payouts_ledgertransaction (idempotency_key, kind, created_at, metadata) "
            "VALUES ('empty', 'correction', now(), '{}')",
            [],
        )
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE payouts_ledgerentry SET amount_minor = amount_minor * 2",
        "DELETE FROM payouts_ledgerentry",
        "UPDATE payouts_ledgertransaction SET kind = 'correction'",
        "DELETE FROM payouts_ledgertransaction",
    ],
)
def test_the_database_refuses_to_update_or_delete_entries_and_transactions(sql: str) -> None:
    # given
    accounts = ledger_accounts("EUR")
    post_commission(accounts, 900, key="commission:1")

    # when / then
    with pytest.raises(IntegrityError, match="append-only"):
        _raw_commit(sql, [])
    assert sorted(LedgerEntry.objects.values_list("amount_minor", flat=True)) == [-900, 900]
    assert LedgerTransaction.objects.get().kind == "commission"


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_to_the_same_accounts_end_with_exact_balances() -> None:
    # given
    accounts = ledger_accounts("EUR")
    threads_count, postings_each = 8, 25
    errors: list[Exception] = []
    start = threading.Barrier(threads_count)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(postings_each):
                # Alternate the line order so that lock ordering, not luck, avoids deadlocks;
                # every thread also re-posts a shared key to race on idempotency.
                post_commission(accounts, n + 1, key=f"commission:{n}:{i}")
                ledger_post(
                    idempotency_key=f"shared:{i}",
                    kind="maturation",
                    lines=[(accounts.pending, -1), (accounts.available, 1)][:: 1 if n % 2 else -1],
                )
        except Exception as error:  # noqa: BLE001 -- any failure must reach the main thread
            errors.append(error)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert errors == []
    earned = postings_each * sum(n + 1 for n in range(threads_count))
    assert account_balance(accounts.pending) == earned - postings_each
    assert account_balance(accounts.available) == postings_each
    assert account_balance(accounts.brand_owed) == -earned
    assert LedgerTransaction.objects.count() == threads_count * postings_each + postings_each
    assert all(check.failures == [] for check in ledger_checks())


@pytest.mark.django_db
def test_posting_many_at_once_posts_only_what_is_missing() -> None:
    # given
    accounts = ledger_accounts("EUR")
    post_commission(accounts, 100, key="c:1")
    postings = [
        LedgerPosting(
            idempotency_key=f"c:{n}",
            kind="commission",
            lines=[(accounts.pending, 100 * n), (accounts.brand_owed, -100 * n)],
            commission_id=n,
        )
        for n in (1, 2, 3)
    ]

    # when
    posted = ledger_post_many(postings=postings)

    # then
    assert [tx.idempotency_key for tx in posted] == ["c:1", "c:2", "c:3"]
    assert [tx.commission_id for tx in posted] == [None, 2, 3]
    assert account_balance(accounts.pending) == 600
    assert account_balance(accounts.brand_owed) == -600


@pytest.mark.django_db(transaction=True)
def test_check_ledger_passes_on_good_data() -> None:
    # given
    accounts = ledger_accounts("EUR")
    post_commission(accounts, 250, key="commission:1")
    out = StringIO()

    # when
    call_command("check_ledger", stdout=out)

    # then
    assert "Ledger: 5 accounts, 1 transactions, 2 entries." in out.getvalue()
    assert "check_ledger: every invariant holds." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_check_ledger_exits_1_when_a_rollup_is_tampered_with() -> None:
    # given
    accounts = ledger_accounts("EUR")
    post_commission(accounts, 250, key="commission:1")
    LedgerBalance.objects.filter(account=accounts.pending).update(balance_minor=251)
    out, err = StringIO(), StringIO()

    # when
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_ledger", stdout=out, stderr=err)

    # then
    assert exit_info.value.code == 1
    assert "FAIL every balance rollup equals the sum of its entries: 1" in out.getvalue()
    assert f"account {accounts.pending.pk}: rollup 251 but entries sum to 250" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_check_ledger_reports_an_unbalanced_transaction_slipped_past_a_disabled_trigger() -> None:
    # given
    accounts = ledger_accounts("EUR")
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE payouts_ledgerentry DISABLE TRIGGER payouts_ledgerentry_balanced"
        )
        try:
            _raw_commit(
                """
                WITH tx AS (
                    INSERT INTO payouts_ledgertransaction (idempotency_key, kind, created_at, metadata)
                    VALUES ('raw', 'correction', now(), '{}') RETURNING id
                )
                INSERT INTO payouts_ledgerentry (transaction_id, account_id, amount_minor, currency)
                SELECT tx.id, %s, 100, 'EUR' FROM tx
                """,
                [accounts.pending.pk],
            )
        finally:
            cursor.execute(
                "ALTER TABLE payouts_ledgerentry ENABLE TRIGGER payouts_ledgerentry_balanced"
            )
    err = StringIO()

    # when
    with pytest.raises(SystemExit):
        call_command("check_ledger", stdout=StringIO(), stderr=err)

    # then
    tx_id = LedgerTransaction.objects.get().pk
    assert f"transaction {tx_id}: EUR entries sum to 100" in err.getvalue()
    assert f"account {accounts.pending.pk}: rollup 0 but entries sum to 100" in err.getvalue()


_posting_amounts = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 10**9)), min_size=1, max_size=30
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=_posting_amounts)
def test_every_balance_equals_the_sum_of_its_entries(moves: list[tuple[int, int, int]]) -> None:
    # given
    with transaction.atomic():
        accounts = ledger_accounts("EUR")
        pool = [accounts.pending, accounts.available, accounts.in_flight, accounts.brand_owed]

        # when
        for n, (source, target, amount) in enumerate(moves):
            if source == target:
                continue
            ledger_post(
                idempotency_key=f"move:{n}",
                kind="correction",
                lines=[(pool[target], amount), (pool[source], -amount)],
            )

        # then
        for account in pool:
            assert account_balance(account) == _entries_sum(account.pk)
        assert sum(account_balance(account) for account in pool) == 0
        assert all(check.failures == [] for check in ledger_checks())
        transaction.set_rollback(True)
