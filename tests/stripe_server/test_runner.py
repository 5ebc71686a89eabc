"""`python -m stripe_server` serves the API on the port it is given, with its options."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import stripe

from tests.stripe_server.conftest import Receiver
from tests.stripe_server.test_api import make_account, onboard


def _start(*args: str) -> tuple[subprocess.Popen[str], stripe.StripeClient]:
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    url = line.rsplit(" ", 1)[1].strip()
    client = stripe.StripeClient(
        "sk_test_x", base_addresses={"api": url, "connect": url}, max_network_retries=0
    )
    return process, client


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=5)


def test_runner_serves_the_api(processes: list[subprocess.Popen[str]]) -> None:
    process, client = _start("--balance", "eur=1234")
    processes.append(process)
    balance = client.v1.balance.retrieve()
    assert [(b.currency, b.amount) for b in balance.available] == [("eur", 1234)]


def test_runner_options_set_balances_webhooks_and_settle_payouts(
    processes: list[subprocess.Popen[str]], _receiver: Receiver
) -> None:
    # given
    _receiver.received.clear()
    process, client = _start(
        "--balance",
        "eur=100000000",
        "--balance",
        "PLN=5000,usd=7000",
        "--webhook-url",
        _receiver.url,
        "--webhook-secret",
        "whsec_from_the_command_line",
        "--settle-payouts-after",
        "0.3",
    )
    processes.append(process)

    # then: every --balance counts
    balance = client.v1.balance.retrieve()
    assert [(b.currency, b.amount) for b in balance.available] == [
        ("eur", 100_000_000),
        ("pln", 5_000),
        ("usd", 7_000),
    ]

    # when: a creator onboards, gets a transfer and asks for a payout
    account = make_account(client)
    onboard(client, account.id)
    client.v1.transfers.create({"amount": 2_500, "currency": "pln", "destination": account.id})
    on_creator: stripe.RequestOptions = {"stripe_account": account.id}
    payout = client.v1.payouts.create({"amount": 2_500, "currency": "pln"}, on_creator)
    assert payout.status == "pending"

    # then: it is paid on its own, and payout.paid reaches the webhook URL signed with the secret
    deadline = time.monotonic() + 10
    paid: list[stripe.Event] = []
    while not paid and time.monotonic() < deadline:
        time.sleep(0.1)
        events = [
            stripe.Webhook.construct_event(body, signature, "whsec_from_the_command_line")
            for signature, body in list(_receiver.received)
        ]
        paid = [e for e in events if e.type == "payout.paid"]
    assert [(e.data.object.id, e.account) for e in paid] == [(payout.id, account.id)]
    assert client.v1.payouts.retrieve(payout.id, options=on_creator).status == "paid"
    types = [json.loads(body)["type"] for _, body in _receiver.received]
    assert types[:2] == ["account.updated", "transfer.created"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--balance", "eur"], "--balance takes CURRENCY=MINOR_UNITS"),
        (["--balance", "eur=1.50"], "--balance takes CURRENCY=MINOR_UNITS"),
        (["--settle-payouts-after", "-5"], "must be 0 or more"),
        (["--webhook-url", "ftp://example.com/"], "--webhook-url must be http(s)"),
    ],
)
def test_runner_refuses_bad_options(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stripe_server", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
