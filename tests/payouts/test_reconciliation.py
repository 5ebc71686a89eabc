"""Daily reconciliation of Stripe's transfers with our sent payouts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from connect.models import User
from payouts import payout_services
from payouts.models import Payout, ReconciliationDifference, ReconciliationKind
from payouts.reconciliation import payouts_reconcile
from tests.payouts.payout_helpers import staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer

pytestmark = pytest.mark.django_db


def sent(server: StripeServer, amount: int) -> Payout:
    creator = stripe_ready_creator(server, available_minor=amount)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    payout_services.payout_approve(payout=payout, actor=staff())
    payout_services.payout_send(payout_id=payout.pk)
    payout.refresh_from_db()
    return payout


def test_matching_transfers_and_payouts_give_no_difference(stripe_server: StripeServer) -> None:
    for amount in (5_000, 6_000, 7_000):
        sent(stripe_server, amount)
    assert payouts_reconcile() == []
    assert ReconciliationDifference.objects.count() == 0


def test_every_kind_of_difference_is_flagged_once_and_emailed_to_staff(
    stripe_server: StripeServer, django_capture_on_commit_callbacks: Any
) -> None:
    good = sent(stripe_server, 5_000)
    doubled = sent(stripe_server, 7_000)
    client = stripe_server.client()
    # a second transfer made for a payout, and a transfer for a payout id we never sent
    client.v1.transfers.create(
        params={
            "amount": 7_000,
            "currency": "eur",
            "destination": doubled.stripe_account_id,
            "transfer_group": doubled.transfer_group,
        }
    )
    client.v1.transfers.create(
        params={
            "amount": 1_234,
            "currency": "eur",
            "destination": good.stripe_account_id,
            "transfer_group": "payout_999999",
        }
    )
    staff_emails = sorted(User.objects.filter(is_staff=True).values_list("email", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        found = payouts_reconcile()
    again = payouts_reconcile()

    assert sorted((d.kind, d.payout_id, d.actual_minor) for d in found) == [
        (ReconciliationKind.DUPLICATE_TRANSFER, doubled.pk, 14_000),
        (ReconciliationKind.UNKNOWN_TRANSFER, None, 1_234),
    ]
    assert again == []  # found again, but already open: not repeated
    assert ReconciliationDifference.objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == staff_emails
    assert "2 differences" in mail.outbox[0].subject


def test_a_payout_marked_sent_without_any_transfer_is_missing(
    stripe_server: StripeServer,
) -> None:
    payout = sent(stripe_server, 5_000)
    # our record points to a group in which Stripe has nothing
    Payout.objects.filter(pk=payout.pk).update(stripe_transfer_id="tr_never_made", id=payout.pk)
    stripe_server.control("reset")

    (difference,) = payouts_reconcile()

    assert difference.kind == ReconciliationKind.MISSING_TRANSFER
    assert difference.payout_id == payout.pk and difference.expected_minor == 5_000


def test_a_reversal_we_did_not_record_is_flagged(stripe_server: StripeServer) -> None:
    payout = sent(stripe_server, 8_000)
    stripe_server.client().v1.transfers.reversals.create(
        payout.stripe_transfer_id, params={"amount": 3_000}
    )

    (difference,) = payouts_reconcile()

    assert difference.kind == ReconciliationKind.REVERSAL_MISMATCH
    assert (difference.expected_minor, difference.actual_minor) == (0, 3_000)
