"""The server's objects carry every field the installed SDK's resource types declare.

The SDK declares each field of a resource as a class annotation (`stripe.Transfer.__annotations__`,
nested ones such as `stripe.Account.Requirements`). When the SDK is upgraded and Stripe adds a
field, this test names it, so the server stays honest about what it answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import stripe

from tests.stripe_server.conftest import Server
from tests.stripe_server.test_api import make_account, onboard

# Fields the server leaves out on purpose, as Stripe does for these objects in this setup.
OMITTED: dict[str, set[str]] = {
    # Only deleted accounts carry `deleted`.
    "Account": {"deleted"},
    # Issuing and refund/dispute prefunding balances are not part of Connect payouts.
    "Balance": {"issuing", "refund_and_dispute_prefunding"},
    # `account` is present only on connected-account events (asserted in test_api);
    # `context` belongs to organization-level events.
    "Event": {"account", "context"},
}


def declared(cls: Any) -> set[str]:
    return {name for name in getattr(cls, "__annotations__", {}) if name != "OBJECT_NAME"}


def missing(obj: dict[str, Any], cls: Any, omitted: Iterable[str] = ()) -> set[str]:
    return declared(cls) - set(obj) - set(omitted)


def raw(value: Any) -> dict[str, Any]:
    """The JSON the server sent for an SDK object."""
    return json.loads(value.last_response.body)


def test_objects_carry_the_fields_the_sdk_declares(
    client: stripe.StripeClient, server: Server
) -> None:
    account = make_account(client)
    link = client.v1.account_links.create({"account": account.id, "type": "account_onboarding"})
    onboard(client, account.id)
    server.control("balance", currency="eur", amount=5_000)
    transfer = client.v1.transfers.create(
        {"amount": 1_000, "currency": "eur", "destination": account.id}
    )
    reversal = client.v1.transfers.reversals.create(transfer.id, {"amount": 100})
    payout = client.v1.payouts.create(
        {"amount": 100, "currency": "eur"},
        {"stripe_account": account.id},
    )
    balance = client.v1.balance.retrieve()
    event = client.v1.events.list({"type": "account.updated"}).data[0]
    event_json = raw(client.v1.events.retrieve(event.id))
    account_json = raw(client.v1.accounts.retrieve(account.id))
    balance_json = raw(balance)

    objects = [
        (raw(link), stripe.AccountLink),
        (account_json, stripe.Account),
        (raw(transfer), stripe.Transfer),
        (raw(reversal), stripe.TransferReversal),
        (raw(payout), stripe.Payout),
        (balance_json, stripe.Balance),
        (event_json, stripe.Event),
    ]
    for obj, cls in objects:
        assert obj["object"] == cls.OBJECT_NAME
        assert missing(obj, cls, OMITTED.get(cls.__name__, set())) == set(), cls.__name__
        # The allow-list is no wider than needed: each omitted field is declared and absent.
        for name in OMITTED.get(cls.__name__, set()):
            assert name in declared(cls), (cls.__name__, name)
            if not (cls is stripe.Event and name == "account"):
                assert name not in obj, (cls.__name__, name)

    nested = [
        (account_json["requirements"], stripe.Account.Requirements),
        (account_json["future_requirements"], stripe.Account.FutureRequirements),
        (account_json["controller"], stripe.Account.Controller),
        (account_json["tos_acceptance"], stripe.Account.TosAcceptance),
        (balance_json["available"][0], stripe.Balance.Available),
        (balance_json["pending"][0], stripe.Balance.Pending),
        (event_json["data"], stripe.Event.Data),
        (event_json["request"], stripe.Event.Request),
    ]
    for obj, cls in nested:
        assert missing(obj, cls) == set(), cls.__qualname__


def test_annotations_are_what_the_contract_reads() -> None:
    # Guards the contract itself: were the SDK to stop declaring fields this way, every
    # comparison above would pass vacuously.
    assert {"amount", "destination", "transfer_group", "reversals"} <= declared(stripe.Transfer)
    assert len(declared(stripe.Account)) > 15
