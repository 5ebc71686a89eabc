"""Failure drill: the Stripe-compatible server goes down in the middle of a payout run.

A real Celery worker (with beat) sends thirty approved payouts, in euro and złoty, to the
project's Stripe-compatible server. Part way through the run one transfer is made but its
answer stalls past the client's time-out, and the server's listener then closes, so that
the worker cannot even ask whether that transfer exists. Its records (accounts, transfers,
balances) survive the outage, as Stripe's do. While it is down the worker keeps trying and
every payout it tries goes back to wait; some seconds later the listener comes back on the
same address.

Afterwards nothing accepted is lost or doubled: every payout is sent, with exactly one
transfer for its amount and currency to its creator's connected account (the one made
during the stall included) and one bank payout of that money; the platform balance fell by
exactly the sum of the payouts in each currency; each creator's money moved once from
available to paid out; `check_ledger` passes and the daily reconciliation finds no
difference.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIServer

import pytest

from payouts import payout_services
from payouts.models import LedgerTransaction, LedgerTransactionKind, Payout, PayoutStatus
from payouts.reconciliation import payouts_reconcile
from stripe_server import serve
from tests.payouts.payout_helpers import assert_ledger_ok, balances, staff, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer
from tests.payouts.workers import celery_worker, process_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PLATFORM_BALANCE = 10**10  # minor units in each currency before the run
# The client gives up on an answer after this long; the stalled answer takes longer.
CLIENT_TIMEOUT_SECONDS = 3
STALL_SECONDS = 6


class OutageServer:
    """The Stripe-compatible server on a fixed port whose HTTP listener closes and opens
    again while its `App`, and with it everything the server has recorded, lives on."""

    def __init__(self) -> None:
        self.httpd: WSGIServer | None = None
        self.httpd, self.app = serve("127.0.0.1", 0)
        self.port = self.httpd.server_port
        self.api = StripeServer(f"http://127.0.0.1:{self.port}")
        self._listen()

    def _listen(self) -> None:
        assert self.httpd is not None
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def down(self) -> None:
        """Close the listener: new connections are refused; answers already being written
        finish on their own threads."""
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None

    def up(self) -> None:
        assert self.httpd is None
        self.httpd, _ = serve("127.0.0.1", self.port, self.app)
        self._listen()

    def transfers(self) -> list[dict[str, Any]]:
        """The transfers the server has made, oldest first (read under its lock)."""
        with self.app.state.lock:
            return sorted(
                (dict(t) for t in self.app.state.transfers.values()), key=lambda t: t["_seq"]
            )

    def bank_payouts(self) -> list[dict[str, Any]]:
        with self.app.state.lock:
            return [dict(p) for p in self.app.state.payouts.values()]

    def fault_left(self, name: str) -> int:
        with self.app.state.lock:
            return self.app.state.faults.get(name, 0)


@pytest.fixture
def outage_server(settings: Any) -> Iterator[OutageServer]:
    server = OutageServer()
    for currency in ("eur", "pln"):
        server.api.control("balance", currency=currency, amount=PLATFORM_BALANCE)
    settings.STRIPE_API_BASE = server.api.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield server
    if server.httpd is not None:
        server.down()


def payout_amounts() -> list[tuple[str, int]]:
    """Thirty payouts: euro and złoty, small and large (three need a second approval)."""
    amounts = [("EUR", 5_000 + i * 1_237) for i in range(19)]
    amounts += [("EUR", 150_000), ("EUR", 250_000)]
    amounts += [("PLN", 20_000 + i * 3_331) for i in range(8)]
    amounts += [("PLN", 500_000)]
    random.Random(11).shuffle(amounts)
    return amounts


def test_stripe_down_in_the_middle_of_a_payout_run_loses_and_doubles_nothing(
    outage_server: OutageServer,
) -> None:
    # given thirty creators, each with a connected account and one requested payout
    server = outage_server
    first_admin, second_admin = staff(), staff()
    amounts = payout_amounts()
    payouts = []
    for currency, amount in amounts:
        creator = stripe_ready_creator(server.api, available_minor=amount, currency=currency)
        payouts.append(payout_services.payout_request(creator=creator, currency=currency))

    def approve(payout: Payout) -> None:
        approved = payout_services.payout_approve(payout=payout, actor=first_admin)
        if approved.status != PayoutStatus.APPROVED:
            payout_services.payout_approve(payout=approved, actor=second_admin)

    env = process_env(
        STRIPE_API_BASE=server.api.url,
        STRIPE_MAX_NETWORK_RETRIES="0",
        STRIPE_TIMEOUT_SECONDS=str(CLIENT_TIMEOUT_SECONDS),
        PAYOUT_RETRY_FIRST_SECONDS="1",
        PAYOUT_RETRY_MAX_SECONDS="1",
    )
    with celery_worker(env, beat=True, name="stripe-outage") as worker:
        # when the worker is sending the run, one transfer is made but its answer stalls
        for payout in payouts[:10]:
            approve(payout)
        wait_for(lambda: len(server.transfers()) >= 6, f"the first transfers\n{worker.log()}")
        server.api.control("faults", transfer_timeout_after_create=1, timeout_seconds=STALL_SECONDS)
        stalled: list[dict[str, Any]] = []

        def down_once_a_transfer_stalls() -> bool:
            # the solo worker waits on that answer, so the newest transfer is the stalled
            # one; the server goes down before the worker's time-out, so the worker cannot
            # look the transfer up either
            if not stalled and server.fault_left("transfer_timeout_after_create") == 0:
                stalled.append(server.transfers()[-1])
                server.down()
            return bool(stalled)

        for payout in payouts[10:]:
            approve(payout)
            down_once_a_transfer_stalls()
        wait_for(down_once_a_transfer_stalls, f"the stalled transfer\n{worker.log()}")
        made_before_outage = len(server.transfers())
        stalled_payout_id = int(stalled[0]["metadata"]["payout_id"])

        def waiting_after_failed_attempts() -> set[int]:
            waiting = Payout.objects.filter(
                status=PayoutStatus.APPROVED, last_error__contains="APIConnectionError"
            )
            pks = set(waiting.values_list("pk", flat=True))
            retried = waiting.filter(send_attempts__gte=2).count()
            return pks if stalled_payout_id in pks and retried >= 3 else set()

        waited = wait_for(
            waiting_after_failed_attempts,
            f"payouts put back to wait while Stripe is down\n{worker.log()}",
            timeout=30,
        )
        assert len(server.transfers()) == made_before_outage  # nothing moved while down
        server.up()

        wait_for(
            lambda: Payout.objects.filter(status=PayoutStatus.SENT).count() == len(payouts),
            f"every payout sent after the outage\n{worker.log()}",
            timeout=60,
        )
        # The worker was waiting on the stalled transfer when the listener closed, so no
        # payout was caught between its transfer and its bank payout: the worker asks for
        # every bank payout itself.
        wait_for(
            lambda: not Payout.objects.filter(stripe_payout_id="").exists(),
            f"every bank payout asked for\n{worker.log()}",
            timeout=30,
        )

    # then the outage happened in the middle of the run, as intended
    assert 6 <= made_before_outage < len(payouts)
    assert len(waited) >= 3
    client = server.api.client()
    sent = list(Payout.objects.select_related("creator").order_by("pk"))
    assert sorted((p.currency, p.amount_minor) for p in sent) == sorted(amounts)
    assert Counter(p.status for p in sent) == {PayoutStatus.SENT: len(amounts)}
    by_pk = {p.pk: p for p in sent}
    assert all(by_pk[pk].send_attempts >= 2 for pk in waited)

    # the transfer made during the stall was found, not made a second time
    stalled_payout = by_pk[stalled_payout_id]
    assert stalled_payout.stripe_transfer_id == stalled[0]["id"]
    assert stalled_payout.send_attempts >= 2

    # each payout has exactly one transfer, for its amount and currency, to its account
    for payout in sent:
        listed = client.v1.transfers.list(
            params={"transfer_group": payout.transfer_group, "limit": 100}
        ).data
        assert [
            (t.id, t.amount, t.currency, t.destination, t.metadata["payout_id"]) for t in listed
        ] == [
            (
                payout.stripe_transfer_id,
                payout.amount_minor,
                payout.currency.lower(),
                payout.stripe_account_id,
                str(payout.pk),
            )
        ]
    everything = list(client.v1.transfers.list(params={"limit": 100}).auto_paging_iter())
    assert len(everything) == len(sent)

    # the platform paid exactly the sum of the payouts in each currency, no more
    owed: Counter[str] = Counter()
    for payout in sent:
        owed[payout.currency.lower()] += payout.amount_minor
    platform = client.v1.balance.retrieve()
    assert {b.currency: b.amount for b in platform.available} == {
        currency: PLATFORM_BALANCE - total for currency, total in owed.items()
    }

    # one bank payout each, of all the transferred money
    assert sorted(
        (p["metadata"]["payout_id"], p["amount"], p["currency"], p["_account"])
        for p in server.bank_payouts()
    ) == sorted((str(p.pk), p.amount_minor, p.currency.lower(), p.stripe_account_id) for p in sent)
    for payout in sent:
        connected = client.v1.balance.retrieve(options={"stripe_account": payout.stripe_account_id})
        assert {b.currency: b.amount for b in connected.available} == {payout.currency.lower(): 0}

    # the creators' money moved once from available to paid out
    for payout in sent:
        assert balances(payout.creator, payout.currency) == {
            "available": 0,
            "in_flight": 0,
            "paid_out": payout.amount_minor,
            "pending": 0,
        }
    sent_postings = LedgerTransaction.objects.filter(kind=LedgerTransactionKind.PAYOUT_SENT)
    assert Counter(sent_postings.values_list("payout_id", flat=True)) == Counter(list(by_pk))
    assert_ledger_ok()
    assert payouts_reconcile(client=client) == []
