"""The creator's payout pages: settings (Stripe onboarding against the Stripe-compatible
server, the bank account, the payout method), balances and payout requests, and the payout
emails."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from connect.models import CreatorProfile
from payouts.models import Payout, PayoutAccount, PayoutRail, PayoutStatus
from payouts.payout_accounts import bank_account_set, bank_iban_decrypt
from payouts.payout_services import payout_request
from tests.connect.factories import PASSWORD, CreatorProfileFactory, UserFactory
from tests.payouts.factories import give_available
from tests.payouts.payout_helpers import balances, stripe_ready_creator
from tests.payouts.stripe_fixtures import StripeServer

pytestmark = pytest.mark.django_db

SITE = "https://connect.example"
HOME = "/creator/payouts/"
SETTINGS = "/creator/payouts/settings/"
IBAN_DE = "DE89 3704 0044 0532 0130 00"
BIC_DE = "COBADEFFXXX"


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


def _signed_in(client: Client, creator: CreatorProfile | None = None) -> CreatorProfile:
    creator = creator or CreatorProfileFactory()
    client.force_login(creator.user)
    return creator


def _bank_ready_creator(available_minor: int = 0) -> CreatorProfile:
    creator = CreatorProfileFactory()
    bank_account_set(creator=creator, holder_name="Ola Nowak", iban=IBAN_DE, bic=BIC_DE, actor=None)
    if available_minor:
        give_available(creator, available_minor)
    return creator


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------------------- access


def test_the_pages_are_for_signed_in_creators(client: Client) -> None:
    # anonymous: sent to sign in
    for url in (HOME, SETTINGS, "/creator/payouts/stripe/return/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")

    # a user without a creator profile: sent to onboarding
    client.force_login(UserFactory(verified=True))
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url == "/onboarding/"


def test_the_navbar_links_creators_to_their_payouts(client: Client) -> None:
    _signed_in(client)

    response = client.get("/collaborations/")

    assert f'href="{HOME}"' in response.content.decode()


# ---------------------------------------------------------------------------- Stripe


def test_connect_with_stripe_twice_makes_one_account_and_sends_to_onboarding(
    client: Client, stripe_server: StripeServer
) -> None:
    # given
    creator = _signed_in(client)

    # when: two clicks
    first = client.post("/creator/payouts/settings/stripe/")
    second = client.post("/creator/payouts/settings/stripe/")

    # then
    assert first.status_code == 302
    assert first.url.startswith(f"{stripe_server.url}/onboarding/")
    assert second.url.startswith(f"{stripe_server.url}/onboarding/")
    assert len(stripe_server.client().v1.accounts.list().data) == 1
    assert PayoutAccount.objects.get(creator=creator).stripe_account_id.startswith("acct_")


def test_the_return_page_shows_what_stripe_needs_until_onboarding_is_complete(
    client: Client, stripe_server: StripeServer
) -> None:
    # given: onboarding started
    creator = _signed_in(client)
    link = client.post("/creator/payouts/settings/stripe/").url

    # when: the browser comes back without finishing
    response = client.get("/creator/payouts/stripe/return/")

    # then: Stripe's requirements, in words; not ready
    text = _text(response)
    assert response.status_code == 200
    assert 'data-stripe-status="incomplete"' in text
    assert "Whether you are paid as an individual or a company" in text
    assert "The bank account Stripe pays you out to" in text
    assert text.count("Accepting Stripe&#x27;s terms of service") == 1
    assert "payouts are enabled" not in text
    assert PayoutAccount.objects.get(creator=creator).ready is False

    # when: the creator completes Stripe's onboarding page, which sends them back
    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    submitted = requests.post(link, allow_redirects=False, timeout=10)
    assert submitted.status_code == 303
    assert submitted.headers["Location"] == "http://testserver/creator/payouts/stripe/return/"
    response = client.get("/creator/payouts/stripe/return/")

    # then
    text = _text(response)
    assert 'data-stripe-status="ready"' in text
    assert "Your Stripe account is ready: payouts are enabled." in text
    assert "Whether you are paid" not in text
    payout_account = PayoutAccount.objects.get(creator=creator)
    assert payout_account.stripe_ready is True
    assert payout_account.ready is True


def test_the_settings_page_lets_its_form_redirect_to_stripe_only(
    client: Client, stripe_server: StripeServer
) -> None:
    _signed_in(client)

    settings_page = client.get(SETTINGS)
    payouts_page = client.get(HOME)

    # Stripe's onboarding is reached by a redirect after a form post, which form-action rules
    form_action = re.search(r"form-action ([^;]*)", settings_page["Content-Security-Policy"])
    assert form_action is not None
    assert form_action[1].split() == ["'self'", stripe_server.url]
    assert stripe_server.url not in payouts_page["Content-Security-Policy"]


def test_a_return_without_a_connected_account_goes_to_the_settings(
    client: Client, stripe_server: StripeServer
) -> None:
    _signed_in(client)

    response = client.get("/creator/payouts/stripe/return/")

    assert response.status_code == 302
    assert response.url == SETTINGS


def test_an_expired_link_gets_a_fresh_one(client: Client, stripe_server: StripeServer) -> None:
    # given: a used link (the server sends the browser to the refresh URL)
    _signed_in(client)
    link = client.post("/creator/payouts/settings/stripe/").url
    requests.post(link, allow_redirects=False, timeout=10)
    dead = requests.get(link, allow_redirects=False, timeout=10)
    assert dead.headers["Location"] == "http://testserver/creator/payouts/stripe/refresh/"

    # when
    response = client.get("/creator/payouts/stripe/refresh/")

    # then: a new onboarding link for the same account
    assert response.status_code == 302
    assert response.url.startswith(f"{stripe_server.url}/onboarding/")
    assert response.url != link
    assert len(stripe_server.client().v1.accounts.list().data) == 1


def test_stripe_being_down_shows_a_message_and_makes_nothing(client: Client, settings: Any) -> None:
    # given: nothing answers at the Stripe address
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    creator = _signed_in(client)

    # when
    response = client.post("/creator/payouts/settings/stripe/", follow=True)

    # then
    assert "Stripe is not answering right now." in _text(response)
    assert not PayoutAccount.objects.filter(creator=creator).exists()


# ---------------------------------------------------------------------------- bank


@pytest.mark.parametrize(
    ("iban", "bic", "field", "message"),
    [
        ("DE89 3704 0044 0532 0130 01", BIC_DE, "iban", "This is not a valid IBAN."),
        (IBAN_DE, "COBA1", "bic", "This is not a valid BIC"),
        (
            IBAN_DE,
            "BPKOPLPW",
            "bic",
            "This BIC belongs to a bank in PL but the IBAN is from DE.",
        ),
    ],
)
def test_the_bank_form_explains_what_is_wrong(
    client: Client, iban: str, bic: str, field: str, message: str
) -> None:
    # given
    creator = _signed_in(client)

    # when
    response = client.post(
        "/creator/payouts/settings/bank/",
        {"holder_name": "Ola Nowak", "iban": iban, "bic": bic},
    )

    # then
    assert response.status_code == 400
    assert message in response.context["bank_form"].errors[field][0]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not PayoutAccount.objects.filter(creator=creator).exists()


def test_a_valid_bank_account_is_stored_encrypted_and_shown_by_its_last_four(
    client: Client,
) -> None:
    # given
    creator = _signed_in(client)

    # when
    response = client.post(
        "/creator/payouts/settings/bank/",
        {"holder_name": "Ola Nowak", "iban": IBAN_DE, "bic": BIC_DE},
        follow=True,
    )

    # then: saved, encrypted in the database
    payout_account = PayoutAccount.objects.get(creator=creator)
    assert payout_account.rail == PayoutRail.BANK
    assert bank_iban_decrypt(payout_account) == "DE89370400440532013000"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bank_iban_encrypted, bank_iban_last4 FROM payouts_payoutaccount WHERE id = %s",
            [payout_account.pk],
        )
        stored, last4 = cursor.fetchone()
    assert "DE89370400440532013000" not in stored
    assert last4 == "3000"

    # and the page shows the last four only, and never fills the IBAN back in
    text = _text(response)
    assert "Bank account ending in 3000 saved." in text
    assert "•••• 3000" in text
    assert "DE89370400440532013000" not in text
    assert "0532 0130 00" not in text
    assert response.context["bank_form"]["iban"].value() is None
    assert 'data-payout-method="bank"' in text


# ---------------------------------------------------------------------------- method


def test_the_method_switches_only_to_one_that_is_set_up(
    client: Client, stripe_server: StripeServer
) -> None:
    # given: a bank account; Stripe started but unfinished
    creator = _bank_ready_creator()
    _signed_in(client, creator)
    client.post("/creator/payouts/settings/stripe/")

    # when
    refused = client.post("/creator/payouts/settings/method/", {"rail": "stripe"}, follow=True)

    # then
    assert "Finish setting up your Stripe account" in _text(refused)
    assert PayoutAccount.objects.get(creator=creator).rail == PayoutRail.BANK

    # when: Stripe is complete
    account_id = PayoutAccount.objects.get(creator=creator).stripe_account_id
    stripe_server.control(f"accounts/{account_id}", complete="true")
    client.get("/creator/payouts/stripe/return/")
    switched = client.post("/creator/payouts/settings/method/", {"rail": "stripe"}, follow=True)

    # then
    assert "Payout method changed to: Stripe." in _text(switched)
    assert PayoutAccount.objects.get(creator=creator).rail == PayoutRail.STRIPE


# ---------------------------------------------------------------------------- balances


def test_without_a_payout_account_the_page_asks_to_set_one_up(client: Client) -> None:
    # given: earnings but no way to be paid
    creator = _signed_in(client)
    give_available(creator, 12_000)

    # when
    response = client.get(HOME)

    # then
    text = _text(response)
    assert "data-setup-cta" in text
    assert f'href="{SETTINGS}"' in text
    assert "Request payout" not in text
    assert "€120.00" in text


def test_the_page_shows_balances_per_currency_with_the_minimum(
    client: Client, stripe_server: StripeServer
) -> None:
    # given
    creator = stripe_ready_creator(stripe_server, available_minor=12_000)
    give_available(creator, 90_000, "PLN")
    _signed_in(client, creator)

    # when
    response = client.get(HOME)

    # then
    cards = {card.currency: card for card in response.context["cards"]}
    assert sorted(cards) == ["EUR", "PLN"]
    assert cards["EUR"].available_minor == 12_000
    assert cards["EUR"].minimum_minor == 5_000
    assert cards["PLN"].minimum_minor == 20_000
    assert cards["EUR"].form["amount"].value() == "120.00"
    assert cards["PLN"].form["amount"].value() == "900.00"
    text = _text(response)
    assert "The smallest payout is €50.00." in text
    assert "The smallest payout is PLN200.00." in text
    assert "data-setup-cta" not in text


def test_requesting_a_payout_reserves_the_amount_and_emails_the_creator(
    client: Client,
    stripe_server: StripeServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    creator = stripe_ready_creator(stripe_server, available_minor=12_000)
    _signed_in(client, creator)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(HOME, {"currency": "EUR", "amount": "100.50"}, follow=True)

    # then: reserved, listed, announced
    payout = Payout.objects.get(creator=creator)
    assert payout.amount_minor == 10_050
    assert payout.status == PayoutStatus.REQUESTED
    assert payout.rail == PayoutRail.STRIPE
    assert balances(creator) == {
        "pending": 0,
        "available": 1_950,
        "in_flight": 10_050,
        "paid_out": 0,
    }
    text = _text(response)
    assert "Payout of €100.50 requested." in text
    assert f'data-payout="{payout.pk}"' in text
    assert "Awaiting approval" in text
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [creator.user.email]
    assert "Your payout of €100.50 is requested" in email.subject
    assert f"{SITE}/creator/payouts/" in email.body


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("120.01", "You can request at most your available balance, €120.00."),
        ("49.99", "The smallest payout in EUR is €50.00."),
        ("12.345", "Enter an amount in EUR like 120.50."),
        ("0", "Enter an amount above zero."),
    ],
)
def test_a_refused_request_says_why_and_reserves_nothing(
    client: Client, amount: str, message: str
) -> None:
    # given
    creator = _bank_ready_creator(available_minor=12_000)
    _signed_in(client, creator)

    # when
    response = client.post(HOME, {"currency": "EUR", "amount": amount})

    # then
    assert response.status_code == 400
    assert message in _text(response)
    assert not Payout.objects.exists()
    assert balances(creator)["available"] == 12_000


def test_a_suspended_creator_sees_payouts_are_on_hold(client: Client) -> None:
    # given
    creator = _bank_ready_creator(available_minor=12_000)
    CreatorProfile.objects.filter(pk=creator.pk).update(suspended_at=timezone.now())
    _signed_in(client, creator)

    # when
    page = client.get(HOME)
    refused = client.post(HOME, {"currency": "EUR", "amount": "100.00"})

    # then
    assert "data-suspended" in _text(page)
    assert refused.status_code == 400
    assert "Your account is suspended; payouts are on hold." in _text(refused)
    assert not Payout.objects.exists()


def test_a_currency_without_earnings_is_refused(client: Client) -> None:
    creator = _bank_ready_creator(available_minor=12_000)
    _signed_in(client, creator)

    response = client.post(HOME, {"currency": "USD", "amount": "60.00"})

    assert response.status_code == 400
    assert "You have no earnings in USD." in _text(response)
    assert not Payout.objects.exists()


def test_another_creator_never_sees_my_payouts(client: Client) -> None:
    # given: my payout
    mine = _bank_ready_creator(available_minor=12_000)
    payout = payout_request(creator=mine, currency="EUR", amount_minor=7_777)

    # when: another creator opens their payouts page
    _signed_in(client, _bank_ready_creator(available_minor=6_000))
    response = client.get(HOME)

    # then
    assert list(response.context["page"].object_list) == []
    text = _text(response)
    assert f'data-payout="{payout.pk}"' not in text
    assert "77.77" not in text
    assert "No payouts yet." in text

    # and I do see it
    client.force_login(mine.user)
    assert list(client.get(HOME).context["page"].object_list) == [payout]


def test_payouts_are_listed_newest_first_twenty_a_page_with_reasons_and_references(
    client: Client,
) -> None:
    # given: 21 payouts (made directly: only the list is under test)
    creator = _bank_ready_creator()
    start = timezone.now() - dt.timedelta(days=30)
    made = [
        Payout.objects.create(
            creator=creator,
            currency="EUR",
            amount_minor=5_000 + i,
            rail=PayoutRail.BANK,
            status=PayoutStatus.PAID,
            bank_reference=f"SEPA-{i:03d}",
            requested_at=start + dt.timedelta(days=i),
        )
        for i in range(21)
    ]
    made[20].status = PayoutStatus.REJECTED
    made[20].bank_reference = ""
    made[20].rejection_reason = "Your account is under review."
    made[20].save()
    made[19].status = PayoutStatus.FAILED
    made[19].failure_reason = "The bank returned the transfer."
    made[19].save()
    _signed_in(client, creator)

    # when
    first = client.get(HOME)
    second = client.get(HOME, {"page": 2})

    # then
    assert [p.pk for p in first.context["page"].object_list] == [p.pk for p in made[:0:-1]]
    assert [p.pk for p in second.context["page"].object_list] == [made[0].pk]
    text = _text(first)
    assert "Reason: “Your account is under review.”" in text
    assert "The bank returned the transfer." in text
    assert "SEPA-018" in text
    assert "Page 1 of 2" in text


# ---------------------------------------------------------------------------- emails


@pytest.mark.parametrize(
    ("template", "subject", "body"),
    [
        ("payout_requested", "Your payout of €1,234.50 is requested", "set aside"),
        ("payout_approved", "Your payout of €1,234.50 is approved", "ending in 3000"),
        ("payout_rejected", "Your payout of €1,234.50 was not approved", "Too many refunds."),
        ("payout_sent", "Your payout of €1,234.50 is on its way", "Stripe account"),
        ("payout_paid", "Your payout of €1,234.50 is paid", "SEPA-42"),
        ("payout_failed", "Your payout of €1,234.50 failed", "Account closed."),
    ],
)
def test_payout_emails_name_the_amount_the_reason_and_link_to_the_payouts(
    template: str, subject: str, body: str
) -> None:
    # given
    creator = CreatorProfileFactory(display_name="Ola Runs")
    payout = Payout(
        creator=creator,
        currency="EUR",
        amount_minor=123_450,
        rail=PayoutRail.BANK,
        bank_iban_last4="3000",
        bank_reference="SEPA-42",
        rejection_reason="Too many refunds.",
        failure_reason="Account closed.",
    )
    context = {"payout": payout, "creator": creator, "site_url": SITE}

    # when
    rendered_subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    rendered_body = render_to_string(f"emails/{template}_body.txt", context)

    # then
    assert rendered_subject == subject
    assert "Hello Ola Runs," in rendered_body
    assert "€1,234.50" in rendered_body
    assert body in rendered_body
    assert f"{SITE}/creator/payouts/" in rendered_body
    assert "The Connect team" in rendered_body


# ---------------------------------------------------------------------------- browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_connects_stripe_and_requests_a_payout_in_chromium(
    live_server: Any,
    browser: Browser,
    screenshot: Callable[[Page, str], Path],
    stripe_server: StripeServer,
) -> None:
    # given: a creator with approved earnings and no payout account
    creator = CreatorProfileFactory(display_name="Ola Runs", user__email="ola@example.com")
    give_available(creator, 18_450)
    give_available(creator, 3_000, "PLN")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "ola@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign In")).to_have_count(0)

    # when: the creator opens Payouts and is asked to set up payouts
    page.get_by_role("link", name="Payouts", exact=True).click()
    expect(page.get_by_role("heading", name="Set up how you get paid")).to_be_visible()
    screenshot(page, "payouts-not-set-up")
    page.get_by_role("link", name="Set up payouts").click()
    expect(page).to_have_url(f"{base}{SETTINGS}")
    screenshot(page, "settings-empty")

    # a bank IBAN with a typo first
    page.fill("#id_iban", "DE89 3704 0044 0532 0130 01")
    page.fill("#id_bic", BIC_DE)
    page.get_by_role("button", name="Save bank account").click()
    expect(page.get_by_text("This is not a valid IBAN.")).to_be_visible()
    screenshot(page, "settings-bank-error")

    # then Stripe: onboarding on the server's page, back to the return page
    page.get_by_role("button", name="Connect with Stripe").click()
    expect(page.get_by_role("button", name="Agree and submit")).to_be_visible()
    # (coming back without finishing: Stripe's requirements, and a way back to Stripe)
    page.goto(f"{base}/creator/payouts/stripe/return/")
    expect(page.get_by_text("The bank account Stripe pays you out to")).to_be_visible()
    screenshot(page, "stripe-return-incomplete")
    page.get_by_role("button", name="Continue on Stripe").click()
    page.get_by_role("button", name="Agree and submit").click()
    expect(page).to_have_url(f"{base}/creator/payouts/stripe/return/")
    expect(page.get_by_text("Your Stripe account is ready: payouts are enabled.")).to_be_visible()
    screenshot(page, "stripe-return-ready")

    # and a bank account beside it
    page.goto(f"{base}{SETTINGS}")
    page.fill("#id_iban", IBAN_DE)
    page.fill("#id_bic", BIC_DE)
    page.get_by_role("button", name="Save bank account").click()
    expect(page.get_by_text("Bank account ending in 3000 saved.")).to_be_visible()
    screenshot(page, "settings-both")

    # and asks for a payout of part of the euro balance
    page.goto(f"{base}{HOME}")
    eur = page.locator("section[data-currency=EUR]")
    expect(eur.locator("input[name=amount]")).to_have_value("184.50")
    eur.locator("input[name=amount]").fill("150")
    eur.get_by_role("button", name="Request payout").click()

    # then
    expect(page.get_by_text("Payout of €150.00 requested.")).to_be_visible()
    expect(page.locator("section[data-currency=EUR] [data-balance=available]")).to_have_text(
        "€34.50"
    )
    expect(page.locator("section[data-currency=EUR] [data-balance=in_flight]")).to_have_text(
        "€150.00"
    )
    expect(page.get_by_role("cell", name="Awaiting approval")).to_be_visible()
    screenshot(page, "payouts-requested")
    payout = Payout.objects.get(creator=creator)
    assert (payout.amount_minor, payout.rail) == (15_000, PayoutRail.STRIPE)
    context.close()
