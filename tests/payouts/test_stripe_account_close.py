"""Closing a deleted creator's Stripe connected account, through the real `stripe` SDK against
the project's Stripe-compatible server, the real broker (Redis) and the real database: closed
once the deletion commits, once however often it runs, and retried by the daily sweep after a
refusal, an unreachable Stripe or a lost message."""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import stripe
from django.db import connection, transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from config.celery import app as celery_app
from connect.models import AuditEntry, CreatorProfile
from connect.privacy import user_account_delete
from payouts import payout_services, tasks
from payouts.models import PayoutAccount, PayoutStatus
from payouts.payout_accounts import bank_account_set
from payouts.stripe_accounts import (
    CloseOutcome,
    payout_account_close_at_stripe,
    payout_accounts_due_for_stripe_close,
    stripe_account_close_after_deletion,
)
from tests.connect.factories import CreatorProfileFactory
from tests.payouts.payout_helpers import staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer

pytestmark = pytest.mark.django_db

CLOSE_TASK = "payouts.payout_account_stripe_close"


@pytest.fixture
def broker(settings: Any) -> Iterator[redis.Redis]:
    """The test run's own Celery broker queue, empty before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.delete("celery")
    client.close()


def queued(broker: redis.Redis) -> list[tuple[str, list[Any]]]:
    headers = [json.loads(raw)["headers"] for raw in broker.lrange("celery", 0, -1)]
    return [(h["task"], list(ast.literal_eval(h["argsrepr"]))) for h in headers]


def work_off(broker: redis.Redis) -> list[str]:
    """What a worker does with the queued messages: run each task once, oldest first."""
    outcomes = []
    while (raw := broker.rpop("celery")) is not None:
        headers = json.loads(raw)["headers"]
        task = celery_app.tasks[headers["task"]]
        outcomes.append(task(*ast.literal_eval(headers["argsrepr"])))
    return outcomes


def delete_creator(creator: CreatorProfile) -> None:
    """The creator deletes their Connect account (`connect.privacy.user_account_delete`)."""
    user_account_delete(user=creator.user)


def open_at_stripe(server: StripeServer, account_id: str) -> bool:
    try:
        server.client().v1.accounts.retrieve(account_id)
    except stripe.InvalidRequestError as error:
        assert (error.http_status, error.code) == (404, "resource_missing")
        return False
    return True


def audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def money_on_connected_account(server: StripeServer, account_id: str, amount: int) -> str:
    return str(
        server.client()
        .v1.transfers.create({"amount": amount, "currency": "eur", "destination": account_id})
        .id
    )


# --- closing ----------------------------------------------------------------------------------


def test_a_deleted_creators_account_is_closed_at_stripe_once_the_deletion_commits(
    stripe_server: StripeServer, broker: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a creator with a connected account, and another creator who stays
    creator = stripe_ready_creator(stripe_server)
    stays = stripe_ready_creator(stripe_server)
    account = PayoutAccount.objects.get(creator=creator)

    # when: the creator deletes their account
    with django_capture_on_commit_callbacks(execute=True):
        delete_creator(creator)
        # nothing goes to the broker before the deletion has committed
        assert queued(broker) == []

    # then: one message asks a worker to close the account
    assert queued(broker) == [(CLOSE_TASK, [account.pk])]
    assert work_off(broker) == [CloseOutcome.CLOSED]

    # and: Stripe no longer has it; the other creator's account is untouched
    assert not open_at_stripe(stripe_server, account.stripe_account_id)
    assert open_at_stripe(stripe_server, PayoutAccount.objects.get(creator=stays).stripe_account_id)
    account.refresh_from_db()
    assert account.stripe_close_requested_at is not None
    assert account.stripe_closed_at is not None
    assert account.stripe_close_error == ""
    assert (account.stripe_payouts_enabled, account.stripe_transfers_active) == (False, False)
    assert account.stripe_account_id.startswith("acct_")  # past payouts still name it
    (closed,) = audits("payouts.stripe_account.closed")
    assert (closed.actor_id, closed.target_type, closed.target_id) == (
        None,
        "payouts.payoutaccount",
        str(account.pk),
    )
    assert closed.before == {
        "stripe_account_id": account.stripe_account_id,
        "closed_at": None,
        "payouts_enabled": True,
        "transfers_active": True,
        "close_error": "",
    }
    assert closed.after == {
        "stripe_account_id": account.stripe_account_id,
        "closed_at": account.stripe_closed_at.isoformat(),
        "payouts_enabled": False,
        "transfers_active": False,
        "close_error": "",
        "at_stripe": "deleted",
    }

    # when: the message is delivered again, the sweep runs, the deletion is submitted again
    again = tasks.payout_account_stripe_close(account.pk)
    assert tasks.payout_accounts_stripe_close_sweep() == 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert stripe_account_close_after_deletion(creator=creator) is False

    # then: nothing more happens
    assert again == CloseOutcome.ALREADY_CLOSED
    assert callbacks == [] and queued(broker) == []
    assert len(audits("payouts.stripe_account.closed")) == 1
    assert [a.id for a in stripe_server.client().v1.accounts.list().data] == [
        PayoutAccount.objects.get(creator=stays).stripe_account_id
    ]


def test_a_rolled_back_deletion_asks_for_nothing(
    stripe_server: StripeServer, broker: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    creator = stripe_ready_creator(stripe_server)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        stripe_account_close_after_deletion(creator=creator)
        raise RuntimeError("the deletion failed after asking")

    account = PayoutAccount.objects.get(creator=creator)
    assert callbacks == [] and queued(broker) == []
    assert account.stripe_close_requested_at is None
    assert payout_accounts_due_for_stripe_close() == []
    assert open_at_stripe(stripe_server, account.stripe_account_id)


def test_only_an_account_whose_deletion_asked_for_it_is_closed(
    stripe_server: StripeServer,
) -> None:
    creator = stripe_ready_creator(stripe_server)
    account = PayoutAccount.objects.get(creator=creator)

    assert payout_account_close_at_stripe(payout_account_id=account.pk) == (
        CloseOutcome.NOT_REQUESTED
    )
    assert open_at_stripe(stripe_server, account.stripe_account_id)
    assert audits("payouts.stripe_account.closed") == []


def test_an_account_stripe_no_longer_knows_counts_as_closed(
    stripe_server: StripeServer,
) -> None:
    # given: an attempt deleted the account at Stripe and its answer was lost
    creator = stripe_ready_creator(stripe_server)
    delete_creator(creator)
    account = PayoutAccount.objects.get(creator=creator)
    stripe_server.client().v1.accounts.delete(account.stripe_account_id)

    # when
    outcome = payout_account_close_at_stripe(payout_account_id=account.pk)

    # then
    assert outcome == CloseOutcome.CLOSED
    account.refresh_from_db()
    assert account.stripe_closed_at is not None
    (closed,) = audits("payouts.stripe_account.closed")
    assert closed.after["at_stripe"] == "already gone"


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_close_the_account_once(
    stripe_server: StripeServer, broker: redis.Redis
) -> None:
    # given: the message delivered twice, to two workers that run at the same moment
    creator = stripe_ready_creator(stripe_server)
    delete_creator(creator)
    account = PayoutAccount.objects.get(creator=creator)
    barrier = threading.Barrier(2)
    outcomes: list[CloseOutcome] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            outcomes.append(payout_account_close_at_stripe(payout_account_id=account.pk))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: one of them recorded it, once
    assert errors == []
    assert sorted(outcomes) == [CloseOutcome.ALREADY_CLOSED, CloseOutcome.CLOSED]
    assert len(audits("payouts.stripe_account.closed")) == 1
    assert not open_at_stripe(stripe_server, account.stripe_account_id)


# --- what keeps an account open, and the sweep that tries again ---------------------------------


def test_a_balance_left_on_the_account_is_refused_recorded_and_closed_later(
    stripe_server: StripeServer, broker: redis.Redis
) -> None:
    # given: a deleted creator with 25.00 EUR on their connected account
    creator = stripe_ready_creator(stripe_server)
    account = PayoutAccount.objects.get(creator=creator)
    transfer_id = money_on_connected_account(stripe_server, account.stripe_account_id, 2_500)
    delete_creator(creator)

    # when: the close runs, and runs again the next day
    first = payout_account_close_at_stripe(payout_account_id=account.pk)
    second = payout_account_close_at_stripe(payout_account_id=account.pk)

    # then: refused both times and not pretended closed
    assert (first, second) == (CloseOutcome.REFUSED, CloseOutcome.REFUSED)
    assert open_at_stripe(stripe_server, account.stripe_account_id)
    account.refresh_from_db()
    assert account.stripe_closed_at is None
    assert account.stripe_close_error.startswith("InvalidRequestError 400")
    assert "2500 eur" in account.stripe_close_error
    # and: staff find it in the audit log once, not once a day
    (refused,) = audits("payouts.stripe_account.close_refused")
    assert refused.before["close_error"] == ""
    assert refused.after["close_error"] == account.stripe_close_error
    assert refused.after["closed_at"] is None
    assert payout_accounts_due_for_stripe_close() == [account.pk]

    # when: the money goes back to the platform and the daily sweep runs
    stripe_server.client().v1.transfers.reversals.create(transfer_id)
    assert tasks.payout_accounts_stripe_close_sweep() == 1
    assert queued(broker) == [(CLOSE_TASK, [account.pk])]

    # then: closed
    assert work_off(broker) == [CloseOutcome.CLOSED]
    assert not open_at_stripe(stripe_server, account.stripe_account_id)
    account.refresh_from_db()
    assert account.stripe_closed_at is not None and account.stripe_close_error == ""
    (closed,) = audits("payouts.stripe_account.closed")
    assert closed.before["close_error"] == refused.after["close_error"]
    assert payout_accounts_due_for_stripe_close() == []


def test_a_stripe_that_cannot_be_reached_leaves_the_account_for_the_sweep(
    stripe_server: StripeServer, broker: redis.Redis, settings: Any
) -> None:
    # given: a deleted creator, and Stripe out of reach
    creator = stripe_ready_creator(stripe_server)
    delete_creator(creator)
    account = PayoutAccount.objects.get(creator=creator)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    # when: the worker runs it (the task raises for its retries)
    with pytest.raises(stripe.APIConnectionError):
        tasks.payout_account_stripe_close(account.pk)

    # then: still open, with the reason kept; no refusal for staff to act on
    account.refresh_from_db()
    assert account.stripe_closed_at is None
    assert account.stripe_close_error.startswith("APIConnectionError")
    assert audits("payouts.stripe_account.close_refused") == []
    assert open_at_stripe(stripe_server, account.stripe_account_id)

    # when: Stripe is back and the daily sweep runs
    settings.STRIPE_API_BASE = stripe_server.url
    assert tasks.payout_accounts_stripe_close_sweep() == 1

    # then
    assert work_off(broker) == [CloseOutcome.CLOSED]
    assert not open_at_stripe(stripe_server, account.stripe_account_id)
    assert len(audits("payouts.stripe_account.closed")) == 1


def test_a_message_lost_with_the_broker_is_made_up_by_the_sweep(
    stripe_server: StripeServer,
    broker: redis.Redis,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a deletion that commits while the broker is down
    creator = stripe_ready_creator(stripe_server)

    def broker_down(*args: object, **kwargs: object) -> None:
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(celery_app, "send_task", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            delete_creator(creator)  # the deletion itself is not disturbed

    # then: no message, but the request is on the payout account
    account = PayoutAccount.objects.get(creator=creator)
    assert queued(broker) == []
    assert account.stripe_close_requested_at is not None
    assert open_at_stripe(stripe_server, account.stripe_account_id)

    # when: the broker is back and the daily sweep runs
    assert tasks.payout_accounts_stripe_close_sweep() == 1

    # then
    assert work_off(broker) == [CloseOutcome.CLOSED]
    assert not open_at_stripe(stripe_server, account.stripe_account_id)


def test_a_payout_on_its_way_to_the_bank_holds_the_close_until_it_is_paid(
    stripe_server: StripeServer,
) -> None:
    # given: a payout sent to the connected account and on its way to the creator's bank
    # (nothing left on the account, so Stripe would delete it), then the creator deletes
    creator = stripe_ready_creator(stripe_server, available_minor=5_000)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    payout = payout_services.payout_approve(payout=payout, actor=staff())
    payout_services.payout_send(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT and payout.stripe_payout_id
    delete_creator(creator)
    account = PayoutAccount.objects.get(creator=creator)

    # when
    outcome = payout_account_close_at_stripe(payout_account_id=account.pk)

    # then: the account stays, so Stripe's news of that payout can still be read from it
    assert outcome == CloseOutcome.WAITING
    assert open_at_stripe(stripe_server, account.stripe_account_id)
    account.refresh_from_db()
    assert account.stripe_close_error == (
        f"Waiting for payout {payout.pk} to reach the bank before closing the account."
    )
    (waiting,) = audits("payouts.stripe_account.close_waiting")
    assert waiting.after["payout"] == payout.pk

    # when: the bank pays it, Stripe says so, and the sweep's close runs
    on_account: stripe.RequestOptions = {"stripe_account": account.stripe_account_id}
    stripe_server.control(f"payouts/{payout.stripe_payout_id}", status="paid")
    paid = payout_services.payout_apply_connected_payout(
        stripe_payout=stripe_server.client().v1.payouts.retrieve(
            payout.stripe_payout_id, options=on_account
        ),
        account_id=account.stripe_account_id,
    )
    assert paid is not None and paid.status == PayoutStatus.PAID
    assert payout_accounts_due_for_stripe_close() == [account.pk]

    # then
    assert payout_account_close_at_stripe(payout_account_id=account.pk) == CloseOutcome.CLOSED
    assert not open_at_stripe(stripe_server, account.stripe_account_id)


# --- nothing to close ---------------------------------------------------------------------------


def test_a_creator_who_never_connected_stripe_needs_nothing(
    stripe_server: StripeServer, broker: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a creator paid by bank transfer, and one who never set up a payout account
    by_bank = CreatorProfileFactory()
    bank_account_set(
        creator=by_bank,
        holder_name="Ola Nowak",
        iban="DE89 3704 0044 0532 0130 00",
        bic="COBADEFFXXX",
        actor=None,
    )
    without = CreatorProfileFactory()

    # when: both delete their accounts
    with django_capture_on_commit_callbacks(execute=True):
        delete_creator(by_bank)
        delete_creator(without)

    # then: nothing to close, nothing asked, nothing sent
    assert queued(broker) == []
    assert PayoutAccount.objects.get(creator=by_bank).stripe_close_requested_at is None
    assert payout_accounts_due_for_stripe_close() == []
    assert tasks.payout_accounts_stripe_close_sweep() == 0
    assert AuditEntry.objects.filter(action__startswith="payouts.stripe_account.").count() == 0
    assert stripe_server.client().v1.accounts.list().data == []


def test_the_close_sweep_runs_daily_from_beat(settings: Any) -> None:
    celery_app.loader.import_default_modules()
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "payouts.payout_accounts_stripe_close_sweep"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"].hour == {4}
    assert "payouts.payout_accounts_stripe_close_sweep" in celery_app.tasks
    assert CLOSE_TASK in celery_app.tasks
