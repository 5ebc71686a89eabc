"""Stripe webhooks at /webhooks/stripe/: only genuine, current events count, each once, and
handlers act on what Stripe says now (re-fetched), not on the event body or its order."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from django.test import Client

from connect.models import CreatorProfile
from payouts import payout_services
from payouts.models import Payout, PayoutAccount, PayoutStatus, StripeWebhookEvent
from stripe_server.app import sign_payload
from tests.connect.factories import CreatorProfileFactory
from tests.payouts.payout_helpers import assert_ledger_ok, balances, staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import WEBHOOK_SECRET, StripeServer

pytestmark = pytest.mark.django_db
URL = "/webhooks/stripe/"


def raw_event(server: StripeServer, event_id: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - the test server
        f"{server.url}/v1/events/{event_id}",
        headers={"Authorization": "Bearer sk_test_connect_local"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        return str(answer.read().decode())


def last_event(server: StripeServer, type_: str) -> str:
    events = server.client().v1.events.list(params={"type": type_, "limit": 1}).data
    assert events, f"the server recorded no {type_}"
    return raw_event(server, events[0].id)


def deliver(
    client: Client,
    payload: str,
    *,
    secret: str = WEBHOOK_SECRET,
    offset: int = 0,
    signed_payload: str | None = None,
) -> Any:
    signature = sign_payload(
        signed_payload if signed_payload is not None else payload,
        secret,
        int(time.time()) + offset,
    )
    return client.post(
        URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def sent_payout(server: StripeServer, amount: int = 10_000) -> Payout:
    creator = stripe_ready_creator(server, available_minor=amount)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    payout_services.payout_approve(payout=payout, actor=staff())
    assert payout_services.payout_send(payout_id=payout.pk).outcome == "sent"
    payout.refresh_from_db()
    return payout


def onboarded_creator(server: StripeServer) -> tuple[CreatorProfile, str]:
    """A creator whose connected account has just finished onboarding (an account.updated
    waits at the server); returns the creator and the account id."""
    creator: CreatorProfile = CreatorProfileFactory()
    account = server.client().v1.accounts.create(params={"country": "DE"})
    PayoutAccount.objects.create(creator=creator, rail="stripe", stripe_account_id=account.id)
    server.control(f"accounts/{account.id}", complete="true")
    return creator, account.id


def test_account_updated_syncs_the_payout_account_from_stripe(
    client: Client, stripe_server: StripeServer
) -> None:
    creator, _account_id = onboarded_creator(stripe_server)

    answer = deliver(client, last_event(stripe_server, "account.updated"))

    assert answer.status_code == 200 and answer.json()["outcome"] == "synced"
    payout_account = PayoutAccount.objects.get(creator=creator)
    assert payout_account.stripe_payouts_enabled and payout_account.stripe_transfers_active
    assert payout_account.ready and payout_account.stripe_requirements_due == []


def test_account_updated_for_an_account_closed_since_is_acknowledged(
    client: Client, stripe_server: StripeServer
) -> None:
    # given an account.updated whose account has been deleted at Stripe since (a creator
    # who deleted her Connect account)
    creator, account_id = onboarded_creator(stripe_server)
    event = last_event(stripe_server, "account.updated")
    stripe_server.client().v1.accounts.delete(account_id)

    # when
    answer = deliver(client, event)

    # then it is answered 200, so Stripe stops sending it, and nothing was synced
    assert answer.status_code == 200 and answer.json()["outcome"] == "account gone"
    assert not PayoutAccount.objects.get(creator=creator).stripe_payouts_enabled


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("wrong secret", {"secret": "whsec_someone_else"}),
        ("stale timestamp", {"offset": -301}),
        ("future timestamp", {"offset": 301}),
    ],
)
def test_forged_stale_and_future_signatures_are_refused(
    client: Client, stripe_server: StripeServer, case: str, kwargs: dict[str, Any]
) -> None:
    payout = sent_payout(stripe_server)
    stripe_server.control(f"payouts/{payout.stripe_payout_id}", status="paid")

    answer = deliver(client, last_event(stripe_server, "payout.paid"), **kwargs)

    assert answer.status_code == 400, case
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
    assert StripeWebhookEvent.objects.count() == 0


def test_a_tampered_body_is_refused(client: Client, stripe_server: StripeServer) -> None:
    payout = sent_payout(stripe_server)
    stripe_server.control(f"payouts/{payout.stripe_payout_id}", status="paid")
    genuine = last_event(stripe_server, "payout.paid")
    tampered = genuine.replace('"paid"', '"failed"')
    assert tampered != genuine

    answer = deliver(client, tampered, signed_payload=genuine)

    assert answer.status_code == 400
    assert client.post(URL, data=genuine, content_type="application/json").status_code == 400
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT


def test_payout_paid_marks_the_payout_paid_once_however_often_it_comes(
    client: Client, stripe_server: StripeServer
) -> None:
    payout = sent_payout(stripe_server)
    stripe_server.control(f"payouts/{payout.stripe_payout_id}", status="paid")
    event = last_event(stripe_server, "payout.paid")

    first = deliver(client, event)
    again = deliver(client, event)

    assert first.json()["outcome"] == f"payout {payout.pk} paid"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and payout.paid_at is not None
    assert StripeWebhookEvent.objects.filter(type="payout.paid").count() == 1
    assert_ledger_ok()


def test_a_failed_bank_payout_takes_the_transfer_back_and_returns_the_money(
    client: Client, stripe_server: StripeServer
) -> None:
    payout = sent_payout(stripe_server, 30_000)
    stripe_server.control(
        f"payouts/{payout.stripe_payout_id}", status="failed", failure_code="account_closed"
    )
    event = last_event(stripe_server, "payout.failed")

    assert deliver(client, event).status_code == 200
    assert deliver(client, event).json()["outcome"] == "duplicate"

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED and payout.reversed_minor == 30_000
    assert "account_closed" in payout.failure_code
    assert balances(payout.creator) == {
        "available": 30_000,
        "in_flight": 0,
        "paid_out": 0,
        "pending": 0,
    }
    transfer = stripe_server.client().v1.transfers.retrieve(payout.stripe_transfer_id)
    assert transfer.amount_reversed == 30_000
    # the reversal's own transfer.reversed event changes nothing more
    assert deliver(client, last_event(stripe_server, "transfer.reversed")).status_code == 200
    assert balances(payout.creator)["available"] == 30_000
    assert_ledger_ok()


def test_a_partial_reversal_in_stripe_returns_that_part(
    client: Client, stripe_server: StripeServer
) -> None:
    payout = sent_payout(stripe_server, 20_000)
    stripe_server.client().v1.transfers.reversals.create(
        payout.stripe_transfer_id, params={"amount": 5_000}
    )

    answer = deliver(client, last_event(stripe_server, "transfer.reversed"))

    assert answer.status_code == 200
    payout.refresh_from_db()
    assert payout.reversed_minor == 5_000 and payout.status == PayoutStatus.SENT
    assert balances(payout.creator)["available"] == 5_000
    assert balances(payout.creator)["paid_out"] == 15_000
    assert_ledger_ok()


def test_events_out_of_order_end_in_what_stripe_says_now(
    client: Client, stripe_server: StripeServer
) -> None:
    """A stale `account.updated` (made before onboarding finished) delivered last still
    leaves the account ready, because the handler re-fetches the account."""
    creator = CreatorProfileFactory()
    account = stripe_server.client().v1.accounts.create(params={"country": "DE"})
    PayoutAccount.objects.create(creator=creator, rail="stripe", stripe_account_id=account.id)
    stripe_server.control(f"accounts/{account.id}", payouts_enabled="false")
    early = last_event(stripe_server, "account.updated")
    stripe_server.control(f"accounts/{account.id}", complete="true")
    late = last_event(stripe_server, "account.updated")
    assert json.loads(early)["id"] != json.loads(late)["id"]

    deliver(client, late)
    deliver(client, early)

    assert PayoutAccount.objects.get(creator=creator).ready


def test_unknown_event_types_are_acknowledged_and_recorded(
    client: Client, stripe_server: StripeServer
) -> None:
    payout = sent_payout(stripe_server)
    event = last_event(stripe_server, "transfer.created")
    answer = deliver(client, event)
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert StripeWebhookEvent.objects.get(type="transfer.created").outcome == "ignored"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
