"""`python -m stripe_server` serves the API on the port it is given."""

from __future__ import annotations

import subprocess
import sys

import stripe


def test_runner_serves_the_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_server", "--port", "0", "--balance", "eur=1234"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[1].strip()
        client = stripe.StripeClient(
            "sk_test_x", base_addresses={"api": url}, max_network_retries=0
        )
        balance = client.v1.balance.retrieve()
        assert [(b.currency, b.amount) for b in balance.available] == [("eur", 1234)]
    finally:
        process.terminate()
        process.wait(timeout=5)
