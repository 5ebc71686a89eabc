"""The payout send task in a real Celery worker, with the Stripe-compatible server down for
a while: approved payouts wait, nothing moves twice, and the sweeper sends them once it is
back."""

from __future__ import annotations

from typing import Any

import pytest

from payouts import payout_services
from payouts.models import Payout, PayoutStatus
from tests.payouts.payout_helpers import assert_ledger_ok, staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer
from tests.payouts.workers import celery_worker, process_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_sends_approved_payouts_and_the_sweeper_retries_while_stripe_is_down(
    stripe_server: StripeServer, settings: Any
) -> None:
    admin = staff()
    creators = [stripe_ready_creator(stripe_server, available_minor=5_000 + i) for i in range(3)]
    payouts = [payout_services.payout_request(creator=c, currency="EUR") for c in creators]

    down = process_env(
        STRIPE_API_BASE="http://127.0.0.1:9",  # nothing listens: every call fails to connect
        STRIPE_MAX_NETWORK_RETRIES="0",
        PAYOUT_RETRY_FIRST_SECONDS="1",
        PAYOUT_RETRY_MAX_SECONDS="1",
    )
    with celery_worker(down, name="stripe-down") as worker:
        for payout in payouts:
            payout_services.payout_approve(payout=payout, actor=admin)
        wait_for(
            lambda: all(
                p.send_attempts >= 1 and p.status == PayoutStatus.APPROVED
                for p in Payout.objects.all()
            ),
            f"every payout tried and put back\n{worker.log()}",
        )
    assert Payout.objects.filter(status=PayoutStatus.APPROVED).count() == 3
    assert all("APIConnectionError" in p.last_error for p in Payout.objects.all())

    up = process_env(
        STRIPE_API_BASE=stripe_server.url,
        STRIPE_MAX_NETWORK_RETRIES="0",
        PAYOUT_RETRY_FIRST_SECONDS="1",
        PAYOUT_RETRY_MAX_SECONDS="1",
    )
    with celery_worker(up, beat=True, name="stripe-up") as worker:
        wait_for(
            lambda: Payout.objects.filter(status=PayoutStatus.SENT).count() == 3,
            f"every payout sent\n{worker.log()}",
            timeout=90,
        )
    for payout in Payout.objects.all():
        listed = stripe_server.client().v1.transfers.list(
            params={"transfer_group": payout.transfer_group}
        )
        assert [t.id for t in listed.data] == [payout.stripe_transfer_id]
    assert_ledger_ok()
