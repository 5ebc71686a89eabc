"""Creators' payout accounts: Stripe onboarding against the Stripe-compatible server, the
encrypted bank account and the choice of payout method."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from connect.models import AuditEntry
from payouts.models import PayoutAccount, PayoutRail
from payouts.payout_accounts import (
    bank_account_set,
    bank_details_parse,
    bank_iban_decrypt,
    payout_rail_set,
    stripe_account_refresh,
    stripe_onboarding_start,
    stripe_requirement_labels,
)
from tests.connect.factories import CreatorProfileFactory
from tests.payouts.stripe_fixtures import StripeServer

pytestmark = pytest.mark.django_db

IBAN_DE = "DE89 3704 0044 0532 0130 00"
IBAN_DE_COMPACT = "DE89370400440532013000"
BIC_DE = "COBADEFFXXX"
RETURN = "https://connect.example/creator/payouts/stripe/return/"
REFRESH = "https://connect.example/creator/payouts/stripe/refresh/"


def _start(creator: Any) -> str:
    return stripe_onboarding_start(creator=creator, return_url=RETURN, refresh_url=REFRESH)


def _audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


# ---------------------------------------------------------------------------- Stripe


def test_onboarding_creates_one_express_account_however_often_it_starts(
    stripe_server: StripeServer,
) -> None:
    # given
    creator = CreatorProfileFactory(country="PL", user__email="ola@example.com")

    # when: the creator clicks "Connect with Stripe" twice
    first_link = _start(creator)
    second_link = _start(creator)

    # then: one connected account, remembered on one payout account, and two fresh links
    accounts = stripe_server.client().v1.accounts.list().data
    assert len(accounts) == 1
    account = accounts[0]
    payout_account = PayoutAccount.objects.get(creator=creator)
    assert payout_account.stripe_account_id == account.id
    assert payout_account.rail == PayoutRail.STRIPE
    assert account.country == "PL"
    assert account.email == "ola@example.com"
    assert account.type == "express"
    assert account.controller.fees.payer == "application"
    assert account.controller.losses.payments == "application"
    assert account.capabilities.transfers == "inactive"
    assert account.metadata["creator_id"] == str(creator.pk)
    assert first_link.startswith(f"{stripe_server.url}/onboarding/")
    assert second_link.startswith(f"{stripe_server.url}/onboarding/")
    assert first_link != second_link
    assert [entry.after for entry in _audits("payouts.payout_account.stripe_created")] == [
        {"stripe_account_id": account.id}
    ]


@pytest.mark.django_db(transaction=True)
def test_two_first_clicks_at_once_make_one_account(stripe_server: StripeServer) -> None:
    # given: a creator without a payout account, and two requests racing to start onboarding
    creator = CreatorProfileFactory()
    barrier = threading.Barrier(2)
    links: list[str] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            links.append(_start(creator))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: both got a link to the one account
    assert errors == []
    assert len(links) == 2
    accounts = stripe_server.client().v1.accounts.list().data
    assert len(accounts) == 1
    assert list(PayoutAccount.objects.values_list("stripe_account_id", flat=True)) == [
        accounts[0].id
    ]
    assert len(_audits("payouts.payout_account.stripe_created")) == 1


def test_onboarding_keeps_an_existing_bank_account_and_method(
    stripe_server: StripeServer,
) -> None:
    # given: a creator paid by bank transfer
    creator = CreatorProfileFactory()
    bank_account_set(creator=creator, holder_name="Ola Nowak", iban=IBAN_DE, bic=BIC_DE, actor=None)

    # when
    _start(creator)

    # then: the Stripe account is added beside the bank account, which stays in use
    payout_account = PayoutAccount.objects.get(creator=creator)
    assert payout_account.stripe_account_id.startswith("acct_")
    assert payout_account.rail == PayoutRail.BANK
    assert payout_account.bank_iban_last4 == "3000"


def test_refresh_mirrors_what_stripe_still_requires_then_that_payouts_are_enabled(
    stripe_server: StripeServer,
) -> None:
    # given: onboarding started but not finished
    creator = CreatorProfileFactory()
    _start(creator)

    # when
    incomplete = stripe_account_refresh(creator=creator)

    # then
    assert incomplete is not None
    assert incomplete.stripe_ready is False
    assert incomplete.stripe_requirements_due == [
        "business_type",
        "external_account",
        "tos_acceptance.date",
        "tos_acceptance.ip",
    ]
    assert incomplete.stripe_synced_at is not None

    # when: the creator finishes on Stripe and we ask again
    stripe_server.control(f"accounts/{incomplete.stripe_account_id}", complete="true")
    complete = stripe_account_refresh(creator=creator)

    # then
    assert complete is not None
    assert complete.stripe_ready is True
    assert complete.ready is True
    assert complete.stripe_requirements_due == []


def test_refresh_without_a_connected_account_returns_none(stripe_server: StripeServer) -> None:
    assert stripe_account_refresh(creator=CreatorProfileFactory()) is None


def test_requirement_codes_read_as_words_without_repeats() -> None:
    labels = stripe_requirement_labels(
        ["tos_acceptance.date", "tos_acceptance.ip", "external_account", "individual.ssn_last_4"]
    )

    assert labels == [
        "Accepting Stripe's terms of service",
        "The bank account Stripe pays you out to",
        "Ssn last 4",
    ]


# ---------------------------------------------------------------------------- bank


def test_bank_account_is_stored_encrypted_and_only_its_last_four_in_clear() -> None:
    # given
    creator = CreatorProfileFactory()
    actor = creator.user

    # when
    payout_account = bank_account_set(
        creator=creator,
        holder_name="  Ola   Nowak ",
        iban=IBAN_DE.lower(),
        bic="cobadeff",
        actor=actor,
    )

    # then
    payout_account.refresh_from_db()
    assert payout_account.rail == PayoutRail.BANK
    assert payout_account.bank_ready is True
    assert payout_account.bank_holder_name == "Ola Nowak"
    assert payout_account.bank_iban_last4 == "3000"
    assert payout_account.bank_bic == "COBADEFF"
    assert payout_account.bank_country == "DE"
    assert bank_iban_decrypt(payout_account) == IBAN_DE_COMPACT
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bank_iban_encrypted FROM payouts_payoutaccount WHERE id = %s",
            [payout_account.pk],
        )
        (stored,) = cursor.fetchone()
    assert stored
    assert IBAN_DE_COMPACT not in stored
    assert "370400440532013000" not in stored


def test_the_audit_log_never_holds_the_iban() -> None:
    # given
    creator = CreatorProfileFactory()
    bank_account_set(creator=creator, holder_name="Ola Nowak", iban=IBAN_DE, bic=BIC_DE, actor=None)

    # when: the creator replaces the account
    bank_account_set(
        creator=creator,
        holder_name="Ola Nowak",
        iban="PL61 1090 1014 0000 0712 1981 2874",
        bic="WBKPPLPP",
        actor=creator.user,
    )

    # then
    entries = _audits("payouts.payout_account.bank_set")
    assert len(entries) == 2
    assert entries[1].actor_id == creator.user.pk
    assert entries[1].before["iban_last4"] == "3000"
    assert entries[1].after["iban_last4"] == "2874"
    assert entries[1].after["country"] == "PL"
    logged = json.dumps([[entry.before, entry.after] for entry in entries])
    assert "0532013000" not in logged
    assert "71219812874" not in logged


def test_an_iban_encrypted_with_a_retired_secret_key_stays_readable(settings: Any) -> None:
    # given: an IBAN stored under the old SECRET_KEY
    settings.SECRET_KEY = "old-secret-" + "x" * 50
    payout_account = bank_account_set(
        creator=CreatorProfileFactory(),
        holder_name="Ola Nowak",
        iban=IBAN_DE,
        bic=BIC_DE,
        actor=None,
    )

    # when: the key is rotated with the old one kept as a fallback
    settings.SECRET_KEY = "new-secret-" + "y" * 50
    settings.SECRET_KEY_FALLBACKS = ["old-secret-" + "x" * 50]

    # then
    assert bank_iban_decrypt(payout_account) == IBAN_DE_COMPACT


@pytest.mark.parametrize(
    ("iban", "bic", "errors"),
    [
        (
            "DE89 3704 0044 0532 0130 01",
            BIC_DE,
            {"iban": ["This is not a valid IBAN."]},
        ),
        (IBAN_DE, "COBA", {"bic": ["This is not a valid BIC"]}),
        (
            IBAN_DE,
            "BPKOPLPW",
            {"bic": ["This BIC belongs to a bank in PL but the IBAN is from DE."]},
        ),
        (
            "BR18 0036 0305 0000 1000 9795 493C 1",
            "BPKOPLPW",
            {"iban": ["this IBAN is outside the SEPA area"]},
        ),
    ],
)
def test_bank_details_are_checked(iban: str, bic: str, errors: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationError) as raised:
        bank_details_parse(iban=iban, bic=bic)

    found = raised.value.message_dict
    assert sorted(found) == sorted(errors)
    for field, expected in errors.items():
        assert expected[0] in found[field][0]


def test_a_refused_bank_account_stores_nothing() -> None:
    creator = CreatorProfileFactory()

    with pytest.raises(ValidationError):
        bank_account_set(
            creator=creator, holder_name="Ola", iban="DE00 1234", bic=BIC_DE, actor=None
        )

    assert not PayoutAccount.objects.filter(creator=creator).exists()


def test_bank_becomes_the_method_when_stripe_onboarding_was_never_finished(
    stripe_server: StripeServer,
) -> None:
    # given
    creator = CreatorProfileFactory()
    _start(creator)

    # when
    bank_account_set(creator=creator, holder_name="Ola Nowak", iban=IBAN_DE, bic=BIC_DE, actor=None)

    # then
    payout_account = PayoutAccount.objects.get(creator=creator)
    assert payout_account.rail == PayoutRail.BANK
    assert payout_account.ready is True


# ---------------------------------------------------------------------------- method


def test_only_a_method_that_is_set_up_can_be_chosen(stripe_server: StripeServer) -> None:
    # given: a bank account and an unfinished Stripe onboarding
    creator = CreatorProfileFactory()
    bank_account_set(creator=creator, holder_name="Ola Nowak", iban=IBAN_DE, bic=BIC_DE, actor=None)
    _start(creator)

    # when / then: Stripe is refused while onboarding is unfinished
    with pytest.raises(ValidationError, match="Finish setting up your Stripe account"):
        payout_rail_set(creator=creator, rail=PayoutRail.STRIPE, actor=creator.user)
    assert PayoutAccount.objects.get(creator=creator).rail == PayoutRail.BANK

    # when: Stripe is complete
    payout_account = PayoutAccount.objects.get(creator=creator)
    stripe_server.control(f"accounts/{payout_account.stripe_account_id}", complete="true")
    stripe_account_refresh(creator=creator)
    payout_rail_set(creator=creator, rail=PayoutRail.STRIPE, actor=creator.user)
    payout_rail_set(creator=creator, rail=PayoutRail.STRIPE, actor=creator.user)

    # then: chosen once, audited once
    assert PayoutAccount.objects.get(creator=creator).rail == PayoutRail.STRIPE
    entries = _audits("payouts.payout_account.rail_set")
    assert [(entry.before, entry.after, entry.actor_id) for entry in entries] == [
        ({"rail": "bank"}, {"rail": "stripe"}, creator.user.pk)
    ]


def test_no_method_can_be_chosen_before_any_is_set_up() -> None:
    creator = CreatorProfileFactory()

    with pytest.raises(ValidationError, match="Connect with Stripe or add a bank account first"):
        payout_rail_set(creator=creator, rail=PayoutRail.BANK, actor=creator.user)
    with pytest.raises(ValidationError, match="Choose Stripe or bank transfer"):
        payout_rail_set(creator=creator, rail="paypal", actor=creator.user)
