"""The Stripe-compatible server, driven through the real `stripe` SDK as the app drives Stripe."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request

import pytest
import stripe

from tests.stripe_server.conftest import WEBHOOK_SECRET, Receiver, Server


def make_account(client: stripe.StripeClient) -> stripe.Account:
    return client.v1.accounts.create(
        {
            "controller": {
                "fees": {"payer": "application"},
                "losses": {"payments": "application"},
                "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "express"},
            },
            "capabilities": {"transfers": {"requested": True}},
            "country": "FR",
            "email": "creator@example.com",
            "metadata": {"creator_id": "42"},
        }
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def submit(url: str) -> tuple[int, str]:
    """POST the onboarding form as the browser would; returns (status, Location)."""
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=5) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Location"]


def onboard(client: stripe.StripeClient, account_id: str) -> str:
    """Create an account link, open its page, submit its form; returns the redirect target."""
    link = client.v1.account_links.create(
        {
            "account": account_id,
            "type": "account_onboarding",
            "refresh_url": "http://connect.invalid/refresh",
            "return_url": "http://connect.invalid/return",
        }
    )
    with urllib.request.urlopen(link.url, timeout=5) as answer:  # noqa: S310 - the server's page
        assert b"<form" in answer.read()
    status, location = submit(link.url)
    assert status == 303
    # The link is single-use: submitted again, it sends the browser to refresh_url.
    assert submit(link.url) == (303, "http://connect.invalid/refresh")
    return location


@pytest.fixture
def creator(client: stripe.StripeClient) -> stripe.Account:
    account = make_account(client)
    onboard(client, account.id)
    return client.v1.accounts.retrieve(account.id)


def test_account_created_with_controller_properties_then_onboarded(
    client: stripe.StripeClient,
) -> None:
    account = make_account(client)
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert account.controller.stripe_dashboard.type == "express"
    assert account.controller.fees.payer == "application"
    assert account.payouts_enabled is False
    assert account.capabilities.transfers == "inactive"
    assert "external_account" in account.requirements.currently_due
    assert account.metadata["creator_id"] == "42"

    assert onboard(client, account.id) == "http://connect.invalid/return"

    account = client.v1.accounts.retrieve(account.id)
    assert account.payouts_enabled is True
    assert account.charges_enabled is True
    assert account.capabilities.transfers == "active"
    assert account.requirements.currently_due == []
    events = client.v1.events.list({"type": "account.updated"})
    assert [e.data.object.id for e in events.data] == [account.id]
    assert events.data[0].account == account.id
    assert events.data[0].data.previous_attributes.payouts_enabled is False


def test_account_update_and_missing_account(client: stripe.StripeClient) -> None:
    account = make_account(client)
    updated = client.v1.accounts.update(account.id, {"metadata": {"tier": "gold"}})
    assert updated.metadata.to_dict() == {"creator_id": "42", "tier": "gold"}
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.retrieve("acct_doesnotexist")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"


def test_missing_and_unknown_params_are_invalid_request_errors(
    client: stripe.StripeClient, creator: stripe.Account
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.create({"currency": "eur", "destination": creator.id})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "amount")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.accounts.create({"type": "express", "colour": "red"})
    assert unknown.value.param == "colour"
    error = unknown.value.json_body["error"]
    assert error["type"] == "invalid_request_error"


def test_bad_api_key_is_rejected(server: Server) -> None:
    bad = stripe.StripeClient(
        "pk_live_x", base_addresses={"api": server.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.balance.retrieve()


def test_transfer_debits_platform_balance_and_replays_idempotently(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control("balance", currency="eur", amount=10_000)
    params = {
        "amount": 2_500,
        "currency": "eur",
        "destination": creator.id,
        "transfer_group": "payout_1",
        "metadata": {"payout": "1"},
    }
    first = client.v1.transfers.create(params, {"idempotency_key": "payout-1"})
    assert first.id.startswith("tr_")
    assert first.last_response.headers.get("Idempotent-Replayed") is None

    again = client.v1.transfers.create(params, {"idempotency_key": "payout-1"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.IdempotencyError) as conflict:
        client.v1.transfers.create(
            {**params, "amount": 2_600},
            {"idempotency_key": "payout-1"},
        )
    assert conflict.value.http_status == 400

    balance = client.v1.balance.retrieve()
    assert [(b.currency, b.amount) for b in balance.available] == [("eur", 7_500)]
    connected = client.v1.balance.retrieve(options={"stripe_account": creator.id})
    assert [(b.currency, b.amount) for b in connected.available] == [("eur", 2_500)]
    assert len(client.v1.transfers.list({"transfer_group": "payout_1"}).data) == 1


def test_transfer_beyond_platform_balance_is_balance_insufficient(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control("balance", currency="eur", amount=1_000)
    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.transfers.create({"amount": 1_001, "currency": "eur", "destination": creator.id})
    assert short.value.code == "balance_insufficient"
    assert short.value.http_status == 400
    assert client.v1.transfers.list().data == []

    server.control("faults", transfer_balance_insufficient=1)
    with pytest.raises(stripe.InvalidRequestError) as injected:
        client.v1.transfers.create({"amount": 10, "currency": "eur", "destination": creator.id})
    assert injected.value.code == "balance_insufficient"
    made = client.v1.transfers.create({"amount": 10, "currency": "eur", "destination": creator.id})
    assert made.amount == 10


def test_500_after_transfer_is_made_leaves_exactly_one_in_its_group(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control("balance", currency="eur", amount=10_000)
    server.control("faults", transfer_500_after_create=1)
    params = {"amount": 700, "currency": "eur", "destination": creator.id, "transfer_group": "g7"}
    with pytest.raises(stripe.APIError) as failed:
        client.v1.transfers.create(params, {"idempotency_key": "g7"})
    assert failed.value.http_status == 500
    # Stripe replays the saved 500 for the same key; the transfer exists all the same.
    with pytest.raises(stripe.APIError):
        client.v1.transfers.create(params, {"idempotency_key": "g7"})
    found = client.v1.transfers.list({"transfer_group": "g7"}).data
    assert [(t.amount, t.destination) for t in found] == [(700, creator.id)]
    assert client.v1.balance.retrieve().available[0].amount == 9_300

    server.control("idempotency/forget")
    retried = client.v1.transfers.create(params, {"idempotency_key": "g7"})
    assert retried.id != found[0].id  # a forgotten key no longer protects


def test_timeout_after_transfer_is_made(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control("balance", currency="eur", amount=10_000)
    server.control("faults", transfer_timeout_after_create=1, timeout_seconds=1)
    impatient = stripe.StripeClient(
        "sk_test_x",
        base_addresses={"api": server.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.2),
    )
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.transfers.create(
            {"amount": 300, "currency": "eur", "destination": creator.id, "transfer_group": "t"}
        )
    assert [t.amount for t in client.v1.transfers.list({"transfer_group": "t"}).data] == [300]


def test_reversal_returns_money_to_the_platform(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control("balance", currency="eur", amount=5_000)
    transfer = client.v1.transfers.create(
        {"amount": 3_000, "currency": "eur", "destination": creator.id}
    )
    reversal = client.v1.transfers.reversals.create(transfer.id, {"amount": 1_000})
    assert reversal.id.startswith("trr_")
    assert reversal.transfer == transfer.id
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.reversals.create(transfer.id, {"amount": 2_001})
    assert too_much.value.param == "amount"
    transfer = client.v1.transfers.retrieve(transfer.id)
    assert (transfer.amount_reversed, transfer.reversed) == (1_000, False)
    listed = client.v1.transfers.reversals.list(transfer.id)
    assert [r.id for r in listed.data] == [reversal.id]
    assert client.v1.balance.retrieve().available[0].amount == 3_000


def test_payout_on_connected_account_and_bank_failure(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control("balance", currency="eur", amount=5_000)
    client.v1.transfers.create({"amount": 2_000, "currency": "eur", "destination": creator.id})
    on_creator = {"stripe_account": creator.id}
    payout = client.v1.payouts.create({"amount": 1_500, "currency": "eur"}, on_creator)
    assert payout.id.startswith("po_")
    assert payout.status == "pending"
    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.payouts.create({"amount": 501, "currency": "eur"}, on_creator)
    assert short.value.code == "balance_insufficient"

    server.control(f"payouts/{payout.id}", status="failed")
    failed = client.v1.payouts.retrieve(payout.id, options=on_creator)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    balance = client.v1.balance.retrieve(options=on_creator)
    assert balance.available[0].amount == 2_000
    assert client.v1.events.list({"type": "payout.failed"}).data[0].account == creator.id

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payouts.create({"amount": 1, "currency": "eur"})


def test_account_flags_block_payouts(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    server.control(f"accounts/{creator.id}", payouts_enabled="false")
    assert client.v1.accounts.retrieve(creator.id).payouts_enabled is False
    with pytest.raises(stripe.InvalidRequestError) as blocked:
        client.v1.payouts.create(
            {"amount": 1, "currency": "eur"},
            {"stripe_account": creator.id},
        )
    assert blocked.value.code == "payouts_not_allowed"


def test_webhooks_are_signed_and_can_be_duplicated_reordered_stale_or_future(
    client: stripe.StripeClient, server: Server, receiver: Receiver
) -> None:
    account = make_account(client)
    onboard(client, account.id)
    client.v1.accounts.update(account.id, {"metadata": {"x": "1"}})
    server.control("webhooks/drain")
    assert len(receiver.received) == 2
    signature, body = receiver.received[0]
    event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
    assert event.type == "account.updated"
    assert event.data.object.payouts_enabled is True
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_other")

    first, second = [json.loads(b)["id"] for _, b in receiver.received]
    receiver.received.clear()
    server.control("events/send", ids=[second, first, first])
    server.control("webhooks/drain")
    assert [json.loads(b)["id"] for _, b in receiver.received] == [second, first, first]

    for offset in (-3600, 3600):
        receiver.received.clear()
        server.control("events/send", ids=[first], timestamp_offset=offset)
        server.control("webhooks/drain")
        signature, body = receiver.received[0]
        timestamp = int(signature.split(",")[0][2:])
        assert abs(timestamp - (time.time() + offset)) < 60
        # The signature is valid for its timestamp; only the tolerance check rejects it.
        stripe.WebhookSignature.verify_header(
            body.decode(), signature, WEBHOOK_SECRET, tolerance=2 * 3600
        )
        if offset < 0:
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)


def _wait_for_status(
    client: stripe.StripeClient, payout_id: str, account: str, status: str
) -> stripe.Payout:
    deadline = time.monotonic() + 5
    while True:
        payout = client.v1.payouts.retrieve(payout_id, options={"stripe_account": account})
        if payout.status == status or time.monotonic() > deadline:
            return payout
        time.sleep(0.05)


def test_payouts_are_paid_on_their_own_once_pending_long_enough(
    client: stripe.StripeClient, server: Server, receiver: Receiver, creator: stripe.Account
) -> None:
    # given: money on the connected account and automatic settling off, as after a reset
    assert server.control("settings") == {"settle_payouts_after": None}
    server.control("balance", currency="eur", amount=5_000)
    client.v1.transfers.create({"amount": 3_000, "currency": "eur", "destination": creator.id})
    on_creator: stripe.RequestOptions = {"stripe_account": creator.id}
    waiting = client.v1.payouts.create({"amount": 1_000, "currency": "eur"}, on_creator)
    failed = client.v1.payouts.create({"amount": 500, "currency": "eur"}, on_creator)
    server.control(f"payouts/{failed.id}", status="failed")
    time.sleep(0.6)  # a few turns of the settling thread
    assert client.v1.payouts.retrieve(waiting.id, options=on_creator).status == "pending"

    # when: payouts pending for an hour get paid; none has been pending that long
    assert server.control("settings", settle_payouts_after=3600) == {"settle_payouts_after": 3600.0}
    time.sleep(0.6)

    # then
    assert client.v1.payouts.retrieve(waiting.id, options=on_creator).status == "pending"

    # when: the threshold drops below how long it has been pending
    server.control("settings", settle_payouts_after="0.2")

    # then: paid, with its event sent signed like every other; the failed one is left alone
    paid = _wait_for_status(client, waiting.id, creator.id, "paid")
    assert paid.status == "paid"
    assert client.v1.payouts.retrieve(failed.id, options=on_creator).status == "failed"
    events = client.v1.events.list({"type": "payout.paid"}).data
    assert [(e.data.object.id, e.account) for e in events] == [(waiting.id, creator.id)]
    assert events[0].data.previous_attributes.status == "pending"
    # The money left the connected account when the payout was made (3000 - 1000; the
    # failed 500 came back); being paid does not move it again.
    balance = client.v1.balance.retrieve(options=on_creator)
    assert balance.available[0].amount == 2_000
    server.control("webhooks/drain")
    delivered = [
        stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
        for signature, body in receiver.received
    ]
    assert [e.id for e in delivered if e.type == "payout.paid"] == [events[0].id]

    # when: a payout made while settling is on
    quick = client.v1.payouts.create({"amount": 100, "currency": "eur"}, on_creator)

    # then: it is paid too, and a reset turns settling off again
    assert _wait_for_status(client, quick.id, creator.id, "paid").status == "paid"
    server.control("reset")
    assert server.control("settings") == {"settle_payouts_after": None}


@pytest.mark.parametrize("value", ["soon", "-1", "inf"])
def test_settings_refuse_a_bad_number_of_seconds(server: Server, value: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.control("settings", settle_payouts_after=value)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"]["param"] == "settle_payouts_after"
    assert server.control("settings", settle_payouts_after="off") == {"settle_payouts_after": None}


def test_secret_key_by_bearer_or_basic_auth(server: Server) -> None:
    # The SDK sends the key as a bearer token; curl -u sends it as the Basic user name.
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            "pk_test_publishable", base_addresses={"api": server.url}, max_network_retries=0
        ).v1.balance.retrieve()

    def basic(credentials: bytes) -> int:
        request = urllib.request.Request(  # noqa: S310 - the server's own http URL
            f"{server.url}/v1/balance",
            headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                assert json.loads(answer.read())["object"] == "balance"
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert basic(b"sk_test_connect_local:") == 200
    assert basic(b"pk_test_publishable:") == 401
    assert basic(b"\xff\xfe") == 401
