"""Earnings tasks: thin wrappers around `payouts.processing`.

Each task is safe to run twice, concurrently, or not at all: processing claims events with
`FOR UPDATE SKIP LOCKED` inside one transaction, and the ledger refuses a second posting of
the same idempotency key. A message lost with Redis or a worker killed mid-batch leaves the
events unprocessed in PostgreSQL, where the sweeper (beat, every 30 s) finds them again.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from payouts import processing


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
