"""Earnings tasks: thin wrappers around `payouts.processing`.

Each task is safe to run twice, concurrently, or not at all: processing claims events with
`FOR UPDATE SKIP LOCKED` inside one transaction, and the ledger refuses a second posting of
the same idempotency key. A message lost with Redis or a worker killed mid-batch leaves the
events unprocessed in PostgreSQL, where the sweeper (beat, every 30 s) finds them again.
"""

from __future__ import annotations

import stripe
from celery import Task, shared_task
from django.db import OperationalError

from payouts import payout_services, processing, stripe_accounts


@shared_task(
    name="payouts.order_events_process_batch",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(
        OperationalError,
    ),  # a deadlock or a lost connection: the transaction rolled back
    retry_backoff=True,
    max_retries=5,
)
def order_events_process_batch(batch_id: str) -> int:
    """Process the events of one stored batch (one message per batch, sent at commit)."""
    result = processing.order_events_process(batch_id=batch_id)
    return result.events


@shared_task(
    name="payouts.order_events_sweep", acks_late=True, ignore_result=True, max_retries=0, expires=30
)
def order_events_sweep() -> int:
    """Every 30 s: enqueue the batches whose events are still unprocessed."""
    return processing.order_events_sweep()


@shared_task(
    name="payouts.commissions_mature", acks_late=True, ignore_result=True, max_retries=0, expires=60
)
def commissions_mature() -> int:
    """Every minute: approve the commissions whose hold has passed."""
    total = 0
    while True:
        approved = processing.commissions_mature()
        total += approved
        if approved == 0:
            return total


@shared_task(
    name="payouts.campaign_budget_settle",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def campaign_budget_settle(campaign_id: int) -> int:
    """A campaign's budget changed: share it out again among its orders."""
    return processing.campaign_budget_settle(campaign_id)


@shared_task(
    name="payouts.payout_send",
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
)
def payout_send(self: Task, payout_id: int) -> str:
    """Send one approved Stripe payout; a temporary failure retries with a growing delay (the
    send sweeper is the backstop once retries run out or the message is lost)."""
    result = payout_services.payout_send(payout_id=payout_id)
    if result.outcome == payout_services.SendOutcome.RETRY and self.request.retries < 8:
        raise self.retry(countdown=result.retry_in)
    return result.outcome.value


@shared_task(
    name="payouts.payouts_send_sweep", acks_late=True, ignore_result=True, max_retries=0, expires=30
)
def payouts_send_sweep() -> int:
    """Every 30 s: enqueue Stripe payouts that are due, abandoned by a dead worker, or sent
    without their bank payout."""
    due = payout_services.payouts_due_for_sending()
    for payout_id in due:
        payout_send.delay(payout_id)
    return len(due)


@shared_task(
    name="payouts.payout_account_stripe_close",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(
        OperationalError,
        stripe.APIConnectionError,
        stripe.APIError,
        stripe.RateLimitError,
    ),
    retry_backoff=60,  # waits of up to 1, 2, 4, 8, 10 minutes; then the daily sweep
    max_retries=5,
)
def payout_account_stripe_close(payout_account_id: int) -> str:
    """Close a deleted creator's Stripe connected account (sent when the deletion commits)."""
    return stripe_accounts.payout_account_close_at_stripe(payout_account_id=payout_account_id).value


@shared_task(
    name="payouts.payout_accounts_stripe_close_sweep",
    acks_late=True,
    ignore_result=True,
    max_retries=0,
    expires=3600,
)
def payout_accounts_stripe_close_sweep() -> int:
    """Daily: enqueue closing the connected accounts of deleted creators still open at Stripe
    (a lost message, retries run out, a refusal such as a balance left on the account)."""
    due = stripe_accounts.payout_accounts_due_for_stripe_close()
    for payout_account_id in due:
        payout_account_stripe_close.delay(payout_account_id)
    return len(due)


@shared_task(name="payouts.payouts_automatic_run", acks_late=True, ignore_result=True)
def payouts_automatic_run() -> int:
    """On the configured days: request payouts for every creator ready to be paid."""
    return payout_services.payouts_automatic_run()


@shared_task(name="payouts.payouts_reconcile", acks_late=True, ignore_result=True)
def payouts_reconcile() -> int:
    """Daily: compare Stripe's transfers with our sent payouts; flag and email differences."""
    from payouts.reconciliation import payouts_reconcile as reconcile

    return len(reconcile())
