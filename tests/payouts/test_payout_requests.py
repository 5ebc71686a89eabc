"""Requesting, approving and rejecting payouts: the ledger reservation and its guards."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection

from connect.models import AuditEntry
from connect.privacy import user_account_delete
from payouts import payout_services
from payouts.models import Payout, PayoutAccount, PayoutOrigin, PayoutRail, PayoutStatus
from tests.connect.factories import CreatorProfileFactory
from tests.payouts.factories import give_available
from tests.payouts.payout_helpers import assert_ledger_ok, balances, staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer

pytestmark = pytest.mark.django_db


def test_a_request_reserves_the_amount_at_once(
    stripe_server: StripeServer, django_capture_on_commit_callbacks: Any
) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=12_345)

    with django_capture_on_commit_callbacks(execute=True):
        payout = payout_services.payout_request(creator=creator, currency="EUR", actor=creator.user)

    assert payout.amount_minor == 12_345 and payout.status == PayoutStatus.REQUESTED
    assert payout.rail == PayoutRail.STRIPE
    assert payout.stripe_account_id == creator.payout_account.stripe_account_id
    assert balances(creator)["available"] == 0
    assert balances(creator)["in_flight"] == 12_345
    assert AuditEntry.objects.filter(action="payouts.payout.requested").count() == 1
    assert [m.to for m in mail.outbox] == [[creator.user.email]]
    assert_ledger_ok()


@pytest.mark.parametrize(
    ("amount", "message"),
    [(10_001, "at most your available balance"), (4_999, "smallest payout"), (0, "above zero")],
)
def test_a_request_beyond_the_balance_or_below_the_minimum_is_refused(
    stripe_server: StripeServer, amount: int, message: str
) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=10_000)

    with pytest.raises(ValidationError, match=message):
        payout_services.payout_request(creator=creator, currency="EUR", amount_minor=amount)

    assert Payout.objects.count() == 0
    assert balances(creator)["available"] == 10_000


def test_a_request_needs_a_ready_payout_account() -> None:
    creator = CreatorProfileFactory()
    give_available(creator, 10_000)
    with pytest.raises(ValidationError, match="Set up how you get paid"):
        payout_services.payout_request(creator=creator, currency="EUR")
    PayoutAccount.objects.create(
        creator=creator, rail=PayoutRail.STRIPE, stripe_account_id="acct_x"
    )
    with pytest.raises(ValidationError, match="Set up how you get paid"):
        payout_services.payout_request(creator=creator, currency="EUR")
    assert balances(creator)["available"] == 10_000


def test_bank_payouts_are_in_euro_only() -> None:
    creator = CreatorProfileFactory()
    PayoutAccount.objects.create(
        creator=creator,
        rail=PayoutRail.BANK,
        bank_holder_name="Ada Lovelace",
        bank_iban_encrypted="token",
        bank_iban_last4="3000",
        bank_bic="COBADEFFXXX",
    )
    give_available(creator, 100_000, "PLN")
    with pytest.raises(ValidationError, match="Bank transfers go out in EUR"):
        payout_services.payout_request(creator=creator, currency="PLN")


def test_a_suspended_creator_cannot_request(stripe_server: StripeServer) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=10_000)
    type(creator).objects.filter(pk=creator.pk).update(suspended_at="2026-01-01T00:00:00Z")
    with pytest.raises(ValidationError, match="suspended"):
        payout_services.payout_request(creator=creator, currency="EUR")


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_against_a_balance_for_ten_make_exactly_ten(
    stripe_server: StripeServer,
) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=10 * 5_000)
    start = threading.Barrier(50)

    def request(_: int) -> str:
        try:
            start.wait()
            payout_services.payout_request(creator=creator, currency="EUR", amount_minor=5_000)
            return "ok"
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(request, range(50)))
    close_old_connections()

    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 40
    assert Payout.objects.count() == 10
    assert balances(creator) == {"available": 0, "in_flight": 50_000, "paid_out": 0, "pending": 0}
    assert_ledger_ok()


def test_one_approval_approves_a_payout_up_to_the_threshold(stripe_server: StripeServer) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=100_000)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    admin = staff()

    payout = payout_services.payout_approve(payout=payout, actor=admin)

    assert payout.status == PayoutStatus.APPROVED
    assert payout.first_approved_by == admin and payout.second_approved_by is None
    assert AuditEntry.objects.filter(action="payouts.payout.approved", actor=admin).exists()


def test_above_the_threshold_two_different_admins_must_approve(stripe_server: StripeServer) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=100_001)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    first, second = staff(), staff()

    payout = payout_services.payout_approve(payout=payout, actor=first)
    assert payout.status == PayoutStatus.REQUESTED
    with pytest.raises(ValidationError, match="second, different admin"):
        payout_services.payout_approve(payout=payout, actor=first)
    payout = payout_services.payout_approve(payout=payout, actor=second)

    assert payout.status == PayoutStatus.APPROVED
    assert (payout.first_approved_by, payout.second_approved_by) == (first, second)
    actions = list(
        AuditEntry.objects.filter(target_id=str(payout.pk)).values_list("action", flat=True)
    )
    assert set(actions) == {
        "payouts.payout.requested",
        "payouts.payout.first_approved",
        "payouts.payout.approved",
    }


def test_only_staff_approve_and_never_their_own_payout(stripe_server: StripeServer) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=10_000)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    with pytest.raises(PermissionDenied):
        payout_services.payout_approve(payout=payout, actor=creator.user)
    creator.user.is_staff = True
    creator.user.save()
    with pytest.raises(PermissionDenied, match="your own payout"):
        payout_services.payout_approve(payout=payout, actor=creator.user)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.REQUESTED and payout.first_approved_by is None


def test_rejection_returns_the_money_with_the_reason(
    stripe_server: StripeServer, django_capture_on_commit_callbacks: Any
) -> None:
    creator = stripe_ready_creator(stripe_server, available_minor=10_000)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    admin = staff()
    with pytest.raises(ValidationError, match="Give a reason"):
        payout_services.payout_reject(payout=payout, actor=admin, reason="  ")

    with django_capture_on_commit_callbacks(execute=True):
        payout = payout_services.payout_reject(payout=payout, actor=admin, reason="Unusual refunds")

    assert payout.status == PayoutStatus.REJECTED and payout.rejection_reason == "Unusual refunds"
    assert balances(creator)["available"] == 10_000 and balances(creator)["in_flight"] == 0
    with pytest.raises(ValidationError, match="can no longer be rejected"):
        payout_services.payout_reject(payout=payout, actor=admin, reason="again")
    assert balances(creator)["available"] == 10_000
    assert "Unusual refunds" in mail.outbox[-1].body
    assert_ledger_ok()


def test_the_automatic_run_requests_for_every_ready_creator_once(
    stripe_server: StripeServer,
) -> None:
    ready = stripe_ready_creator(stripe_server, available_minor=7_000)
    ready_pln = stripe_ready_creator(stripe_server, available_minor=30_000, currency="PLN")
    too_little = stripe_ready_creator(stripe_server, available_minor=4_000)
    not_ready = CreatorProfileFactory()
    give_available(not_ready, 9_000)

    assert payout_services.payouts_automatic_run() == 2
    assert payout_services.payouts_automatic_run() == 0

    made = {(p.creator_id, p.currency, p.amount_minor, p.origin) for p in Payout.objects.all()}
    assert made == {
        (ready.pk, "EUR", 7_000, PayoutOrigin.AUTOMATIC),
        (ready_pln.pk, "PLN", 30_000, PayoutOrigin.AUTOMATIC),
    }
    assert balances(too_little)["available"] == 4_000
    assert_ledger_ok()


def test_the_automatic_run_pays_no_creator_who_deleted_their_account(
    stripe_server: StripeServer,
) -> None:
    # given a creator with a ready Stripe account and money available, who deletes her
    # account (the close at Stripe has not happened yet)
    gone = stripe_ready_creator(stripe_server, available_minor=7_000)
    stays = stripe_ready_creator(stripe_server, available_minor=8_000)
    user_account_delete(user=gone.user)

    # when
    made = payout_services.payouts_automatic_run()

    # then
    assert made == 1
    assert list(Payout.objects.values_list("creator_id", flat=True)) == [stays.pk]
    assert balances(gone)["available"] == 7_000
