"""Sending payouts through the real `stripe` SDK against the project's Stripe-compatible
server: at most one transfer per payout whatever fails, and the ledger right after each
error mapping."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from payouts import payout_services
from payouts.models import Payout, PayoutStatus
from payouts.payout_services import SendOutcome
from tests.payouts.payout_helpers import assert_ledger_ok, balances, staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer

pytestmark = pytest.mark.django_db


def approved_payouts(server: StripeServer, amounts: list[int]) -> list[Payout]:
    admin = staff()
    payouts = []
    for amount in amounts:
        creator = stripe_ready_creator(server, available_minor=amount)
        payout = payout_services.payout_request(creator=creator, currency="EUR")
        payouts.append(payout_services.payout_approve(payout=payout, actor=admin))
    return payouts


def transfers_of(server: StripeServer, payout: Payout) -> list[Any]:
    listed = server.client().v1.transfers.list(
        params={"transfer_group": payout.transfer_group, "limit": 100}
    )
    return list(listed.data)


def send_until_done(payout: Payout, *, attempts: int = 10) -> list[SendOutcome]:
    """What a worker and its retries would do, without waiting for the backoff."""
    outcomes = []
    for _ in range(attempts):
        Payout.objects.filter(pk=payout.pk).update(next_attempt_at=None)
        result = payout_services.payout_send(payout_id=payout.pk)
        outcomes.append(result.outcome)
        if result.outcome in (SendOutcome.SENT, SendOutcome.FAILED):
            break
    return outcomes


def test_an_approved_payout_is_transferred_and_paid_out_to_the_bank(
    stripe_server: StripeServer, django_capture_on_commit_callbacks: Any
) -> None:
    (payout,) = approved_payouts(stripe_server, [12_500])

    with django_capture_on_commit_callbacks(execute=True):
        result = payout_services.payout_send(payout_id=payout.pk)

    payout.refresh_from_db()
    assert result.outcome == SendOutcome.SENT
    assert payout.status == PayoutStatus.SENT and payout.stripe_transfer_id.startswith("tr_")
    assert payout.stripe_payout_id.startswith("po_")
    (transfer,) = transfers_of(stripe_server, payout)
    assert (transfer.amount, transfer.currency, transfer.destination) == (
        12_500,
        "eur",
        payout.stripe_account_id,
    )
    assert balances(payout.creator) == {
        "available": 0,
        "in_flight": 0,
        "paid_out": 12_500,
        "pending": 0,
    }
    assert any("12" in m.subject or "payout" in m.subject.lower() for m in mail.outbox)
    # a second run of the task (a redelivered message) changes nothing
    assert payout_services.payout_send(payout_id=payout.pk).outcome == SendOutcome.SKIPPED
    assert len(transfers_of(stripe_server, payout)) == 1
    assert_ledger_ok()


def test_thirty_percent_of_transfers_answering_500_after_creating_still_make_one_each(
    stripe_server: StripeServer,
) -> None:
    payouts = approved_payouts(stripe_server, [5_000 + i * 137 for i in range(20)])
    rng = random.Random(7)
    faulted = 0

    for payout in payouts:
        if rng.random() < 0.3:
            stripe_server.control("faults", transfer_500_after_create=1)
            faulted += 1
        assert send_until_done(payout)[-1] == SendOutcome.SENT

    assert faulted >= 4
    for payout in payouts:
        payout.refresh_from_db()
        assert payout.status == PayoutStatus.SENT
        assert [t.id for t in transfers_of(stripe_server, payout)] == [payout.stripe_transfer_id]
    everything = stripe_server.client().v1.transfers.list(params={"limit": 100}).data
    assert sum(t.amount for t in everything) == sum(p.amount_minor for p in payouts)
    assert len(everything) == len(payouts)
    assert_ledger_ok()


def test_with_sdk_retries_and_forgotten_keys_each_payout_still_moves_money_once(
    stripe_server: StripeServer, settings: Any
) -> None:
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    payouts = approved_payouts(stripe_server, [6_000, 7_000, 8_000])

    for payout in payouts:
        # the transfer is made, the answer is a 500 (replayed to the SDK's retries), and
        # the server then forgets every idempotency key before the next attempt
        stripe_server.control("faults", transfer_500_after_create=1)
        first = payout_services.payout_send(payout_id=payout.pk)
        stripe_server.control("idempotency/forget")
        assert first.outcome == SendOutcome.SENT or send_until_done(payout)[-1] == SendOutcome.SENT

    for payout in payouts:
        assert len(transfers_of(stripe_server, payout)) == 1
    assert_ledger_ok()


def test_a_worker_that_died_after_the_transfer_is_resumed_without_a_second_one(
    stripe_server: StripeServer, settings: Any
) -> None:
    (payout,) = approved_payouts(stripe_server, [9_900])
    # a worker claimed the payout, made the transfer and died before recording it; Stripe
    # has since forgotten the idempotency key
    Payout.objects.filter(pk=payout.pk).update(
        status=PayoutStatus.SENDING, send_attempts=1, sending_since="2026-01-01T00:00:00Z"
    )
    stripe_server.client().v1.transfers.create(
        params={
            "amount": 9_900,
            "currency": "eur",
            "destination": payout.stripe_account_id,
            "transfer_group": payout.transfer_group,
            "metadata": {"payout_id": str(payout.pk)},
        },
        options={"idempotency_key": payout.transfer_idempotency_key},
    )
    stripe_server.control("idempotency/forget")

    assert payout.pk in payout_services.payouts_due_for_sending()
    assert payout_services.payout_send(payout_id=payout.pk).outcome == SendOutcome.SENT

    assert len(transfers_of(stripe_server, payout)) == 1
    assert_ledger_ok()


def test_a_live_lease_keeps_a_second_worker_away(stripe_server: StripeServer) -> None:
    (payout,) = approved_payouts(stripe_server, [5_000])
    Payout.objects.filter(pk=payout.pk).update(
        status=PayoutStatus.SENDING, send_attempts=1, sending_since=timezone.now()
    )
    assert payout_services.payout_send(payout_id=payout.pk).outcome == SendOutcome.SKIPPED
    assert transfers_of(stripe_server, payout) == []


def test_a_timeout_after_the_transfer_is_resolved_by_looking_it_up(
    stripe_server: StripeServer, settings: Any
) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    (payout,) = approved_payouts(stripe_server, [5_500])
    stripe_server.control("faults", transfer_timeout_after_create=1, timeout_seconds=2)

    result = payout_services.payout_send(payout_id=payout.pk)

    assert result.outcome == SendOutcome.SENT
    time.sleep(2)  # let the stalled answer finish before the server is reset
    assert len(transfers_of(stripe_server, payout)) == 1
    assert_ledger_ok()


def test_an_insufficient_platform_balance_retries_later_with_a_fresh_key(
    stripe_server: StripeServer,
) -> None:
    (payout,) = approved_payouts(stripe_server, [20_000])
    stripe_server.control("balance", currency="eur", amount=100)

    result = payout_services.payout_send(payout_id=payout.pk)

    payout.refresh_from_db()
    assert result.outcome == SendOutcome.RETRY and result.retry_in == 30
    assert payout.status == PayoutStatus.APPROVED and payout.next_attempt_at is not None
    assert "balance_insufficient" in payout.last_error
    assert payout.pk not in payout_services.payouts_due_for_sending()  # not due yet
    assert balances(payout.creator)["in_flight"] == 20_000

    stripe_server.control("balance", currency="eur", amount=10**9)
    assert send_until_done(payout) == [SendOutcome.SENT]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT and payout.transfer_key_generation == 1
    assert len(transfers_of(stripe_server, payout)) == 1
    assert_ledger_ok()


def test_an_account_without_the_transfers_capability_fails_the_payout_and_returns_the_money(
    stripe_server: StripeServer, django_capture_on_commit_callbacks: Any
) -> None:
    (payout,) = approved_payouts(stripe_server, [15_000])
    stripe_server.control(f"accounts/{payout.stripe_account_id}", transfers="inactive")

    with django_capture_on_commit_callbacks(execute=True):
        result = payout_services.payout_send(payout_id=payout.pk)

    payout.refresh_from_db()
    assert result.outcome == SendOutcome.FAILED
    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_code == "insufficient_capabilities_for_transfer"
    assert "cannot receive transfers" in payout.failure_reason
    assert balances(payout.creator)["available"] == 15_000
    assert balances(payout.creator)["in_flight"] == 0
    assert transfers_of(stripe_server, payout) == []
    assert mail.outbox and payout.failure_reason in mail.outbox[-1].body
    assert_ledger_ok()


def test_a_stripe_that_cannot_be_reached_leaves_the_payout_approved(
    stripe_server: StripeServer, settings: Any
) -> None:
    (payout,) = approved_payouts(stripe_server, [5_000])
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    result = payout_services.payout_send(payout_id=payout.pk)

    payout.refresh_from_db()
    assert result.outcome == SendOutcome.RETRY
    assert payout.status == PayoutStatus.APPROVED and "APIConnectionError" in payout.last_error
    assert balances(payout.creator)["in_flight"] == 5_000
    settings.STRIPE_API_BASE = stripe_server.url
    assert send_until_done(payout) == [SendOutcome.SENT]
    assert_ledger_ok()


def test_a_suspended_creators_payout_is_held(stripe_server: StripeServer) -> None:
    (payout,) = approved_payouts(stripe_server, [5_000])
    type(payout.creator).objects.filter(pk=payout.creator_id).update(suspended_at=timezone.now())

    assert payout_services.payout_send(payout_id=payout.pk).outcome == SendOutcome.SKIPPED
    assert payout.pk not in payout_services.payouts_due_for_sending()
    assert transfers_of(stripe_server, payout) == []
