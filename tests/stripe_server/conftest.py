"""The Stripe-compatible server on a free port, driven through the real `stripe` SDK."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from stripe_server import serve
from tests.payouts.stripe_fixtures import StripeServer as Server

WEBHOOK_SECRET = "whsec_test_secret"


@dataclass
class Receiver:
    """A webhook endpoint that keeps what it was sent."""

    url: str = ""
    received: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def _server() -> Iterator[Server]:
    httpd, _ = serve("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{httpd.server_port}")
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(_server: Server) -> Server:
    _server.control("reset")
    _server.control("webhooks", url="", secret=WEBHOOK_SECRET)
    return _server


@pytest.fixture
def client(server: Server) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_x",
        base_addresses={"api": server.url, "connect": server.url},
        max_network_retries=0,
    )


@pytest.fixture(scope="module")
def _receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.received.append((self.headers["Stripe-Signature"], body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{httpd.server_port}/webhooks/stripe"
    yield receiver
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def receiver(server: Server, _receiver: Receiver) -> Receiver:
    _receiver.received.clear()
    server.control("webhooks", url=_receiver.url, secret=WEBHOOK_SECRET)
    return _receiver
