"""Deleting a connected account on the Stripe-compatible server, through the real SDK: gone once
deleted, refused while any balance is not zero, and answered idempotently for a repeated key."""

from __future__ import annotations

import json

import pytest
import stripe

from tests.stripe_server.conftest import Server
from tests.stripe_server.test_api import make_account, onboard


@pytest.fixture
def creator(client: stripe.StripeClient) -> stripe.Account:
    account = make_account(client)
    onboard(client, account.id)
    return client.v1.accounts.retrieve(account.id)


def test_a_deleted_account_is_gone(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    # given: another account that stays
    other = make_account(client)

    # when
    deleted = client.v1.accounts.delete(creator.id)

    # then: Stripe's answer, exactly
    assert json.loads(deleted.last_response.body) == {
        "id": creator.id,
        "object": "account",
        "deleted": True,
    }
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.retrieve(creator.id)
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    assert [a.id for a in client.v1.accounts.list().data] == [other.id]

    # and: no transfer reaches it, and the platform keeps its money
    server.control("balance", currency="eur", amount=5_000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create({"amount": 100, "currency": "eur", "destination": creator.id})
    assert (refused.value.http_status, refused.value.code) == (404, "resource_missing")
    assert client.v1.transfers.list().data == []
    assert client.v1.balance.retrieve().available[0].amount == 5_000

    # and: nothing is done on its behalf, and neither can it be changed or deleted again
    with pytest.raises(stripe.PermissionError) as on_behalf:
        client.v1.balance.retrieve(options={"stripe_account": creator.id})
    assert on_behalf.value.json_body["error"]["code"] == "account_invalid"
    with pytest.raises(stripe.InvalidRequestError) as update:
        client.v1.accounts.update(creator.id, {"metadata": {"x": "1"}})
    assert update.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.accounts.delete(creator.id)
    assert (again.value.http_status, again.value.code) == (404, "resource_missing")
    assert client.v1.accounts.retrieve(other.id).id == other.id


def test_an_unknown_account_is_not_found(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.delete("acct_doesnotexist")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_an_account_with_money_is_not_deleted_until_its_balance_is_zero(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    # given: 30.00 EUR on the connected account
    server.control("balance", currency="eur", amount=5_000)
    transfer = client.v1.transfers.create(
        {"amount": 3_000, "currency": "eur", "destination": creator.id}
    )

    # when / then: refused as an invalid request, and the account is untouched
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.delete(creator.id)
    assert refused.value.http_status == 400
    assert refused.value.json_body["error"]["type"] == "invalid_request_error"
    assert "3000 eur" in refused.value.user_message
    assert client.v1.accounts.retrieve(creator.id).payouts_enabled is True

    # when: 10.00 goes to the bank and 20.00 back to the platform, leaving exactly zero
    on_creator: stripe.RequestOptions = {"stripe_account": creator.id}
    payout = client.v1.payouts.create({"amount": 1_000, "currency": "eur"}, on_creator)
    client.v1.transfers.reversals.create(transfer.id, {"amount": 1_999})
    with pytest.raises(stripe.InvalidRequestError) as one_cent:
        client.v1.accounts.delete(creator.id)
    assert "1 eur" in one_cent.value.user_message
    client.v1.transfers.reversals.create(transfer.id, {"amount": 1})

    # then: it can be deleted
    assert client.v1.accounts.delete(creator.id).deleted is True
    # and: its payout on the way still settles (the bank does not know about Stripe accounts)
    server.control(f"payouts/{payout.id}", status="paid")
    assert client.v1.events.list({"type": "payout.paid"}).data[0].data.object.id == payout.id
    # and: what is left of its transfer cannot be taken back from it
    with pytest.raises(stripe.InvalidRequestError) as reversal:
        client.v1.transfers.reversals.create(transfer.id, {"amount": 1})
    assert "has been deleted" in reversal.value.user_message
    assert client.v1.balance.retrieve().available[0].amount == 5_000 - 3_000 + 2_000


def test_a_negative_balance_refuses_too(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    # given: a transfer paid out to the bank in full, then partly reversed
    server.control("balance", currency="eur", amount=5_000)
    transfer = client.v1.transfers.create(
        {"amount": 1_000, "currency": "eur", "destination": creator.id}
    )
    client.v1.payouts.create({"amount": 1_000, "currency": "eur"}, {"stripe_account": creator.id})
    client.v1.transfers.reversals.create(transfer.id, {"amount": 400})

    # when / then: -4.00 EUR is not zero
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.delete(creator.id)
    assert "-400 eur" in refused.value.user_message
    assert client.v1.accounts.retrieve(creator.id).id == creator.id


def test_a_delete_with_an_idempotency_key_replays_its_answer(
    client: stripe.StripeClient, server: Server, creator: stripe.Account
) -> None:
    # given: a refusal saved under its key
    server.control("balance", currency="eur", amount=5_000)
    transfer = client.v1.transfers.create(
        {"amount": 500, "currency": "eur", "destination": creator.id}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.delete(creator.id, options={"idempotency_key": "close-1"})
    client.v1.transfers.reversals.create(transfer.id)

    # when / then: the same key answers the saved refusal, though the balance is zero now
    with pytest.raises(stripe.InvalidRequestError) as replayed:
        client.v1.accounts.delete(creator.id, options={"idempotency_key": "close-1"})
    assert replayed.value.headers["Idempotent-Replayed"] == "true"

    # when: a new key
    deleted = client.v1.accounts.delete(creator.id, options={"idempotency_key": "close-2"})
    again = client.v1.accounts.delete(creator.id, options={"idempotency_key": "close-2"})

    # then: deleted once, and the key's answer is replayed instead of a 404
    assert deleted.last_response.headers.get("Idempotent-Replayed") is None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert (again.id, again.deleted) == (creator.id, True)

    # and: a key is bound to its request
    other = make_account(client)
    with pytest.raises(stripe.IdempotencyError):
        client.v1.accounts.delete(other.id, options={"idempotency_key": "close-2"})
    assert client.v1.accounts.retrieve(other.id).id == other.id
